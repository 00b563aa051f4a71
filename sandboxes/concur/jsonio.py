"""JSON in and out with exact decimals: 525.00 goes over the wire as the number 525.00.

FastAPI's own encoder turns Decimal into float, so the sandbox renders and parses JSON itself.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from sandboxes.concur.errors import ConcurApiError


def dumps(value: Any) -> str:
    """JSON text in which a Decimal is written as the number it is, digit for digit."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("the sandbox never emits floats; use Decimal for amounts")
    return json.dumps(value)


def loads(raw: bytes | str) -> Any:
    return json.loads(raw, parse_float=Decimal)


class ConcurJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode()


async def read_json(request: Request) -> Any:
    """The request body as JSON (amounts as Decimal); a 400 in Concur's shape if it is not JSON."""
    raw = await request.body()
    try:
        return loads(raw) if raw.strip() else {}
    except ValueError:
        raise ConcurApiError(400, "The request body is not valid JSON.") from None
