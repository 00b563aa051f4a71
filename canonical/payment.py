"""Payment instructions to a bank and the status reports that come back.

A ``PaymentInstruction`` is one transfer in a file of its own (the expense process pays so). A
``PaymentBatch`` is one file carrying many transfers (a payment run): grouped into payment
information blocks (PmtInf), one per currency and execution date, all from one debtor account.
A ``BulkPaymentFile`` is one block too large to hold (a payroll's net pay): its transfers are
streamed into the file, and the bank answers it in numbers (``FileAcknowledgement``), its
rejected transactions read page by page (``RejectionPage``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from canonical.keys import iso20022_id
from canonical.money import Money, currency_exponent
from canonical.parties import BankAccount


class PaymentInstruction(BaseModel):
    """One credit transfer. ``message_id`` and ``end_to_end_id`` are the bank's idempotency keys."""

    model_config = ConfigDict(frozen=True)

    message_id: str = Field(max_length=35)      # pain.001 GrpHdr/MsgId: unique per file
    end_to_end_id: str = Field(max_length=35)   # travels to the creditor and back in pain.002/camt.054
    debtor_entity: str
    debtor_name: str
    debtor_account: BankAccount
    creditor: BankAccount
    amount: Money
    requested_execution_date: date
    remittance_info: str = Field(default="", max_length=140)


class CreditTransfer(BaseModel):
    """One transaction of a payment file (CdtTrfTxInf): who is paid, how much, and the EndToEndId
    it travels under to the creditor and back in the bank's reports."""

    model_config = ConfigDict(frozen=True)

    end_to_end_id: str = Field(max_length=35)
    creditor: BankAccount
    amount: Money
    remittance_info: str = Field(default="", max_length=140)

    @field_validator("amount")
    @classmethod
    def _positive(cls, amount: Money) -> Money:
        if amount.amount <= 0:
            raise ValueError(f"a credit transfer pays a positive amount, not {amount}")
        return amount


class PaymentGroup(BaseModel):
    """One payment information block (PmtInf): transfers in one currency on one execution date."""

    model_config = ConfigDict(frozen=True)

    payment_info_id: str = Field(max_length=35)
    currency: str
    requested_execution_date: date
    transactions: list[CreditTransfer] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_currency(self) -> PaymentGroup:
        for tx in self.transactions:
            if tx.amount.currency != self.currency:
                raise ValueError(f"transaction {tx.end_to_end_id} pays {tx.amount.currency} in the "
                                 f"{self.currency} block {self.payment_info_id}")
        return self

    @property
    def count(self) -> int:
        return len(self.transactions)

    @property
    def control_sum(self) -> Decimal:
        return sum((tx.amount.amount for tx in self.transactions), Decimal(0))


