"""Coupa's JSON (hyphenated keys, decimals as strings) -> canonical procurement documents.

Every number is read as Decimal (the body is parsed with ``parse_float=Decimal`` and Coupa sends
decimals as strings): a quantity or a 4-decimal unit price keeps its digits, and a line's amount
is rounded once, at the line (canonical/quantity.py). A document finsync cannot read (a missing
key, a requisition naming two suppliers) raises ``ValueError``/``KeyError``; the client turns
that into a business problem naming the document.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from canonical.procurement import (
    Coding,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    OrderStatus,
    PaymentTerms,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    RemitTo,
    Requisition,
    RequisitionLine,
    Supplier,
    SupplierStatus,
)
from canonical.quantity import Quantity, UnitPrice

SOURCE_SYSTEM = "coupa"

# Coupa's purchase order statuses; every one not named here (draft, supplier_hold, currency_hold,
# error) is an order not (yet) with the supplier.
_ORDER_STATUS = {"issued": OrderStatus.ISSUED, "closed": OrderStatus.CLOSED, "cancelled": OrderStatus.CANCELLED}
# Invoice statuses; the rest (new, draft, pending_approval, pending_receipt, on_hold, ap_hold,
# disputed) wait for someone in Coupa: not yet finsync's to pay.
_INVOICE_STATUS = {"approved": InvoiceStatus.APPROVED, "voided": InvoiceStatus.VOIDED,
                   "abandoned": InvoiceStatus.VOIDED}


def _id(value: Any) -> str:
    return str(value)


def _code(nested: Any) -> str:
    """``{"code": "USD"}`` -> ``"USD"``."""
    return str(nested["code"])


def timestamp(value: str) -> datetime:
    """Coupa's ``updated-at`` (ISO 8601 with an offset)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no offset")
    return moment


def coding(account: dict[str, Any]) -> Coding:
    """The account's segments: legal entity, cost center, GL account."""
    return Coding(entity_code=account["segment-1"], cost_center=account["segment-2"], gl_account=account["segment-3"])


def payment_terms(term: dict[str, Any] | None) -> PaymentTerms | None:
    """From the term's days and discount rate when Coupa gives them, else from its code ("2/10 net 30")."""
    if not term:
        return None
    net = term.get("days-for-net-payment")
    if net is None:
        return PaymentTerms.parse(str(term["code"]))
    rate = term.get("discount-rate")
    return PaymentTerms(net_days=int(net), discount_percent=Decimal(str(rate)) if rate is not None else Decimal(0),
                        discount_days=int(term.get("days-for-discount-payment") or 0))


def _remit_to(addresses: list[dict[str, Any]]) -> RemitTo | None:
    """The primary active remit-to (else the first active one), its bank account as entered."""
    active = [a for a in addresses if a.get("active", True)]
    chosen = next((a for a in active if a.get("primary")), active[0] if active else None)
    if chosen is None:
        return None
    bank = chosen.get("bank-account") or {}
    return RemitTo(holder_name=chosen["name"], bic=bank.get("bic"), iban=bank.get("iban"),
                   account_number=bank.get("account-number"), routing_number=bank.get("routing-number"))


def supplier(body: dict[str, Any]) -> Supplier:
    groups = body.get("content-groups") or []
    return Supplier(
        supplier_id=_id(body["id"]), number=body["number"], name=body["name"],
        status=SupplierStatus.ACTIVE if body["status"] == "active" else SupplierStatus.INACTIVE,
        on_hold=bool(body.get("on-hold")), currency=_code(body["currency"]),
        entity_code=groups[0]["name"] if groups else None,
        remit_to=_remit_to(body.get("remit-to-addresses") or []), payment_terms=payment_terms(body.get("payment-term")))


def _person(user: dict[str, Any] | None) -> str:
    if not user:
        return "unknown"
    return str(user.get("employee-number") or user.get("login"))


def requisition(body: dict[str, Any]) -> Requisition:
    currency = _code(body["currency"])
    lines = [RequisitionLine(
        line_id=_id(line["id"]), description=line["description"],
        quantity=Quantity.of(line["quantity"], _code(line["uom"])), unit_price=UnitPrice.of(line["unit-price"], currency),
        coding=coding(line["account"]), supplier_id=_id(line["supplier"]["id"]),
        need_by=date.fromisoformat(line["need-by-date"]) if line.get("need-by-date") else None,
    ) for line in body.get("requisition-lines") or []]
    title = body.get("justification") or (lines[0].description if lines else f"Requisition {body['id']}")
    return Requisition(requisition_id=_id(body["id"]), source_system=SOURCE_SYSTEM, title=title,
                       requested_by=_person(body.get("requested-by")), currency=currency, lines=lines,
                       submitted_at=timestamp(body["submitted-at"]) if body.get("submitted-at") else None)


def purchase_order(body: dict[str, Any]) -> PurchaseOrder:
    currency = _code(body["currency"])
    lines = [PurchaseOrderLine(
        line_id=_id(line["id"]), line_number=int(line["line-num"]), description=line["description"],
        quantity=Quantity.of(line["quantity"], _code(line["uom"])), unit_price=UnitPrice.of(line["price"], currency),
        coding=coding(line["account"])) for line in body.get("order-lines") or []]
    return PurchaseOrder(order_id=_id(body["id"]), order_number=body["po-number"],
                         requisition_id=_id(body["requisition-header"]["id"]), supplier_id=_id(body["supplier"]["id"]),
                         currency=currency, status=_ORDER_STATUS.get(body["status"], OrderStatus.DRAFT), lines=lines)


def receipt(body: dict[str, Any]) -> Receipt:
    line = body["order-line"]
    return Receipt(receipt_id=_id(body["id"]), order_id=_id(line["order-header-id"]), order_line_id=_id(line["id"]),
                   quantity=Quantity.of(body["quantity"], _code(body["uom"])),
                   received_on=date.fromisoformat(body["transaction-date"]), voided=body["status"] == "voided")


def invoice_status(body: dict[str, Any]) -> InvoiceStatus:
    status = _INVOICE_STATUS.get(body["status"], InvoiceStatus.PENDING)
    return InvoiceStatus.PAID if status is InvoiceStatus.APPROVED and body.get("paid") else status


def invoice(body: dict[str, Any]) -> Invoice:
    currency = _code(body["currency"])
    raw_lines = body.get("invoice-lines") or []
    lines = [InvoiceLine(
        line_id=_id(line["id"]),
        order_line_id=_id(line["order-line-id"]) if line.get("order-line-id") is not None else None,
        description=line.get("description") or "", quantity=Quantity.of(line["quantity"], _code(line["uom"])),
        unit_price=UnitPrice.of(line["price"], currency)) for line in raw_lines]
    orders = [line["order-header-id"] for line in raw_lines if line.get("order-header-id") is not None]
    if not orders:
        raise ValueError(f"invoice {body.get('invoice-number')} bills no purchase order line")
    return Invoice(invoice_id=_id(body["id"]), invoice_number=body["invoice-number"],
                   supplier_id=_id(body["supplier"]["id"]), order_id=_id(orders[0]), currency=currency,
                   invoice_date=date.fromisoformat(body["invoice-date"]), status=invoice_status(body), lines=lines,
                   payment_terms=payment_terms(body.get("payment-term")))
