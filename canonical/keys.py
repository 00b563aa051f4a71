"""Deterministic idempotency keys: derived from the workflow and the step, never the attempt.

The same workflow step always yields the same key, so a retried activity sends the same key
and the vendor (or our lookup-before-retry) recognises the repeat.
"""

from __future__ import annotations

import base64
import hashlib
import re

_SAFE = re.compile(r"[^A-Za-z0-9]")


def step_key(workflow_id: str, step: str, *, max_length: int = 64) -> str:
    """A readable key such as ``expense-R123:journal`` when it fits, else a stable hash."""
    key = f"{workflow_id}:{step}"
    if len(key) <= max_length:
        return key
    return hashed_key(key, max_length)


def iso20022_id(prefix: str, business_key: str, step: str, *, max_length: int = 35) -> str:
    """An ISO 20022 identifier (MsgId, EndToEndId: at most 35 characters, no spaces).

    Keeps the business key readable when it fits, for the people who trace payments in a
    bank portal; falls back to a hash of it otherwise.
    """
    readable = _SAFE.sub("", business_key)
    candidate = f"{prefix}-{readable}-{_SAFE.sub('', step)}"
    if len(candidate) <= max_length and readable:
        return candidate
    return f"{prefix}-{hashed_key(f'{business_key}:{step}', max_length - len(prefix) - 1)}"


def hashed_key(text: str, length: int) -> str:
    digest = base64.b32encode(hashlib.sha256(text.encode()).digest()).decode().rstrip("=")
    return digest[:length]