class PaymentBatch(BaseModel):
    """One pain.001 file: its MsgId, the debtor account every transfer leaves from, and its blocks."""

    model_config = ConfigDict(frozen=True)

    message_id: str = Field(max_length=35)
    debtor_entity: str
    debtor_name: str
    debtor_account: BankAccount
    groups: list[PaymentGroup] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> PaymentBatch:
        """The bank refuses a file repeating an EndToEndId; a repeated PmtInfId would make its
        reports ambiguous."""
        for what, ids in (("EndToEndId", Counter(tx.end_to_end_id for _, tx in self.transfers())),
                          ("PmtInfId", Counter(group.payment_info_id for group in self.groups))):
            repeated = sorted(one for one, times in ids.items() if times > 1)
            if repeated:
                raise ValueError(f"{what} {', '.join(repeated)} appears more than once in payment file {self.message_id}")
        return self

    def transfers(self) -> Iterator[tuple[PaymentGroup, CreditTransfer]]:
        """Every transaction with its block, in the file's order."""
        for group in self.groups:
            for tx in group.transactions:
                yield group, tx

    @property
    def count(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def control_sum(self) -> Decimal:
        """ISO 20022 CtrlSum: the plain sum of the amounts, whatever their currencies."""
        return sum((group.control_sum for group in self.groups), Decimal(0))

    @classmethod
    def of_instruction(cls, instruction: PaymentInstruction) -> PaymentBatch:
        """A single payment as a file of one: its PmtInfId is its MsgId, as it always was."""
        return cls(message_id=instruction.message_id, debtor_entity=instruction.debtor_entity,
                   debtor_name=instruction.debtor_name, debtor_account=instruction.debtor_account,
                   groups=[PaymentGroup(
                       payment_info_id=instruction.message_id, currency=instruction.amount.currency,
                       requested_execution_date=instruction.requested_execution_date,
                       transactions=[CreditTransfer(end_to_end_id=instruction.end_to_end_id,
                                                    creditor=instruction.creditor, amount=instruction.amount,
                                                    remittance_info=instruction.remittance_info)])])


class BulkPaymentFile(BaseModel):
    """A pain.001 file of one payment information block whose transfers are too many to hold in
    memory (a payroll's net pay: one per employee): everything about the file but its transfers,
    which are streamed into it (``connectors.bank.pain001.write_bulk_pain001``). With batch
    booking the bank debits the block as one entry and reports on the file as a whole."""

    model_config = ConfigDict(frozen=True)

    message_id: str = Field(max_length=35)        # GrpHdr/MsgId: the bank's idempotency key for the file
    payment_info_id: str = Field(max_length=35)   # PmtInf/PmtInfId
    debtor_entity: str
    debtor_name: str
    debtor_account: BankAccount
    currency: str                                 # every transfer's
    requested_execution_date: date
    batch_booking: bool = True                    # BtchBookg: one debit on the statement for the block
    service_level: Literal["SEPA", "URGP", "NURG"] | None = None   # PmtTpInf/SvcLvl/Cd
    initiating_party: str | None = None           # GrpHdr/InitgPty/Nm; None: the debtor

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, currency: str) -> str:
        currency_exponent(currency)   # ValueError for anything but an ISO 4217 cash currency
        return currency

    @model_validator(mode="after")
    def _sepa_in_euros_from_an_iban(self) -> BulkPaymentFile:
        if self.service_level == "SEPA" and (self.currency != "EUR" or not self.debtor_account.iban):
            raise ValueError(f"payment file {self.message_id}: a SEPA credit transfer pays euros from an IBAN")
        return self


class PaymentFileTotals(BaseModel):
    """A payment file in numbers (GrpHdr NbOfTxs and CtrlSum), as written: what the bank must say
    it holds under the same MsgId, or the MsgId was reused for another file."""

    model_config = ConfigDict(frozen=True)

    message_id: str = Field(max_length=35)
    count: int = Field(ge=1)
    control_sum: Decimal


class BatchSubmission(BaseModel):
    """A payment file to send, and which process waits for each of its transfers: the bank's
    reports on a transfer go to ``owners[end_to_end_id]``, or else to the process that sends it."""

    model_config = ConfigDict(frozen=True)

    batch: PaymentBatch
    owners: dict[str, str] = {}   # EndToEndId -> workflow id

    @model_validator(mode="after")
    def _owners_in_batch(self) -> BatchSubmission:
        strangers = sorted(set(self.owners) - {tx.end_to_end_id for _, tx in self.batch.transfers()})
        if strangers:
            raise ValueError(f"owners name EndToEndIds not in file {self.batch.message_id}: {', '.join(strangers[:5])}")
        return self


class PaymentOrder(BaseModel):
    """A transfer a process wants made in a payment run: from which of the company's accounts, and when."""

    model_config = ConfigDict(frozen=True)

    debtor_entity: str
    debtor_name: str
    debtor_account: BankAccount
    requested_execution_date: date
    transfer: CreditTransfer


