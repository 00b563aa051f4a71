"""The bank's back office: each accepted transaction is settled (its debit booked, converted
into the account's currency if need be) or rejected after a delay; the outcome is reported to
the subscriber as signed webhooks: a pain.002 per decision, a camt.054 per booking (the debit,
and the credit of a return). A file paying from one of the customer's accounts that is closed
is rejected as a whole (AC05), in one group-level pain.002. A file whose every block asks for
batch booking (a payroll's net pay) is decided the same way, transaction by transaction, but
reported as a whole: one pain.002 with the counts per status, and no camt.054 per debit.

Everything it needs is in the database, so a restarted sandbox picks up where it stopped:
transactions still ACTC are decided, and decisions and bookings whose webhooks never reached the
outbox are sent (with the webhook ids fixed when they were made, so a receiver can dedupe).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import bindparam, update
from sqlalchemy import select as columns
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sandboxes.bank.accounts import closed_among
from sandboxes.bank.entries import Debit, book_debits, mark_notified, unnotified_entries
from sandboxes.bank.payments import find_message, reported_as_group, tally
from sandboxes.bank.reports import CAMT054, PAIN002, entry_notification, file_rejection_report, status_report
from sandboxes.bank.subscription import subscription
from sandboxes.bank.tables import (
    ACCEPTED_TECHNICALLY,
    CREDIT,
    REJECTED,
    FileRejection,
    GroupReport,
    PaymentMessage,
    PaymentTransaction,
)
from sandboxes.kit.background import BackgroundLoop
from sandboxes.kit.db import session
from sandboxes.kit.webhooks import Outbox, new_message_id

log = logging.getLogger(__name__)

STATUS_EVENT = "payment.status_report"
DEBIT_EVENT = "account.debit_notification"
CREDIT_EVENT = "account.credit_notification"


def envelope(event_type: str, message_format: str, message_id: str, document: bytes, now: datetime) -> bytes:
    """The Standard Webhooks body. ``messageId`` is the MsgId of the pain.001 the document is
    about (sandbox assumption: the bank's own JSON wrapper around the ISO document)."""
    return json.dumps({
        "type": event_type,
        "timestamp": now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "data": {"format": message_format, "messageId": message_id, "document": document.decode()},
    }).encode()


class _Due(NamedTuple):
    """A transaction due for a decision, as much of it as deciding needs."""

    id: int
    msg_id: str
    debtor_account: str
    creditor_account: str
    amount: str
    currency: str


def _decide_file(db: Session, msg_id: str, due: list[_Due], now: float) -> None:
    """Each transaction on its own: a closed creditor account rejects it (AC04), a currency the
    bank cannot convert into the debtor account's too (AM11); the rest settle. Decided in bulk
    statements: a payroll's file decides 50,000 at a time.

    A file reported as a whole (every block batch-booked) gets its one group report, which stands
    for every decision and every debit in it; any other file a pain.002 per decision."""
    as_group = reported_as_group(db, msg_id)
    closed = closed_among(db, {tx.creditor_account for tx in due})
    to_book = [Debit(tx.id, tx.debtor_account, tx.amount, tx.currency) for tx in due if tx.creditor_account not in closed]
    unconvertible = {debit.transaction_id for debit in book_debits(
        db, to_book, datetime.fromtimestamp(now, UTC).date(), notified=as_group)}
    connection, this_transaction = db.connection(), col(PaymentTransaction.id) == bindparam("transaction_id")
    rejections = [{"transaction_id": tx.id, "reason": "AC04" if tx.creditor_account in closed else "AM11"}
                  for tx in due if tx.creditor_account in closed or tx.id in unconvertible]
    if rejections:
        connection.execute(update(PaymentTransaction).where(this_transaction)
                           .values(status=REJECTED, reason_code=bindparam("reason")), rejections)
    # The webhook id is fixed with the decision, so a crash before the outbox re-sends the same one.
    connection.execute(update(PaymentTransaction).where(this_transaction).values(
        decided_at=now, notified=as_group, status_webhook_id=bindparam("webhook_id")),
        [{"transaction_id": tx.id, "webhook_id": None if as_group else new_message_id()} for tx in due])
    if as_group:
        db.add(GroupReport(msg_id=msg_id, decided_at=now, webhook_id=new_message_id()))


def _reject_file(db: Session, msg_id: str, info: str, now: float) -> None:
    """Every transaction of the file rejected (AC05: the debtor account is closed); the file's
    one group-level report stands for them all, so none is reported on its own."""
    db.add(FileRejection(msg_id=msg_id, reason_code="AC05", reason_info=info, decided_at=now,
                         webhook_id=new_message_id()))
    db.execute(update(PaymentTransaction).where(
        col(PaymentTransaction.msg_id) == msg_id, col(PaymentTransaction.status) == ACCEPTED_TECHNICALLY,
    ).values(status=REJECTED, reason_code="AC05", decided_at=now, notified=True))


class Settlement(BackgroundLoop):
    """Decides due transactions and hands their reports to the webhook outbox."""

    task_name = "bank-settlement"

    def __init__(self, engine: Engine, outbox: Outbox, *, settle_after_seconds: float,
                 webhook_secrets: list[str], poll_seconds: float = 0.1) -> None:
        self.engine = engine
        self.outbox = outbox
        self.settle_after = settle_after_seconds
        self.secrets = webhook_secrets
        self.poll = poll_seconds

    async def _run(self) -> None:
        while True:
            try:
                # Deciding a payroll's 50,000 transactions takes seconds: done off the event loop,
                # so the API answers meanwhile. The outbox is told on the loop, as it expects.
                await asyncio.to_thread(self._decide_due, time.time())
                self._notify_rejected_files()
                self._notify_group_reports()
                self._notify_decided()
                self._notify_entries()
            except Exception:  # one bad row must not stop the bank
                log.exception("bank settlement pass failed")
            await asyncio.sleep(self.poll)

    def _decide_due(self, now: float) -> None:
        with session(self.engine) as db:
            due = db.execute(columns(
                col(PaymentTransaction.id), col(PaymentTransaction.msg_id), col(PaymentTransaction.debtor_account),
                col(PaymentTransaction.creditor_account), col(PaymentTransaction.amount), col(PaymentTransaction.currency),
            ).where(
                col(PaymentTransaction.status) == ACCEPTED_TECHNICALLY,
                col(PaymentTransaction.accepted_at) <= now - self.settle_after,
            ).order_by(col(PaymentTransaction.id)))
            by_file: dict[str, list[_Due]] = {}
            for row in due:
                transaction = _Due(*row)
                by_file.setdefault(transaction.msg_id, []).append(transaction)
            for msg_id, transactions in by_file.items():
                closed = sorted(closed_among(db, {tx.debtor_account for tx in transactions}))
                if closed:
                    _reject_file(db, msg_id, f"Debtor account {closed[0]} closed", now)
                else:
                    _decide_file(db, msg_id, transactions, now)
            db.commit()

    def _notify_rejected_files(self) -> None:
        endpoint = subscription.endpoint(self.engine)
        with session(self.engine) as db:
            rejected = db.exec(select(FileRejection, PaymentMessage).where(
                FileRejection.msg_id == PaymentMessage.msg_id,
                FileRejection.notified == False,  # noqa: E712 (SQL expression)
            )).all()
        for rejection, message in rejected:
            now = datetime.now(UTC)
            self._report_file(endpoint, rejection, file_rejection_report(message, rejection, now=now), now)

    def _notify_group_reports(self) -> None:
        endpoint = subscription.endpoint(self.engine)
        with session(self.engine) as db:
            decided = db.exec(select(GroupReport).where(GroupReport.notified == False)).all()  # noqa: E712 (SQL expression)
        for group_report in decided:
            message = find_message(self.engine, group_report.msg_id)
            if message is None:   # reports are stored with their message: never without one
                raise LookupError(f"payment message {group_report.msg_id} is missing")
            now = datetime.now(UTC)
            self._report_file(endpoint, group_report, status_report(
                message, [], tally=tally(self.engine, message.msg_id), now=now, every_block=True), now)

    def _report_file(self, endpoint: str | None, decision: FileRejection | GroupReport, report: bytes,
                     now: datetime) -> None:
        """The one pain.002 on a whole file to the subscriber, then the decision marked notified."""
        if endpoint:  # no subscriber: the outcome is only there to be looked up
            self._enqueue(endpoint, STATUS_EVENT, envelope(STATUS_EVENT, PAIN002, decision.msg_id, report, now),
                          decision.webhook_id)
        with session(self.engine) as db:
            decision.notified = True
            db.add(decision)
            db.commit()

    def _notify_decided(self) -> None:
        endpoint = subscription.endpoint(self.engine)
        with session(self.engine) as db:
            decided = db.exec(select(PaymentTransaction).where(
                PaymentTransaction.status != ACCEPTED_TECHNICALLY,
                PaymentTransaction.notified == False,  # noqa: E712 (SQL expression)
            ).order_by(col(PaymentTransaction.id))).all()
        for tx in decided:
            if endpoint:  # no subscriber: the outcome is only there to be looked up
                self._send(endpoint, tx)
            with session(self.engine) as db:
                tx.notified = True
                db.add(tx)
                db.commit()

    def _send(self, endpoint: str, tx: PaymentTransaction) -> None:
        now = datetime.now(UTC)
        message = find_message(self.engine, tx.msg_id)
        if message is None:   # transactions are stored with their message: never without one
            raise LookupError(f"payment message {tx.msg_id} is missing")
        report = status_report(message, [tx], tally=tally(self.engine, tx.msg_id), now=now)
        self._enqueue(endpoint, STATUS_EVENT, envelope(STATUS_EVENT, PAIN002, tx.msg_id, report, now),
                      tx.status_webhook_id)

    def _notify_entries(self) -> None:
        endpoint = subscription.endpoint(self.engine)
        for tx, entry in unnotified_entries(self.engine):
            if endpoint:
                now = datetime.now(UTC)
                event = CREDIT_EVENT if entry.direction == CREDIT else DEBIT_EVENT
                notification = entry_notification(tx, entry, now=now)
                self._enqueue(endpoint, event, envelope(event, CAMT054, tx.msg_id, notification, now), entry.webhook_id)
            mark_notified(self.engine, entry)

    def _enqueue(self, endpoint: str, event_type: str, body: bytes, webhook_id: str | None) -> None:
        try:
            self.outbox.enqueue(endpoint, event_type, body, self.secrets, msg_id=webhook_id)
        except IntegrityError:
            pass  # enqueued before a crash that kept the transaction from being marked notified
