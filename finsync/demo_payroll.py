"""``finsync demo payroll``: one payroll run of any headcount through the local stack.

The payroll team finalizes a run in the Workday-shaped sandbox; its signed event starts the
workflow through the gateway (the payroll sweep would catch it otherwise). The demo follows the
run until every legal entity's journal is posted in its ERP, its net pay is with the employees and
the bank statement was read against it, then shows per entity the totals, the ERP document, the
payment file and its counts, and the reconciliation. One generated employee in 2,000 has a closed
bank account: their transfer is rejected and parks alone, for finance to resolve.
"""

from __future__ import annotations

import asyncio
from datetime import date

from rich.table import Table
from rich.text import Text
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from finsync.config import Settings
from finsync.demo import console, progress_bar, ready_client, run_tag
from finsync.terminal import console as make_console
from finsync.terminal import text
from sandboxes.workday.driver import WorkdayDriver
from workflows.payroll.model import EntityStatus, PayrollSnapshot, PayrollStatus

STEPS = [PayrollStatus.FINALIZED, PayrollStatus.READ, PayrollStatus.TIED, PayrollStatus.APPROVED,
         PayrollStatus.POSTING, PayrollStatus.POSTED, PayrollStatus.RECONCILED]
FINALIZED_BY = "pat.payroll"


async def run_payroll_demo(settings: Settings, employees: int, timeout: float = 900.0) -> int:
    client = await ready_client(settings)
    if client is None:
        return 1
    today = date.today()
    async with WorkdayDriver(settings.payroll_provider.base_url) as workday:
        run = await workday.create_run(today.replace(day=1), employees=employees, payment_date=today,
                                       pay_group=f"DEMO-{run_tag()}")
        await workday.finalize(run["id"], by=FINALIZED_BY)
    workflow_id = f"payroll-workday-{run['id']}-v1"
    console.print(f"Pay run {run['id']} of {employees:,} employees finalized by {FINALIZED_BY}; "
                  f"following workflow {workflow_id}")
    snapshot = await _follow(client, workflow_id, timeout)
    if snapshot is None:
        make_console(stderr=True).print(text(f"workflow {workflow_id} never started: is the worker running?"))
        return 1
    _summary(snapshot, settings)
    return 0 if at_rest(snapshot) else 1


async def _follow(client: Client, workflow_id: str, timeout: float) -> PayrollSnapshot | None:
    handle = client.get_workflow_handle(workflow_id)
    snapshot: PayrollSnapshot | None = None
    deadline = asyncio.get_running_loop().time() + timeout
    with progress_bar() as progress:
        task = progress.add_task("waiting for the run's event", total=len(STEPS))
        while asyncio.get_running_loop().time() < deadline:
            try:
                snapshot = await handle.query("status", result_type=PayrollSnapshot)
            except (RPCError, WorkflowQueryFailedError):   # not started yet
                await asyncio.sleep(0.5)
                continue
            done = STEPS.index(snapshot.status) + 1 if snapshot.status in STEPS else len(STEPS)
            progress.update(task, completed=done, description=_describe(snapshot))
            if at_rest(snapshot):
                break
            await asyncio.sleep(0.5)
    return snapshot


def _describe(snapshot: PayrollSnapshot) -> str:
    entities = ", ".join(f"{entity} {progress.status.value.lower()}" for entity, progress in sorted(
        snapshot.entities.items()))
    return f"{snapshot.status.value.lower()}" + (f" ({entities})" if entities else "")


def at_rest(snapshot: PayrollSnapshot) -> bool:
    """Reconciled (employees the bank rejected wait for finance in their entity's workflow), or the
    run or an entity parked with the rest done."""
    if snapshot.status in (PayrollStatus.RECONCILED, PayrollStatus.COMPLETED, PayrollStatus.EXCEPTION,
                           PayrollStatus.CANCELLED, PayrollStatus.SUPERSEDED):
        return True
    done = {EntityStatus.RECONCILED, EntityStatus.CANCELLED, EntityStatus.EXCEPTION}
    return bool(snapshot.entities) and all(p.status in done for p in snapshot.entities.values())


def _summary(snapshot: PayrollSnapshot, settings: Settings) -> None:
    table = Table(title=f"Payroll {snapshot.run.run_id} v{snapshot.run.version}: {snapshot.rows:,} result rows, "
                        f"{snapshot.status.value.lower()}")
    for column in ("entity", "employees", "gross", "net pay", "ERP document", "payment file", "paid / rejected",
                   "bank statement"):
        table.add_column(column, justify="right" if column in ("employees", "gross", "net pay") else "left")
    for totals in snapshot.totals:
        progress = snapshot.entities.get(totals.entity)
        payment = progress.payment if progress else None
        table.add_row(
            totals.entity, f"{totals.headcount:,}", str(totals.money(totals.earnings)),
            str(totals.money(totals.net_pay)),
            progress.journal.document_number if progress and progress.journal else "-",
            payment.message_id if payment else "-",
            f"{payment.settled:,} / {payment.rejected:,}" if payment else "-",
            payment.statement if payment and payment.statement else "-")
    console.print(table)
    host = settings.temporal.address.rsplit(":", 1)[0]
    console.print(Text.assemble(
        f"In the Web UI (http://{host}:{settings.temporal.ui_port}): ", ("FinsyncProcess = 'payroll'", "bold"),
        "; a rejected employee waits in: finsync exceptions list --process payroll"))
