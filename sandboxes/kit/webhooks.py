"""Signed webhook delivery from a sandbox, at least once, retried like the real services.

Signing follows Standard Webhooks v1: headers ``webhook-id`` (the same on every retry),
``webhook-timestamp`` (this attempt) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of
id.timestamp.body>``, one per active secret, space-separated, so keys can rotate).
Messages wait in an outbox table until a 2xx: a sandbox restart resumes delivery.
A sandbox that pushes to one endpoint keeps it in a ``Subscription``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from sqlalchemy import Table
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel, col, select

from sandboxes.kit.background import BackgroundLoop
from sandboxes.kit.db import session

log = logging.getLogger(__name__)

# Compressed for local use; the real services stretch the same shape over hours and days.
DEV_RETRY_SCHEDULE = [1, 2, 5, 10, 30, 60, 300, 1800, 3600, 7200]


def secret_bytes(secret: str) -> bytes:
    """Standard Webhooks secrets are ``whsec_`` + base64; the HMAC key is the decoded bytes."""
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(secret_bytes(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets_
    )


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18).replace("-", "").replace("_", "")[:24]


class WebhookMessage(SQLModel, table=True):
    __tablename__ = "sandbox_webhook_outbox"

    id: str = Field(primary_key=True)
    endpoint: str
    event_type: str
    body: bytes
    secrets: str                     # space-separated whsec_ secrets in force when enqueued
    created_at: float
    next_attempt_at: float = Field(index=True)
    attempts: int = 0
    delivered_at: float | None = None
    dead: bool = False
    last_status: int | None = None
    last_error: str | None = None


class Outbox(BackgroundLoop):
    """Enqueue signed messages; a background task delivers them until each gets a 2xx."""

    task_name = "webhook-outbox"

    def __init__(self, engine: Engine, *, retry_on: Callable[[int], bool] | None = None,
                 schedule: list[float] | None = None, retention_seconds: float = 72 * 3600,
                 duplicate_rate: float = 0.0, timeout_seconds: float = 15.0,
                 extra_headers: Callable[[WebhookMessage, int], dict[str, str]] | None = None) -> None:
        self.engine = engine
        self.extra_headers = extra_headers  # vendor-specific headers beside the Standard Webhooks ones
        self.retry_on = retry_on or (lambda status: status >= 500 or status in (408, 409, 425, 429))
        self.schedule = schedule or DEV_RETRY_SCHEDULE
        self.retention = retention_seconds
        self.duplicate_rate = duplicate_rate
        self.timeout = timeout_seconds
        self._wake = asyncio.Event()
        self._inflight: set[str] = set()
        self.delivered_count = 0
        self.duplicates_sent = 0

    def enqueue(self, endpoint: str, event_type: str, body: bytes, secrets_: list[str],
                msg_id: str | None = None) -> str:
        msg = WebhookMessage(id=msg_id or new_message_id(), endpoint=endpoint, event_type=event_type,
                             body=body, secrets=" ".join(secrets_), created_at=time.time(),
                             next_attempt_at=time.time())
        with session(self.engine) as db:
            db.add(msg)
            db.commit()
        self._wake.set()
        return msg.id

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            while True:
                try:
                    due = self._due()
                    for msg in due:
                        self._inflight.add(msg.id)
                        asyncio.create_task(self._deliver(http, msg))
                except Exception:  # keep delivering whatever one bad row does
                    log.exception("webhook outbox pass failed")
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=0.25)
                except TimeoutError:
                    pass

    def _due(self) -> list[WebhookMessage]:
        with session(self.engine) as db:
            rows = db.exec(select(WebhookMessage).where(
                col(WebhookMessage.delivered_at).is_(None), col(WebhookMessage.dead).is_(False),
                col(WebhookMessage.next_attempt_at) <= time.time()).order_by(col(WebhookMessage.next_attempt_at))
                .limit(100)).all()
        return [m for m in rows if m.id not in self._inflight]

    async def _deliver(self, http: httpx.AsyncClient, msg: WebhookMessage) -> None:
        try:
            status, error = await self._post(http, msg)
            if status is not None and 200 <= status < 300 and random.random() < self.duplicate_rate:
                self.duplicates_sent += 1
                await self._post(http, msg)  # at-least-once: the receiver must dedupe
            self._record(msg.id, status, error)
        finally:
            self._inflight.discard(msg.id)

    async def _post(self, http: httpx.AsyncClient, msg: WebhookMessage) -> tuple[int | None, str | None]:
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(msg.secrets.split(), msg.id, timestamp, msg.body),
        }
        if self.extra_headers:
            headers.update(self.extra_headers(msg, timestamp))
        try:
            response = await http.post(msg.endpoint, content=msg.body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("webhook %s to %s: not delivered (%r)", msg.id, msg.endpoint, exc)
            return None, repr(exc)
        log.log(logging.INFO if response.is_success else logging.WARNING,
                "webhook %s to %s: %s", msg.id, msg.endpoint, response.status_code)
        return response.status_code, None if response.is_success else response.text[:300]

    def _record(self, msg_id: str, status: int | None, error: str | None) -> None:
        with session(self.engine) as db:
            msg = db.get(WebhookMessage, msg_id)
            if msg is None:
                return
            msg.attempts += 1
            msg.last_status, msg.last_error = status, error
            if status is not None and 200 <= status < 300:
                msg.delivered_at = time.time()
                self.delivered_count += 1
            elif (status is not None and not self.retry_on(status)) or time.time() - msg.created_at > self.retention:
                msg.dead = True
            else:
                delay = self.schedule[min(msg.attempts - 1, len(self.schedule) - 1)]
                msg.next_attempt_at = time.time() + delay * random.uniform(0.8, 1.2)
            db.add(msg)
            db.commit()

    def report(self) -> dict:
        with session(self.engine) as db:
            rows = db.exec(select(WebhookMessage)).all()
        return {
            "pending": sum(1 for m in rows if m.delivered_at is None and not m.dead),
            "delivered": sum(1 for m in rows if m.delivered_at is not None),
            "dead": sum(1 for m in rows if m.dead),
            "duplicates_sent": self.duplicates_sent,
        }


class EventSource(Protocol):
    """What a sandbox's context holds for sending its events."""

    engine: Engine
    outbox: Outbox
    webhook_secrets: list[str]

    def clock(self) -> datetime: ...   # a field holding the sandbox's clock


class Subscription:
    """The one endpoint a sandbox pushes to, kept across restarts as row 1 of ``table`` (its URL in
    ``column``): subscribing again replaces it."""

    def __init__(self, table: Table, column: str = "endpoint") -> None:
        self.table = table
        self.column = column

    def subscribe(self, engine: Engine, endpoint: str) -> None:
        with engine.begin() as conn:
            conn.execute(insert(self.table).values({"id": 1, self.column: endpoint})
                         .on_conflict_do_update(index_elements=["id"], set_={self.column: endpoint}))

    def endpoint(self, engine: Engine) -> str | None:
        with engine.connect() as conn:
            return conn.execute(select(self.table.c[self.column])).scalar_one_or_none()

    def publish(self, source: EventSource, event_type: str, data: dict[str, Any]) -> None:
        """Queue ``{"type": ..., "timestamp": ..., "data": ...}`` for the endpoint, if there is one.
        Called after the change is committed."""
        endpoint = self.endpoint(source.engine)
        if endpoint is None:
            return
        moment = source.clock().astimezone(UTC).isoformat().replace("+00:00", "Z")
        body = {"type": event_type, "timestamp": moment, "data": data}
        source.outbox.enqueue(endpoint, event_type, json.dumps(body).encode(), source.webhook_secrets)
