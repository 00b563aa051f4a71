"""Standard Webhooks verification (v1 symmetric): HMAC-SHA256 over ``id.timestamp.body``.

The secret is ``whsec_`` + base64; several secrets may be active during a rotation, and the
sender may send several signatures (space-separated): one match is enough. Timestamps more than
``tolerance`` seconds away from now, in either direction, are refused as stale (replay defence).

Every header is matched against its exact shape before it is used, so whatever a sender puts in
them (any length, any characters) ends in a 4xx Problem, never in an exception. Secrets are
decoded once, when the verifier is built: a bad one stops the gateway at startup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping

from gateway.problems import Problem

# The sender's message id: visible ASCII, bounded (it becomes a store key and a log field).
WEBHOOK_ID_PATTERN = r"[\x21-\x7e]{1,256}"
# Unix seconds in ASCII digits; twelve digits reach the year 33658, and bound the arithmetic.
TIMESTAMP_PATTERN = r"[0-9]{1,12}"
_WEBHOOK_ID = re.compile(WEBHOOK_ID_PATTERN)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)
# One v1 signature: base64 of a 32-byte HMAC-SHA256. Other schemes (v1a, ...) are skipped.
_V1_SIGNATURE = re.compile(r"v1,([A-Za-z0-9+/]{43}=)")


def signing_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ValueError if it is not one."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is not whsec_<base64>") from None
    if not key:
        raise ValueError("a webhook secret is empty")
    return key


class Verifier:
    """Checks one source's deliveries against the secrets active for it."""

    def __init__(self, secrets: list[str], *, tolerance: int = 300) -> None:
        self.keys = [signing_key(secret) for secret in secrets]
        self.tolerance = tolerance

    def verify(self, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> str:
        """Return the webhook id if the request is authentic and fresh; raise Problem otherwise."""
        msg_id = headers.get("webhook-id")
        timestamp = headers.get("webhook-timestamp")
        signatures = headers.get("webhook-signature")
        if not (msg_id and timestamp and signatures):
            raise Problem(400, "missing-signature-headers", "Missing webhook headers",
                          "webhook-id, webhook-timestamp and webhook-signature are required")
        if not _WEBHOOK_ID.fullmatch(msg_id):
            raise Problem(400, "bad-webhook-id", "Bad webhook id",
                          "webhook-id must be 1 to 256 visible ASCII characters")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Problem(400, "bad-timestamp", "Bad webhook timestamp",
                          "webhook-timestamp must be Unix seconds in ASCII digits")
        current = time.time() if now is None else now
        skew = current - int(timestamp)
        if abs(skew) > self.tolerance:
            raise Problem(401, "stale-webhook", "Stale webhook",
                          f"webhook-timestamp is {int(skew)} s from now; at most {self.tolerance} s is accepted")
        # Signed as sent: the timestamp's own digits, not a re-formatting of them.
        signed = f"{msg_id}.{timestamp}.".encode() + body
        offered = [match.group(1).encode() for part in signatures.split()
                   if (match := _V1_SIGNATURE.fullmatch(part))]
        for key in self.keys:
            expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
            if any(hmac.compare_digest(expected, candidate) for candidate in offered):
                return msg_id
        raise Problem(401, "bad-signature", "Invalid webhook signature", "no signature matched an active secret")
