"""Parking a process on a business exception, and resuming it once finance resolved it.

A parked process is visible (business status EXCEPTION, FinsyncExceptionReason = the problem's
code, current details in the Web UI) and waits, for weeks if need be, for a ``resolve_exception``
update. The update is validated before it is accepted (workflows/common/remedies.py): it must
name an action the open exception offers and that is safe where the money is, with the data
that action needs.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from canonical import BusinessProblem


class ResolutionAction(StrEnum):
    RETRY = "retry"                            # master data was fixed at the source: try again
    CORRECT_COST_CENTER = "correct_cost_center"
    SET_POSTING_DATE = "set_posting_date"
    CANCEL = "cancel"                          # stop: reverse whatever was posted, pay nothing
    CLOSE_AS_PAID = "close_as_paid"            # the money left the bank: finish as paid without the platform


class Resolution(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: ResolutionAction
    resolved_by: str
    note: str = ""
    cost_center: str | None = None             # for CORRECT_COST_CENTER
    posting_date: date | None = None           # for SET_POSTING_DATE


class OpenException(BaseModel):
    model_config = ConfigDict(frozen=True)

    problem: BusinessProblem
    step: str
    raised_at: datetime
    actions: list[ResolutionAction]


class ResolutionRejected(ValueError):
    """The update validator's refusal: the caller (CLI, Web UI) sees this text, nothing is written."""


def details_markdown(title: str, open_exception: OpenException) -> str:
    """What the Web UI shows on a parked workflow."""
    problem = open_exception.problem
    actions = ", ".join(f"`{a.value}`" for a in open_exception.actions)
    return (f"**{title}: needs attention**\n\n{problem.reason}\n\n"
            f"- code: `{problem.code}` (fix in: {problem.system})\n- step: {open_exception.step}\n"
            f"- since: {open_exception.raised_at:%Y-%m-%d %H:%M} UTC\n- resolve with update `resolve_exception`: {actions}")
