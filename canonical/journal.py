"""Journal entries that cannot exist unbalanced.

A JournalEntry checks, when it is built and when a copy of it is changed (``model_copy``), that
for every (entity, currency) debits equal credits; pydantic reports the failure as a
ValidationError caused by UnbalancedJournalError. Only ``model_construct``, which skips
validation, can make an unbalanced one, so connectors call ``check_balanced()`` (which raises
UnbalancedJournalError itself) before anything is sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from canonical.money import Money


class Side(StrEnum):
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


class UnbalancedJournalError(ValueError):
    pass


class JournalLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    side: Side
    account: str                  # GL account number
    amount: Money                 # always positive; the side says which way
    entity: str                   # legal entity code
    cost_center: str | None = None
    memo: str = ""

    @model_validator(mode="after")
    def _positive(self) -> JournalLine:
        if self.amount.amount <= 0:
            raise ValueError(f"journal line amounts are positive; got {self.amount} on {self.account}")
        return self

    def reversed(self) -> JournalLine:
        other = Side.CREDIT if self.side is Side.DEBIT else Side.DEBIT
        return self.model_copy(update={"side": other})


class JournalEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    external_id: str              # idempotency key in the ERP (NetSuite externalId, SAP reference doc)
    entity: str                   # the posting legal entity
    posting_date: date
    memo: str
    lines: list[JournalLine] = Field(min_length=2)
    source_ref: str = ""          # e.g. "concur:report:ABC123"
    reverses_external_id: str | None = None

    @model_validator(mode="after")
    def _balanced(self) -> JournalEntry:
        self.check_balanced()
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> JournalEntry:
        """A changed copy is validated like a new entry: it cannot come out unbalanced."""
        copy = super().model_copy(update=update, deep=deep)
        return JournalEntry.model_validate(copy.model_dump()) if update else copy

    def check_balanced(self) -> None:
        """Raise UnbalancedJournalError unless debits equal credits per (entity, currency)."""
        net: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for line in self.lines:
            sign = 1 if line.side is Side.DEBIT else -1
            net[(line.entity, line.amount.currency)] += sign * line.amount.amount
        off = {k: v for k, v in net.items() if v != 0}
        if off:
            detail = ", ".join(f"{e} {c} debits exceed credits by {v}" for (e, c), v in sorted(off.items()))
            raise UnbalancedJournalError(f"journal {self.external_id} does not balance: {detail}")

    @property
    def currencies(self) -> set[str]:
        return {line.amount.currency for line in self.lines}

    def total(self, side: Side = Side.DEBIT) -> Money:
        amounts = [line.amount for line in self.lines if line.side is side]
        result = amounts[0]
        for amount in amounts[1:]:
            result = result + amount
        return result

    def reversal(self, external_id: str, posting_date: date, reason: str) -> JournalEntry:
        """The entry that undoes this one: same lines, sides swapped, pointing at the original."""
        return JournalEntry(
            external_id=external_id,
            entity=self.entity,
            posting_date=posting_date,
            memo=f"Reversal of {self.external_id}: {reason}"[:250],
            lines=[line.reversed() for line in self.lines],
            source_ref=self.source_ref,
            reverses_external_id=self.external_id,
        )


class PostedJournal(BaseModel):
    """What the ERP answered: its own id and document number for the entry."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    erp_id: str
    document_number: str
    entity: str
    posting_date: date
    amount: Money


# The ERP's asynchronous answer reaches the workflow that posts the journal as a signal: the
# gateway sends ``JOURNAL_CONFIRMED_SIGNAL`` to ``journal_workflow_id(external_id)``. The workflow
# may also read the journal back (the connector does): the signal only saves it the wait.
JOURNAL_CONFIRMED_SIGNAL = "journal_confirmed"


def journal_workflow_id(external_id: str) -> str:
    """The id of the workflow that posts the journal ``external_id`` (a payroll entity's child)."""
    return f"payroll-journal:{external_id}"


class JournalConfirmation(BaseModel):
    """What the ERP confirmed asynchronously for one journal (SAP's JournalEntryCreateConfirmation)."""

    model_config = ConfigDict(frozen=True)

    external_id: str                      # the journal's external id (SAP's OriginalReferenceDocument)
    accepted: bool
    document_number: str | None = None    # the ERP's document number, when accepted
    company_code: str
    fiscal_year: int | None = None        # when accepted
    reason: str = ""                      # the ERP's words, when refused
