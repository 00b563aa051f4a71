"""Parking a process on a business exception, and resuming it once finance resolved it.

A parked process is visible (business status EXCEPTION, FinsyncExceptionReason = the problem's
code, current details in the Web UI) and waits, for weeks if need be, for a ``resolve_exception``
update (workflows/common/process.py); a process may have several open at once, one per item.
The update is validated before it is accepted (workflows/common/remedies.py): it must
name an action the open exception offers and that is safe where the money is, with the data
that action needs.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from canonical import BusinessProblem, Money


class ResolutionAction(StrEnum):
    """Every remedy of every process, in one vocabulary: the money-state rule
    (workflows/common/remedies.py) says where each is safe. Which apply to a problem is the
    problem code's business; the data an action needs is its process's resolution payload's."""

    RETRY = "retry"                            # master data was fixed at the source: try again
    CORRECT_COST_CENTER = "correct_cost_center"
    SET_POSTING_DATE = "set_posting_date"
    CANCEL = "cancel"                          # stop: reverse whatever was posted, pay nothing
    CLOSE_AS_PAID = "close_as_paid"            # the money left the bank: finish as paid without the platform
    APPROVE_OVER_BUDGET = "approve_over_budget"   # the budget owner accepts the overrun, with a reason
    ACCEPT_VARIANCE = "accept_variance"        # AP accepts an invoice's price or quantity variance, with a reason
    REJECT_INVOICE = "reject_invoice"          # void the invoice in the platform; reverse its bill if posted


class Resolution(BaseModel):
    """What every process's resolution payload carries; a process subclasses it with the data its
    own actions need (``missing`` says when that data is absent). Unknown fields are refused: a
    misspelt field must not be dropped silently."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: ResolutionAction
    resolved_by: str
    note: str = ""
    item: str | None = None                    # which open exception, when a process has several

    def missing(self) -> str | None:
        """Why this resolution lacks the data its action needs; None if it has it."""
        return None

    def describe(self) -> str:
        """The action and its data, as the timeline and the feed say it."""
        return self.action.value

    def event_data(self) -> dict[str, str | None]:
        """The action's data, for the feed's resolved event."""
        return {}


class DatedResolution(Resolution):
    """A resolution that may move a booking to another date (a closed period): shared by the
    processes that post to the ERP."""

    posting_date: date | None = None           # for SET_POSTING_DATE

    def missing(self) -> str | None:
        if self.action is ResolutionAction.SET_POSTING_DATE and self.posting_date is None:
            return "set_posting_date needs the new posting_date (YYYY-MM-DD)"
        return None

    def describe(self) -> str:
        return self.action.value + (f" {self.posting_date}" if self.posting_date else "")

    def event_data(self) -> dict[str, str | None]:
        return {"posting_date": self.posting_date.isoformat() if self.posting_date else None}


class OpenException(BaseModel):
    model_config = ConfigDict(frozen=True)

    problem: BusinessProblem
    step: str
    raised_at: datetime
    actions: list[ResolutionAction]
    item: str | None = None                    # None: the exception stops the whole process


class ResolutionRejected(ValueError):
    """The update validator's refusal: the caller (CLI, Web UI) sees this text, nothing is written."""


def details_markdown(title: str, open_exception: OpenException) -> str:
    """What the Web UI shows on a parked workflow."""
    problem = open_exception.problem
    actions = ", ".join(f"`{a.value}`" for a in open_exception.actions)
    return (f"**{title}: needs attention**\n\n{problem.reason}\n\n"
            f"- code: `{problem.code}` (fix in: {problem.system})\n- step: {open_exception.step}\n"
            f"- since: {open_exception.raised_at:%Y-%m-%d %H:%M} UTC\n- resolve with update `resolve_exception`: {actions}")


class ParkedView(BaseModel):
    """What the exception queue shows of any process (the ``parked_view`` query): which document,
    whose, how much, and every exception open on it."""

    process: str
    business_key: str
    headline: str
    entity_code: str | None = None
    counterparty: str | None = None            # the employee, the supplier, ...
    amount: Money | None = None
    open_exceptions: list[OpenException] = []
