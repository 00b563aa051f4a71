"""Invoices: ``POST /api/invoices`` (the supplier sends one), ``PUT /api/invoices/{id}/void``,
``GET /api/invoices[/{id}]``, ``PUT /api/invoices/{id}`` (payment write-back) and
``PUT /api/invoices/{id}?exported=true``.

An invoice, as the supplier sends it::

    {"invoice-number": "INV-1001", "invoice-date": "2026-03-25", "supplier": {"number": "SUP-100"},
     "currency": {"code": "USD"}, "invoice-lines": [{"order-line-id": 12, "quantity": "3",
        "price": "12.50", "description": "..."}]}

Every line bills an order line of an issued purchase order of the same supplier and currency.
Quantity and price may differ from the order: finsync's three-way match judges them. An invoice
number is used once per supplier (voided invoices included), else 400. The invoice takes the
supplier's payment term; ``net-due-date`` and ``discount-due-date`` follow from its date.

Status: ``approved`` on arrival (the sandbox plays the AP approver); with the driver's
``auto-approve-invoices`` off it arrives ``pending_approval`` until ``PUT /_sandbox/invoices/{id}/approve``.

Payment write-back: ``{"paid": true, "payment-date": "2026-04-04", "payments": [{"amount-paid":
"1176.00", "payment-date": "2026-04-04", "notes": "..."}]}`` on an approved invoice. Each payment
is added to ``payments``, but one identical to a payment already recorded (amount, date and notes)
is not added again, so a retried write-back records the payment once (Coupa's handling of a
repeated write-back is unverified).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from sandboxes.coupa import auth, events
from sandboxes.coupa import tables as t
from sandboxes.coupa.amounts import currency_code, decimal_value, exponent, text
from sandboxes.coupa.bodies import date_value, json_object, objects, reference, text_value
from sandboxes.coupa.changes import change, export_flag, mark_exported
from sandboxes.coupa.context import CoupaContext, coupa
from sandboxes.coupa.errors import CoupaError
from sandboxes.coupa.orders import require_issued
from sandboxes.coupa.reads import add_read_routes, find
from sandboxes.coupa.requisitions import SUPPLIER_KEYS
from sandboxes.coupa.views import invoice_view
from sandboxes.kit.jsonio import DecimalJSONResponse

PATH = "/api/invoices"
MAX_LINES = 200
MAX_NUMBER = 100
PAYMENT_FIELDS = ("paid", "payment-date", "payments")

reads = APIRouter(prefix=PATH, dependencies=[auth.read("invoice")])
writes = APIRouter(prefix=PATH, dependencies=[auth.write("invoice")])
add_read_routes(reads, "invoices", "invoice", invoice_view)


@writes.post("", status_code=201)
async def receive_invoice(request: Request) -> DecimalJSONResponse:
    ctx = coupa(request)
    body = await json_object(request)
    with ctx.engine.begin() as conn:
        invoice = create(conn, body, ctx)
        view, data = invoice_view(conn, invoice), events.invoice_data(conn, invoice)
    events.subscription.publish(ctx, "invoice.updated", data)
    return DecimalJSONResponse(view, status_code=201)


@writes.put("/{key}/void")
async def void(key: str, request: Request) -> DecimalJSONResponse:
    ctx = coupa(request)
    with ctx.engine.begin() as conn:
        invoice = find(conn, t.invoice, key, "invoice")
        changed = invoice["status"] != "voided"
        if changed:
            if invoice["paid"]:
                raise CoupaError(400, f"Invoice {invoice['invoice_number']} has been paid; it cannot be voided.")
            now = ctx.now()
            invoice = _changed(conn, invoice, now, status="voided")
            _orders_changed(conn, invoice["id"], now)
        view, data = invoice_view(conn, invoice), events.invoice_data(conn, invoice)
    if changed:
        events.subscription.publish(ctx, "invoice.updated", data)
    return DecimalJSONResponse(view)


@writes.put("/{key}")
async def update(key: str, request: Request) -> DecimalJSONResponse:
    ctx = coupa(request)
    exported = await export_flag(request)
    body = None if exported is not None else await json_object(request)
    with ctx.engine.begin() as conn:
        invoice = find(conn, t.invoice, key, "invoice")
        if exported is not None:
            mark_exported(conn, t.invoice, invoice["id"], exported)
            return DecimalJSONResponse(invoice_view(conn, {**invoice, "exported": exported}))
        assert body is not None
        updated = write_back_payment(conn, invoice, body, ctx.now())
        view, data = invoice_view(conn, updated or invoice), events.invoice_data(conn, updated or invoice)
    if updated:
        events.subscription.publish(ctx, "invoice.updated", data)
    return DecimalJSONResponse(view)


def approve(conn: Connection, invoice: dict[str, Any], now: str) -> dict[str, Any] | None:
    """The driver's AP approval of a pending invoice; None if it was approved already."""
    if invoice["status"] == "approved":
        return None
    if invoice["status"] != "pending_approval":
        raise CoupaError(400, f"Invoice {invoice['invoice_number']} is {invoice['status']}; it cannot be approved.")
    return _changed(conn, invoice, now, status="approved")


