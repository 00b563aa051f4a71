"""Pay runs: their life (what the payroll team does in Workday, which the sandbox's admin routes
stand for) and how the REST API shows them.

    Draft --finalize--> Finalized --reopen--> Reopened --finalize--> Finalized (version + 1) ...
    Draft, Finalized or Reopened --cancel--> Cancelled (for good)

A run pays one roster for one period (staff.py): the first ``headcount`` employees of the generated
workforce, and the company file's named employees the setting chose when the run was created
(every version keeps them, whatever the setting later). Its ``headcount`` shows them all.
Finalizing calculates and freezes the version's results (results.py); ``version`` is the version
finalized last (1 until the first finalization), so a reopened run still names the version it took back.

REST (Workday's REST conventions: ``{"total", "data"}``, ``limit`` at most 100, ``offset``; the
resource itself is the sandbox's, as Workday's payroll REST API differs by release):
- ``GET /ccx/api/payroll/v1/{tenant}/payRuns?updatedFrom=2026-03-01T00:00:00Z`` -> runs changed
  at or after that instant (any if absent), oldest change first;
- ``GET /ccx/api/payroll/v1/{tenant}/payRuns/{id}`` -> one run.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from sandboxes.workday import tables as t
from sandboxes.workday.auth import bearer
from sandboxes.workday.bodies import offset_param, rest_limit
from sandboxes.workday.clock import parse_instant
from sandboxes.workday.context import WorkdayContext, workday
from sandboxes.workday.errors import WorkdayError, not_found
from sandboxes.workday.payinputs import release_from_run
from sandboxes.workday.results import finalize_results
from sandboxes.workday.run_faults import RunFaults
from sandboxes.workday.staff import Roster, Staff, read_company_staff, stored_company_staff

DRAFT, FINALIZED, REOPENED, CANCELLED = "Draft", "Finalized", "Reopened", "Cancelled"
DEFAULT_PAY_GROUP = "MONTHLY-ALL"
PAY_RUNS = "/ccx/api/payroll/v1/{tenant}/payRuns"

router = APIRouter(dependencies=[Depends(bearer)])


def run_view(run: Any, staff: Staff) -> dict[str, Any]:
    return {"id": run["id"], "descriptor": f"{run['pay_group']} {run['period_start']} to {run['period_end']}",
            "status": run["status"], "version": run["version"], "payGroup": {"id": run["pay_group"]},
            "periodStartDate": run["period_start"], "periodEndDate": run["period_end"],
            "paymentDate": run["payment_date"], "headcount": staff.headcount(run_roster(run)),
            "finalizedBy": run["finalized_by"], "finalizedOn": run["finalized_on"], "lastActionBy": run["last_action_by"],
            "statusChangedOn": run["status_changed_on"], "createdOn": run["created_on"], "updatedOn": run["updated_on"]}


def run_roster(run: Any) -> Roster:
    return Roster(run["headcount"], read_company_staff(run["company_staff"]))


def find_run(conn: Connection, run_id: str) -> dict[str, Any]:
    found = conn.execute(select(t.pay_run).where(t.pay_run.c.id == run_id)).mappings().first()
    if found is None:
        raise not_found("pay run", run_id)
    return dict(found)


@router.get(PAY_RUNS)
async def list_runs(tenant: str, request: Request, updatedFrom: str | None = Query(None, max_length=40),  # noqa: N803
                    limit: int = Depends(rest_limit), offset: int = Depends(offset_param)) -> JSONResponse:
    query = select(t.pay_run)
    if updatedFrom:
        try:
            query = query.where(t.pay_run.c.updated_on >= parse_instant(updatedFrom))
        except ValueError:
            raise WorkdayError(400, "invalid request: updatedFrom must be an ISO 8601 date-time such as "
                               "2026-03-01T00:00:00Z.") from None
    ctx = workday(request)
    with ctx.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        runs = conn.execute(query.order_by(t.pay_run.c.updated_on, t.pay_run.c.number).limit(limit).offset(offset)
                            ).mappings().all()
    return JSONResponse({"total": total, "data": [run_view(run, ctx.staff) for run in runs]})


@router.get(PAY_RUNS + "/{run_id}")
async def get_run(tenant: str, run_id: str, request: Request) -> JSONResponse:
    ctx = workday(request)
    with ctx.engine.connect() as conn:
        return JSONResponse(run_view(find_run(conn, run_id), ctx.staff))


def create_run(ctx: WorkdayContext, conn: Connection, *, period_start: date, period_end: date, payment_date: date,
               pay_group: str, roster: Roster, faults: RunFaults) -> dict[str, Any]:
    if period_end < period_start:
        raise WorkdayError(400, "invalid request: the period ends before it starts.")
    c = t.pay_run.c
    clash = conn.execute(select(c.id).where(c.pay_group == pay_group, c.period_start == period_start.isoformat(),
                                            c.status != CANCELLED)).scalar_one_or_none()
    if clash is not None:
        raise WorkdayError(409, f"Pay group {pay_group} already has pay run {clash} for the period from {period_start}; "
                           "cancel it first.")
    number = (conn.execute(select(func.max(c.number))).scalar_one() or 0) + 1
    now = ctx.now()
    conn.execute(insert(t.pay_run).values(
        number=number, id=f"PAYRUN-{number:06d}", pay_group=pay_group, period_start=period_start.isoformat(),
        period_end=period_end.isoformat(), payment_date=payment_date.isoformat(), headcount=roster.employees,
        company_staff=stored_company_staff(roster.company_staff), status=DRAFT, version=1, ever_finalized=False,
        status_changed_on=now, faults=faults.stored(), created_on=now, updated_on=now))
    return find_run(conn, f"PAYRUN-{number:06d}")


def set_faults(ctx: WorkdayContext, conn: Connection, run_id: str, faults: RunFaults) -> dict[str, Any]:
    run = find_run(conn, run_id)
    _require(run, (DRAFT, REOPENED), "have faults planted (they apply when it is finalized)")
    conn.execute(update(t.pay_run).where(t.pay_run.c.id == run_id).values(faults=faults.stored(), updated_on=ctx.now()))
    return find_run(conn, run_id)


def finalize(ctx: WorkdayContext, run_id: str, by: str) -> dict[str, Any]:
    """Calculate and freeze the run's next version. Slow for a large run: call it off the event loop."""
    with ctx.engine.begin() as conn:
        run = find_run(conn, run_id)
        _require(run, (DRAFT, REOPENED), "be finalized")
        version = run["version"] + 1 if run["ever_finalized"] else run["version"]
        employees = ctx.staff.workers(run_roster(run))
        finalize_results(conn, run_id, version, employees, date.fromisoformat(run["period_end"]),
                         ctx.staff.workforce.seed, RunFaults.model_validate(json.loads(run["faults"])))
        now = ctx.now()
        return _change(conn, run_id, status=FINALIZED, version=version, ever_finalized=True, finalized_by=by,
                       finalized_on=now, last_action_by=by, status_changed_on=now, updated_on=now)


