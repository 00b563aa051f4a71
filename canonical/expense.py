"""Expense reports as finsync sees them, whatever platform they came from."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from canonical.money import Money, total


class ApprovalStatus(StrEnum):
    """One approval state machine for every expense platform (Concur codes in comments)."""

    DRAFT = "DRAFT"                            # A_NOTF
    PENDING_VALIDATION = "PENDING_VALIDATION"  # A_EXTV: waiting for finsync's policy check
    PENDING_APPROVAL = "PENDING_APPROVAL"      # A_PEND, A_FILE, A_ACCO, ...
    APPROVED = "APPROVED"                      # A_APPR
    RETURNED = "RETURNED"                      # A_RESU after a send-back
    RECALLED = "RECALLED"                      # A_RESU after the employee recalled it
    CANCELLED = "CANCELLED"                    # deleted or expired (A_TEXP)


class PaymentStatus(StrEnum):
    NOT_PAID = "NOT_PAID"        # P_NOTP
    PROCESSING = "PROCESSING"    # P_PROC
    PAID = "PAID"                # P_PAID, P_PAYC
    ON_HOLD = "ON_HOLD"          # P_HOLD


class ExpenseLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_id: str
    category: str                 # finsync category code, e.g. "MEALS", "AIRFARE"
    transaction_date: date
    merchant: str
    amount: Money                 # gross, in the transaction currency
    posted_amount: Money | None = None    # in the report currency, when the platform converted it
    reclaimable_tax: Money | None = None  # part of ``amount`` that is input VAT
    receipt_present: bool = False
    description: str = ""
    cost_center: str | None = None  # overrides the report's cost center

    @model_validator(mode="after")
    def _tax_within_amount(self) -> ExpenseLine:
        if self.reclaimable_tax is not None:
            if self.reclaimable_tax.currency != self.amount.currency:
                raise ValueError("tax must be in the line's currency")
            if abs(self.reclaimable_tax.amount) > abs(self.amount.amount):
                raise ValueError("tax cannot exceed the line amount")
        return self


class ExpenseReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    report_id: str
    source_system: str            # "concur", ...
    name: str
    employee_id: str
    cost_center: str | None = None
    currency: str                 # the report's reimbursement currency
    lines: list[ExpenseLine]
    approval_status: ApprovalStatus
    payment_status: PaymentStatus = PaymentStatus.NOT_PAID
    report_date: date | None = None   # the accounting date the report is posted on
    submitted_at: AwareDatetime | None = None
    approver_id: str | None = None
    owner_ref: str | None = None      # the platform's own id for the owner (Concur userId): saves a lookup
    version: int = 0

    @model_validator(mode="after")
    def _lines_in_report_currency(self) -> ExpenseReport:
        for line in self.lines:
            if self.reimbursable(line).currency != self.currency:
                raise ValueError(f"line {line.line_id} has no amount in the report currency {self.currency}")
        return self

    @staticmethod
    def reimbursable(line: ExpenseLine) -> Money:
        """What the employee gets back for a line, in the report currency."""
        return line.posted_amount or line.amount

    @property
    def reimbursement_total(self) -> Money:
        """What the employee is owed, in the report currency."""
        return total([self.reimbursable(ln) for ln in self.lines], self.currency)

    def line_cost_center(self, line: ExpenseLine) -> str | None:
        return line.cost_center or self.cost_center


class ReportStatusChanged(BaseModel):
    """A platform's notice that a report moved (Concur ``statusChanged``), in canonical terms."""

    model_config = ConfigDict(frozen=True)

    event_id: str                  # the delivery's id: duplicates carry the same one
    source_system: str
    report_id: str
    employee_id: str | None = None
    owner_ref: str | None = None   # the platform's own id for the report's owner, when the event names it
    approval_status: ApprovalStatus
    previous_approval_status: ApprovalStatus | None = None
    payment_status: PaymentStatus | None = None
    occurred_at: AwareDatetime
    correlation_id: str


class ClaimedReport(BaseModel):
    """An approved report taken off the platform's ready-to-post queue."""

    model_config = ConfigDict(frozen=True)

    report: ExpenseReport
    posting_ref: str     # the platform's handle for confirmations (Concur FI docId)
