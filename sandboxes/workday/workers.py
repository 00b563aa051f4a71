"""Workers, as Workday's REST API (``/ccx/api/v1/{tenant}``) lists them: ``{"total", "data"}``,
``limit`` 20 unless asked and 100 at most, ``offset``.

- ``GET /workers`` -> each worker's ``id`` (its WID), ``descriptor`` (the name) and ``workerId``
  (the Employee ID the payroll reports use), with the legal entity (``company``), cost center
  and country as references ``{"id", "descriptor"}`` (in Workday these come from the worker's
  position; the sandbox puts them on the worker);
- ``GET /workers/{id}`` -> one worker, by WID or Employee ID;
- ``GET /workers/{id}/paymentElections`` -> where its pay goes: one election, 100% by direct
  deposit to a bank account (``bankIdentificationCode``, ``iban`` or ``accountNumber``).

For a whole workforce, the RaaS report Worker_Payment_Elections (reports.py) pages the same bank
details in bulk: 50,000 calls of this route would take far longer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from sandboxes.kit.company import load_company
from sandboxes.kit.workforce import Employee
from sandboxes.workday.auth import bearer
from sandboxes.workday.bodies import offset_param, rest_limit
from sandboxes.workday.context import WorkdayContext, workday
from sandboxes.workday.errors import not_found
from sandboxes.workday.staff import current_roster

router = APIRouter(dependencies=[Depends(bearer)])
WORKERS = "/ccx/api/v1/{tenant}/workers"
_COMPANY = load_company()
_ENTITY_NAMES = {entity["code"]: entity["name"] for entity in _COMPANY["entities"]}
_COST_CENTER_NAMES = {center["code"]: center["name"] for center in _COMPANY["cost_centers"]}


def worker_view(ctx: WorkdayContext, worker: Employee) -> dict[str, Any]:
    return {"id": ctx.staff.wid(worker), "descriptor": worker.name, "workerId": worker.worker_id,
            "company": {"id": worker.entity, "descriptor": _ENTITY_NAMES.get(worker.entity, worker.entity)},
            "costCenter": {"id": worker.cost_center,
                           "descriptor": _COST_CENTER_NAMES.get(worker.cost_center, worker.cost_center)},
            "country": {"id": worker.country}, "isManager": False}


@router.get(WORKERS)
async def list_workers(tenant: str, request: Request, limit: int = Depends(rest_limit),
                       offset: int = Depends(offset_param)) -> JSONResponse:
    ctx = workday(request)
    with ctx.engine.connect() as conn:
        roster = current_roster(conn)
    page = ctx.staff.workers(roster, offset + limit)[offset:]
    return JSONResponse({"total": ctx.staff.headcount(roster), "data": [worker_view(ctx, worker) for worker in page]})


def _worker(request: Request, key: str) -> tuple[WorkdayContext, Employee]:
    ctx = workday(request)
    with ctx.engine.connect() as conn:
        found = ctx.staff.find(key, current_roster(conn))
    if found is None:
        raise not_found("worker", key)
    return ctx, found


@router.get(WORKERS + "/{worker_id}")
async def get_worker(tenant: str, worker_id: str, request: Request) -> JSONResponse:
    ctx, worker = _worker(request, worker_id)
    return JSONResponse(worker_view(ctx, worker))


@router.get(WORKERS + "/{worker_id}/paymentElections")
async def payment_elections(tenant: str, worker_id: str, request: Request) -> JSONResponse:
    ctx, worker = _worker(request, worker_id)
    account: dict[str, Any] = {"bankIdentificationCode": worker.bic}
    account.update({"iban": worker.iban} if worker.iban else {"accountNumber": worker.account_number})
    election = {"id": ctx.staff.wid(worker)[:16] + "-pay", "paymentType": {"descriptor": "Direct Deposit"},
                "currency": {"id": worker.currency}, "country": {"id": worker.country},
                "distribution": {"percent": "100"}, "bankAccount": account}
    return JSONResponse({"total": 1, "data": [election]})
