"""What goes in and out of the expense workflow: its input, signals, query answer and outcome."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from canonical import ExpenseReport, Money, PaymentStatusReport, PostedJournal
from workflows.common.exceptions import DatedResolution, OpenException, ResolutionAction
from workflows.common.status import TimelineEntry

WORKFLOW_NAME = "ExpenseReimbursement"
SIGNAL_STATUS_CHANGED = "report_status_changed"   # the platform's approval changes (gateway, sweep)
PROCESS = "expense"


def workflow_id(source_system: str, report_id: str) -> str:
    """One workflow per report: a duplicate webhook can never start a second one."""
    return f"expense-{source_system}-{report_id}"


def report_of(workflow_id: str) -> tuple[str, str]:
    """(source system, report id) from a report's workflow id (report ids have no dash)."""
    _, source_system, report_id = workflow_id.split("-", 2)
    return source_system, report_id


class TaskQueues(BaseModel):
    """Where each vendor's activities run (from configuration, fixed at start for determinism)."""

    expense: str = "finsync-expense"
    erp: str = "finsync-erp"
    bank: str = "finsync-bank"
    payroll: str = "finsync-payroll"     # an entity that reimburses through payroll hands over here


class ExpenseInput(BaseModel):
    report_id: str
    source_system: str = "concur"
    correlation_id: str = ""
    task_queues: TaskQueues = TaskQueues()
    owner_ref: str | None = None          # the platform's id for the owner, from the event
    report: ExpenseReport | None = None   # as the gateway read it on submission: the first read is not repeated
    returned: PaymentStatusReport | None = None   # a new run for a paid report whose payment the bank returned


class BusinessStatus(StrEnum):
    RECEIVED = "RECEIVED"
    RETURNED = "RETURNED"                    # sent back / recalled: waiting for resubmission
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    APPROVAL_OVERDUE = "APPROVAL_OVERDUE"    # escalated after 5 days
    CODING = "CODING"
    POSTED = "POSTED"
    PAYMENT_SENT = "PAYMENT_SENT"
    WITH_PAYROLL = "WITH_PAYROLL"            # handed to payroll: paid with the employee's next net pay
    PAID = "PAID"                            # done
    EXCEPTION = "EXCEPTION"                  # parked: see FinsyncExceptionReason
    REVERSED = "REVERSED"
    CANCELLED = "CANCELLED"                  # done, nothing owed
    EXPIRED = "EXPIRED"                      # returned and never resubmitted


TERMINAL = {BusinessStatus.PAID, BusinessStatus.CANCELLED, BusinessStatus.EXPIRED}


class ExpenseResolution(DatedResolution):
    """``resolve_exception`` for an expense report: a coding correction carries its data."""

    cost_center: str | None = None             # for CORRECT_COST_CENTER

    def missing(self) -> str | None:
        if self.action is ResolutionAction.CORRECT_COST_CENTER and not (self.cost_center or "").strip():
            return "correct_cost_center needs the new cost_center"
        return super().missing()

    def describe(self) -> str:
        return self.action.value + (f" {self.cost_center}" if self.cost_center else "") + (
            f" {self.posting_date}" if self.posting_date else "")

    def event_data(self) -> dict[str, str | None]:
        return {"cost_center": self.cost_center} | super().event_data()


class ExpenseSnapshot(BaseModel):
    """The ``status`` query: where the report is and how it got there."""

    report_id: str
    status: BusinessStatus
    entity_code: str | None = None
    employee_id: str | None = None
    reimbursement: Money | None = None
    functional_amount: Money | None = None
    open_exception: OpenException | None = None
    returned_for: list[str] = []     # policy rules of the last send-back: LIMIT, RECEIPT, DUPLICATE
    journals: list[PostedJournal] = []
    reversals: list[PostedJournal] = []
    settlements: list[PostedJournal] = []   # payments booked against the bank account they left
    payments: list[PaymentStatusReport] = []
    payroll_reference: str | None = None    # handed to payroll as this pay input (paid with net pay)
    timeline: list[TimelineEntry] = []


class ExpenseOutcome(BaseModel):
    report_id: str
    status: BusinessStatus
    journal: PostedJournal | None = None
    payment: PaymentStatusReport | None = None
