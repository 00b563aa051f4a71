"""Requests as they are received and processed: each entry is kept with what became of it, so a
confirmation can be rendered (or read through OData) at any time, and a restarted sandbox
processes what it had accepted but not yet posted.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sandboxes.kit.db import session
from sandboxes.s4hana import messages, posting
from sandboxes.s4hana.tables import PENDING, POSTED, REJECTED, InboundEntry, InboundMessage


def receive(engine: Engine, request: messages.Request, service: str, *, asynchronous: bool,
            delay_seconds: float = 0.0) -> int:
    """Keep the request, every entry PENDING; its id. An asynchronous one is processed once due."""
    now = time.time()
    with session(engine) as db:
        message = InboundMessage(message_id=request.message_id, service=service, asynchronous=asynchronous,
                                 received_at=now, due_at=now + delay_seconds)
        db.add(message)
        db.flush()
        assert message.id is not None
        for position, draft in enumerate(request.entries):
            db.add(InboundEntry(message=message.id, position=position, entry_message_id=draft.message_id,
                                original_reference_document=draft.reference.document,
                                logical_system=draft.reference.logical_system, company_code=draft.company_code,
                                draft=messages.dump(draft), received_at=now))
        db.commit()
        return message.id


def entries_of(db: Session, message_id: int) -> list[InboundEntry]:
    return list(db.exec(select(InboundEntry).where(InboundEntry.message == message_id)
                        .order_by(col(InboundEntry.position))).all())


def process(engine: Engine, message_id: int) -> tuple[InboundMessage, list[InboundEntry]]:
    """Post (or refuse) each entry still pending, one after the other, each in its own
    transaction; mark the message processed."""
    with session(engine) as db:
        for entry in entries_of(db, message_id):
            if entry.status != PENDING:
                continue
            outcome = posting.process(db, messages.load(entry.draft))
            entry.status = POSTED if outcome.posted else REJECTED
            entry.accounting_document, entry.fiscal_year = outcome.accounting_document, outcome.fiscal_year
            entry.log = json.dumps([asdict(item) for item in outcome.log])
            db.add(entry)
            db.commit()
        message = db.get(InboundMessage, message_id)
        assert message is not None
        message.processed_at = time.time()
        db.add(message)
        db.commit()
        return message, entries_of(db, message_id)


def pending_count(db: Session) -> int:
    """Asynchronous requests received and not yet processed."""
    return len(db.exec(select(InboundMessage.id).where(col(InboundMessage.processed_at).is_(None))).all())