def create(conn: Connection, body: dict[str, Any], ctx: CoupaContext) -> dict[str, Any]:
    number = text_value(body, "invoice-number")
    if len(number) > MAX_NUMBER:
        raise CoupaError(400, f"invoice-number is at most {MAX_NUMBER} characters.")
    invoice_date = date_value(body, "invoice-date")
    supplier = reference(conn, t.supplier, body.get("supplier"), "supplier", SUPPLIER_KEYS)
    currency = currency_code(body.get("currency"))
    lines = objects(body, "invoice-lines")
    if len(lines) > MAX_LINES:
        raise CoupaError(400, f"An invoice takes at most {MAX_LINES} lines.")
    drafts = [_line(conn, line, f"invoice-lines[{i}]", supplier, currency) for i, line in enumerate(lines)]
    taken = conn.execute(select(t.invoice.c.id).where(
        t.invoice.c.supplier_id == supplier["id"], t.invoice.c.invoice_number == number)).first()
    if taken is not None:
        raise CoupaError(400, f"Invoice number {number} has already been used for supplier {supplier['number']}.")
    now = ctx.now()
    invoice_id = conn.execute(insert(t.invoice).values(
        invoice_number=number, invoice_date=invoice_date, supplier_id=supplier["id"], currency=currency,
        status="approved" if ctx.auto_approve_invoices else "pending_approval",
        payment_term=supplier["payment_term"], paid=False, exported=False, created_at=now, updated_at=now,
    )).inserted_primary_key[0]   # type: ignore[index]
    conn.execute(insert(t.invoice_line), [{**draft, "invoice_id": invoice_id, "line_num": num}
                                          for num, draft in enumerate(drafts, start=1)])
    invoice = t.by_id(conn, t.invoice, invoice_id)
    assert invoice is not None
    _orders_changed(conn, invoice_id, now)
    return invoice


def _line(conn: Connection, line: dict[str, Any], where: str, supplier: dict[str, Any], currency: str) -> dict:
    ordered = reference(conn, t.order_line, {"id": line.get("order-line-id")}, f"{where}.order-line-id", {})
    order = t.by_id(conn, t.purchase_order, ordered["order_header_id"])
    assert order is not None
    if order["supplier_id"] != supplier["id"]:
        raise CoupaError(400, f"{where}: order line {ordered['id']} is on purchase order {order['po_number']} of "
                              f"another supplier.")
    if order["currency"] != currency:
        raise CoupaError(400, f"{where}: purchase order {order['po_number']} is in {order['currency']}, "
                              f"the invoice in {currency}.")
    require_issued(order, "invoiced")
    return {"order_line_id": ordered["id"],
            "description": text_value(line, "description", required=False, default=ordered["description"]),
            "quantity": text(decimal_value(line.get("quantity"), f"{where}.quantity")),
            "price": text(decimal_value(line.get("price"), f"{where}.price"))}


def write_back_payment(conn: Connection, invoice: dict[str, Any], body: dict[str, Any],
                       now: str) -> dict[str, Any] | None:
    """Record the payment; the invoice as changed, or None when the write-back was already recorded."""
    unknown = sorted(set(body) - set(PAYMENT_FIELDS))
    if unknown:
        raise CoupaError(400, f"The sandbox updates an invoice's {', '.join(PAYMENT_FIELDS)} only, not "
                              f"{', '.join(u[:40] for u in unknown)}.")
    if invoice["status"] != "approved":
        raise CoupaError(400, f"Invoice {invoice['invoice_number']} is {invoice['status']}; only an approved "
                              "invoice can be paid.")
    paid = body.get("paid", invoice["paid"])
    if not isinstance(paid, bool):
        raise CoupaError(400, "paid takes true or false.")
    payment_date = date_value(body, "payment-date", required=paid and not invoice["payment_date"])
    recorded = {(Decimal(p["amount_paid"]), p["payment_date"], p["notes"]) for p in conn.execute(
        select(t.invoice_payment).where(t.invoice_payment.c.invoice_id == invoice["id"])).mappings()}
    new = []
    for i, payment in enumerate(objects(body, "payments") if "payments" in body else []):
        where = f"payments[{i}]"
        key = (decimal_value(payment.get("amount-paid"), f"{where}.amount-paid", places=exponent(invoice["currency"])),
               date_value(payment, "payment-date"), text_value(payment, "notes", required=False))
        if key not in recorded:
            recorded.add(key)
            new.append({"invoice_id": invoice["id"], "amount_paid": text(key[0]), "payment_date": key[1],
                        "notes": key[2]})
    values: dict[str, Any] = {}
    if paid != invoice["paid"]:
        values["paid"] = paid
    if payment_date is not None and payment_date != invoice["payment_date"]:
        values["payment_date"] = payment_date
    if not new and not values:
        return None
    if new:
        conn.execute(insert(t.invoice_payment), new)
    return _changed(conn, invoice, now, **values)


def _changed(conn: Connection, invoice: dict[str, Any], now: str, **values: Any) -> dict[str, Any]:
    change(conn, t.invoice, invoice["id"], now, **values)
    updated = t.by_id(conn, t.invoice, invoice["id"])
    assert updated is not None
    return updated


def _orders_changed(conn: Connection, invoice_id: int, now: str) -> None:
    """The orders an invoice bills changed too: their lines' invoiced figures moved."""
    lines = t.order_line.c
    order_ids = conn.execute(select(lines.order_header_id).distinct().join_from(
        t.invoice_line, t.order_line, t.invoice_line.c.order_line_id == lines.id)
        .where(t.invoice_line.c.invoice_id == invoice_id)).scalars().all()
    for order_id in order_ids:
        change(conn, t.purchase_order, order_id, now)
