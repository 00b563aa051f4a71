"""The asynchronous service's back office: each accepted bulk request is processed once due, and
its confirmation is handed to the webhook outbox for the registered callback (signed with
Standard Webhooks headers, retried until a 2xx).

How long a request waits (``delay_seconds``, applied when it is received) and whether processing
is held altogether are the sandbox's "delayed confirmation" faults (``PUT /_sandbox/processing``).
Everything is in the database, so a restarted sandbox processes and confirms what it had accepted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from sandboxes.kit.background import BackgroundLoop
from sandboxes.kit.db import session
from sandboxes.kit.webhooks import Outbox, Subscription, new_message_id
from sandboxes.s4hana import confirmations, inbound
from sandboxes.s4hana.tables import CallbackEndpoint, InboundMessage

log = logging.getLogger(__name__)

CONFIRMATION_EVENT = "journalentry.bulk_create_confirmation"
confirmation_callback = Subscription(CallbackEndpoint.__table__, column="url")  # type: ignore[attr-defined]


@dataclass
class ProcessingControl:
    delay_seconds: float = 1.0      # from receipt to processing
    held: bool = False              # True: nothing is processed until released


class Processor(BackgroundLoop):
    task_name = "s4hana-processing"

    def __init__(self, engine: Engine, outbox: Outbox, control: ProcessingControl, *, webhook_secrets: list[str],
                 poll_seconds: float = 0.05) -> None:
        self.engine = engine
        self.outbox = outbox
        self.control = control
        self.secrets = webhook_secrets
        self.poll = poll_seconds

    async def _run(self) -> None:
        while True:
            try:
                self.run_once(time.time())
            except Exception:  # one bad message must not stop the others
                log.exception("s4hana processing pass failed")
            await asyncio.sleep(self.poll)

    def run_once(self, now: float) -> None:
        if not self.control.held:
            for message_id in self._due(now):
                inbound.process(self.engine, message_id)
        self._confirm()

    def _due(self, now: float) -> list[int]:
        with session(self.engine) as db:
            return [m for m in db.exec(select(InboundMessage.id).where(
                col(InboundMessage.asynchronous).is_(True), col(InboundMessage.processed_at).is_(None),
                InboundMessage.due_at <= now).order_by(col(InboundMessage.id))).all() if m is not None]

    def _confirm(self) -> None:
        """Hand each processed, unconfirmed message's confirmation to the outbox (none without a
        registered callback: then it is only there to be read)."""
        with session(self.engine) as db:
            processed = db.exec(select(InboundMessage).where(
                col(InboundMessage.asynchronous).is_(True), col(InboundMessage.processed_at).is_not(None),
                col(InboundMessage.notified).is_(False)).order_by(col(InboundMessage.id))).all()
            endpoint = confirmation_callback.endpoint(self.engine)
            for message in processed:
                if endpoint is not None:
                    assert message.id is not None
                    message.confirmation_webhook_id = message.confirmation_webhook_id or new_message_id()
                    db.add(message)
                    db.commit()   # the id is fixed before it is handed on: a retry reuses it
                    body = confirmations.render(message, inbound.entries_of(db, message.id))
                    try:
                        self.outbox.enqueue(endpoint, CONFIRMATION_EVENT, body, self.secrets,
                                            msg_id=message.confirmation_webhook_id)
                    except IntegrityError:
                        pass   # enqueued before a crash kept it from being marked
                message.notified = True
                db.add(message)
                db.commit()
