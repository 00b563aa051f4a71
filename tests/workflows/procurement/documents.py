"""Small purchase orders, receipts and invoices for the procurement rule tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

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
)
from canonical.quantity import Quantity, UnitPrice

CODING = Coding(entity_code="US01", cost_center="CC-100", gl_account="6300")
SUPPLIER = "SUP-100"
Number = str | int | Decimal


def order_line(line_id: str, quantity: Number, price: Number, currency: str = "USD", unit: str = "EA",
               number: int = 1) -> PurchaseOrderLine:
    return PurchaseOrderLine(line_id=line_id, line_number=number, description=f"item {line_id}",
                             quantity=Quantity.of(quantity, unit), unit_price=UnitPrice.of(price, currency), coding=CODING)


def order(*lines: PurchaseOrderLine, currency: str = "USD", order_id: str = "PO-1") -> PurchaseOrder:
    return PurchaseOrder(order_id=order_id, order_number=f"{order_id}-N", requisition_id="REQ-1", supplier_id=SUPPLIER,
                         currency=currency, status=OrderStatus.ISSUED, lines=list(lines))


def receipt(order_line_id: str, quantity: Number, receipt_id: str = "RC-1", unit: str = "EA", voided: bool = False,
            order_id: str = "PO-1") -> Receipt:
    return Receipt(receipt_id=receipt_id, order_id=order_id, order_line_id=order_line_id,
                   quantity=Quantity.of(quantity, unit), received_on=date(2026, 12, 1), voided=voided)


def invoice_line(line_id: str, order_line_id: str | None, quantity: Number, price: Number,
                 currency: str = "USD", unit: str = "EA") -> InvoiceLine:
    return InvoiceLine(line_id=line_id, order_line_id=order_line_id, description=f"billed {line_id}",
                       quantity=Quantity.of(quantity, unit), unit_price=UnitPrice.of(price, currency))


def invoice(*lines: InvoiceLine, invoice_id: str = "INV-1", currency: str = "USD", supplier_id: str = SUPPLIER,
            status: InvoiceStatus = InvoiceStatus.APPROVED, invoice_date: date = date(2026, 12, 1),
            terms: PaymentTerms | None = None) -> Invoice:
    return Invoice(invoice_id=invoice_id, invoice_number=f"{invoice_id}-N", supplier_id=supplier_id, order_id="PO-1",
                   currency=currency, invoice_date=invoice_date, status=status, lines=list(lines), payment_terms=terms)
