"""Requisitions: ``POST /api/requisitions/new/submit_for_approval`` (create and submit),
``GET /api/requisitions[/{id}]``, ``PUT /api/requisitions/{id}?exported=true``.

A submitted requisition is ``pending_approval`` with one pending approval by the requester's
manager (``GET /api/approvals``). The body::

    {"requested-by": {"login": "jordan.lee"}, "ship-to-address": {"location-code": "US01"},
     "currency": {"code": "USD"}, "justification": "...",
     "requisition-lines": [{"description": "...", "quantity": "10", "unit-price": "12.3456",
        "uom": {"code": "EA"}, "supplier": {"number": "SUP-100"}, "need-by-date": "2026-04-01",
        "account": {"code": "US01-CC-1000-6300", "segment-1": "US01", "segment-2": "CC-1000",
                    "segment-3": "6300"}}]}

Sandbox choices: an account is any three segments (entity, cost center, GL account; a code
alone is split as entity-...-GL), not checked against a chart, and any supplier may be chosen,
inactive or on hold included: finsync's own checks of the mapping and the supplier are what
the sandbox must let through to be tested.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from sandboxes.coupa import auth
from sandboxes.coupa import tables as t
from sandboxes.coupa.amounts import currency_code, decimal_value, text
from sandboxes.coupa.bodies import date_value, json_object, objects, reference, text_value
from sandboxes.coupa.changes import add_export_route
from sandboxes.coupa.context import coupa
from sandboxes.coupa.errors import CoupaError
from sandboxes.coupa.reads import add_read_routes
from sandboxes.coupa.views import requisition_view
from sandboxes.kit.jsonio import DecimalJSONResponse

PATH = "/api/requisitions"
MAX_LINES = 200
MAX_SEGMENT = 50
SUPPLIER_KEYS = {"number": "number", "name": "name"}

reads = APIRouter(prefix=PATH, dependencies=[auth.read("requisition")])
writes = APIRouter(prefix=PATH, dependencies=[auth.write("requisition")])
add_read_routes(reads, "requisitions", "requisition", requisition_view)
add_export_route(writes, t.requisition, "requisition", requisition_view,
                 "The sandbox updates a requisition only by PUT ?exported=true|false.")


@writes.post("/new/submit_for_approval", status_code=201)
async def submit_for_approval(request: Request) -> DecimalJSONResponse:
    ctx = coupa(request)
    body = await json_object(request)
    with ctx.engine.begin() as conn:
        requisition_id = create(conn, body, ctx.now())
        row = t.by_id(conn, t.requisition, requisition_id)
        assert row is not None
        return DecimalJSONResponse(requisition_view(conn, row), status_code=201)


def create(conn: Connection, body: dict[str, Any], now: str) -> int:
    requester = reference(conn, t.user, body.get("requested-by"), "requested-by",
                          {"login": "login", "email": "email", "employee-number": "employee_number"})
    ship_to = reference(conn, t.address, body.get("ship-to-address"), "ship-to-address",
                        {"location-code": "location_code", "name": "name"})
    currency = currency_code(body.get("currency"))
    justification = text_value(body, "justification", required=False)
    lines = objects(body, "requisition-lines")
    if len(lines) > MAX_LINES:
        raise CoupaError(400, f"A requisition takes at most {MAX_LINES} lines.")
    drafts = [_line(conn, line, f"requisition-lines[{i}]", currency) for i, line in enumerate(lines)]
    requisition_id = conn.execute(insert(t.requisition).values(
        status="pending_approval", requested_by_id=requester["id"], ship_to_id=ship_to["id"], currency=currency,
        justification=justification, submitted_at=now, exported=False, created_at=now, updated_at=now,
    )).inserted_primary_key[0]   # type: ignore[index]
    conn.execute(insert(t.requisition_line), [{**draft, "requisition_id": requisition_id, "line_num": num}
                                              for num, draft in enumerate(drafts, start=1)])
    conn.execute(insert(t.approval).values(
        approvable_type="RequisitionHeader", approvable_id=requisition_id, approver_id=requester["manager_id"],
        status="pending", position=1, created_at=now, updated_at=now))
    return requisition_id


def _line(conn: Connection, line: dict[str, Any], where: str, currency: str) -> dict[str, Any]:
    line_type = line.get("line-type", "RequisitionQuantityLine")
    if line_type != "RequisitionQuantityLine":
        raise CoupaError(400, f"{where}: the sandbox takes quantity lines only (line-type RequisitionQuantityLine).")
    if "currency" in line and currency_code(line["currency"], f"{where}.currency") != currency:
        raise CoupaError(400, f"{where}: a line's currency must be the requisition's, {currency}.")
    uom = line.get("uom", {"code": "EA"})
    if not isinstance(uom, dict) or not isinstance(uom.get("code"), str) or not uom["code"]:
        raise CoupaError(400, f"{where}.uom must be given as {{\"code\": \"EA\"}}.")
    supplier = reference(conn, t.supplier, line.get("supplier"), f"{where}.supplier", SUPPLIER_KEYS)
    return {"description": text_value(line, "description"),
            "quantity": text(decimal_value(line.get("quantity"), f"{where}.quantity")),
            "unit_price": text(decimal_value(line.get("unit-price"), f"{where}.unit-price")),
            "uom": uom["code"][:MAX_SEGMENT], "supplier_id": supplier["id"],
            "need_by_date": date_value(line, "need-by-date", required=False),
            **_account(line.get("account"), f"{where}.account")}


def _account(value: object, where: str) -> dict[str, str]:
    """``{"code": "US01-CC-1000-6300"}`` and/or its segments; they must agree when both are sent."""
    if not isinstance(value, dict):
        raise CoupaError(400, f"{where} must be an object with a code or segment-1, segment-2 and segment-3.")
    segments = [value.get(f"segment-{n}") for n in (1, 2, 3)]
    code = value.get("code")
    if all(isinstance(s, str) and s for s in segments):
        derived = "-".join(segments)   # type: ignore[arg-type]
        if code is not None and code != derived:
            raise CoupaError(400, f"{where}: code {str(code)[:60]} does not match its segments ({derived}).")
    elif isinstance(code, str) and code.count("-") >= 2 and not any(segments):
        head, *middle, tail = code.split("-")
        segments = [head, "-".join(middle), tail]
    else:
        raise CoupaError(400, f"{where} needs segment-1 (entity), segment-2 (cost center) and segment-3 "
                              "(GL account), or a code such as US01-CC-1000-6300.")
    if any(not s or len(s) > MAX_SEGMENT for s in segments):   # type: ignore[arg-type]
        raise CoupaError(400, f"{where}: each segment is 1 to {MAX_SEGMENT} characters.")
    seg1, seg2, seg3 = (str(s) for s in segments)
    return {"account_code": f"{seg1}-{seg2}-{seg3}", "segment_1": seg1, "segment_2": seg2, "segment_3": seg3}
