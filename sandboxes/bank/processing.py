"""The bank's back office: each accepted transaction is settled (its debit booked, converted
into the account's currency if need be) or rejected after a delay; the outcome is reported to
the subscriber as signed webhooks: a pain.002 per decision, a camt.054 per booking (the debit,
and the credit of a return). A file paying from one of the customer's accounts that is closed
is rejected as a whole (AC05), in one group-level pain.002.

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

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sandboxes.bank.accounts import is_closed
from sandboxes.bank.conversion import NoRate
from sandboxes.bank.entries import book_debit, mark_notified, unnotified_entries
from sandboxes.bank.reports import CAMT054, PAIN002, entry_notification, file_rejection_report, status_report
from sandboxes.bank.subscription import subscribed_endpoint
from sandboxes.bank.tables import (
    ACCEPTED_TECHNICALLY,
    CREDIT,
    REJECTED,
    FileRejection,
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


def _decide_each(db: Session, transactions: list[PaymentTransaction], now: float) -> None:
    """Each transaction on its own: a closed creditor account rejects it (AC04), a currency the
    bank cannot convert into the debtor account's too (AM11); the rest settle."""
    for tx in transactions:
        if is_closed(db, tx.creditor_account):
            tx.status, tx.reason_code = REJECTED, "AC04"
        else:
            try:
                book_debit(db, tx, datetime.fromtimestamp(now, UTC).date())
            except NoRate:
                tx.status, tx.reason_code = REJECTED, "AM11"
        tx.status_webhook_id = new_message_id()
        tx.decided_at = now
        db.add(tx)


def _reject_file(db: Session, msg_id: str, transactions: list[PaymentTransaction], info: str, now: float) -> None:
    """Every transaction of the file rejected (AC05: the debtor account is closed); the file's
    one group-level report stands for them all, so none is reported on its own."""
    db.add(FileRejection(msg_id=msg_id, reason_code="AC05", reason_info=info, decided_at=now,
                         webhook_id=new_message_id()))
    for tx in transactions:
        tx.status, tx.reason_code, tx.decided_at, tx.notified = REJECTED, "AC05", now, True
        db.add(tx)


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
                self.run_once(time.time())
            except Exception:  # one bad row must not stop the bank
                log.exception("bank settlement pass failed")
            await asyncio.sleep(self.poll)

    def run_once(self, now: float) -> None:
        self._decide_due(now)
        self._notify_rejected_files()
        self._notify_decided()
        self._notify_entries()

    def _decide_due(self, now: float) -> None:
        with session(self.engine) as db:
            due = db.exec(select(PaymentTransaction).where(
                PaymentTransaction.status == ACCEPTED_TECHNICALLY,
                PaymentTransaction.accepted_at <= now - self.settle_after,
            ).order_by(col(PaymentTransaction.id))).all()
            by_file: dict[str, list[PaymentTransaction]] = {}
            for tx in due:
                by_file.setdefault(tx.msg_id, []).append(tx)
            for msg_id, transactions in by_file.items():
                closed = next((tx.debtor_account for tx in transactions if is_closed(db, tx.debtor_account)), None)
                if closed is not None:
                    _reject_file(db, msg_id, transactions, f"Debtor account {closed} closed", now)
                else:
                    _decide_each(db, transactions, now)
            db.commit()

    def _notify_rejected_files(self) -> None:
        endpoint = subscribed_endpoint(self.engine)
        with session(self.engine) as db:
            rejected = db.exec(select(FileRejection, PaymentMessage).where(
                FileRejection.msg_id == PaymentMessage.msg_id,
                FileRejection.notified == False,  # noqa: E712 (SQL expression)
            )).all()
        for rejection, message in rejected:
            if endpoint:  # no subscriber: the outcome is only there to be looked up
                now = datetime.now(UTC)
                report = file_rejection_report(message, rejection, now=now)
                self._enqueue(endpoint, STATUS_EVENT, envelope(STATUS_EVENT, PAIN002, message.msg_id, report, now),
                              rejection.webhook_id)
            with session(self.engine) as db:
                rejection.notified = True
                db.add(rejection)
                db.commit()

    def _notify_decided(self) -> None:
        endpoint = subscribed_endpoint(self.engine)
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
        with session(self.engine) as db:
            message = db.get(PaymentMessage, tx.msg_id)
            siblings = list(db.exec(select(PaymentTransaction).where(PaymentTransaction.msg_id == tx.msg_id)).all())
        if message is None:   # transactions are stored with their message: never without one
            raise LookupError(f"payment message {tx.msg_id} is missing")
        report = status_report(message, [tx], all_transactions=siblings, now=now)
        self._enqueue(endpoint, STATUS_EVENT, envelope(STATUS_EVENT, PAIN002, tx.msg_id, report, now),
                      tx.status_webhook_id)

    def _notify_entries(self) -> None:
        endpoint = subscribed_endpoint(self.engine)
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