def payment_run_batches(run_key: str, orders: Sequence[PaymentOrder]) -> list[PaymentBatch]:
    """A payment run's files: one per debtor account, and in it one block per (currency, execution
    date), so the key of a block is (debtor account, currency, execution date).

    Every id is derived, never drawn: the MsgId from ``run_key`` and the debtor account, each
    PmtInfId from the MsgId and its block, so the same run always yields the same files.
    Transfers keep the order they came in.
    """
    by_debtor: dict[tuple[str, str], list[PaymentOrder]] = {}
    for order in orders:
        by_debtor.setdefault((order.debtor_entity, order.debtor_account.account_id), []).append(order)
    batches = []
    for (entity, account_id), from_account in sorted(by_debtor.items()):
        first = from_account[0]
        if any((o.debtor_name, o.debtor_account) != (first.debtor_name, first.debtor_account) for o in from_account):
            raise ValueError(f"orders from account {account_id} of {entity} disagree on its holder or BIC")
        message_id = iso20022_id("FSB", run_key, f"{entity}{account_id}")
        blocks: dict[tuple[str, date], list[CreditTransfer]] = {}
        for order in from_account:
            blocks.setdefault((order.transfer.amount.currency, order.requested_execution_date), []).append(order.transfer)
        batches.append(PaymentBatch(
            message_id=message_id, debtor_entity=entity, debtor_name=first.debtor_name,
            debtor_account=first.debtor_account,
            groups=[PaymentGroup(payment_info_id=iso20022_id("FSP", message_id, f"{currency}{day:%Y%m%d}"),
                                 currency=currency, requested_execution_date=day, transactions=transfers)
                    for (currency, day), transfers in sorted(blocks.items())]))
    if not batches:
        raise ValueError(f"payment run {run_key} has no orders")
    return batches


class PaymentRequestState(StrEnum):
    """Where a payment handed to the payment run stands on finsync's side; once SENT, the bank's
    reports speak for it."""

    QUEUED = "queued"          # waiting for the first run on or after its execution date
    IN_RUN = "in_run"          # claimed by a run, in one of its files (MsgId)
    SENT = "sent"              # its file is with the bank
    WITHDRAWN = "withdrawn"    # the bank refused its file, finance withdrew it and its process was told


class PaymentIdReused(ValueError):
    """A different payment under an EndToEndId already given to one: a process reused an id."""


class PaymentState(StrEnum):
    PENDING = "PENDING"        # RCVD, ACTC, PDNG: the bank has it, nothing decided
    ACCEPTED = "ACCEPTED"      # ACCP, ACSP: will be executed
    SETTLED = "SETTLED"        # ACSC, ACCC, camt.054 DBIT BOOK: money left the account
    REJECTED = "REJECTED"      # RJCT
    RETURNED = "RETURNED"      # settled, then sent back by the creditor's bank (camt.054 return, late RJCT)
    UNKNOWN = "UNKNOWN"        # the bank has never seen this instruction

    @property
    def decided(self) -> bool:
        """The bank's last word on the transaction: later reports never change it."""
        return self in (PaymentState.SETTLED, PaymentState.REJECTED, PaymentState.RETURNED)


class PaymentStatusReport(BaseModel):
    """A bank's word on one transaction (from pain.002, camt.054 or a status lookup)."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    end_to_end_id: str
    payment_info_id: str | None = None   # the PmtInf it was in, where the bank says (histories before it lack it)
    state: PaymentState
    bank_status_code: str = ""       # ISO code as sent: ACSC, RJCT, BOOK, ...
    reason_code: str | None = None   # ISO external reason code, e.g. AC04
    reason_text: str | None = None
    amount: Money | None = None      # the instructed amount
    debited: Money | None = None     # what left the debtor account, in its currency (camt.054, lookup)
    exchange_rate: Decimal | None = None   # units of the debited currency per instructed unit, if converted
    booking_date: date | None = None
    bank_reference: str | None = None
    source: str = ""                 # "pain.002", "camt.054", "lookup"
    received_at: AwareDatetime | None = None


class GroupStatusReport(BaseModel):
    """A bank's word on a whole file (MsgId) or one of its blocks (PmtInfId) with no word per
    transaction: a file rejected as a whole. It speaks for every transaction in it."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    payment_info_id: str | None = None   # None: the whole file
    state: PaymentState
    bank_status_code: str = ""
    reason_code: str | None = None
    reason_text: str | None = None
    source: str = ""
    received_at: AwareDatetime | None = None

    def covers(self, payment_info_id: str) -> bool:
        return self.payment_info_id in (None, payment_info_id)

    def for_transaction(self, end_to_end_id: str, payment_info_id: str, amount: Money | None = None,
                        source: str | None = None) -> PaymentStatusReport:
        """This report as the word on one transaction it covers."""
        return PaymentStatusReport(
            message_id=self.message_id, end_to_end_id=end_to_end_id, payment_info_id=payment_info_id,
            state=self.state, bank_status_code=self.bank_status_code, reason_code=self.reason_code,
            reason_text=self.reason_text, amount=amount, source=source or self.source, received_at=self.received_at)


