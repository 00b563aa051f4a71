"""Reading request bodies and paging parameters: each refusal one 400 naming what is wrong."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Query, Request

from sandboxes.kit.jsonio import loads
from sandboxes.workday.errors import WorkdayError

MAX_TEXT = 200
MAX_OFFSET = 10**9
MAX_CENTS = 10**13           # a hundred billion: far above any one pay amount


async def json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = loads(raw) if raw.strip() else None
    except (ValueError, RecursionError):
        raise WorkdayError(400, "invalid request: the body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise WorkdayError(400, "invalid request: the body must be a JSON object.")
    return body


def text_value(body: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise WorkdayError(400, f"invalid request: {key} is required.")
        return default
    if not isinstance(value, str) or len(value) > MAX_TEXT or not value.isprintable():
        raise WorkdayError(400, f"invalid request: {key} must be printable text of at most {MAX_TEXT} characters.")
    return value


def cents_value(value: Any, key: str, *, positive: bool = True) -> int:
    """A money amount (a decimal string or number with at most two decimals) in cents."""
    try:
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise InvalidOperation
        amount = Decimal(value)
        cents = amount.scaleb(2)
        if not amount.is_finite() or cents != cents.to_integral_value() or abs(cents) >= MAX_CENTS:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise WorkdayError(400, f"invalid request: {key} must be an amount with at most two decimals, "
                           "such as \"12.50\".") from None
    if positive and cents <= 0 or not positive and cents == 0:
        raise WorkdayError(400, f"invalid request: {key} must be {'positive' if positive else 'other than zero'}.")
    return int(cents)


def offset_param(offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> int:
    return offset


def rest_limit(limit: int = Query(20, ge=1, le=100)) -> int:
    """Workday's REST APIs: 20 a page unless asked, 100 at most."""
    return limit
