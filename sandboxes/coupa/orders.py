"""Purchase orders: ``GET /api/purchase_orders[/{id}]``, ``PUT /api/purchase_orders/{id}/issue|cancel|close``
and ``PUT /api/purchase_orders/{id}?exported=true``.

| action | from                     | to        | refused when                                   |
|--------|--------------------------|-----------|------------------------------------------------|
| issue  | buyer_hold, supplier_hold | issued   | cancelled or closed                            |
| cancel | buyer_hold, supplier_hold, issued | cancelled | closed, or anything received or invoiced against it |
| close  | issued                   | closed    | not yet issued, or cancelled                   |

Each is idempotent: repeating the move an order already shows answers 200 with it, changing
nothing. A refusal is a 400 that says why. Only an issued order takes receipts and invoices.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.engine import Connection

from sandboxes.coupa import auth
from sandboxes.coupa import tables as t
from sandboxes.coupa.changes import add_export_route, change
from sandboxes.coupa.context import coupa
from sandboxes.coupa.errors import CoupaError
from sandboxes.coupa.ordering import refresh_requisition
from sandboxes.coupa.progress import line_progress
from sandboxes.coupa.reads import add_read_routes, find
from sandboxes.coupa.views import purchase_order_view
from sandboxes.kit.jsonio import DecimalJSONResponse

PATH = "/api/purchase_orders"
# action -> (statuses it may start from, status after, how the refusal reads)
ACTIONS = {"issue": (("buyer_hold", "supplier_hold"), "issued", "issued"),
           "cancel": (("buyer_hold", "supplier_hold", "issued"), "cancelled", "cancelled"),
           "close": (("issued",), "closed", "closed")}

reads = APIRouter(prefix=PATH, dependencies=[auth.read("purchase_order")])
writes = APIRouter(prefix=PATH, dependencies=[auth.write("purchase_order")])
add_read_routes(reads, "purchase_orders", "purchase order", purchase_order_view)
add_export_route(writes, t.purchase_order, "purchase order", purchase_order_view,
                 "The sandbox updates a purchase order only by PUT ?exported=true|false, or by its issue, cancel "
                 "and close actions.")


@writes.put("/{key}/{action}")
async def act(key: str, action: str, request: Request) -> DecimalJSONResponse:
    if action not in ACTIONS:
        raise CoupaError(404, "No such resource.")
    ctx = coupa(request)
    with ctx.engine.begin() as conn:
        order = find(conn, t.purchase_order, key, "purchase order")
        transition(conn, order, action, ctx.now())
        return DecimalJSONResponse(purchase_order_view(conn, t.by_id(conn, t.purchase_order, order["id"]) or order))


def transition(conn: Connection, order: dict[str, Any], action: str, now: str) -> None:
    starts, after, verb = ACTIONS[action]
    if order["status"] == after:
        return
    if order["status"] not in starts:
        raise CoupaError(400, f"Purchase order {order['po_number']} is {order['status']}; it cannot be {verb}.")
    if action == "cancel":
        _refuse_cancel_with_activity(conn, order)
    change(conn, t.purchase_order, order["id"], now, status=after)
    refresh_requisition(conn, order["requisition_id"], now)


def _refuse_cancel_with_activity(conn: Connection, order: dict[str, Any]) -> None:
    lines = t.order_line.c
    line_ids = conn.execute(select(lines.id).where(lines.order_header_id == order["id"])).scalars().all()
    for line_id in line_ids:
        progress = line_progress(conn, line_id, order["currency"])
        if progress.invoiced_quantity > 0:
            raise CoupaError(400, f"Purchase order {order['po_number']} has been invoiced; it cannot be cancelled. "
                                  "Void its invoices first, or close it.")
        if progress.received > 0:
            raise CoupaError(400, f"Purchase order {order['po_number']} has receipts; it cannot be cancelled. "
                                  "Void its receipts first, or close it.")


def require_issued(order: dict[str, Any], doing: str) -> None:
    """Receipts and invoices go against issued orders only."""
    if order["status"] != "issued":
        raise CoupaError(400, f"Purchase order {order['po_number']} is {order['status']}; only an issued order "
                              f"can be {doing}.")
