"""JSON in and out with exact decimals: 525.00 goes over the wire as the number 525.00.

Vendors send amounts as JSON numbers; FastAPI's own encoder would turn a Decimal into a float,
so sandboxes render and parse JSON with these.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi.responses import Response


def dumps(value: Any) -> str:
    """JSON text in which a Decimal is written as the number it is, digit for digit."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("a sandbox never emits floats; use Decimal for amounts")
    return json.dumps(value)


def loads(raw: bytes | str) -> Any:
    return json.loads(raw, parse_float=Decimal)


class DecimalJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode()
