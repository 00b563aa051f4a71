"""Taking in a checked pain.001 exactly once, and finding what the bank holds.

A file is stored with bulk inserts and its repeated ids looked up a chunk of transactions at a
time, so a payroll file of 50,000 transactions goes in as quickly as a handful of statements.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any, cast

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Session, col, select

from sandboxes.bank.pain001 import MESSAGE_NAME, CreditTransfer, CustomerCreditTransfer
from sandboxes.bank.reports import Tally
from sandboxes.bank.tables import (
    ACCEPTED_TECHNICALLY,
    REJECTED,
    FileRejection,
    PaymentBlock,
    PaymentMessage,
    PaymentTransaction,
)
from sandboxes.kit.db import session

CHUNK = 500   # transactions per query or insert: well under SQLite's limit on bound parameters


class DuplicatePayment(Exception):
    """The file repeats a MsgId, or an EndToEndId already used from the same debtor account."""

    def __init__(self, original_msg_id: str, detail: str) -> None:
        super().__init__(detail)
        self.original_msg_id = original_msg_id
        self.detail = detail


def _chunks(transactions: Sequence[CreditTransfer]) -> Iterator[list[CreditTransfer]]:
    remaining = iter(transactions)
    while chunk := list(islice(remaining, CHUNK)):
        yield chunk


def _duplicate_of(db: Session, message: CustomerCreditTransfer) -> DuplicatePayment | None:
    if db.exec(select(PaymentMessage.msg_id).where(PaymentMessage.msg_id == message.msg_id)).first() is not None:
        return DuplicatePayment(message.msg_id, f"MsgId {message.msg_id} was already received")
    for chunk in _chunks(message.transactions):
        earlier = {(debtor, end_to_end_id): msg_id for debtor, end_to_end_id, msg_id in db.exec(
            select(PaymentTransaction.debtor_account, PaymentTransaction.end_to_end_id, PaymentTransaction.msg_id).where(
                col(PaymentTransaction.debtor_account).in_({tx.debtor_account.id for tx in chunk}),
                col(PaymentTransaction.end_to_end_id).in_([tx.end_to_end_id for tx in chunk])))}
        for tx in chunk:   # the first repeat in the file's order
            msg_id = earlier.get((tx.debtor_account.id, tx.end_to_end_id))
            if msg_id is not None:
                return DuplicatePayment(msg_id, f"EndToEndId {tx.end_to_end_id} was already used from account "
                                                f"{tx.debtor_account.id} in message {msg_id}")
    return None


def _transaction_row(msg_id: str, tx: CreditTransfer, now: float) -> dict[str, Any]:
    return {
        "msg_id": msg_id, "pmt_inf_id": tx.pmt_inf_id, "instr_id": tx.instr_id, "end_to_end_id": tx.end_to_end_id,
        "requested_execution_date": tx.requested_execution_date.isoformat(),
        "debtor_name": tx.debtor_name, "debtor_account": tx.debtor_account.id,
        "debtor_account_is_iban": tx.debtor_account.is_iban, "debtor_agent_bic": tx.debtor_agent_bic,
        "creditor_name": tx.creditor_name, "creditor_account": tx.creditor_account.id,
        "creditor_account_is_iban": tx.creditor_account.is_iban, "creditor_agent_bic": tx.creditor_agent_bic,
        "amount": format(tx.amount, "f"), "currency": tx.currency, "remittance_info": tx.remittance_info,
        "status": ACCEPTED_TECHNICALLY, "accepted_at": now, "notified": False}


def accept(engine: Engine, message: CustomerCreditTransfer, document: bytes, now: float) -> PaymentMessage:
    """Store the file, its blocks and its transactions, or raise ``DuplicatePayment`` and store nothing."""
    with session(engine) as db:
        duplicate = _duplicate_of(db, message)
        if duplicate:
            raise duplicate
        ctrl_sum = format(message.ctrl_sum, "f") if message.ctrl_sum is not None else None
        stored = PaymentMessage(
            msg_id=message.msg_id, message_name=MESSAGE_NAME, created_at=message.created_at,
            nb_of_txs=message.nb_of_txs, ctrl_sum=ctrl_sum,
            initiating_party=message.initiating_party, received_at=now, document=document)
        db.add(stored)
        db.flush()
        # Core statements, many rows each: the ORM's work per row would cost seconds for a payroll
        connection = db.connection()
        connection.execute(insert(PaymentBlock), [
            {"msg_id": message.msg_id, "pmt_inf_id": block.pmt_inf_id, "batch_booking": block.batch_booking,
             "nb_of_txs": block.nb_of_txs,
             "ctrl_sum": format(block.ctrl_sum, "f") if block.ctrl_sum is not None else None}
            for block in message.blocks])
        for chunk in _chunks(message.transactions):
            connection.execute(insert(PaymentTransaction), [_transaction_row(message.msg_id, tx, now) for tx in chunk])
        try:
            db.commit()
        except IntegrityError:  # a concurrent submission of the same keys won the race
            db.rollback()
            duplicate = _duplicate_of(db, message)
            if duplicate:
                raise duplicate from None
            raise
    return stored


def reported_as_group(db: Session, msg_id: str) -> bool:
    """Whether the file is reported on as a whole: every block of it asked for batch booking.
    (Files from before blocks were kept have none, and are reported per transaction as ever.)"""
    booking = list(db.exec(select(PaymentBlock.batch_booking).where(PaymentBlock.msg_id == msg_id)))
    return bool(booking) and all(booking)


def find_transaction(engine: Engine, msg_id: str, end_to_end_id: str) -> PaymentTransaction | None:
    with session(engine) as db:
        return db.exec(select(PaymentTransaction).where(
            PaymentTransaction.msg_id == msg_id, PaymentTransaction.end_to_end_id == end_to_end_id)).first()


def find_message(engine: Engine, msg_id: str) -> PaymentMessage | None:
    """The file's message, without the document itself (which can be tens of megabytes)."""
    with session(engine) as db:
        return db.exec(select(PaymentMessage).where(PaymentMessage.msg_id == msg_id)
                       .options(defer(cast(QueryableAttribute[bytes], PaymentMessage.document)))).first()


