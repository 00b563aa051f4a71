"""The canonical finance event: one row of the integration store's append-only feed."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from canonical.money import Money


class FinanceEventType(StrEnum):
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    APPROVAL_REMINDED = "approval_reminded"
    APPROVAL_ESCALATED = "approval_escalated"
    APPROVED = "approved"
    POSTED = "posted"
    PAYMENT_SENT = "payment_sent"
    PAID = "paid"
    SETTLEMENT_BOOKED = "settlement_booked"   # the payable cleared against the bank account
    PAYMENT_RETURNED = "payment_returned"     # the bank sent a settled payment back; its settlement reversed
    PAYMENT_RUN = "payment_run"               # one file of a payment run sent to the bank, or withdrawn after its refusal
    RETURNED = "returned"
    REVERSED = "reversed"
    CANCELLED = "cancelled"
    EXCEPTION_RAISED = "exception_raised"
    EXCEPTION_RESOLVED = "exception_resolved"
    RECOVERED = "recovered"    # a sweep started workflows for reports no webhook had brought
    RECONCILED = "reconciled"  # a day's feed, ERP and bank were compared for one entity
    COMMITTED = "committed"    # a purchase order stands in the ERP as a commitment against the budget
    ORDERED = "ordered"        # the purchase order was issued to the supplier
    MATCHED = "matched"        # an invoice passed the three-way match
    REJECTED = "rejected"      # an invoice was rejected and voided
    PAYMENT_SCHEDULED = "payment_scheduled"
    CLOSED = "closed"          # a purchase order fully received, invoiced and paid
    CONTINUED = "continued"    # a long process continued in a new run (its history kept short)


class FinanceEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str              # deterministic: workflow id / run id / sequence, so a retried write is a no-op
    type: FinanceEventType
    occurred_at: AwareDatetime
    process: str               # "expense", "requisition", "payroll", ...
    business_key: str          # the vendor document the process is about, e.g. a report id
    workflow_id: str
    correlation_id: str
    entity_code: str | None = None
    amount: Money | None = None
    summary: str = ""          # one finance-readable sentence
    data: dict[str, Any] = {}
