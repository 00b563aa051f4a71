"""Reconciling a bank statement with the payments finsync sent (finance-practice.md §5).

Pure functions, no I/O. Given one account's statement and the bookings finsync expects on it:

1. The balances: opening + credits - debits = closing, with credits and debits added up here
   from the entries, and opening = the previous statement's closing when that is known.
2. Each expected batch (a pain.001 payment information block) is matched as a whole, by its
   PmtInfId, when the bank booked it as one entry holding exactly the block: its NbOfTxs and
   TtlAmt are the block's, and are what finsync expects to settle. Otherwise (a transaction
   rejected, the bank booked them one by one, or its figures differ) each transaction is matched
   by its EndToEndId. An entry that states no transactions can only be matched as a whole.
3. Expected single payments are matched by EndToEndId.
4. What is left is reported with a reason finance can act on: missing (expected, not booked),
   unknown (booked, not expected: a charge, a stranger's credit, a second booking, a reversal),
   amount mismatches, and returns (RtrInf), each of which reopens what it paid. Nothing is
   matched away or written off: an unknown booking stays unknown until a person decides.

The result names only what needs a person, plus counts, so it stays small whatever the batch
size; a batch missing whole is one item. Every list is sorted: the same statement and
expectations give the same result, in whatever order the bank listed its entries.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from canonical.money import Money
from canonical.payment import PaymentBatch, PaymentGroup, reason_text
from canonical.statement import BankStatement, CreditDebit, StatementEntry, StatementTransaction

# What some banks put where the customer gave no EndToEndId: nothing to match on.
NO_REFERENCE = "NOTPROVIDED"


def account_key(account_id: str) -> str:
    """An IBAN or account number as compared: without spaces, upper case."""
    return account_id.replace(" ", "").upper()


# --- What finsync expects on the statement -------------------------------------------------------

class ExpectedTransfer(BaseModel):
    model_config = ConfigDict(frozen=True)

    end_to_end_id: str
    amount: Money   # as instructed


class ExpectedBatch(BaseModel):
    """A payment information block finsync sent, and which of its transfers it expects to settle."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    payment_info_id: str
    debtor_account: str
    currency: str
    instructed_count: int     # the block's NbOfTxs, as sent
    instructed_total: Money   # its CtrlSum
    transactions: list[ExpectedTransfer]   # those expected to settle: the bank's rejections left out

    @model_validator(mode="after")
    def _consistent(self) -> ExpectedBatch:
        if self.instructed_total.currency != self.currency or any(
                tx.amount.currency != self.currency for tx in self.transactions):
            raise ValueError(f"batch {self.payment_info_id} is in {self.currency}: every amount must be")
        if len(self.transactions) > self.instructed_count:
            raise ValueError(f"batch {self.payment_info_id} cannot settle more than its {self.instructed_count} transfers")
        return self

    @classmethod
    def of_group(cls, batch: PaymentBatch, group: PaymentGroup, rejected: Collection[str] = ()) -> ExpectedBatch:
        """The block ``group`` of the file ``batch``, less the EndToEndIds the bank ``rejected``."""
        return cls(message_id=batch.message_id, payment_info_id=group.payment_info_id,
                   debtor_account=batch.debtor_account.account_id, currency=group.currency,
                   instructed_count=group.count, instructed_total=Money.of(group.control_sum, group.currency),
                   transactions=[ExpectedTransfer(end_to_end_id=tx.end_to_end_id, amount=tx.amount)
                                 for tx in group.transactions if tx.end_to_end_id not in rejected])

    @property
    def expected_total(self) -> Money:
        return Money.of(sum((tx.amount.amount for tx in self.transactions), Decimal(0)), self.currency)

    @property
    def settles_whole(self) -> bool:
        """Nothing of the block was rejected: what settles is what was sent."""
        return len(self.transactions) == self.instructed_count and self.expected_total == self.instructed_total


