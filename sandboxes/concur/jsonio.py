"""Concur's JSON: exact decimals (from the kit), and a v4 error body for a body that is not JSON."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from sandboxes.concur.errors import ConcurApiError
from sandboxes.kit.jsonio import DecimalJSONResponse, dumps, loads

__all__ = ["ConcurJSONResponse", "dumps", "loads", "read_json"]


ConcurJSONResponse = DecimalJSONResponse


async def read_json(request: Request) -> Any:
    """The request body as JSON (amounts as Decimal); a 400 in Concur's shape if it is not JSON."""
    raw = await request.body()
    try:
        return loads(raw) if raw.strip() else {}
    except ValueError:
        raise ConcurApiError(400, "The request body is not valid JSON.") from None
