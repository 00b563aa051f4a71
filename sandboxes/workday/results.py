"""A pay run version's results and control totals: calculated once when it is finalized, stored,
then read page by page.

Rows go in report order, each employee's components together (employees in the roster's order,
staff.py, and their components as payslips.py lists them), numbered 1..n, so a page is a range of row numbers:
a reader resuming at row 120,001 of 350,000 reads just its page. Each row is kept as the report's
JSON entry, rendered here once (reports.py only joins them). The control totals are summed from
the same lines, before any planted fault makes them disagree.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from sandboxes.kit.workforce import Employee
from sandboxes.workday import tables as t
from sandboxes.workday.payinputs import claim_for_run
from sandboxes.workday.payslips import PayLine, Reimbursement, Totals, cents_text, pay_lines
from sandboxes.workday.run_faults import TOTAL_NAMES, RunFaults

quoted = functools.lru_cache(maxsize=256)(json.dumps)    # the entities', cost centers' and currencies' few codes
INSERT_EVERY = 5_000          # employees: rows are written in chunks, never all held at once
_INSERT_ROW = f"INSERT INTO {t.pay_result.name} (run_id, version, seq, entry) VALUES (?, ?, ?, ?)"


def finalize_results(conn: Connection, run_id: str, version: int, employees: Sequence[Employee], period_end: date,
                     seed: int, faults: RunFaults) -> int:
    """Calculate, store and total the version's results; the number of rows."""
    reimbursements = claim_for_run(conn, run_id, version, {e.worker_id for e in employees})
    totals: dict[tuple[str, str], Totals] = defaultdict(Totals)
    after = f',"Period_End_Date":"{period_end.isoformat()}","Pay_Run_ID":{json.dumps(run_id)}'
    seq = 0
    for chunk_start in range(0, len(employees), INSERT_EVERY):
        rows = []
        for employee in employees[chunk_start:chunk_start + INSERT_EVERY]:
            lines = _employee_lines(employee, period_end, seed, reimbursements.get(employee.worker_id, ()), faults)
            totals[employee.entity, employee.currency].add(lines)
            # A worker id needs no escaping (workforce.py).
            who = (f'{{"Worker_ID":"{employee.worker_id}","Legal_Entity":{quoted(employee.entity)},'
                   f'"Cost_Center":{quoted(employee.cost_center)},"Pay_Component":"')
            currency = f'"Currency":{quoted(employee.currency)}{after}'
            for component, kind, cents, reference in lines:
                seq += 1
                more = f',"Reference":{json.dumps(reference)}}}' if reference else "}"
                rows.append((run_id, version, seq, f'{who}{component}","Pay_Component_Type":"{kind}",'
                                                   f'"Amount":"{cents_text(cents)}",{currency}{more}'))
        if rows:
            conn.exec_driver_sql(_INSERT_ROW, rows)
    _store_totals(conn, run_id, version, totals, faults)
    return seq


def _employee_lines(employee: Employee, period_end: date, seed: int, reimbursements: Sequence[Reimbursement],
                    faults: RunFaults) -> list[PayLine]:
    bonus = faults.bonus.basis_points if faults.bonus and faults.bonus.entity == employee.entity else None
    lines = pay_lines(employee, period_end, seed, reimbursements, bonus)
    off = faults.unbalancedWorker
    if off is not None and off.worker == employee.worker_id:
        net = lines.pop()
        lines.append(net._replace(amount_cents=net.amount_cents + off.cents))
    return lines


def _store_totals(conn: Connection, run_id: str, version: int, totals: dict[tuple[str, str], Totals],
                  faults: RunFaults) -> None:
    off = faults.controlTotalsOff
    for (entity, currency), total in sorted(totals.items()):
        columns = total.as_columns()
        if off is not None and off.entity == entity:
            columns[TOTAL_NAMES[off.total]] += off.cents
        conn.execute(insert(t.control_total).values(run_id=run_id, version=version, entity=entity, currency=currency,
                                                    **columns))


def result_entries(conn: Connection, run_id: str, version: int, offset: int, limit: int) -> list[str]:
    """Rows ``offset + 1`` to ``offset + limit`` of the version's results as JSON, in report order."""
    return list(conn.exec_driver_sql(
        f"SELECT entry FROM {t.pay_result.name} WHERE run_id = ? AND version = ? AND seq > ? AND seq <= ? "
        "ORDER BY seq", (run_id, version, offset, offset + limit)).scalars())


def row_count(conn: Connection, run_id: str, version: int) -> int:
    last = conn.exec_driver_sql(f"SELECT MAX(seq) FROM {t.pay_result.name} WHERE run_id = ? AND version = ?",
                                (run_id, version)).scalar_one()
    return int(last or 0)


def control_totals(conn: Connection, run_id: str, version: int) -> list[dict]:
    c = t.control_total.c
    return [dict(row) for row in conn.execute(select(t.control_total).where(c.run_id == run_id, c.version == version)
                                              .order_by(c.entity, c.currency)).mappings()]