def reopen(ctx: WorkdayContext, run_id: str, by: str) -> dict[str, Any]:
    with ctx.engine.begin() as conn:
        _require(find_run(conn, run_id), (FINALIZED,), "be reopened")
        now = ctx.now()
        return _change(conn, run_id, status=REOPENED, last_action_by=by, status_changed_on=now, updated_on=now)


def cancel(ctx: WorkdayContext, run_id: str, by: str) -> dict[str, Any]:
    with ctx.engine.begin() as conn:
        _require(find_run(conn, run_id), (DRAFT, FINALIZED, REOPENED), "be cancelled")
        release_from_run(conn, run_id)
        now = ctx.now()
        return _change(conn, run_id, status=CANCELLED, last_action_by=by, status_changed_on=now, updated_on=now)


def _require(run: dict[str, Any], statuses: tuple[str, ...], to: str) -> None:
    if run["status"] not in statuses:
        raise WorkdayError(409, f"Pay run {run['id']} is {run['status']}; only a run that is "
                           f"{' or '.join(statuses)} can {to}.")


def _change(conn: Connection, run_id: str, **values: Any) -> dict[str, Any]:
    conn.execute(update(t.pay_run).where(t.pay_run.c.id == run_id).values(**values))
    return find_run(conn, run_id)
