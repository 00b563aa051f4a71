"""What the end-of-day statement (camt.053) of one of the customer's accounts holds for a day.

Each booking of the day is an entry, except that the settled transfers of a payment information
block the customer asked to be batch booked (BtchBookg) make one debit entry for the block, with
a line per transfer; a transfer the bank rejected was never debited, so it is in no entry. A
return is a credit entry of its own. Bookings a test injected are in too: extra bookings added,
left-out bookings taken away (from the balances as well, as if never booked).

The balances chain: a day's opening balance is the balance before the account's first statement
plus every booking before that day, so it is always the previous day's closing balance.
Everything is read as plain rows in one pass per query: a block of 50,000 transfers costs no more
than 50,000 rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from sqlmodel import select as select_models

from sandboxes.bank.accounts import normalise
from sandboxes.bank.tables import (
    CREDIT,
    DEBIT,
    AccountEntry,
    CustomerAccount,
    ExtraBooking,
    LeftOutEntry,
    PaymentBlock,
    PaymentTransaction,
    StatementAccount,
)
from sandboxes.kit.company import month_start
from sandboxes.kit.db import session

# The balance each of the company's accounts starts from when the seed names none.
DEFAULT_OPENING_BALANCE = "0.00"


class NoStatement(Exception):
    """The bank has no statement for that account and day; the message says why."""


class BookedTransfer(NamedTuple):
    """One transfer in an entry (TxDtls): a settled payment's debit or its return's credit. A
    tuple, read straight from its row: a batch has thousands."""

    booking_reference: str        # the booking's own AcctSvcrRef
    amount: str                   # as booked, in the account's currency
    exchange_rate: str | None     # account-currency units per instructed unit, when converted
    msg_id: str
    pmt_inf_id: str
    instr_id: str | None
    end_to_end_id: str
    instructed_amount: str
    instructed_currency: str
    creditor_name: str
    creditor_account: str
    creditor_account_is_iban: bool
    remittance_info: str | None
    return_reason: str | None


@dataclass
class Entry:
    """One entry (Ntry) of the statement."""

    reference: str
    direction: str
    amount: Decimal
    bank_transaction_code: str            # Domain/Family/SubFamily
    batch: tuple[str, str] | None = None  # (MsgId, PmtInfId) of a batch-booked block
    transfers: list[BookedTransfer] = field(default_factory=list)
    description: str | None = None
    counterparty_name: str | None = None
    end_to_end_id: str | None = None      # an extra credit's payer reference


@dataclass(frozen=True)
class Statement:
    account_id: str
    account_is_iban: bool
    currency: str
    holder_name: str
    bic: str
    day: date
    sequence_number: int
    opening_balance: Decimal
    closing_balance: Decimal
    entries: list[Entry]

    @property
    def statement_id(self) -> str:
        return statement_id(self.account_id, self.day)


def statement_id(account_id: str, day: date) -> str:
    """Stable for the account and day (Max35Text: an IBAN is too long to quote whole)."""
    digest = hashlib.sha256(account_id.encode()).hexdigest()[:12].upper()
    return f"STM{day:%Y%m%d}{digest}"


def seed_statement_accounts(engine: Engine, company: dict[str, Any], today: date) -> None:
    """Where each of the company's accounts' statements start, once per account: a year before
    ``today``, from the seed's ``opening_balance``."""
    with session(engine) as db:
        for account in company.get("company_accounts", []):
            account_id = normalise(account.get("iban") or account["account_number"])
            if db.get(StatementAccount, account_id) is None:
                db.add(StatementAccount(account_id=account_id, first_statement_day=month_start(today, 12).isoformat(),
                                        opening_balance=account.get("opening_balance", DEFAULT_OPENING_BALANCE)))
        db.commit()


def _held(db: Session, account_id: str) -> tuple[CustomerAccount, StatementAccount]:
    account, start = db.get(CustomerAccount, account_id), db.get(StatementAccount, account_id)
    if account is None or start is None:
        raise NoStatement(f"the bank holds no account {account_id} of yours")
    return account, start


def _signed(direction: str, amount: str) -> Decimal:
    return Decimal(amount) if direction == CREDIT else -Decimal(amount)


def _payment_bookings(account_id: str, *columns: Any) -> Select[Any]:
    """``columns`` of the account's bookings for payments, without those left out."""
    return (select(*columns)
            .select_from(AccountEntry)
            .join(PaymentTransaction, col(AccountEntry.transaction_id) == col(PaymentTransaction.id))
            .outerjoin(PaymentBlock, and_(col(PaymentBlock.msg_id) == col(PaymentTransaction.msg_id),
                                          col(PaymentBlock.pmt_inf_id) == col(PaymentTransaction.pmt_inf_id)))
            .outerjoin(LeftOutEntry, col(LeftOutEntry.entry_id) == col(AccountEntry.id))
            .where(col(PaymentTransaction.debtor_account) == account_id, col(LeftOutEntry.entry_id).is_(None)))


