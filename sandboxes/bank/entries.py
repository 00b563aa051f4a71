"""What the bank books on the debtor's account for a payment: the debit when it settles, and the
credit when the creditor's bank sends it back. Each booking is notified as one camt.054 entry,
unless it was told otherwise (a batch-booked file's group report)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sandboxes.bank.accounts import account_currency, normalise
from sandboxes.bank.conversion import Booked, NoRate, book_amount, booking_rate, converted
from sandboxes.bank.tables import (
    CREDIT,
    DEBIT,
    REJECTED,
    SETTLED,
    AccountEntry,
    CustomerAccount,
    PaymentTransaction,
)
from sandboxes.kit.db import session
from sandboxes.kit.webhooks import new_message_id


class NotReturnable(Exception):
    """Only a settled payment, not yet returned, can be returned."""


class Debit(NamedTuple):
    """A transaction to settle, as much of it as its booking needs."""

    transaction_id: int
    debtor_account: str
    amount: str
    currency: str


def _entry_row(transaction_id: int, direction: str, booked: Booked, day: date, reference: str,
               return_reason: str | None = None, notified: bool = False) -> dict[str, Any]:
    return {"transaction_id": transaction_id, "direction": direction, "amount": format(booked.amount, "f"),
            "currency": booked.currency, "exchange_rate": format(booked.rate, "f") if booked.rate is not None else None,
            "booking_date": day.isoformat(), "bank_reference": reference, "return_reason": return_reason,
            "webhook_id": new_message_id(), "notified": notified}


def _entry(db: Session, tx: PaymentTransaction, direction: str, day: date, reference: str,
           return_reason: str | None = None) -> AccountEntry:
    booked = book_amount(db, Decimal(tx.amount), tx.currency, account_currency(db, tx.debtor_account), day)
    if tx.id is None:   # stored transactions always have one
        raise ValueError("a transaction must be stored before anything is booked for it")
    return AccountEntry(**_entry_row(tx.id, direction, booked, day, reference, return_reason))


def book_debits(db: Session, debits: Sequence[Debit], day: date, *, notified: bool = False) -> list[Debit]:
    """Settle ``debits`` on ``day``, all at once: each one's debit, converted into its account's
    currency where need be, and its transaction SETTLED with the booking's date and reference,
    added to ``db``'s unit of work as bulk statements (a payroll settles 50,000 at a time).
    ``notified``: the debits are told of otherwise, so no camt.054 goes out for each.

    Returns the debits the bank cannot convert into their account's currency, left as they were."""
    currencies = {account.account_id: account.currency for account in db.exec(select(CustomerAccount).where(
        col(CustomerAccount.account_id).in_({normalise(debit.debtor_account) for debit in debits})))}
    rates: dict[tuple[str, str | None], Decimal | None | NoRate] = {}
    entries, settled, unconvertible = [], [], []
    for debit in debits:
        account_currency = currencies.get(normalise(debit.debtor_account))
        pair = (debit.currency, account_currency)
        if pair not in rates:
            try:
                rates[pair] = booking_rate(db, debit.currency, account_currency, day)
            except NoRate as no_rate:
                rates[pair] = no_rate
        rate = rates[pair]
        if isinstance(rate, NoRate):
            unconvertible.append(debit)
            continue
        reference = f"BNK{day:%Y%m%d}{debit.transaction_id:010d}"
        booked = converted(Decimal(debit.amount), debit.currency, account_currency, rate)
        entries.append(_entry_row(debit.transaction_id, DEBIT, booked, day, reference, notified=notified))
        settled.append({"transaction_id": debit.transaction_id, "reference": reference})
    if entries:   # Core statements, many rows each: the ORM's work per row would cost seconds here
        connection = db.connection()
        connection.execute(insert(AccountEntry), entries)
        connection.execute(update(PaymentTransaction).where(col(PaymentTransaction.id) == bindparam("transaction_id"))
                           .values(status=SETTLED, booking_date=day.isoformat(), bank_reference=bindparam("reference")),
                           settled)
    return unconvertible


def book_return(engine: Engine, msg_id: str, end_to_end_id: str, reason_code: str,
                day: date) -> PaymentTransaction | None:
    """The creditor's bank sent the payment back: credit the account (converted at ``day``'s
    rate) and report the transaction as rejected with the return reason. None if there is no
    such transaction."""
    with session(engine) as db:
        tx = db.exec(select(PaymentTransaction).where(
            PaymentTransaction.msg_id == msg_id, PaymentTransaction.end_to_end_id == end_to_end_id)).first()
        if tx is None:
            return None
        if tx.status != SETTLED:
            raise NotReturnable(f"transaction {end_to_end_id} is {tx.status}: only a settled payment can be returned")
        db.add(_entry(db, tx, CREDIT, day, f"RTN{day:%Y%m%d}{tx.id:010d}", reason_code))
        tx.status, tx.reason_code = REJECTED, reason_code
        db.add(tx)
        try:
            db.commit()
        except IntegrityError:   # a concurrent return of the same payment came first
            raise NotReturnable(f"transaction {end_to_end_id} was already returned") from None
    return tx


def entries_of(engine: Engine, transactions: Iterable[PaymentTransaction]) -> dict[int | None, list[AccountEntry]]:
    """Each transaction's entries (by transaction id), debit first."""
    found: dict[int | None, list[AccountEntry]] = {}
    ids = [tx.id for tx in transactions]
    with session(engine) as db:
        for entry in db.exec(select(AccountEntry).where(col(AccountEntry.transaction_id).in_(ids))
                             .order_by(col(AccountEntry.id))).all():
            found.setdefault(entry.transaction_id, []).append(entry)
    return found


def unnotified_entries(engine: Engine) -> list[tuple[PaymentTransaction, AccountEntry]]:
    with session(engine) as db:
        rows = db.exec(select(PaymentTransaction, AccountEntry)
                       .where(AccountEntry.transaction_id == PaymentTransaction.id,
                              AccountEntry.notified == False)  # noqa: E712 (SQL expression)
                       .order_by(col(AccountEntry.id))).all()
    return [(tx, entry) for tx, entry in rows]


def mark_notified(engine: Engine, entry: AccountEntry) -> None:
    with session(engine) as db:
        entry.notified = True
        db.add(entry)
        db.commit()
