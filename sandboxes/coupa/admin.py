"""The driver's ``/_sandbox`` routes: what people do in Coupa's UI that its API does not offer.

No token; never faulted nor rate limited (like every sandbox's ``/_sandbox`` routes):
- ``PUT /_sandbox/suppliers/{id or number}`` ``{"on-hold": true, "status": "inactive"}`` (either or
  both): a supplier manager puts payments on hold or deactivates the supplier;
- ``GET|PUT /_sandbox/settings`` ``{"auto-approve-invoices": false}``: whether a supplier's invoice
  arrives approved (the default) or waits in pending_approval;
- ``PUT /_sandbox/invoices/{id}/approve``: the AP approver approves a pending invoice;
- ``GET /_sandbox/rate-limit``: the limit per client, and the requests each client made
  (``client:<client id>``, or ``address:<host>`` without a valid token), refused ones included.
The rest (requisitions, approvals, receipts, invoices) people do through the API: see driver.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from sandboxes.coupa import events, invoices
from sandboxes.coupa import tables as t
from sandboxes.coupa.bodies import json_object
from sandboxes.coupa.changes import change
from sandboxes.coupa.context import coupa
from sandboxes.coupa.errors import CoupaError, not_found
from sandboxes.coupa.reads import find
from sandboxes.coupa.views import invoice_view, supplier_view
from sandboxes.kit.jsonio import DecimalJSONResponse

router = APIRouter(prefix="/_sandbox", include_in_schema=False)


@router.put("/suppliers/{key}")
async def update_supplier(key: str, request: Request) -> DecimalJSONResponse:
    body = await json_object(request)
    values: dict[str, Any] = {}
    if "on-hold" in body:
        if not isinstance(body["on-hold"], bool):
            raise CoupaError(400, "on-hold takes true or false.")
        values["on_hold"] = body["on-hold"]
    if "status" in body:
        if body["status"] not in ("active", "inactive"):
            raise CoupaError(400, "status takes active or inactive.")
        values["status"] = body["status"]
    if not values or set(body) - {"on-hold", "status"}:
        raise CoupaError(400, "Send on-hold and/or status, and nothing else.")
    ctx = coupa(request)
    with ctx.engine.begin() as conn:
        by_id = key.isascii() and key.isdigit() and len(key) < 19
        found = conn.execute(select(t.supplier).where(
            t.supplier.c.id == int(key) if by_id else t.supplier.c.number == key)).mappings().first()
        if found is None:
            raise not_found("supplier", key[:40])
        supplier = dict(found)
        if any(supplier[k] != v for k, v in values.items()):
            change(conn, t.supplier, supplier["id"], ctx.now(), **values)
            supplier = t.by_id(conn, t.supplier, supplier["id"]) or supplier
        return DecimalJSONResponse(supplier_view(conn, supplier))


@router.get("/settings")
async def get_settings(request: Request) -> dict:
    return {"auto-approve-invoices": coupa(request).auto_approve_invoices}


@router.put("/settings")
async def put_settings(request: Request) -> dict:
    body = await json_object(request)
    flag = body.get("auto-approve-invoices")
    if set(body) != {"auto-approve-invoices"} or not isinstance(flag, bool):
        raise CoupaError(400, "Send {\"auto-approve-invoices\": true|false}.")
    coupa(request).auto_approve_invoices = flag
    return {"auto-approve-invoices": flag}


@router.put("/invoices/{key}/approve")
async def approve_invoice(key: str, request: Request) -> DecimalJSONResponse:
    ctx = coupa(request)
    with ctx.engine.begin() as conn:
        invoice = find(conn, t.invoice, key, "invoice")
        approved = invoices.approve(conn, invoice, ctx.now())
        view, data = invoice_view(conn, approved or invoice), events.invoice_data(conn, approved or invoice)
    if approved:
        events.subscription.publish(ctx, "invoice.updated", data)
    return DecimalJSONResponse(view)


@router.get("/rate-limit")
async def get_rate_limit(request: Request) -> dict:
    return request.app.state.rate_limit.report()
