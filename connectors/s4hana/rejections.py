"""S/4HANA's refusals (the log of a refused entry) as finsync business problems.

A refusal is read from its log items' type ids (``number(class)``), each named in
sandboxes/s4hana/posting.py, and against what was sent: the problem's subject is finsync's
account number, cost center code, entity or posting date, found among the values sent, never
parsed out of SAP's words. A closed period is PERIOD_CLOSED, as NetSuite's is, so a process offers
the same remedy (post in an open period) whichever ERP refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from canonical import BusinessProblem, JournalEntry, ProblemCode
from connectors.errors import BusinessRuleError, VendorError, VendorRejectedError
from connectors.s4hana.confirmations import EntryResult, LogNote
from connectors.s4hana.messages import gl_account

VENDOR = "s4hana"
ERP = "SAP S/4HANA"

# type id -> (problem, what its subject is, what finance can do)
KNOWN: dict[str, tuple[str, str, str]] = {
    "201(F5)": (ProblemCode.PERIOD_CLOSED, "date", "reopen the period, or post with a date in an open period"),
    "107(F5)": (ProblemCode.PERIOD_MISSING, "date", "define the posting period, or change the date"),
    "165(F5)": (ProblemCode.ENTITY_UNKNOWN, "entity", "map the entity to a company code of the tenant ([s4hana] company_codes)"),
    "010(FH)": (ProblemCode.ACCOUNT_UNKNOWN, "account", "map the line to an existing account"),
    "011(FH)": (ProblemCode.ACCOUNT_INACTIVE, "account", "unblock the account or map the line to an open one"),
    "116(KI)": (ProblemCode.COST_CENTER_UNKNOWN, "cost_center", "create the cost center or recode the line"),
    "235(KI)": (ProblemCode.COST_CENTER_WRONG_ENTITY, "cost_center", "use one of the company code's own cost centers"),
    "142(KI)": (ProblemCode.COST_CENTER_INACTIVE, "cost_center", "unblock the cost center or recode the line"),
    "404(F5A)": ("REVERSED_JOURNAL_NOT_FOUND", "reversed", "nothing was posted under it, so there is nothing to reverse"),
    "405(F5A)": ("JOURNAL_ALREADY_REVERSED", "reversed", "it was reversed before, by another document"),
}
UNBALANCED = "702(F5)"


@dataclass(frozen=True)
class Sent:
    """What finsync sent, in its own codes."""

    entity: str
    posting_date: date
    accounts: tuple[str, ...] = ()
    cost_centers: tuple[str, ...] = ()
    reversed_external_id: str | None = None

    @classmethod
    def journal(cls, entry: JournalEntry) -> Sent:
        return cls(entity=entry.entity, posting_date=entry.posting_date,
                   accounts=tuple(dict.fromkeys(line.account for line in entry.lines)),
                   cost_centers=tuple(dict.fromkeys(line.cost_center for line in entry.lines if line.cost_center)),
                   reversed_external_id=entry.reverses_external_id)


def _named(value: str, note: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", note) is not None


def _subject(kind: str, note: str, sent: Sent) -> str | None:
    if kind == "date":
        return sent.posting_date.isoformat()
    if kind == "entity":
        return sent.entity
    if kind == "reversed":
        return sent.reversed_external_id
    if kind == "account":
        return next((a for a in sent.accounts if _named(gl_account(a), note) or _named(a, note)), None)
    return next((c for c in sent.cost_centers if _named(c, note)), None)


def _problem(note: LogNote, sent: Sent, others: list[LogNote]) -> BusinessProblem | None:
    known = KNOWN.get(note.type_id)
    if known is None:
        return None
    code, kind, remedy = known
    also = f" {ERP} also says: {'; '.join(n.note for n in others)}" if others else ""
    return BusinessProblem(code=code, system="erp", subject=_subject(kind, note.note, sent), vendor_code=note.type_id,
                           reason=f"{note.note.rstrip('.')} ({ERP}, entity {sent.entity}): {remedy}.{also}")


def rejection(result: EntryResult, sent: Sent) -> VendorError:
    """The error for a refused entry: BusinessRuleError for what finance fixes in the ERP or its
    data, VendorRejectedError for what finsync sent wrong (an unbalanced entry, an unknown currency)."""
    errors = result.errors
    for index, note in enumerate(errors):
        problem = _problem(note, sent, errors[:index] + errors[index + 1:])
        if problem is not None:
            return BusinessRuleError(VENDOR, problem)
    said = "; ".join(n.note for n in errors) or "no reason given"
    kind = "UNBALANCED" if any(n.type_id == UNBALANCED for n in errors) else "VENDOR_REJECTED"
    return VendorRejectedError(VENDOR, BusinessProblem(
        code=kind, system="finsync", vendor_code=errors[0].type_id if errors else None,
        reason=f"{ERP} refused what finsync sent (entity {sent.entity}): {said}"))


def refused_request(message: str) -> VendorRejectedError:
    """A SOAP client fault: the request itself could not be read (a mapping defect)."""
    return VendorRejectedError(VENDOR, BusinessProblem(
        code="VENDOR_REJECTED", system="finsync", reason=f"{ERP} refused the request finsync sent: {message}"))
