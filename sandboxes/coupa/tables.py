"""The Coupa sandbox's SQLite schema.

Quantities, prices and amounts are exact decimal text, never floats. Timestamps are UTC text in
one fixed form (``2026-03-15T10:00:00+00:00``, see ``clock.py``), so comparing the text compares
the instants; business dates are ISO dates. Table names carry a ``coupa_`` prefix and live in their
own MetaData, so they cannot clash with another sandbox's tables in one process.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Integer, MetaData, Table, Text, UniqueConstraint, select
from sqlalchemy.engine import Connection, Engine

metadata = MetaData()


def _id() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _stamps() -> list[Column]:
    return [Column("created_at", Text, nullable=False), Column("updated_at", Text, nullable=False, index=True)]


def _account() -> list[Column]:
    """A line's account: its code and its segments."""
    return [Column("account_code", Text, nullable=False),
            Column("segment_1", Text, nullable=False),          # legal entity
            Column("segment_2", Text, nullable=False),          # cost center
            Column("segment_3", Text, nullable=False)]          # GL account


def _exported() -> Column:
    return Column("exported", Boolean, nullable=False, default=False, index=True)


user = Table(
    "coupa_user", metadata, _id(),
    Column("login", Text, nullable=False, unique=True),
    Column("email", Text, nullable=False),
    Column("employee_number", Text, unique=True),
    Column("firstname", Text, nullable=False),
    Column("lastname", Text, nullable=False),
    Column("manager_id", Integer, ForeignKey("coupa_user.id")),
    Column("active", Boolean, nullable=False, default=True),
)

# Ship-to addresses: one per legal entity, whose code is the address's location code.
address = Table(
    "coupa_address", metadata, _id(),
    Column("name", Text, nullable=False),
    Column("location_code", Text, nullable=False, unique=True),
    Column("country_code", Text, nullable=False),
)

supplier = Table(
    "coupa_supplier", metadata, _id(),
    Column("number", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("status", Text, nullable=False),                 # active | inactive
    Column("on_hold", Boolean, nullable=False, default=False),   # payments on hold
    Column("entity", Text, nullable=False),                 # its content group: a legal entity code
    Column("currency", Text, nullable=False),
    Column("payment_term", Text, nullable=False),           # e.g. "2/10 net 30"
    *_stamps(),
)

remit_to = Table(
    "coupa_remit_to", metadata, _id(),
    Column("supplier_id", Integer, ForeignKey("coupa_supplier.id"), nullable=False, index=True),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("is_primary", Boolean, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("country_code", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("iban", Text),
    Column("account_number", Text),
    Column("routing_number", Text),
    Column("bic", Text),
)

requisition = Table(
    "coupa_requisition", metadata, _id(),
    Column("status", Text, nullable=False, index=True),
    Column("requested_by_id", Integer, ForeignKey("coupa_user.id"), nullable=False),
    Column("ship_to_id", Integer, ForeignKey("coupa_address.id"), nullable=False),
    Column("currency", Text, nullable=False),
    Column("justification", Text, nullable=False, default=""),
    Column("submitted_at", Text),
    _exported(), *_stamps(),
)

requisition_line = Table(
    "coupa_requisition_line", metadata, _id(),
    Column("requisition_id", Integer, ForeignKey("coupa_requisition.id"), nullable=False, index=True),
    Column("line_num", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("quantity", Text, nullable=False),
    Column("unit_price", Text, nullable=False),
    Column("uom", Text, nullable=False),
    Column("supplier_id", Integer, ForeignKey("coupa_supplier.id"), nullable=False),
    *_account(),
    Column("need_by_date", Text),
)

approval = Table(
    "coupa_approval", metadata, _id(),
    Column("approvable_type", Text, nullable=False),
    Column("approvable_id", Integer, nullable=False, index=True),
    Column("approver_id", Integer, ForeignKey("coupa_user.id")),
    Column("status", Text, nullable=False, index=True),     # pending | on_hold | approved | rejected
    Column("position", Integer, nullable=False),
    Column("note", Text),
    Column("approval_date", Text),
    *_stamps(),
)

purchase_order = Table(
    "coupa_purchase_order", metadata, _id(),
    Column("po_number", Text, unique=True),
    Column("status", Text, nullable=False, index=True),
    Column("supplier_id", Integer, ForeignKey("coupa_supplier.id"), nullable=False),
    Column("requisition_id", Integer, ForeignKey("coupa_requisition.id"), nullable=False, index=True),
    Column("ship_to_id", Integer, ForeignKey("coupa_address.id"), nullable=False),
    Column("currency", Text, nullable=False),
    _exported(), *_stamps(),
)

order_line = Table(
    "coupa_order_line", metadata, _id(),
    Column("order_header_id", Integer, ForeignKey("coupa_purchase_order.id"), nullable=False, index=True),
    Column("requisition_line_id", Integer, ForeignKey("coupa_requisition_line.id"), nullable=False),
    Column("line_num", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("quantity", Text, nullable=False),
    Column("price", Text, nullable=False),
    Column("uom", Text, nullable=False),
    *_account(),
    Column("need_by_date", Text),
)

inventory_transaction = Table(
    "coupa_inventory_transaction", metadata, _id(),
    Column("type", Text, nullable=False),
    Column("status", Text, nullable=False, index=True),     # created | voided
    Column("order_line_id", Integer, ForeignKey("coupa_order_line.id"), nullable=False, index=True),
    Column("quantity", Text, nullable=False),
    Column("transaction_date", Text, nullable=False),
    _exported(), *_stamps(),
)

invoice = Table(
    "coupa_invoice", metadata, _id(),
    Column("invoice_number", Text, nullable=False),
    Column("invoice_date", Text, nullable=False),
    Column("supplier_id", Integer, ForeignKey("coupa_supplier.id"), nullable=False),
    Column("currency", Text, nullable=False),
    Column("status", Text, nullable=False, index=True),
    Column("payment_term", Text, nullable=False),           # the supplier's when the invoice came in
    Column("paid", Boolean, nullable=False, default=False),
    Column("payment_date", Text),
    _exported(), *_stamps(),
    UniqueConstraint("supplier_id", "invoice_number", name="coupa_invoice_number_per_supplier"),
)

invoice_line = Table(
    "coupa_invoice_line", metadata, _id(),
    Column("invoice_id", Integer, ForeignKey("coupa_invoice.id"), nullable=False, index=True),
    Column("line_num", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("quantity", Text, nullable=False),
    Column("price", Text, nullable=False),
    Column("order_line_id", Integer, ForeignKey("coupa_order_line.id"), nullable=False, index=True),
)

invoice_payment = Table(
    "coupa_invoice_payment", metadata, _id(),
    Column("invoice_id", Integer, ForeignKey("coupa_invoice.id"), nullable=False, index=True),
    Column("amount_paid", Text, nullable=False),
    Column("payment_date", Text, nullable=False),
    Column("notes", Text, nullable=False, default=""),
)

# Not Coupa's: where the optional Standard Webhooks events go (one endpoint, like the bank's).
webhook_subscription = Table(
    "coupa_webhook_subscription", metadata,
    Column("id", Integer, primary_key=True),
    Column("endpoint", Text, nullable=False),
)


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def by_id(conn: Connection, table: Table, key: int) -> dict[str, Any] | None:
    found = conn.execute(select(table).where(table.c.id == key)).mappings().first()
    return dict(found) if found else None