def transactions_of(engine: Engine, msg_id: str) -> list[PaymentTransaction]:
    with session(engine) as db:
        return list(db.exec(select(PaymentTransaction).where(PaymentTransaction.msg_id == msg_id)
                            .order_by(col(PaymentTransaction.id))).all())


def tally(engine: Engine, msg_id: str) -> Tally:
    """The file's transactions in numbers, read as plain rows (never 50,000 objects)."""
    counted = Tally()
    with session(engine) as db:
        for pmt_inf_id, status, amount in db.exec(
                select(PaymentTransaction.pmt_inf_id, PaymentTransaction.status, PaymentTransaction.amount)
                .where(PaymentTransaction.msg_id == msg_id).order_by(col(PaymentTransaction.id))):
            counted.add(pmt_inf_id, status, amount)
    return counted


def rejected_page(engine: Engine, msg_id: str, after: int, limit: int) -> tuple[list[PaymentTransaction], int | None]:
    """Up to ``limit`` (at least one) of the file's rejected transactions after the one with id
    ``after``, in file order, and where the next page starts (None: this is the last)."""
    with session(engine) as db:
        page = list(db.exec(select(PaymentTransaction).where(
            PaymentTransaction.msg_id == msg_id, PaymentTransaction.status == REJECTED,
            col(PaymentTransaction.id) > after).order_by(col(PaymentTransaction.id)).limit(limit + 1)).all())
    if len(page) > limit:
        return page[:limit], page[limit - 1].id
    return page, None


def find_rejection(engine: Engine, msg_id: str) -> FileRejection | None:
    """The file's rejection as a whole, if it was rejected so."""
    with session(engine) as db:
        return db.get(FileRejection, msg_id)


def list_transactions(engine: Engine) -> list[PaymentTransaction]:
    with session(engine) as db:
        return list(db.exec(select(PaymentTransaction).order_by(col(PaymentTransaction.id))).all())