class ExpectedPayment(BaseModel):
    """A payment sent on its own (booked as an entry of its own)."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    end_to_end_id: str
    amount: Money
    payment_info_id: str | None = None


class ExpectedBookings(BaseModel):
    """Everything finsync expects on one account's statement."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    batches: list[ExpectedBatch] = []
    payments: list[ExpectedPayment] = []

    @model_validator(mode="after")
    def _one_account_unique_ids(self) -> ExpectedBookings:
        strangers = sorted(b.payment_info_id for b in self.batches
                           if account_key(b.debtor_account) != account_key(self.account_id))
        if strangers:
            raise ValueError(f"batches {', '.join(strangers)} are not paid from account {self.account_id}")
        seen: set[str] = set()
        for end_to_end_id in [tx.end_to_end_id for b in self.batches for tx in b.transactions] + [
                p.end_to_end_id for p in self.payments]:
            if end_to_end_id in seen:
                raise ValueError(f"EndToEndId {end_to_end_id} is expected twice on account {self.account_id}")
            seen.add(end_to_end_id)
        return self


# --- What the reconciliation finds ---------------------------------------------------------------

class BalanceCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    opening: Money
    credits: Money                 # added up from the booked entries
    debits: Money
    closing: Money                 # as the statement states it
    previous_closing: Money | None = None

    @property
    def computed_closing(self) -> Money:
        return self.opening + self.credits - self.debits

    @property
    def difference(self) -> Money:
        """Stated less computed closing balance."""
        return self.closing - self.computed_closing

    @property
    def adds_up(self) -> bool:
        return self.difference.is_zero

    @property
    def continues(self) -> bool:
        """The statement starts where the previous one ended (True when that is not known)."""
        return self.previous_closing is None or self.previous_closing == self.opening

    @property
    def ok(self) -> bool:
        return self.adds_up and self.continues

    def problems(self) -> list[str]:
        found = []
        if not self.adds_up:
            found.append(f"Opening balance {self.opening} plus credits {self.credits} less debits {self.debits} "
                         f"makes {self.computed_closing}, but the statement closes at {self.closing} "
                         f"(difference {self.difference}): the statement is incomplete, ask the bank for it again")
        if not self.continues:
            found.append(f"The statement opens at {self.opening}, but the previous one closed at {self.previous_closing}: "
                         f"a statement is missing in between, or one was corrected")
        return found


class MatchedBy(StrEnum):
    PAYMENT_INFO_ID = "PmtInfId"      # the batch as a whole
    END_TO_END_ID = "EndToEndId"      # transaction by transaction


class BatchReconciliation(BaseModel):
    """How one expected batch was found on the statement."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    payment_info_id: str
    matched_by: MatchedBy | None      # None: nothing of it matched
    expected_count: int
    expected_total: Money
    matched_count: int
    booked_reference: str | None = None   # the bank's reference of the entry booking the batch
    booked_amount: Money | None = None    # that entry's amount


class MissingBooking(BaseModel):
    """Expected on the statement, not booked: one transfer, or a whole batch (``end_to_end_id`` None)."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    payment_info_id: str | None
    end_to_end_id: str | None
    amount: Money
    count: int = 1
    reason: str


class UnknownBooking(BaseModel):
    """Booked, not expected: to be explained (suspense), never matched away."""

    model_config = ConfigDict(frozen=True)

    direction: CreditDebit
    amount: Money
    booking_date: date | None
    bank_reference: str | None
    bank_transaction_code: str | None = None
    message_id: str | None = None
    payment_info_id: str | None = None
    end_to_end_id: str | None = None
    count: int = 1   # transactions, for a batch entry unknown whole
    reason: str


class AmountMismatch(BaseModel):
    """Booked, but not for what finsync expects: one transfer, or a whole entry (``end_to_end_id`` None)."""

    model_config = ConfigDict(frozen=True)

    message_id: str | None
    payment_info_id: str | None
    end_to_end_id: str | None
    expected: Money
    booked: Money | None   # None: the statement gives the transaction no amount
    bank_reference: str | None
    reason: str


class ReturnedPayment(BaseModel):
    """A payment the beneficiary's bank sent back (RtrInf): what it paid is open again."""

    model_config = ConfigDict(frozen=True)

    end_to_end_id: str | None
    message_id: str | None
    payment_info_id: str | None
    amount: Money
    reason_code: str | None
    reason: str
    booking_date: date | None
    bank_reference: str | None


