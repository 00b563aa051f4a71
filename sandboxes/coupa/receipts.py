"""Receipts: ``POST /api/inventory_transactions``, ``PUT /api/inventory_transactions/{id}/void``,
``GET /api/inventory_transactions[/{id}]``, ``PUT /api/inventory_transactions/{id}?exported=true``.

The body (Coupa's field names for it are unverified)::

    {"type": "ReceivingQuantityConsumption", "order-line": {"id": 12}, "quantity": "3",
     "transaction-date": "2026-03-20"}

A receipt may be partial, and several add up on the order line's ``received``. Receiving more
than was ordered is allowed, as in Coupa (finsync's three-way match decides what it means). A
void takes the quantity back off the line; voiding a voided receipt answers 200 and changes
nothing. Each receipt and void is a change to the purchase order (its ``received`` moved) and
may move the requisition to partially_received or received.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from sandboxes.coupa import auth, events
from sandboxes.coupa import tables as t
from sandboxes.coupa.amounts import decimal_value, text
from sandboxes.coupa.bodies import date_value, json_object, reference
from sandboxes.coupa.changes import add_export_route, change
from sandboxes.coupa.context import CoupaContext, coupa
from sandboxes.coupa.errors import CoupaError
from sandboxes.coupa.ordering import refresh_requisition
from sandboxes.coupa.orders import require_issued
from sandboxes.coupa.reads import add_read_routes, find
from sandboxes.coupa.views import RECEIPT_TYPE, inventory_transaction_view
from sandboxes.kit.jsonio import DecimalJSONResponse

PATH = "/api/inventory_transactions"
KIND = "inventory transaction"

reads = APIRouter(prefix=PATH, dependencies=[auth.read("inventory_transaction")])
writes = APIRouter(prefix=PATH, dependencies=[auth.write("inventory_transaction")])
add_read_routes(reads, "inventory_transactions", KIND, inventory_transaction_view)
add_export_route(writes, t.inventory_transaction, KIND, inventory_transaction_view,
                 "The sandbox updates a receipt only by PUT ?exported=true|false, or voids it.")


@writes.post("", status_code=201)
async def receive(request: Request) -> DecimalJSONResponse:
    ctx = coupa(request)
    body = await json_object(request)
    with ctx.engine.begin() as conn:
        receipt = create(conn, body, ctx)
        view = inventory_transaction_view(conn, receipt)
        data = events.receipt_data(conn, receipt)
    events.subscription.publish(ctx, "inventory_transaction.created", data)
    return DecimalJSONResponse(view, status_code=201)


@writes.put("/{key}/void")
async def void(key: str, request: Request) -> DecimalJSONResponse:
    ctx = coupa(request)
    with ctx.engine.begin() as conn:
        receipt = find(conn, t.inventory_transaction, key, KIND)
        voided = receipt["status"] != "voided"
        if voided:
            now = ctx.now()
            change(conn, t.inventory_transaction, receipt["id"], now, status="voided")
            _order_changed(conn, receipt["order_line_id"], now)
            receipt = t.by_id(conn, t.inventory_transaction, receipt["id"]) or receipt
        view = inventory_transaction_view(conn, receipt)
        data = events.receipt_data(conn, receipt)
    if voided:
        events.subscription.publish(ctx, "inventory_transaction.updated", data)
    return DecimalJSONResponse(view)


def create(conn: Connection, body: dict[str, Any], ctx: CoupaContext) -> dict[str, Any]:
    if body.get("type", RECEIPT_TYPE) != RECEIPT_TYPE:
        raise CoupaError(400, f"The sandbox records receipts of type {RECEIPT_TYPE} only.")
    line = reference(conn, t.order_line, body.get("order-line"), "order-line", {})
    order = t.by_id(conn, t.purchase_order, line["order_header_id"])
    assert order is not None
    require_issued(order, "received against")
    quantity = decimal_value(body.get("quantity"), "quantity")
    on = date_value(body, "transaction-date", required=False) or ctx.clock().date().isoformat()
    now = ctx.now()
    receipt_id = conn.execute(insert(t.inventory_transaction).values(
        type=RECEIPT_TYPE, status="created", order_line_id=line["id"], quantity=text(quantity),
        transaction_date=on, exported=False, created_at=now, updated_at=now)).inserted_primary_key[0]  # type: ignore[index]
    _order_changed(conn, line["id"], now)
    receipt = t.by_id(conn, t.inventory_transaction, receipt_id)
    assert receipt is not None
    return receipt


def _order_changed(conn: Connection, order_line_id: int, now: str) -> None:
    line = t.by_id(conn, t.order_line, order_line_id)
    assert line is not None
    order = t.by_id(conn, t.purchase_order, line["order_header_id"])
    assert order is not None
    change(conn, t.purchase_order, order["id"], now)
    refresh_requisition(conn, order["requisition_id"], now)
