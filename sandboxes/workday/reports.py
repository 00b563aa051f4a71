"""RaaS: custom reports as JSON, ``GET /ccx/service/customreport2/{tenant}/{owner}/{report}?format=json``
with the report's prompts as query parameters -> ``{"Report_Entry": [...]}``.

Columns are tenant-defined in Workday; these are the sandbox's. Real RaaS returns a whole report
at once: the sandbox adds paging, ``offset`` (rows to skip) and ``limit`` (rows, at most 10,000),
and says how many rows the whole report has, and which run version it is, in ``total`` and
``version`` beside ``Report_Entry`` (lower case: not columns). Rows come in a stable order, so an
offset resumes exactly where a page ended. Amounts are decimal strings; an empty column is left
out, as RaaS does.

- ``Payroll_Results_by_Cost_Center?Pay_Run_ID=&Version=`` (Version: the run's latest finalized
  unless given): one row per employee and pay component, ``Worker_ID, Legal_Entity, Cost_Center,
  Pay_Component, Pay_Component_Type, Amount, Currency, Period_End_Date, Pay_Run_ID, Reference``
  (the pay input's reference, on EXPENSE_REIMB rows).
- ``Payroll_Register_Control_Totals?Pay_Run_ID=&Version=``: per legal entity and currency,
  ``Headcount, Earnings, Employee_Deductions, Employer_Contributions, Reimbursements, Net_Pay``.
- ``Worker_Payment_Elections?Legal_Entity=`` (optional): where each worker's pay goes, one row
  each (one election of 100% by direct deposit): ``Worker_ID, Worker, Legal_Entity, Country,
  Currency, Payment_Type, Distribution_Percent, BIC`` and ``IBAN`` or ``Account_Number``. Far
  faster for a whole workforce than a call per worker (workers.py has that too).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Connection

from sandboxes.workday.auth import bearer
from sandboxes.workday.bodies import offset_param
from sandboxes.workday.context import WorkdayContext, workday
from sandboxes.workday.errors import WorkdayError
from sandboxes.workday.payslips import TOTAL_FIELDS, cents_text
from sandboxes.workday.results import control_totals, result_entries, row_count
from sandboxes.workday.runs import find_run
from sandboxes.workday.staff import current_roster

router = APIRouter(dependencies=[Depends(bearer)])
REPORT = "/ccx/service/customreport2/{tenant}/{owner}/{report}"
RESULTS = "Payroll_Results_by_Cost_Center"
CONTROL_TOTALS = "Payroll_Register_Control_Totals"
PAYMENT_ELECTIONS = "Worker_Payment_Elections"
MAX_ROWS = 10_000
TOTAL_COLUMNS = dict(zip(TOTAL_FIELDS, ("Earnings", "Employee_Deductions", "Employer_Contributions",
                                        "Reimbursements", "Net_Pay"), strict=True))


def report_limit(limit: int = Query(1000, ge=1, le=MAX_ROWS)) -> int:
    return limit


@router.get(REPORT)
async def report(tenant: str, owner: str, report: str, request: Request, format: str | None = Query(None),  # noqa: A002
                 Pay_Run_ID: str | None = Query(None, max_length=60), Version: int | None = Query(None, ge=1, le=10**6),  # noqa: N803
                 Legal_Entity: str | None = Query(None, max_length=40),  # noqa: N803
                 limit: int = Depends(report_limit), offset: int = Depends(offset_param)) -> Response:
    ctx = workday(request)
    if owner != ctx.report_owner or report not in (RESULTS, CONTROL_TOTALS, PAYMENT_ELECTIONS):
        raise WorkdayError(404, f"No report {report[:60]!r} shared by {owner[:60]!r}.")
    if format != "json":
        raise WorkdayError(400, "invalid request: format=json is required (the sandbox renders JSON only).")
    with ctx.engine.connect() as conn:
        if report == PAYMENT_ELECTIONS:
            return JSONResponse(_payment_elections(ctx, conn, Legal_Entity, offset, limit))
        if not Pay_Run_ID:
            raise WorkdayError(400, "invalid request: the prompt Pay_Run_ID is required.")
        run = find_run(conn, Pay_Run_ID)
        version = _finalized_version(run, Version)
        if report == RESULTS:
            return _results(conn, run, version, offset, limit)
        return JSONResponse(_control_totals(conn, run, version))


def _finalized_version(run: dict[str, Any], asked: int | None) -> int:
    if not run["ever_finalized"]:
        raise WorkdayError(400, f"invalid request: pay run {run['id']} has no finalized results yet.")
    if asked is not None and asked > run["version"]:
        raise WorkdayError(400, f"invalid request: pay run {run['id']} has no version {asked}; "
                           f"version {run['version']} is its latest.")
    return asked or run["version"]


def _results(conn: Connection, run: dict[str, Any], version: int, offset: int, limit: int) -> Response:
    """The page as JSON text: its entries were rendered when the run was finalized."""
    entries = result_entries(conn, run["id"], version, offset, limit)
    head = f'{{"total":{row_count(conn, run["id"], version)},"version":{version},"Report_Entry":['
    return Response(head + ",".join(entries) + "]}", media_type="application/json")


def _control_totals(conn: Connection, run: dict[str, Any], version: int) -> dict[str, Any]:
    entries = [{"Pay_Run_ID": run["id"], "Legal_Entity": row["entity"], "Currency": row["currency"],
                "Period_End_Date": run["period_end"], "Headcount": str(row["headcount"]),
                **{column: cents_text(row[field]) for field, column in TOTAL_COLUMNS.items()}}
               for row in control_totals(conn, run["id"], version)]
    return {"total": len(entries), "version": version, "Report_Entry": entries}


def _payment_elections(ctx: WorkdayContext, conn: Connection, entity: str | None, offset: int, limit: int
                       ) -> dict[str, Any]:
    workers = ctx.staff.workers(current_roster(conn))
    if entity:
        workers = [worker for worker in workers if worker.entity == entity]
    entries = []
    for worker in workers[offset:offset + limit]:
        entry = {"Worker_ID": worker.worker_id, "Worker": worker.name, "Legal_Entity": worker.entity,
                 "Country": worker.country, "Currency": worker.currency, "Payment_Type": "Direct Deposit",
                 "Distribution_Percent": "100", "BIC": worker.bic}
        if worker.iban:
            entry["IBAN"] = worker.iban
        else:
            entry["Account_Number"] = worker.account_number or ""
        entries.append(entry)
    return {"total": len(workers), "Report_Entry": entries}