class StatementReconciliation(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    currency: str
    statement_id: str
    sequence_number: int | None
    balance: BalanceCheck
    batches: list[BatchReconciliation]
    matched_payments: int          # single payments found as expected
    missing: list[MissingBooking]
    unknown: list[UnknownBooking]
    amount_mismatches: list[AmountMismatch]
    returns: list[ReturnedPayment]

    @property
    def reconciled(self) -> bool:
        """Everything on the statement is explained and adds up (returns are explained: each
        reopens its payment, a task for finance of its own)."""
        return self.balance.ok and not (self.missing or self.unknown or self.amount_mismatches)

    def summary(self) -> str:
        """One line for finance."""
        if self.reconciled and not self.returns:
            return f"Statement {self.statement_id} reconciled"
        parts = [*(["balances do not add up"] if not self.balance.ok else []),
                 *[f"{len(items)} {what}" for items, what in (
                     (self.missing, "missing"), (self.unknown, "unknown"), (self.amount_mismatches, "amount mismatches"),
                     (self.returns, "returns")) if items]]
        return f"Statement {self.statement_id}: {', '.join(parts)}"


# --- Matching ------------------------------------------------------------------------------------

@dataclass
class _Expected:
    """One transfer expected, wherever it was sent (a batch, or on its own)."""

    end_to_end_id: str
    amount: Money
    message_id: str
    payment_info_id: str | None
    batch: ExpectedBatch | None


def reconcile_statement(statement: BankStatement, expected: ExpectedBookings, *,
                        previous_closing: Money | None = None) -> StatementReconciliation:
    """The statement against what finsync expects on it (module docstring)."""
    if account_key(expected.account_id) != account_key(statement.account_id):
        raise ValueError(f"statement {statement.statement_id} is of account {statement.account_id}, "
                         f"not {expected.account_id}")
    return _Matching(statement, expected).result(previous_closing)


def _entry_order(entry: StatementEntry) -> tuple:
    """A total order on entries by their content: the bank's listing order does not count."""
    return (entry.booking_date or date.min, entry.bank_reference or "", entry.direction.value, entry.amount.amount,
            entry.batch.payment_info_id or "" if entry.batch else "", entry.additional_info or "",
            sorted(_transaction_order(tx) for tx in entry.transactions))


def _transaction_order(tx: StatementTransaction) -> tuple[str, str, Decimal, str]:
    return (tx.end_to_end_id or "", tx.bank_reference or "", tx.amount.amount if tx.amount else Decimal(0),
            tx.return_reason or "")


def _is_charge(code: str | None) -> bool:
    """ISO bank transaction codes for charges and fees (…/CHRG, …/FEES, …/COMM, …/INTR)."""
    return code is not None and code.rsplit("/", 1)[-1] in {"CHRG", "FEES", "COMM", "COME", "INTR"}


class _Matching:
    def __init__(self, statement: BankStatement, expected: ExpectedBookings) -> None:
        self.statement = statement
        self.batches = sorted(expected.batches, key=lambda b: (b.payment_info_id, b.message_id))
        self.expected: dict[str, _Expected] = {}
        for batch in self.batches:
            for tx in batch.transactions:
                self.expected[tx.end_to_end_id] = _Expected(tx.end_to_end_id, tx.amount, batch.message_id,
                                                            batch.payment_info_id, batch)
        for payment in expected.payments:
            self.expected[payment.end_to_end_id] = _Expected(payment.end_to_end_id, payment.amount, payment.message_id,
                                                             payment.payment_info_id, None)
        self.booked: set[str] = set()          # EndToEndIds found on the statement (matched or not)
        self.matched: dict[str, int] = {}      # PmtInfId (or "" for single payments) -> transfers matched
        self.whole: dict[str, StatementEntry] = {}   # PmtInfId -> the entry booking the batch whole
        self.candidates: dict[str, StatementEntry] = {}   # PmtInfId -> the entry booking it (first)
        self.missing: list[MissingBooking] = []
        self.unknown: list[UnknownBooking] = []
        self.mismatches: list[AmountMismatch] = []
        self.returns: list[ReturnedPayment] = []

    # -- the whole statement
    def result(self, previous_closing: Money | None) -> StatementReconciliation:
        statement = self.statement
        batch_ids = {batch.payment_info_id for batch in self.batches}
        by_transaction: list[StatementEntry] = []
        for entry in sorted(statement.booked_entries(), key=_entry_order):
            pmt_inf_id = entry.batch.payment_info_id if entry.batch else None
            if entry.reversal:
                self._unknown(entry, "The bank reversed an earlier booking: find the entry it takes back and "
                                     "query the bank")
            elif entry.direction is CreditDebit.CREDIT:
                self._credit(entry)
            elif pmt_inf_id is not None and pmt_inf_id in batch_ids and pmt_inf_id not in self.candidates:
                self.candidates[pmt_inf_id] = entry
            elif entry.transactions:
                by_transaction.append(entry)
            else:
                self._unknown(entry, self._unreferenced_debit(entry))
        for batch in self.batches:
            self._batch(batch, by_transaction)
        self._by_end_to_end_id(by_transaction)
        self._missing()
        return StatementReconciliation(
            account_id=statement.account_id, currency=statement.currency, statement_id=statement.statement_id,
            sequence_number=statement.sequence_number,
            balance=BalanceCheck(opening=statement.opening_balance, credits=statement.credits(),
                                 debits=statement.debits(), closing=statement.closing_balance,
                                 previous_closing=previous_closing),
            batches=[self._batch_result(batch) for batch in self.batches],
            matched_payments=self.matched.get("", 0),
            missing=sorted(self.missing, key=lambda m: (m.payment_info_id or "", m.end_to_end_id or "", m.message_id)),
            unknown=sorted(self.unknown, key=lambda u: (
                u.booking_date or date.min, u.bank_reference or "", u.end_to_end_id or "", u.direction.value,
                u.amount.amount, u.reason)),
            amount_mismatches=sorted(self.mismatches, key=lambda m: (
                m.payment_info_id or "", m.end_to_end_id or "", m.bank_reference or "",
                m.booked.amount if m.booked else Decimal(0))),
            returns=sorted(self.returns, key=lambda r: (r.end_to_end_id or "", r.bank_reference or "", r.amount.amount)))

    # -- credits: returns of payments, or someone else's money
    def _credit(self, entry: StatementEntry) -> None:
        if not any(tx.return_reason for tx in entry.transactions):
            self._unknown(entry, f"A credit of {entry.amount} finsync did not expect: hold it in suspense and find "
                                 f"who paid it and why")
            return
        for tx in sorted(entry.transactions, key=_transaction_order):
            amount = self._booked_amount(tx, entry) or entry.amount
            if not tx.return_reason:
                self._unknown(entry, "A credit booked with a return but not itself returned: query the bank", tx)
                continue
            self.returns.append(ReturnedPayment(
                end_to_end_id=tx.end_to_end_id, message_id=tx.message_id, payment_info_id=tx.payment_info_id,
                amount=amount, reason_code=tx.return_reason,
                reason=f"The beneficiary's bank sent {amount} back: {reason_text(tx.return_reason)}; the payment "
                       f"is open again",
                booking_date=entry.booking_date, bank_reference=tx.bank_reference or entry.bank_reference))

    @staticmethod
    def _unreferenced_debit(entry: StatementEntry) -> str:
        if _is_charge(entry.bank_transaction_code):
            return f"A bank charge of {entry.amount} finsync did not expect: book it, or dispute it with the bank"
        if entry.batch is not None:
            return (f"A batch debit of {entry.amount} for payment information {entry.batch.payment_info_id} "
                    f"finsync did not send from this account, or booked a second time: query the bank")
        return f"A debit of {entry.amount} with no reference finsync knows: hold it in suspense and query the bank"

    # -- batches
    def _batch(self, batch: ExpectedBatch, by_transaction: list[StatementEntry]) -> None:
        entry = self.candidates.get(batch.payment_info_id)
        if entry is None:
            return
        if self._books_whole(entry, batch):
            self.whole[batch.payment_info_id] = entry
            self.booked.update(tx.end_to_end_id for tx in batch.transactions)
            self.matched[batch.payment_info_id] = len(batch.transactions)
        elif entry.transactions:
            by_transaction.append(entry)
        else:
            self.booked.update(tx.end_to_end_id for tx in batch.transactions)   # booked, but not as expected
            stated = entry.batch.count if entry.batch and entry.batch.count is not None else "an unstated number of"
            self.mismatches.append(AmountMismatch(
                message_id=batch.message_id, payment_info_id=batch.payment_info_id, end_to_end_id=None,
                expected=batch.expected_total, booked=entry.amount, bank_reference=entry.bank_reference,
                reason=f"The bank booked batch {batch.payment_info_id} as {entry.amount} for {stated} payments; "
                       f"finsync expects {batch.expected_total} for {len(batch.transactions)}, and the statement "
                       f"gives no transactions to tell which differ: query the bank"))

    @staticmethod
    def _books_whole(entry: StatementEntry, batch: ExpectedBatch) -> bool:
        """The entry books exactly the transfers finsync expects to settle, as one amount: as sent
        (rule 1), or, when the entry states no transactions to match one by one, less what the
        bank rejected."""
        expected_count, expected_total = len(batch.transactions), batch.expected_total
        if entry.transactions and not batch.settles_whole:
            return False
        stated_count = entry.batch.count if entry.batch else None
        if stated_count is None:
            stated_count = len(entry.transactions) or None
        stated_total = entry.batch.total if entry.batch else None
        if stated_count != expected_count or entry.amount != expected_total or stated_total not in (None, expected_total):
            return False
        if not entry.transactions:
            return True
        amounts = [tx.amount for tx in entry.transactions]
        return (len(entry.transactions) == expected_count
                and {tx.end_to_end_id for tx in entry.transactions} == {tx.end_to_end_id for tx in batch.transactions}
                and all(amount is not None and amount.currency == entry.amount.currency for amount in amounts)
                and sum((amount.amount for amount in amounts if amount is not None), Decimal(0)) == entry.amount.amount)

    def _batch_result(self, batch: ExpectedBatch) -> BatchReconciliation:
        entry = self.whole.get(batch.payment_info_id) or self.candidates.get(batch.payment_info_id)
        matched = self.matched.get(batch.payment_info_id, 0)
        if batch.payment_info_id in self.whole:
            matched_by: MatchedBy | None = MatchedBy.PAYMENT_INFO_ID
        else:
            matched_by = MatchedBy.END_TO_END_ID if matched else None
        return BatchReconciliation(
            message_id=batch.message_id, payment_info_id=batch.payment_info_id, matched_by=matched_by,
            expected_count=len(batch.transactions), expected_total=batch.expected_total, matched_count=matched,
            booked_reference=entry.bank_reference if entry else None, booked_amount=entry.amount if entry else None)

    # -- transaction by transaction
    def _by_end_to_end_id(self, entries: list[StatementEntry]) -> None:
        for entry in sorted(entries, key=_entry_order):
            self._entry_adds_up(entry)
            strangers = []
            for tx in sorted(entry.transactions, key=_transaction_order):
                wanted = self.expected.get(tx.end_to_end_id or "")
                if wanted is None or tx.end_to_end_id == NO_REFERENCE:
                    strangers.append(tx)
                elif wanted.end_to_end_id in self.booked:
                    self._unknown(entry, f"Payment {wanted.end_to_end_id} booked a second time: a possible "
                                         f"duplicate payment, query the bank", tx)
                else:
                    self.booked.add(wanted.end_to_end_id)
                    self._compare(wanted, tx, entry)
            if strangers and len(strangers) == len(entry.transactions) > 1:
                self._unknown(entry, f"{len(strangers)} payments booked as one entry of {entry.amount} that "
                                     f"finsync did not send from this account: query the bank", count=len(strangers))
            else:
                for tx in strangers:
                    self._unknown(entry, f"A debit under EndToEndId {tx.end_to_end_id or '(none)'} that finsync did not "
                                         f"send from this account: hold it in suspense and query the bank", tx)

    def _compare(self, wanted: _Expected, tx: StatementTransaction, entry: StatementEntry) -> None:
        booked = self._booked_amount(tx, entry, wanted.amount.currency)
        if booked == wanted.amount:
            key = wanted.batch.payment_info_id if wanted.batch is not None else ""
            self.matched[key] = self.matched.get(key, 0) + 1
            return
        self.mismatches.append(AmountMismatch(
            message_id=wanted.message_id, payment_info_id=wanted.payment_info_id, end_to_end_id=wanted.end_to_end_id,
            expected=wanted.amount, booked=booked, bank_reference=tx.bank_reference or entry.bank_reference,
            reason=(f"Payment {wanted.end_to_end_id} was booked at {booked}; finsync sent {wanted.amount}"
                    if booked is not None else
                    f"Payment {wanted.end_to_end_id} is booked with no amount of its own; finsync sent {wanted.amount}")
            + ": query the bank"))

    @staticmethod
    def _booked_amount(tx: StatementTransaction, entry: StatementEntry, currency: str | None = None) -> Money | None:
        """The transaction's amount: what was instructed when it is in ``currency``, else what was
        booked; None if the statement does not say."""
        if currency and tx.instructed is not None and tx.instructed.currency == currency:
            return tx.instructed
        if tx.amount is not None:
            return tx.amount
        return entry.amount if len(entry.transactions) == 1 else tx.instructed

    def _entry_adds_up(self, entry: StatementEntry) -> None:
        """An entry of several transactions must be their sum: recomputed, never taken as stated."""
        amounts = [tx.amount for tx in entry.transactions]
        if len(amounts) < 2 or any(a is None or a.currency != entry.amount.currency for a in amounts):
            return
        added = Money.of(sum((a.amount for a in amounts if a is not None), Decimal(0)), entry.amount.currency)
        if added != entry.amount:
            batch = entry.batch
            self.mismatches.append(AmountMismatch(
                message_id=batch.message_id if batch else None, payment_info_id=batch.payment_info_id if batch else None,
                end_to_end_id=None, expected=added, booked=entry.amount, bank_reference=entry.bank_reference,
                reason=f"The bank booked {entry.amount} as one entry, but its {len(amounts)} transactions add up to "
                       f"{added}: query the bank"))

    # -- what was expected and not found
    def _missing(self) -> None:
        where = f"statement {self.statement.statement_id}"
        for batch in self.batches:
            absent = [tx for tx in batch.transactions if tx.end_to_end_id not in self.booked]
            if len(absent) > 1 and len(absent) == len(batch.transactions):
                self.missing.append(MissingBooking(
                    message_id=batch.message_id, payment_info_id=batch.payment_info_id, end_to_end_id=None,
                    amount=batch.expected_total, count=len(absent),
                    reason=f"Batch {batch.payment_info_id} ({len(absent)} payments, {batch.expected_total}) is not "
                           f"booked on {where}: check with the bank that it was executed"))
                continue
            self.missing.extend(self._missing_transfer(self.expected[tx.end_to_end_id], where) for tx in absent)
        self.missing.extend(self._missing_transfer(wanted, where) for wanted in self.expected.values()
                            if wanted.batch is None and wanted.end_to_end_id not in self.booked)

    @staticmethod
    def _missing_transfer(wanted: _Expected, where: str) -> MissingBooking:
        sent_in = f" of batch {wanted.payment_info_id}" if wanted.batch is not None else ""
        return MissingBooking(
            message_id=wanted.message_id, payment_info_id=wanted.payment_info_id, end_to_end_id=wanted.end_to_end_id,
            amount=wanted.amount,
            reason=f"Payment {wanted.end_to_end_id}{sent_in} ({wanted.amount}) is not booked on {where}, though "
                   f"finsync expects it settled: check with the bank whether the money left")

    def _unknown(self, entry: StatementEntry, reason: str, tx: StatementTransaction | None = None,
                 count: int = 1) -> None:
        self.unknown.append(UnknownBooking(
            direction=entry.direction, amount=(self._booked_amount(tx, entry) if tx else None) or entry.amount,
            booking_date=entry.booking_date, bank_reference=(tx.bank_reference if tx else None) or entry.bank_reference,
            bank_transaction_code=entry.bank_transaction_code,
            message_id=tx.message_id if tx else (entry.batch.message_id if entry.batch else None),
            payment_info_id=tx.payment_info_id if tx else (entry.batch.payment_info_id if entry.batch else None),
            end_to_end_id=tx.end_to_end_id if tx else None, count=count, reason=reason))

