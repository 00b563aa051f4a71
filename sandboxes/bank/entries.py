"""What the bank books on the debtor's account for a payment: the debit when it settles, and the
credit when the creditor's bank sends it back. Each booking is notified as one camt.054 entry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sandboxes.bank.accounts import account_currency
from sandboxes.bank.conversion import book_amount
from sandboxes.bank.tables import CREDIT, DEBIT, REJECTED, SETTLED, AccountEntry, PaymentTransaction
from sandboxes.kit.db import session
from sandboxes.kit.webhooks import new_message_id


class NotReturnable(Exception):
    """Only a settled payment, not yet returned, can be returned."""


def _entry(db: Session, tx: PaymentTransaction, direction: str, day: date, reference: str,
           return_reason: str | None = None) -> AccountEntry:
    booked = book_amount(db, Decimal(tx.amount), tx.currency, account_currency(db, tx.debtor_account), day)
    if tx.id is None:   # stored transactions always have one
        raise ValueError("a transaction must be stored before anything is booked for it")
    return AccountEntry(
        transaction_id=tx.id, direction=direction, amount=format(booked.amount, "f"), currency=booked.currency,
        exchange_rate=format(booked.rate, "f") if booked.rate is not None else None, booking_date=day.isoformat(),
        bank_reference=reference, return_reason=return_reason, webhook_id=new_message_id())


def book_debit(db: Session, tx: PaymentTransaction, day: date) -> None:
    """Settle ``tx`` on ``day``: its debit is added to ``db``'s unit of work (``NoRate`` if the
    bank cannot convert into the account's currency)."""
    reference = f"BNK{day:%Y%m%d}{tx.id:010d}"
    db.add(_entry(db, tx, DEBIT, day, reference))
    tx.status, tx.booking_date, tx.bank_reference = SETTLED, day.isoformat(), reference
    db.add(tx)


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
