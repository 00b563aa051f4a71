"""What goes in and out of the requisition-to-pay workflow: its input, messages, query answer."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from canonical import BankAccount, Money, PaymentStatusReport, PostedJournal
from canonical.procurement import (
    Invoice,
    PostedBill,
    PostedBillPayment,
    PostedCommitment,
    PurchaseOrder,
    Receipt,
    Requisition,
    Supplier,
)
from workflows.common.exceptions import DatedResolution, OpenException, ResolutionAction
from workflows.common.status import TimelineEntry

WORKFLOW_NAME = "RequisitionToPay"
SIGNAL_CHANGE = "procurement_change"    # receipts and invoices from the poller or a webhook
UPDATE_CANCEL = "cancel_requisition"
PROCESS = "procurement"


def workflow_id(source_system: str, requisition_id: str) -> str:
    """One workflow per requisition: a change seen twice can never start a second one."""
    return f"procurement-{source_system}-{requisition_id}"


class ProcurementQueues(BaseModel):
    """Where each vendor's activities run (from configuration, fixed at start for determinism)."""

    procurement: str = "finsync-procurement"
    erp: str = "finsync-erp"
    bank: str = "finsync-bank"


class ProcurementStatus(StrEnum):
    APPROVED = "APPROVED"                      # the requisition was approved in the platform
    SUPPLIER_CHECKED = "SUPPLIER_CHECKED"
    BUDGET_CHECKED = "BUDGET_CHECKED"
    COMMITTED = "COMMITTED"                    # the purchase order stands in the ERP as a commitment
    ORDERED = "ORDERED"                        # issued to the supplier: receipts and invoices may come
    PAYING = "PAYING"                          # every invoice posted, payments scheduled or with the bank
    CLOSED = "CLOSED"                          # fully received, invoiced and paid: done
    EXCEPTION = "EXCEPTION"                    # parked: see FinsyncExceptionReason
    CANCELLED = "CANCELLED"                    # done; what was done was compensated


class InvoiceStage(StrEnum):
    RECEIVED = "RECEIVED"
    ON_HOLD = "ON_HOLD"                        # AP hold: the three-way match found variances
    POSTED = "POSTED"                          # the vendor bill stands in the ERP
    SCHEDULED = "SCHEDULED"                    # waiting for its payment date
    PAYMENT_SENT = "PAYMENT_SENT"
    PAID = "PAID"
    REJECTED = "REJECTED"                      # voided in the platform; its bill (if any) reversed


class InvoiceProgress(BaseModel):
    """One invoice's way through the process, as the status query shows it."""

    invoice_id: str
    invoice_number: str
    amount: Money
    stage: InvoiceStage = InvoiceStage.RECEIVED
    bill: PostedBill | None = None
    reversal: PostedJournal | None = None
    pay_on: date | None = None
    discount: Money | None = None
    payment: PaymentStatusReport | None = None
    booked_payment: PostedBillPayment | None = None


class ProcurementCarry(BaseModel):
    """Everything a long run keeps when it continues as new: the documents, what each invoice has
    reached, what the bank said, and the changes already seen (so none counts twice)."""

    requisition: Requisition
    supplier: Supplier
    payee: BankAccount | None
    order: PurchaseOrder
    commitment_id: str
    commitment: PostedCommitment
    entity_code: str
    seen_changes: list[str]
    receipts: list[Receipt]
    receipt_versions: dict[str, AwareDatetime] = {}
    invoices: list[Invoice]
    progress: list[InvoiceProgress]
    accepted: list[str]                       # invoice ids past the match
    bank_reports: list[PaymentStatusReport]
    timeline: list[TimelineEntry]             # the last entries only: the older ones are in the earlier run


class ProcurementInput(BaseModel):
    requisition_id: str
    source_system: str = "coupa"
    correlation_id: str = ""
    task_queues: ProcurementQueues = ProcurementQueues()
    requisition: Requisition | None = None   # as the trigger read it: the first read is not repeated
    carried: ProcurementCarry | None = None  # the state a run continued-as-new hands to the next
    # Continue as new past this many history events too (None: when the SDK suggests it). For an
    # operator who wants shorter histories, and for the test that proves nothing is lost.
    history_limit: int | None = Field(default=None, ge=50)


class CancelRequest(BaseModel):
    """``cancel_requisition``: stop the process and compensate what was done, in reverse order."""

    requested_by: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class ProcurementResolution(DatedResolution):
    """``resolve_exception`` for a requisition: approving over budget or accepting a price or
    quantity variance needs a reason (the note), kept in the timeline and the feed; a bill refused
    for a closed period may be posted on another date."""

    def missing(self) -> str | None:
        if self.action in (ResolutionAction.APPROVE_OVER_BUDGET, ResolutionAction.ACCEPT_VARIANCE) \
                and not self.note.strip():
            return f"{self.action.value} needs a reason (note)"
        return super().missing()


class ProcurementSnapshot(BaseModel):
    """The ``status`` query: where the requisition is and how it got there."""

    requisition_id: str
    status: ProcurementStatus
    entity_code: str | None = None
    supplier: str | None = None
    amount: Money | None = None
    order_id: str | None = None
    commitment: PostedCommitment | None = None
    invoices: list[InvoiceProgress] = []
    open_exceptions: list[OpenException] = []
    timeline: list[TimelineEntry] = []


class ProcurementOutcome(BaseModel):
    requisition_id: str
    status: ProcurementStatus
    invoices: list[InvoiceProgress] = []


