"""JSON in and out with exact decimals: NetSuite amounts are JSON numbers, never floats here."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import Response


def loads(body: bytes) -> Any:
    return json.loads(body, parse_float=Decimal)


def dumps(value: Any) -> str:
    """Like ``json.dumps``, but a Decimal is written as the number it is (``125000.00``)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


class DecimalJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode()
