"""The ``/_sandbox`` routes: what the payroll team does in Workday's UI, for tests and the demo.

No token; never faulted (like every sandbox's ``/_sandbox`` routes):
- ``GET|PUT /_sandbox/workforce`` ``{"employees": 50000, "companyStaff": true}``: who the tenant's
  workers are (staff.py): the first n of the generated workforce, and those of the company file's
  named employees (E1000, ...) that ``companyStaff`` chooses: true (all), false (none) or a list of
  their Employee IDs such as ``["E1001"]`` (false on a new tenant; kept unless given);
- ``POST /_sandbox/payRuns`` ``{"periodStart": "2026-03-01", "periodEnd": ..., "paymentDate": ...,
  "payGroup": "MONTHLY-ALL", "employees": 50000, "faults": {...}}`` -> 201, a Draft run (all but
  periodStart optional: the period is that month, paid on its last day; ``employees`` defaults to
  the workforce's size and grows it if larger; the named employees ``companyStaff`` chooses now
  are in it);
- ``PUT /_sandbox/payRuns/{id}/faults`` ``{...}``: faults for its next finalization (run_faults.py);
- ``POST /_sandbox/payRuns/{id}/finalize|reopen|cancel`` ``{"by": "maria.schmidt"}``: the named
  user acts; each sends its signed event. Finalizing calculates the version's results: about a
  second per 10,000 employees, answered when done.
"""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandboxes.workday import events, runs
from sandboxes.workday.bodies import json_object, text_value
from sandboxes.workday.context import WorkdayContext, workday
from sandboxes.workday.errors import WorkdayError
from sandboxes.workday.run_faults import RunFaults
from sandboxes.workday.staff import CompanyStaff, Roster, current_roster, set_company_staff, set_workforce_size

router = APIRouter(prefix="/_sandbox", include_in_schema=False)
MAX_WORKFORCE = 1_000_000


def _employees(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WORKFORCE:
        raise WorkdayError(400, f"invalid request: employees must be a whole number from 1 to {MAX_WORKFORCE}.")
    return value


def _date(body: dict[str, Any], key: str, default: date | None = None) -> date:
    value = body.get(key)
    if value is None and default is not None:
        return default
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise WorkdayError(400, f"invalid request: {key} must be a date such as 2026-03-01.") from None


def _company_staff(ctx: WorkdayContext, value: Any) -> CompanyStaff | None:
    """The company-staff setting asked for, None if not given."""
    if value is None:
        return None
    try:
        return ctx.staff.choose(value)
    except ValueError as refused:
        raise WorkdayError(400, f"invalid request: {refused}") from None


def _workforce_view(ctx: WorkdayContext, roster: Roster) -> dict[str, Any]:
    chosen = roster.company_staff
    return {"employees": roster.employees, "companyStaff": chosen if isinstance(chosen, bool) else list(chosen),
            "seed": ctx.staff.workforce.seed}


@router.get("/workforce")
async def get_workforce(request: Request) -> dict:
    ctx = workday(request)
    with ctx.engine.connect() as conn:
        return _workforce_view(ctx, current_roster(conn))


@router.put("/workforce")
async def put_workforce(request: Request) -> dict:
    ctx = workday(request)
    body = await json_object(request)
    size = _employees(body.get("employees"))
    company_staff = _company_staff(ctx, body.get("companyStaff"))
    with ctx.engine.begin() as conn:
        set_workforce_size(conn, size)
        if company_staff is not None:
            set_company_staff(conn, company_staff)
        return _workforce_view(ctx, current_roster(conn))


@router.post("/payRuns")
async def create_run(request: Request) -> JSONResponse:
    ctx = workday(request)
    body = await json_object(request)
    start = _date(body, "periodStart", ctx.clock().date().replace(day=1))
    end = _date(body, "periodEnd", start.replace(day=calendar.monthrange(start.year, start.month)[1]))
    faults = RunFaults.parse(body.get("faults") or {})
    async with ctx.changing:
        with ctx.engine.begin() as conn:
            roster = current_roster(conn)
            headcount = _employees(body["employees"]) if body.get("employees") is not None else roster.employees
            if headcount > roster.employees:
                set_workforce_size(conn, headcount)
            run = runs.create_run(ctx, conn, period_start=start, period_end=end,
                                  payment_date=_date(body, "paymentDate", end),
                                  pay_group=text_value(body, "payGroup", required=False, default=runs.DEFAULT_PAY_GROUP),
                                  roster=roster._replace(employees=headcount), faults=faults)
    return JSONResponse(runs.run_view(run, ctx.staff), status_code=201)


@router.put("/payRuns/{run_id}/faults")
async def put_faults(run_id: str, request: Request) -> JSONResponse:
    ctx = workday(request)
    faults = RunFaults.parse(await json_object(request))
    async with ctx.changing:
        with ctx.engine.begin() as conn:
            run = runs.set_faults(ctx, conn, run_id, faults)
    return JSONResponse({**runs.run_view(run, ctx.staff), "faults": faults.model_dump(exclude_none=True)})


async def _act(request: Request, run_id: str, action: Callable[[WorkdayContext, str, str], dict[str, Any]]
               ) -> JSONResponse:
    ctx = workday(request)
    by = text_value(await json_object(request), "by")
    async with ctx.changing:
        run = runs.run_view(await asyncio.to_thread(action, ctx, run_id, by), ctx.staff)
        events.publish(ctx, run)
    return JSONResponse(run)


@router.post("/payRuns/{run_id}/finalize")
async def finalize(run_id: str, request: Request) -> JSONResponse:
    return await _act(request, run_id, runs.finalize)


@router.post("/payRuns/{run_id}/reopen")
async def reopen(run_id: str, request: Request) -> JSONResponse:
    return await _act(request, run_id, runs.reopen)


@router.post("/payRuns/{run_id}/cancel")
async def cancel(run_id: str, request: Request) -> JSONResponse:
    return await _act(request, run_id, runs.cancel)
