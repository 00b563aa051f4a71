"""One-off pay inputs: a reimbursement to pay with an employee's next net pay.

``POST /ccx/api/payroll/v1/{tenant}/payInputs``
``{"worker": "W000123", "payComponent": "EXPENSE_REIMB", "amount": "86.40", "currency": "EUR", "reference": "..."}``
-> 201 with the input; the same ``reference`` again -> 200 with the input it made (a repeat, however
often), or 409 if the rest differs (one reference is one payment). The sandbox takes one component,
EXPENSE_REIMB (non-taxable), in the currency of the worker's legal entity.
``GET .../payInputs/{id}`` -> the input, with the run version that paid it once there is one.

An input waits for the worker's next run that is finalized: it is paid in that version. A reopened
run keeps its inputs for its next version; a cancelled run lets them go to the next run.
(Workday's own inbound is the Import_Pay_Input_Data web service or an EIB; this REST shape is the
sandbox's.)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Connection

from sandboxes.workday import tables as t
from sandboxes.workday.auth import bearer
from sandboxes.workday.bodies import cents_value, json_object, text_value
from sandboxes.workday.context import workday
from sandboxes.workday.errors import WorkdayError, not_found
from sandboxes.workday.payslips import REIMBURSEMENT_COMPONENT, Reimbursement, cents_text
from sandboxes.workday.staff import current_roster

router = APIRouter(dependencies=[Depends(bearer)])
PAY_INPUTS = "/ccx/api/payroll/v1/{tenant}/payInputs"


def pay_input_view(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "worker": {"id": row["worker_id"]}, "payComponent": {"id": row["component"]},
            "amount": cents_text(row["amount_cents"]), "currency": {"id": row["currency"]},
            "reference": row["reference"], "createdOn": row["created_on"],
            "status": "Paid in pay run" if row["run_id"] else "Waiting for the next pay run",
            "payRun": {"id": row["run_id"], "version": row["run_version"]} if row["run_id"] else None}


@router.post(PAY_INPUTS)
async def add_pay_input(tenant: str, request: Request) -> JSONResponse:
    ctx = workday(request)
    body = await json_object(request)
    worker = text_value(body, "worker")
    wanted: dict[str, str | int] = {"worker_id": worker, "component": text_value(body, "payComponent"),
              "amount_cents": cents_value(body.get("amount"), "amount"), "currency": text_value(body, "currency"),
              "reference": text_value(body, "reference")}
    if wanted["component"] != REIMBURSEMENT_COMPONENT:
        raise WorkdayError(400, f"invalid request: payComponent must be {REIMBURSEMENT_COMPONENT} "
                           "(the sandbox takes one-off reimbursements only).")
    with ctx.engine.begin() as conn:
        existing = conn.execute(select(t.pay_input).where(t.pay_input.c.reference == wanted["reference"])).mappings().first()
        if existing is not None:
            if any(existing[key] != value for key, value in wanted.items()):
                raise WorkdayError(409, f"A pay input with reference {wanted['reference']!r} exists with other values "
                                   f"({existing['id']}); one reference is one payment.")
            return JSONResponse(pay_input_view(existing), status_code=200)
        employee = ctx.staff.find(worker, current_roster(conn))
        if employee is None or employee.worker_id != worker:
            raise WorkdayError(400, f"invalid request: no worker with Employee ID {worker!r}.")
        if wanted["currency"] != employee.currency:
            raise WorkdayError(400, f"invalid request: worker {employee.worker_id} is paid in {employee.currency}, "
                               f"not {wanted['currency']}.")
        number = (conn.execute(select(func.max(t.pay_input.c.number))).scalar_one() or 0) + 1
        conn.execute(insert(t.pay_input).values(number=number, id=f"PAYINPUT-{number:06d}", created_on=ctx.now(),
                                                **wanted))
        created = conn.execute(select(t.pay_input).where(t.pay_input.c.number == number)).mappings().one()
    return JSONResponse(pay_input_view(created), status_code=201)


@router.get(PAY_INPUTS + "/{input_id}")
async def get_pay_input(tenant: str, input_id: str, request: Request) -> JSONResponse:
    with workday(request).engine.connect() as conn:
        found = conn.execute(select(t.pay_input).where(t.pay_input.c.id == input_id)).mappings().first()
    if found is None:
        raise not_found("pay input", input_id)
    return JSONResponse(pay_input_view(found))


def claim_for_run(conn: Connection, run_id: str, version: int, workers: set[str]) -> dict[str, list[Reimbursement]]:
    """The inputs this run version pays, by worker: those waiting, and those an earlier version of
    the run had (it was reopened), for its workers; marked as paid in it."""
    c = t.pay_input.c
    found = conn.execute(select(c.number, c.worker_id, c.amount_cents, c.reference)
                         .where(or_(c.run_id.is_(None), c.run_id == run_id)).order_by(c.number)).all()
    by_worker: dict[str, list[Reimbursement]] = defaultdict(list)
    claimed = []
    for number, worker, cents, reference in found:
        if worker in workers:
            by_worker[worker].append(Reimbursement(cents, reference))
            claimed.append(number)
    if claimed:
        conn.execute(update(t.pay_input).where(c.number.in_(claimed)).values(run_id=run_id, run_version=version))
    return by_worker


def release_from_run(conn: Connection, run_id: str) -> None:
    """A cancelled run pays nothing: its inputs wait for the next run."""
    conn.execute(update(t.pay_input).where(t.pay_input.c.run_id == run_id).values(run_id=None, run_version=None))
