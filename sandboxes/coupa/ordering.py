"""From an approved requisition to its purchase orders, and the requisition's status as they go on.

Approval creates one purchase order per supplier on the requisition (lines of several suppliers
make several orders), in ``buyer_hold``: finsync issues each after its budget check. Each order
line is tied to the requisition line it came from.

The requisition then follows its orders: ``approved`` until one is issued, ``ordered`` once one
is, ``partially_received`` once anything is received, ``received`` when every line of its open
orders has its ordered quantity received (cancelled orders are left out).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from sandboxes.coupa import tables as t
from sandboxes.coupa.changes import change
from sandboxes.coupa.progress import line_progress

FOLLOWS_ORDERS = ("approved", "ordered", "partially_received", "received")


def po_number(order_id: int) -> str:
    return f"PO-{1000 + order_id}"


def create_orders(conn: Connection, requisition: dict[str, Any], now: str) -> list[int]:
    lines = conn.execute(select(t.requisition_line).where(t.requisition_line.c.requisition_id == requisition["id"])
                         .order_by(t.requisition_line.c.line_num)).mappings().all()
    by_supplier: dict[int, list[Any]] = {}
    for line in lines:
        by_supplier.setdefault(line["supplier_id"], []).append(line)
    order_ids = []
    for supplier_id, supplier_lines in by_supplier.items():
        order_id = conn.execute(insert(t.purchase_order).values(
            status="buyer_hold", supplier_id=supplier_id, requisition_id=requisition["id"],
            ship_to_id=requisition["ship_to_id"], currency=requisition["currency"], exported=False,
            created_at=now, updated_at=now)).inserted_primary_key[0]   # type: ignore[index]
        conn.execute(update(t.purchase_order).where(t.purchase_order.c.id == order_id)
                     .values(po_number=po_number(order_id)))
        conn.execute(insert(t.order_line), [{
            "order_header_id": order_id, "requisition_line_id": line["id"], "line_num": num,
            "description": line["description"], "quantity": line["quantity"], "price": line["unit_price"],
            "uom": line["uom"], "account_code": line["account_code"], "segment_1": line["segment_1"],
            "segment_2": line["segment_2"], "segment_3": line["segment_3"], "need_by_date": line["need_by_date"],
        } for num, line in enumerate(supplier_lines, start=1)])
        order_ids.append(order_id)
    return order_ids


def refresh_requisition(conn: Connection, requisition_id: int, now: str) -> None:
    """Bring the requisition's status in line with its orders (a change only if it moves)."""
    requisition = t.by_id(conn, t.requisition, requisition_id)
    if requisition is None or requisition["status"] not in FOLLOWS_ORDERS:
        return
    orders = conn.execute(select(t.purchase_order).where(
        t.purchase_order.c.requisition_id == requisition_id, t.purchase_order.c.status.in_(("issued", "closed"))
    )).mappings().all()
    status = "approved"
    if orders:
        status = "ordered"
        lines = conn.execute(select(t.order_line).where(
            t.order_line.c.order_header_id.in_([o["id"] for o in orders]))).mappings().all()
        received = [(line_progress(conn, line["id"], requisition["currency"]).received, line["quantity"])
                    for line in lines]
        if received and all(got >= Decimal(wanted) for got, wanted in received):
            status = "received"
        elif any(got > 0 for got, _ in received):
            status = "partially_received"
    if status != requisition["status"]:
        change(conn, t.requisition, requisition_id, now, status=status)
