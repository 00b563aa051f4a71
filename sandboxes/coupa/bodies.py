"""Reading request bodies: JSON objects with hyphenated keys, each refusal one 400 naming the field.

Nested records are referenced as Coupa takes them: by ``id`` or by a natural key
(``{"number": "SUP-100"}``, ``{"login": "jordan.lee"}``, ``{"location-code": "US01"}``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from sandboxes.coupa.errors import CoupaError, not_found
from sandboxes.kit.jsonio import loads

MAX_TEXT = 1000


async def json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = loads(raw) if raw.strip() else None
    except (ValueError, RecursionError):
        raise CoupaError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise CoupaError(400, "The request body must be a JSON object.")
    return body


def text_value(body: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise CoupaError(400, f"{key} is required.")
        return default
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise CoupaError(400, f"{key} must be text of at most {MAX_TEXT} characters.")
    return value


def date_value(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    """An ISO date (a date-time is cut to its date), as ``YYYY-MM-DD``."""
    value = body.get(key)
    if value is None:
        if required:
            raise CoupaError(400, f"{key} is required.")
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return (date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value).date()).isoformat()
    except ValueError:
        raise CoupaError(400, f"{key} must be a date such as 2026-03-15.") from None


def objects(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise CoupaError(400, f"{key} must be a non-empty list of objects.")
    return value


def reference(conn: Connection, table: Table, value: object, field: str, keys: dict[str, str]) -> dict[str, Any]:
    """The record ``value`` names: ``{"id": 7}`` or one of ``keys`` (JSON key -> column)."""
    if not isinstance(value, dict):
        raise CoupaError(400, f"{field} must be an object naming the record, e.g. {{\"id\": 1}}.")
    for json_key, column in {"id": "id", **keys}.items():
        given = value.get(json_key)
        if given is None:
            continue
        if json_key == "id" and (isinstance(given, bool) or not isinstance(given, int) or not 0 < given < 2**63):
            raise CoupaError(400, f"{field} id must be a positive whole number.")
        if json_key != "id" and not isinstance(given, str):
            raise CoupaError(400, f"{field} {json_key} must be text.")
        found = conn.execute(select(table).where(table.c[column] == given)).mappings().first()
        if found is None:
            raise CoupaError(400, f"{field}: no record has {json_key} {given}.")
        return dict(found)
    raise CoupaError(400, f"{field} must name the record by {' or '.join(['id', *keys])}.")


def path_id(key: str, kind: str) -> int:
    """A record id from the URL; anything but a plausible id is a 404 (no such record)."""
    if not key.isascii() or not key.isdigit() or len(key) > 18:
        raise not_found(kind, key[:40])
    return int(key)
