"""Records as Coupa's JSON renders them: hyphenated keys, nested objects, decimals as strings.

Every key is always present (null when empty), so a reader never has to guess whether a missing
key means "none" or "not sent".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from sandboxes.coupa import tables as t
from sandboxes.coupa.amounts import PaymentTerm, line_total, money, text
from sandboxes.coupa.progress import line_progress

RECEIPT_TYPE = "ReceivingQuantityConsumption"


def _row(conn: Connection, table: Table, key: int | None) -> dict[str, Any] | None:
    return t.by_id(conn, table, key) if key is not None else None


def _rows(conn: Connection, table: Table, column: str, key: int) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(table).where(table.c[column] == key).order_by(table.c.id)).mappings()]


def order_line_of(conn: Connection, order_line_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order line and its purchase order (both exist: foreign keys hold them)."""
    line = t.by_id(conn, t.order_line, order_line_id)
    assert line is not None, order_line_id
    order = t.by_id(conn, t.purchase_order, line["order_header_id"])
    assert order is not None, line
    return line, order


def stamps(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "created-at": row["created_at"], "updated-at": row["updated_at"]}


def user_view(conn: Connection, user_id: int | None) -> dict[str, Any] | None:
    user = _row(conn, t.user, user_id)
    if user is None:
        return None
    return {"id": user["id"], "login": user["login"], "email": user["email"],
            "employee-number": user["employee_number"], "firstname": user["firstname"],
            "lastname": user["lastname"], "active": user["active"]}


def address_view(conn: Connection, address_id: int) -> dict[str, Any] | None:
    found = _row(conn, t.address, address_id)
    if found is None:
        return None
    return {"id": found["id"], "name": found["name"], "location-code": found["location_code"],
            "country": {"code": found["country_code"]}}


def supplier_ref(conn: Connection, supplier_id: int) -> dict[str, Any] | None:
    found = _row(conn, t.supplier, supplier_id)
    return {"id": found["id"], "name": found["name"], "number": found["number"]} if found else None


