"""Requisition-to-pay documents as finsync sees them, whatever procurement platform they came from.

Supplier -> requisition (what someone wants, approved) -> purchase order (the commitment to the
supplier) -> receipts (what arrived, partially, over weeks) -> invoices (what the supplier bills,
each line tied to an order line). Quantities and unit prices keep their own precision
(canonical/quantity.py); amounts are Money, rounded once per line.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from canonical.money import Money, currency_exponent, total
from canonical.quantity import Quantity, UnitPrice, extend

_TERMS = re.compile(r"^\s*(?:(?P<pct>\d+(?:\.\d+)?)\s*/\s*(?P<days>\d+)\s+)?net\s+(?P<net>\d+)\s*$", re.IGNORECASE)


class PaymentTerms(BaseModel):
    """When an invoice is due, and the early-payment discount if any: "2/10 net 30" is 2 % off
    when paid within 10 days of the invoice date, else the full amount 30 days after it."""

    model_config = ConfigDict(frozen=True)

    net_days: int = Field(ge=0)
    discount_percent: Decimal = Decimal(0)
    discount_days: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _discount_before_due(self) -> PaymentTerms:
        if not Decimal(0) <= self.discount_percent < Decimal(100):
            raise ValueError(f"a discount of {self.discount_percent} % is not a discount")
        if self.discount_percent and self.discount_days > self.net_days:
            raise ValueError("the discount period cannot outlast the net period")
        return self

    @classmethod
    def parse(cls, text: str) -> PaymentTerms:
        """``"2/10 net 30"`` or ``"net 45"``."""
        match = _TERMS.match(text or "")
        if match is None:
            raise ValueError(f"payment terms {text!r} are not of the form '2/10 net 30' or 'net 30'")
        return cls(net_days=int(match["net"]), discount_percent=Decimal(match["pct"] or 0),
                   discount_days=int(match["days"] or 0))

    def due_date(self, invoice_date: date) -> date:
        return invoice_date + timedelta(days=self.net_days)

    def discount_date(self, invoice_date: date) -> date | None:
        """The last day the discount may be taken; None without a discount."""
        return invoice_date + timedelta(days=self.discount_days) if self.discount_percent else None

    def __str__(self) -> str:
        net = f"net {self.net_days}"
        return f"{self.discount_percent.normalize():f}/{self.discount_days} {net}" if self.discount_percent else net


class SupplierStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class RemitTo(BaseModel):
    """Where the supplier wants to be paid, as the platform holds it: not yet validated (an IBAN
    with wrong check digits must reach finsync's supplier check, which says so, not a parser)."""

    model_config = ConfigDict(frozen=True)

    holder_name: str
    bic: str | None = None
    iban: str | None = None
    account_number: str | None = None
    routing_number: str | None = None


class Supplier(BaseModel):
    model_config = ConfigDict(frozen=True)

    supplier_id: str              # the procurement platform's key
    number: str                   # the supplier number the ERP knows too (vendor entityId)
    name: str
    status: SupplierStatus
    on_hold: bool = False         # payments held by purchasing or AP
    currency: str
    entity_code: str | None = None
    remit_to: RemitTo | None = None
    payment_terms: PaymentTerms | None = None


class Coding(BaseModel):
    """Where a line is booked: legal entity, cost center and GL account."""

    model_config = ConfigDict(frozen=True)

    entity_code: str
    cost_center: str
    gl_account: str


class RequisitionLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_id: str
    description: str
    quantity: Quantity
    unit_price: UnitPrice
    coding: Coding
    supplier_id: str
    need_by: date | None = None

    @property
    def amount(self) -> Money:
        return extend(self.quantity, self.unit_price)


class Requisition(BaseModel):
    model_config = ConfigDict(frozen=True)

    requisition_id: str
    source_system: str            # "coupa", ...
    title: str
    requested_by: str
    currency: str
    lines: list[RequisitionLine] = Field(min_length=1)
    submitted_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_currency_one_entity(self) -> Requisition:
        if any(line.unit_price.currency != self.currency for line in self.lines):
            raise ValueError(f"requisition {self.requisition_id} mixes currencies")
        if len({line.coding.entity_code for line in self.lines}) != 1:
            raise ValueError(f"requisition {self.requisition_id} spans legal entities")
        if len({line.supplier_id for line in self.lines}) != 1:
            raise ValueError(f"requisition {self.requisition_id} names more than one supplier")
        return self

    @property
    def entity_code(self) -> str:
        return self.lines[0].coding.entity_code

    @property
    def supplier_id(self) -> str:
        return self.lines[0].supplier_id

    @property
    def total(self) -> Money:
        return total([line.amount for line in self.lines], self.currency)


class OrderStatus(StrEnum):
    DRAFT = "DRAFT"               # buyer_hold: approved, not yet sent to the supplier
    ISSUED = "ISSUED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


class PurchaseOrderLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_id: str                  # the platform's order-line id: receipts and invoices name it
    line_number: int
    description: str
    quantity: Quantity
    unit_price: UnitPrice
    coding: Coding

    @property
    def amount(self) -> Money:
        return extend(self.quantity, self.unit_price)


class PurchaseOrder(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    order_number: str
    requisition_id: str
    supplier_id: str
    currency: str
    status: OrderStatus
    lines: list[PurchaseOrderLine] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_currency(self) -> PurchaseOrder:
        if any(line.unit_price.currency != self.currency for line in self.lines):
            raise ValueError(f"purchase order {self.order_number} mixes currencies")
        return self

    @property
    def total(self) -> Money:
        return total([line.amount for line in self.lines], self.currency)

    def line(self, line_id: str) -> PurchaseOrderLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)


class Receipt(BaseModel):
    """Goods or services received against one order line (Coupa: an inventory transaction)."""

    model_config = ConfigDict(frozen=True)

    receipt_id: str
    order_id: str
    order_line_id: str
    quantity: Quantity
    received_on: date
    voided: bool = False


class InvoiceStatus(StrEnum):
    PENDING = "PENDING"           # not yet approved in the platform
    APPROVED = "APPROVED"
    VOIDED = "VOIDED"
    PAID = "PAID"


class InvoiceLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_id: str
    order_line_id: str | None     # None: a line the order never had (freight, ...): it cannot match
    description: str
    quantity: Quantity
    unit_price: UnitPrice

    @property
    def amount(self) -> Money:
        return extend(self.quantity, self.unit_price)


class Invoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_id: str               # the platform's key
    invoice_number: str           # the supplier's number: unique per supplier
    supplier_id: str
    order_id: str
    currency: str
    invoice_date: date
    status: InvoiceStatus
    lines: list[InvoiceLine] = Field(min_length=1)
    payment_terms: PaymentTerms | None = None   # the supplier's unless the invoice says otherwise

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        currency_exponent(value.upper())
        return value.upper()

    @model_validator(mode="after")
    def _one_currency(self) -> Invoice:
        if any(line.unit_price.currency != self.currency for line in self.lines):
            raise ValueError(f"invoice {self.invoice_number} mixes currencies")
        return self

    @property
    def total(self) -> Money:
        return total([line.amount for line in self.lines], self.currency)


class ProcurementChangeKind(StrEnum):
    REQUISITION_APPROVED = "REQUISITION_APPROVED"
    RECEIPT = "RECEIPT"                   # an inventory transaction recorded (or voided)
    INVOICE = "INVOICE"                   # an invoice approved in the platform (or voided)


class ProcurementChange(BaseModel):
    """One change the platform reports (its poll or a webhook), routed to the requisition's process.
    ``change_id`` names the document at its version: the same change seen twice is one change."""

    model_config = ConfigDict(frozen=True)

    change_id: str                        # "<kind>:<document id>:<updated-at>"
    kind: ProcurementChangeKind
    source_system: str
    requisition_id: str
    document_id: str
    occurred_at: AwareDatetime
    receipt: Receipt | None = None
    invoice: Invoice | None = None


# --- the ERP side: budget, commitment, vendor bill, bill payment ------------------------------

class BudgetLine(BaseModel):
    """What one cost center may still spend on one account in the period of a date."""

    model_config = ConfigDict(frozen=True)

    coding: Coding
    budget: Money
    committed: Money                      # open purchase orders
    actual: Money                         # bills and journals posted
    requested: Money                      # this requisition's lines on that coding

    @property
    def available(self) -> Money:
        return self.budget - self.committed - self.actual

    @property
    def shortfall(self) -> Money:
        """How much the request exceeds what is available (zero when it fits)."""
        over = self.requested - self.available
        return over if over.amount > 0 else Money.zero(over.currency)


class BudgetRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    entity_code: str
    on: date                              # the period is the one this date falls in
    lines: list[tuple[Coding, Money]] = Field(min_length=1)


class BudgetCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    lines: list[BudgetLine]

    @property
    def short(self) -> list[BudgetLine]:
        return [line for line in self.lines if not line.shortfall.is_zero]


class CommitmentLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_key: str                         # the purchase order line's id in the platform
    description: str
    coding: Coding
    amount: Money


class Commitment(BaseModel):
    """The purchase order in the ERP: money promised to a supplier, which reduces the budget until
    bills relieve it. Upserted by ``external_id``: creating it twice creates it once."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    supplier_number: str
    entity_code: str
    order_number: str
    order_date: date
    currency: str
    memo: str
    lines: list[CommitmentLine] = Field(min_length=1)


class PostedCommitment(BaseModel):
    model_config = ConfigDict(frozen=True)

    external_id: str
    erp_id: str
    document_number: str


class BillLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_key: str                         # the invoice line's id
    order_line_key: str                   # the commitment line it relieves
    description: str
    coding: Coding
    amount: Money


class VendorBill(BaseModel):
    """A supplier invoice in the ERP: Dr expense by cost center, Cr accounts payable. Posted exactly
    once by ``external_id``; it relieves the commitment lines it names."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    supplier_number: str
    entity_code: str
    invoice_number: str
    invoice_date: date
    posting_date: date
    due_date: date
    currency: str
    commitment_external_id: str
    memo: str
    lines: list[BillLine] = Field(min_length=1)

    @property
    def total(self) -> Money:
        return total([line.amount for line in self.lines], self.currency)


class PostedBill(BaseModel):
    model_config = ConfigDict(frozen=True)

    external_id: str
    erp_id: str
    document_number: str
    amount: Money


class BillReversal(BaseModel):
    """A posted, unpaid bill reversed by a vendor credit applied to it (never a delete)."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    bill_erp_id: str
    on: date
    memo: str


class BillPayment(BaseModel):
    """The bank paid the bill: Dr payable (amount + discount), Cr bank (amount), Cr discounts
    received (discount). Booked exactly once by ``external_id``."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    bill_erp_id: str
    bank_gl_account: str
    paid_on: date
    amount: Money
    discount: Money

    @model_validator(mode="after")
    def _one_currency(self) -> BillPayment:
        if self.amount.currency != self.discount.currency:
            raise ValueError("a bill payment and its discount are in one currency")
        return self


class PostedBillPayment(BaseModel):
    model_config = ConfigDict(frozen=True)

    external_id: str
    erp_id: str
    document_number: str
