"""How far an order line has come: quantity received, quantity and amount invoiced.

Worked out from the receipts and invoices themselves (voided ones left out), never kept as a
running total, so a void can never leave a stale figure behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Connection

from sandboxes.coupa import tables as t
from sandboxes.coupa.amounts import line_total

VOIDED = "voided"


@dataclass(frozen=True)
class LineProgress:
    received: Decimal
    invoiced_quantity: Decimal
    invoiced_amount: Decimal


def line_progress(conn: Connection, order_line_id: int, currency: str) -> LineProgress:
    receipts = t.inventory_transaction.c
    received = conn.execute(select(receipts.quantity).where(
        receipts.order_line_id == order_line_id, receipts.status != VOIDED)).scalars().all()
    lines, invoices = t.invoice_line.c, t.invoice.c
    invoiced = conn.execute(select(lines.quantity, lines.price).join_from(
        t.invoice_line, t.invoice, lines.invoice_id == invoices.id).where(
        lines.order_line_id == order_line_id, invoices.status != VOIDED)).all()
    return LineProgress(
        received=sum((Decimal(q) for q in received), Decimal(0)),
        invoiced_quantity=sum((Decimal(q) for q, _ in invoiced), Decimal(0)),
        invoiced_amount=sum((line_total(q, p, currency) for q, p in invoiced), Decimal(0)))