class BatchAcknowledgement(BaseModel):
    """The bank's answer to one payment file: one report per transaction, in the file's order."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    reports: list[PaymentStatusReport]


class StatusCount(BaseModel):
    """How many transactions of a file stand at one status, and what they add up to (CtrlSum)."""

    model_config = ConfigDict(frozen=True)

    count: int = Field(default=0, ge=0)
    control_sum: Decimal = Decimal(0)

    def __add__(self, other: StatusCount) -> StatusCount:
        return StatusCount(count=self.count + other.count, control_sum=self.control_sum + other.control_sum)


class FileAcknowledgement(BaseModel):
    """The bank's word on a whole payment file, in numbers: how many of its transactions (and for
    how much) are pending, accepted, settled or rejected. Never a list per transaction, so it
    stays small whatever the file's size: the rejected ones are read page by page."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    group_status: str                 # GrpSts as the bank sent it: ACTC, ACSC, PART, RJCT, ...
    count: int = Field(ge=0)          # OrgnlNbOfTxs: what the bank received
    control_sum: Decimal | None = None   # OrgnlCtrlSum
    pending: StatusCount = StatusCount()
    accepted: StatusCount = StatusCount()
    settled: StatusCount = StatusCount()
    rejected: StatusCount = StatusCount()
    reason_code: str | None = None    # a file rejected as a whole: why (e.g. AC05)
    reason_text: str | None = None
    source: str = ""                  # "submission", "pain.002"
    received_at: AwareDatetime | None = None

    @classmethod
    def counted(cls, by_state: Mapping[PaymentState, StatusCount], **fields: Any) -> FileAcknowledgement:
        """The acknowledgement with its transactions counted by the state each status means."""
        return cls(pending=by_state.get(PaymentState.PENDING, StatusCount()),
                   accepted=by_state.get(PaymentState.ACCEPTED, StatusCount()),
                   settled=by_state.get(PaymentState.SETTLED, StatusCount()),
                   rejected=by_state.get(PaymentState.REJECTED, StatusCount()), **fields)

    @property
    def decided(self) -> bool:
        """Every transaction has the bank's last word: settled or rejected."""
        return self.settled.count + self.rejected.count >= self.count

    def holds(self, totals: PaymentFileTotals) -> bool:
        """The bank's file under this MsgId is the one ``totals`` describe."""
        return (self.message_id, self.count) == (totals.message_id, totals.count) and \
            self.control_sum in (None, totals.control_sum)


class TransactionRejection(BaseModel):
    """One transaction of a file the bank rejected: which (EndToEndId), why, and for how much."""

    model_config = ConfigDict(frozen=True)

    end_to_end_id: str
    payment_info_id: str | None = None
    reason_code: str | None = None    # ISO external reason code, e.g. AC04
    reason_text: str | None = None
    amount: Money | None = None       # the instructed amount


class RejectionPage(BaseModel):
    """One page of a file's rejected transactions, and where the next page starts (None: last)."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    rejections: list[TransactionRejection]
    next_cursor: str | None = None


# Finance-readable meaning of the ISO 20022 reason codes finsync meets most.
REASON_TEXT = {
    "AC01": "the beneficiary account number is wrong",
    "AC04": "the beneficiary account is closed",
    "AC05": "the company's account the payment leaves from is closed",
    "AC06": "the beneficiary account is blocked",
    "AM04": "insufficient funds on the debtor account",
    "AM05": "duplicate payment",
    "BE04": "the creditor address is missing or wrong",
    "MS03": "the bank rejected it for an unspecified reason",
    "RC01": "the BIC is wrong",
}


def reason_text(code: str | None) -> str:
    if not code:
        return "no reason given"
    return REASON_TEXT.get(code, f"reason code {code}")