def supplier_view(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    remit_tos = [{
        "id": r["id"], "remit-to-code": r["code"], "name": r["name"], "primary": r["is_primary"],
        "active": r["active"], "country": {"code": r["country_code"]},
        "bank-account": {"iban": r["iban"], "account-number": r["account_number"],
                         "routing-number": r["routing_number"], "bic": r["bic"], "currency": {"code": r["currency"]}},
    } for r in _rows(conn, t.remit_to, "supplier_id", row["id"])]
    return {**stamps(row), "number": row["number"], "name": row["name"], "status": row["status"],
            "on-hold": row["on_hold"], "currency": {"code": row["currency"]},
            "payment-term": PaymentTerm.parse(row["payment_term"]).view(),
            "content-groups": [{"name": row["entity"]}], "remit-to-addresses": remit_tos}


def account_view(row: dict[str, Any]) -> dict[str, Any]:
    return {"code": row["account_code"], "segment-1": row["segment_1"], "segment-2": row["segment_2"],
            "segment-3": row["segment_3"]}


def requisition_view(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    order_lines = {r["requisition_line_id"]: r["id"] for r in conn.execute(
        select(t.order_line.c.requisition_line_id, t.order_line.c.id).join_from(
            t.order_line, t.purchase_order, t.order_line.c.order_header_id == t.purchase_order.c.id)
        .where(t.purchase_order.c.requisition_id == row["id"])).mappings()}
    lines = [{
        "id": line["id"], "line-num": line["line_num"], "line-type": "RequisitionQuantityLine",
        "description": line["description"], "quantity": line["quantity"], "unit-price": line["unit_price"],
        "total": text(line_total(line["quantity"], line["unit_price"], currency)), "uom": {"code": line["uom"]},
        "currency": {"code": currency}, "supplier": supplier_ref(conn, line["supplier_id"]),
        "account": account_view(line), "need-by-date": line["need_by_date"],
        "order-line-id": order_lines.get(line["id"]),
    } for line in _rows(conn, t.requisition_line, "requisition_id", row["id"])]
    total = sum((Decimal(line["total"]) for line in lines), Decimal(0))
    return {**stamps(row), "status": row["status"], "exported": row["exported"], "submitted-at": row["submitted_at"],
            "requested-by": user_view(conn, row["requested_by_id"]),
            "ship-to-address": address_view(conn, row["ship_to_id"]), "currency": {"code": currency},
            "justification": row["justification"], "total": text(money(total, currency)),
            "requisition-lines": lines}


def approval_view(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    return {**stamps(row), "status": row["status"], "position": row["position"],
            "type": "ManagementHierarchyApproval", "approvable-type": row["approvable_type"],
            "approvable-id": row["approvable_id"], "approval-date": row["approval_date"], "note": row["note"],
            "holdable": row["status"] in ("pending", "on_hold"), "approver": user_view(conn, row["approver_id"])}


def order_line_view(conn: Connection, line: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    currency = order["currency"]
    progress = line_progress(conn, line["id"], currency)
    return {"id": line["id"], "line-num": line["line_num"], "order-header-id": order["id"],
            "po-number": order["po_number"], "description": line["description"], "quantity": line["quantity"],
            "price": line["price"], "total": text(line_total(line["quantity"], line["price"], currency)),
            "uom": {"code": line["uom"]}, "currency": {"code": currency}, "account": account_view(line),
            "need-by-date": line["need_by_date"], "requisition-line-id": line["requisition_line_id"],
            "match-type": "3-way", "received": text(progress.received),
            "invoiced": text(progress.invoiced_quantity),
            "invoiced-amount": text(money(progress.invoiced_amount, currency))}


def purchase_order_view(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    lines = [order_line_view(conn, line, row) for line in _rows(conn, t.order_line, "order_header_id", row["id"])]
    total = sum((Decimal(line["total"]) for line in lines), Decimal(0))
    return {**stamps(row), "po-number": row["po_number"], "status": row["status"], "exported": row["exported"],
            "supplier": supplier_ref(conn, row["supplier_id"]), "currency": {"code": row["currency"]},
            "ship-to-address": address_view(conn, row["ship_to_id"]),
            "requisition-header": {"id": row["requisition_id"]}, "total": text(money(total, row["currency"])),
            "order-lines": lines}


def inventory_transaction_view(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    line, order = order_line_of(conn, row["order_line_id"])
    return {**stamps(row), "type": row["type"], "status": row["status"], "exported": row["exported"],
            "quantity": row["quantity"], "transaction-date": row["transaction_date"], "uom": {"code": line["uom"]},
            "price": line["price"], "total": text(line_total(row["quantity"], line["price"], order["currency"])),
            "currency": {"code": order["currency"]},
            "order-line": {"id": line["id"], "line-num": line["line_num"], "order-header-id": order["id"],
                           "po-number": order["po_number"]}}


def invoice_view(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    lines = []
    for line in _rows(conn, t.invoice_line, "invoice_id", row["id"]):
        ordered, order = order_line_of(conn, line["order_line_id"])
        lines.append({
            "id": line["id"], "line-num": line["line_num"], "description": line["description"],
            "quantity": line["quantity"], "price": line["price"],
            "total": text(line_total(line["quantity"], line["price"], currency)), "uom": {"code": ordered["uom"]},
            "order-line-id": ordered["id"], "order-header-id": order["id"], "po-number": order["po_number"],
            "account": account_view(ordered)})
    total = sum((Decimal(line["total"]) for line in lines), Decimal(0))
    term = PaymentTerm.parse(row["payment_term"])
    invoice_date = date.fromisoformat(row["invoice_date"])
    discount_due = term.discount_due(invoice_date)
    payments = [{"amount-paid": p["amount_paid"], "payment-date": p["payment_date"], "notes": p["notes"]}
                for p in _rows(conn, t.invoice_payment, "invoice_id", row["id"])]
    return {**stamps(row), "invoice-number": row["invoice_number"], "invoice-date": row["invoice_date"],
            "status": row["status"], "exported": row["exported"], "paid": row["paid"],
            "payment-date": row["payment_date"], "supplier": supplier_ref(conn, row["supplier_id"]),
            "currency": {"code": currency}, "gross-total": text(money(total, currency)),
            "payment-term": term.view(), "net-due-date": term.net_due(invoice_date).isoformat(),
            "discount-due-date": discount_due.isoformat() if discount_due else None,
            "invoice-lines": lines, "payments": payments}
