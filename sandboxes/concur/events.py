"""Event Subscription Service: webhook subscriptions and ``statusChanged`` deliveries.

Deliveries go through the kit's outbox (at least once, retried on 5xx, 401, 403 and 429 as
Concur retries; not on other 4xx). Each is signed twice:
- Standard Webhooks headers (``webhook-id``/``-timestamp``/``-signature``) with the sandbox's
  secrets, which is what finsync's gateway verifies here;
- a ``Concur-Signature`` header. Real Concur signs with an RSA key whose algorithm and signed
  string are not documented, so the sandbox sends an HMAC placeholder in that header (base64
  HMAC-SHA256 of ``{timestamp}.{body}`` with the first secret), present but not meaningful.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import select

from sandboxes.concur.auth import require_token
from sandboxes.concur.bodies import Subscription, parse
from sandboxes.concur.catalog import TOPIC
from sandboxes.concur.context import ConcurContext, base_url, concur, correlation_id
from sandboxes.concur.errors import ConcurApiError, now_iso
from sandboxes.concur.jsonio import ConcurJSONResponse, read_json
from sandboxes.concur.models import ConcurSubscription
from sandboxes.concur.workflow import StatusChange
from sandboxes.kit.db import session
from sandboxes.kit.webhooks import WebhookMessage, secret_bytes

router = APIRouter(prefix="/events/v4", dependencies=[Depends(require_token)])


def concur_retries(status: int) -> bool:
    """ESS retries on 5xx, 401, 403 and 429, and gives up on any other 4xx."""
    return status >= 500 or status in (401, 403, 429)


def concur_signature(secrets_: list[str]) -> Callable[[WebhookMessage, int], dict[str, str]]:
    """The outbox hook adding the placeholder ``Concur-Signature`` header."""
    def headers(message: WebhookMessage, timestamp: int) -> dict[str, str]:
        signed = f"{timestamp}.".encode() + message.body
        digest = hmac.new(secret_bytes(secrets_[0]), signed, hashlib.sha256).digest()
        return {"Concur-Signature": base64.b64encode(digest).decode()}
    return headers


def subscription_view(sub: ConcurSubscription) -> dict[str, Any]:
    return {"id": sub.id, "filter": sub.filter, "topic": sub.topic, "webHookConfig": {"endpoint": sub.endpoint}}


@router.put("/subscriptions/webhook")
async def put_subscription(request: Request) -> ConcurJSONResponse:
    """Create or replace (by id) a webhook subscription."""
    body = parse(Subscription, await read_json(request))
    try:
        re.compile(body.filter)
    except re.error:
        raise ConcurApiError(400, "The subscription is not valid.", [
            {"id": "filter", "message": "filter must be a regular expression", "source": "filter"}]) from None
    with session(concur(request).engine) as db:
        sub = db.get(ConcurSubscription, body.id) or ConcurSubscription(
            id=body.id, topic=body.topic, filter=body.filter, endpoint=body.webHookConfig.endpoint, created_at=now_iso())
        sub.filter, sub.endpoint = body.filter, body.webHookConfig.endpoint
        db.add(sub)
        db.commit()
        return ConcurJSONResponse(subscription_view(sub))


@router.get("/subscriptions")
async def list_subscriptions(request: Request) -> ConcurJSONResponse:
    with session(concur(request).engine) as db:
        subs = db.exec(select(ConcurSubscription).order_by(ConcurSubscription.created_at)).all()
    return ConcurJSONResponse([subscription_view(s) for s in subs])


@router.get("/topics")
async def list_topics() -> ConcurJSONResponse:
    return ConcurJSONResponse([{"name": TOPIC, "description": "Expense report workflow events"}])


@router.delete("/subscriptions/{subscription_id}")
async def delete_subscription(subscription_id: str, request: Request) -> Response:
    with session(concur(request).engine) as db:
        sub = db.get(ConcurSubscription, subscription_id)
        if sub is None:
            raise ConcurApiError(404, f"Subscription {subscription_id} not found.")
        db.delete(sub)
        db.commit()
    return Response(status_code=204)


def status_changed_event(ctx: ConcurContext, change: StatusChange, root: str, correlation: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "correlationId": correlation,
        "eventType": "statusChanged",
        "topic": TOPIC,
        "subtopic": ctx.company_id,
        "timeStamp": now_iso(),
        "facts": {
            "companyId": ctx.company_id,
            "reportId": change.report_id,
            "userId": change.user_id,
            "actingUserId": change.acting_user_id,
            "stepCode": change.step_code,
            "previousApprovalStatus": change.previous_approval,
            "currentApprovalStatus": change.current_approval,
            "previousPaymentStatus": change.previous_payment,
            "currentPaymentStatus": change.current_payment,
            "href": f"{root}/expensereports/v4/users/{change.user_id}/context/TRAVELER/reports/{change.report_id}",
        },
    }


def publish(request: Request, changes: list[StatusChange | None]) -> None:
    """Queue one ``statusChanged`` per change for every subscription whose filter matches.

    Called after the change is committed. Each subscription gets its own copy, whose event id
    is also its ``webhook-id``: the id a receiver dedupes on.
    """
    ctx, root, correlation = concur(request), base_url(request), correlation_id(request)
    with session(ctx.engine) as db:
        subs = [s for s in db.exec(select(ConcurSubscription)).all()
                if s.topic == TOPIC and re.match(s.filter, ctx.company_id)]
    for change in changes:
        if change is None:
            continue
        for sub in subs:
            event = status_changed_event(ctx, change, root, correlation)
            ctx.outbox.enqueue(sub.endpoint, "statusChanged", json.dumps(event).encode(), ctx.webhook_secrets,
                               msg_id=event["id"])