# What a statement line needs of a booking: how to book it, then its BookedTransfer, field by field.
_BOOKING_COLUMNS: tuple[Any, ...] = (
    col(AccountEntry.id), col(AccountEntry.direction), col(PaymentBlock.batch_booking),
    col(AccountEntry.bank_reference), col(AccountEntry.amount), col(AccountEntry.exchange_rate),
    col(PaymentTransaction.msg_id), col(PaymentTransaction.pmt_inf_id), col(PaymentTransaction.instr_id),
    col(PaymentTransaction.end_to_end_id), col(PaymentTransaction.amount), col(PaymentTransaction.currency),
    col(PaymentTransaction.creditor_name), col(PaymentTransaction.creditor_account),
    col(PaymentTransaction.creditor_account_is_iban), col(PaymentTransaction.remittance_info),
    col(AccountEntry.return_reason))


def statement_of(engine: Engine, account_id: str, day: date, today: date) -> Statement:
    """The statement of ``account_id`` for ``day``; today's holds what is booked so far.
    ``NoStatement`` for an account the customer does not hold here, or a day out of range."""
    account_id = normalise(account_id)
    with session(engine) as db:
        account, start = _held(db, account_id)
        first_day = date.fromisoformat(start.first_statement_day)
        if day < first_day:
            raise NoStatement(f"account {account_id} has statements from {first_day} on, not for {day}")
        if day > today:
            raise NoStatement(f"the statement for {day} is not made yet: the day has not ended")
        connection = db.connection()
        opening = Decimal(start.opening_balance)
        for direction, amount in connection.execute(
                _payment_bookings(account_id, col(AccountEntry.direction), col(AccountEntry.amount))
                .where(col(AccountEntry.booking_date) < day.isoformat())):
            opening += _signed(direction, amount)
        for direction, amount in connection.execute(
                select(col(ExtraBooking.direction), col(ExtraBooking.amount)).where(
                    col(ExtraBooking.account_id) == account_id, col(ExtraBooking.booking_date) < day.isoformat())):
            opening += _signed(direction, amount)
        rows = connection.execute(_payment_bookings(account_id, *_BOOKING_COLUMNS)
                                  .where(col(AccountEntry.booking_date) == day.isoformat())
                                  .order_by(col(AccountEntry.id))).all()
        entries = _payment_entries(rows, day)
        entries.extend(_extra_entry(extra) for extra in db.exec(
            select_models(ExtraBooking).where(col(ExtraBooking.account_id) == account_id,
                                              col(ExtraBooking.booking_date) == day.isoformat())
            .order_by(col(ExtraBooking.id))))
    closing = opening + sum((entry.amount if entry.direction == CREDIT else -entry.amount for entry in entries),
                            Decimal(0))
    return Statement(account_id=account_id, account_is_iban=account_id[:2].isalpha(), currency=account.currency,
                     holder_name=account.holder_name, bic=account.bic, day=day,
                     sequence_number=(day - first_day).days + 1, opening_balance=opening, closing_balance=closing,
                     entries=entries)


def _payment_entries(rows: Iterable[Any], day: date) -> list[Entry]:
    """One entry per booking, but one per batch-booked block for its debits (first booking first)."""
    entries: list[Entry] = []
    batches: dict[tuple[str, str], Entry] = {}
    for entry_id, direction, batch_booking, *booked in rows:
        transfer = BookedTransfer._make(booked)
        if direction == DEBIT and batch_booking:
            key = (transfer.msg_id, transfer.pmt_inf_id)
            batch = batches.get(key)
            if batch is None:
                batch = batches[key] = Entry(reference=f"BTC{day:%Y%m%d}{entry_id:010d}", direction=DEBIT,
                                             amount=Decimal(0), bank_transaction_code="", batch=key)
                entries.append(batch)
            batch.transfers.append(transfer)
            batch.amount += Decimal(transfer.amount)
        else:
            entries.append(Entry(reference=transfer.booking_reference, direction=direction,
                                 amount=Decimal(transfer.amount), bank_transaction_code="", transfers=[transfer]))
    for entry in entries:
        entry.bank_transaction_code = _transfer_code(entry)
    return entries


def _transfer_code(entry: Entry) -> str:
    """PMNT/ICDT (issued credit transfers): ESCT for SEPA (euros to IBANs), DMCT for any other;
    RRTN for a return of either."""
    if entry.direction == CREDIT:
        return "PMNT/ICDT/RRTN"
    sepa = all(t.instructed_currency == "EUR" and t.creditor_account_is_iban for t in entry.transfers)
    return "PMNT/ICDT/ESCT" if sepa else "PMNT/ICDT/DMCT"


def _extra_entry(extra: ExtraBooking) -> Entry:
    return Entry(reference=extra.bank_reference, direction=extra.direction, amount=Decimal(extra.amount),
                 bank_transaction_code=extra.bank_transaction_code, description=extra.description,
                 counterparty_name=extra.counterparty_name, end_to_end_id=extra.end_to_end_id)


def statement_days(engine: Engine, account_id: str, first: date, last: date, today: date) -> list[tuple[date, int]]:
    """The days from ``first`` to ``last`` the account has a statement for, with each one's
    sequence number."""
    with session(engine) as db:
        _, start = _held(db, normalise(account_id))
    first_day = date.fromisoformat(start.first_statement_day)
    return [(date.fromordinal(ordinal), ordinal - first_day.toordinal() + 1)
            for ordinal in range(max(first, first_day).toordinal(), min(last, today).toordinal() + 1)]
