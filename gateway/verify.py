"""Standard Webhooks verification (v1 symmetric): HMAC-SHA256 over ``id.timestamp.body``.

The secret is ``whsec_`` + base64; several secrets may be active during a rotation, and the
sender may send several signatures (space-separated): one match is enough. Timestamps more than
``tolerance`` seconds away from now, in either direction, are refused as stale (replay defence).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from gateway.problems import Problem


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error as exc:
        raise ValueError("webhook secret is not whsec_<base64>") from exc


def verify(headers: Mapping[str, str], body: bytes, secrets: list[str], *, tolerance: int = 300,
           now: float | None = None) -> str:
    """Return the webhook id if the request is authentic and fresh; raise Problem otherwise."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        raise Problem(400, "missing-signature-headers", "Missing webhook headers",
                      "webhook-id, webhook-timestamp and webhook-signature are required")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise Problem(400, "bad-timestamp", "Bad webhook timestamp", "webhook-timestamp must be Unix seconds") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        raise Problem(401, "stale-webhook", "Stale webhook",
                      f"webhook-timestamp is {int(current - sent_at)} s from now; at most {tolerance} s is accepted")
    signed = f"{msg_id}.{sent_at}.".encode() + body
    offered = [part.split(",", 1)[1] for part in signatures.split() if part.startswith("v1,")]
    for secret in secrets:
        expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return msg_id
    raise Problem(401, "bad-signature", "Invalid webhook signature", "no signature matched an active secret")
