"""Optional Standard Webhooks events: a hint that a receipt or an invoice changed.

Coupa's documented integration is polling (``updated-at[gt]`` with ``exported=false``); Coupa has
no signed webhooks of its own that are documented. As an addition, the sandbox sends a thin
Standard Webhooks event after each change, to one subscribed endpoint (like the bank sandbox's):

- ``inventory_transaction.created`` when a receipt is recorded, ``inventory_transaction.updated``
  when it is voided;
- ``invoice.updated`` when an invoice comes in, is approved, voided or paid.

``{"type": ..., "timestamp": ..., "data": {"id": ..., "status": ..., "updated-at": ..., ...}}``:
the data names the record and where it sits (purchase orders, requisitions), never its whole
content; read the record from the API. Delivery is at least once (the kit's outbox); the
``webhook-id`` is the receiver's idempotency key. Subscribe with ``PUT /api/webhooks/subscription``
``{"endpoint": url}`` (any valid token; a sandbox addition).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.engine import Connection

from sandboxes.coupa import tables as t
from sandboxes.coupa.auth import bearer
from sandboxes.coupa.bodies import json_object, text_value
from sandboxes.coupa.context import coupa
from sandboxes.coupa.errors import CoupaError
from sandboxes.kit.jsonio import DecimalJSONResponse
from sandboxes.kit.webhooks import Subscription

router = APIRouter(dependencies=[Depends(bearer)])
SUBSCRIPTION = "/api/webhooks/subscription"
subscription = Subscription(t.webhook_subscription)


@router.put(SUBSCRIPTION)
async def put_subscription(request: Request) -> DecimalJSONResponse:
    endpoint = text_value(await json_object(request), "endpoint")
    if not endpoint.startswith(("http://", "https://")):
        raise CoupaError(400, "endpoint must be an http(s) URL.")
    subscription.subscribe(coupa(request).engine, endpoint)
    return DecimalJSONResponse({"endpoint": endpoint})


@router.get(SUBSCRIPTION)
async def get_subscription(request: Request) -> DecimalJSONResponse:
    endpoint = subscription.endpoint(coupa(request).engine)
    if endpoint is None:
        raise CoupaError(404, "No webhook subscription.")
    return DecimalJSONResponse({"endpoint": endpoint})


def receipt_data(conn: Connection, receipt: dict[str, Any]) -> dict[str, Any]:
    line = t.by_id(conn, t.order_line, receipt["order_line_id"])
    assert line is not None
    order = t.by_id(conn, t.purchase_order, line["order_header_id"])
    assert order is not None
    return {"id": receipt["id"], "status": receipt["status"], "updated-at": receipt["updated_at"],
            "order-line-id": line["id"], "order-header-id": order["id"], "requisition-header-id": order["requisition_id"]}


def invoice_data(conn: Connection, invoice: dict[str, Any]) -> dict[str, Any]:
    lines, orders = t.order_line.c, t.purchase_order.c
    placed = conn.execute(select(orders.id, orders.requisition_id).distinct()
                          .join_from(t.invoice_line, t.order_line, t.invoice_line.c.order_line_id == lines.id)
                          .join(t.purchase_order, lines.order_header_id == orders.id)
                          .where(t.invoice_line.c.invoice_id == invoice["id"]).order_by(orders.id)).all()
    return {"id": invoice["id"], "invoice-number": invoice["invoice_number"], "status": invoice["status"],
            "updated-at": invoice["updated_at"], "supplier": {"id": invoice["supplier_id"]},
            "order-header-ids": [order_id for order_id, _ in placed],
            "requisition-header-ids": sorted({requisition_id for _, requisition_id in placed})}
