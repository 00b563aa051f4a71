"""Where the bank pushes its reports: one subscriber endpoint, kept across restarts."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from sandboxes.bank.tables import WebhookSubscription
from sandboxes.kit.db import session


def subscribe(engine: Engine, endpoint: str) -> None:
    with session(engine) as db:
        db.merge(WebhookSubscription(id=1, endpoint=endpoint))
        db.commit()


def subscribed_endpoint(engine: Engine) -> str | None:
    with session(engine) as db:
        subscription = db.get(WebhookSubscription, 1)
    return subscription.endpoint if subscription else None
