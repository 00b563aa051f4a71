"""A bank's end-of-day account statement (camt.053), as finsync reads it.

The statement states balances and entries; an entry may be one booking for a whole payment
information block (a batch), with the block's figures as the bank states them and a line per
transaction. What the statement declares is kept as declared: totals are recomputed from the
entries wherever finsync relies on them (``credits``, ``debits``), never taken from the file.

A statement of a payroll batch holds tens of thousands of transactions: it is read and matched
in an activity, and only the reconciliation (canonical.bank_reconciliation) travels on.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from canonical.money import Money, total


class CreditDebit(StrEnum):
    """Which way an amount moves the account (ISO 20022 CreditDebitCode)."""

    CREDIT = "CRDT"
    DEBIT = "DBIT"


# The entry status of a booking (ISO 20022 ExternalEntryStatus1Code); PDNG and INFO are not booked.
BOOKED = "BOOK"


class StatementTransaction(BaseModel):
    """One transaction of an entry (TxDtls): the references it travelled under and its amount."""

    model_config = ConfigDict(frozen=True)

    end_to_end_id: str | None = None
    message_id: str | None = None        # the pain.001 MsgId it came in
    payment_info_id: str | None = None   # its PmtInfId
    amount: Money | None = None          # as booked on the account (Amt, else AmtDtls/TxAmt)
    instructed: Money | None = None      # as instructed (AmtDtls/InstdAmt), when the bank says
    bank_reference: str | None = None    # the bank's reference of this transaction (Refs/AcctSvcrRef)
    return_reason: str | None = None     # RtrInf/Rsn/Cd: the payment was sent back


class BatchReference(BaseModel):
    """The batch an entry books (NtryDtls/Btch), with its figures as the bank states them."""

    model_config = ConfigDict(frozen=True)

    message_id: str | None = None
    payment_info_id: str | None = None
    count: int | None = None       # NbOfTxs
    total: Money | None = None     # TtlAmt
    direction: CreditDebit | None = None


class StatementEntry(BaseModel):
    """One entry (Ntry): one amount on the account, and what it is made of."""

    model_config = ConfigDict(frozen=True)

    amount: Money
    direction: CreditDebit
    status: str = BOOKED
    reversal: bool = False               # RvslInd: it takes back an earlier entry
    booking_date: date | None = None
    value_date: date | None = None
    bank_reference: str | None = None    # AcctSvcrRef, else NtryRef
    bank_transaction_code: str | None = None   # Domain/Family/SubFamily, e.g. PMNT/ICDT/ESCT
    batch: BatchReference | None = None
    transactions: list[StatementTransaction] = []
    additional_info: str | None = None   # AddtlNtryInf

    @property
    def booked(self) -> bool:
        return self.status == BOOKED

    @property
    def signed(self) -> Money:
        """The amount as it moves the balance: credits up, debits down."""
        return self.amount if self.direction is CreditDebit.CREDIT else -self.amount


class BankStatement(BaseModel):
    """One account's statement for one period (a day)."""

    model_config = ConfigDict(frozen=True)

    statement_id: str
    sequence_number: int | None = None   # ElctrncSeqNb
    created_at: AwareDatetime | None = None
    period_start: AwareDatetime | None = None
    period_end: AwareDatetime | None = None
    account_id: str                      # IBAN, or the account number where there is none
    currency: str
    opening_balance: Money               # OPBD (or PRCD): booked, before the first entry
    closing_balance: Money               # CLBD: booked, after the last
    entries: list[StatementEntry] = []

    @model_validator(mode="after")
    def _one_currency(self) -> BankStatement:
        """An account holds one currency: every balance and entry is in it."""
        amounts = [("opening balance", self.opening_balance), ("closing balance", self.closing_balance)]
        amounts += [(f"entry {entry.bank_reference or index + 1}", entry.amount) for index, entry in enumerate(self.entries)]
        for what, amount in amounts:
            if amount.currency != self.currency:
                raise ValueError(f"statement {self.statement_id} of a {self.currency} account has its {what} "
                                 f"in {amount.currency}")
        return self

    def booked_entries(self) -> list[StatementEntry]:
        return [entry for entry in self.entries if entry.booked]

    def credits(self) -> Money:
        """The booked credits, added up here."""
        return total([entry.amount for entry in self.booked_entries() if entry.direction is CreditDebit.CREDIT],
                     self.currency)

    def debits(self) -> Money:
        """The booked debits, added up here."""
        return total([entry.amount for entry in self.booked_entries() if entry.direction is CreditDebit.DEBIT],
                     self.currency)
