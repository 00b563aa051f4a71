"""Changing a record the way Coupa does, and the ``exported`` flag integrations poll by.

Every change to a record bumps its ``updated-at`` and sets ``exported`` back to false: Coupa
exports a changed record again, so an integration that reads ``exported=false`` sees each change.
Marking a record exported (``PUT /api/{resource}/{id}?exported=true``, its own request) is the
integration's bookkeeping: it changes neither ``updated-at`` nor anything else, so a poller's
own marking never looks like a change to it (a sandbox choice; Coupa's stamp there is unverified).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Table, update
from sqlalchemy.engine import Connection

from sandboxes.coupa.context import coupa
from sandboxes.coupa.errors import CoupaError
from sandboxes.coupa.reads import View, find
from sandboxes.kit.jsonio import DecimalJSONResponse


def change(conn: Connection, table: Table, key: int, now: str, **values: Any) -> None:
    """Apply ``values`` to one record as a change: ``updated-at`` bumped, ``exported`` reset."""
    if "exported" in table.c:
        values["exported"] = False
    conn.execute(update(table).where(table.c.id == key).values(updated_at=now, **values))


async def export_flag(request: Request) -> bool | None:
    """The ``exported`` a PUT sets, or None if it sets none. Sending it with a body is refused."""
    others = sorted(k for k in request.query_params if k != "exported")
    if "exported" not in request.query_params:
        if others:
            raise CoupaError(400, f"Unknown parameter {others[0]}; a PUT takes only exported=true|false.")
        return None
    if others:
        raise CoupaError(400, "Send exported=true as its own request, with no other parameter.")
    if (await request.body()).strip():
        raise CoupaError(400, "Send exported=true as its own request, with no body.")
    value = request.query_params["exported"].lower()
    if value not in ("true", "false"):
        raise CoupaError(400, "exported takes true or false.")
    return value == "true"


def mark_exported(conn: Connection, table: Table, key: int, exported: bool) -> None:
    conn.execute(update(table).where(table.c.id == key).values(exported=exported))


def add_export_route(router: APIRouter, table: Table, kind: str, view: View, otherwise: str) -> None:
    """``PUT {prefix}/{id}?exported=true|false``; ``otherwise``: the refusal of any other PUT there."""

    @router.put("/{key}")
    async def mark(key: str, request: Request) -> DecimalJSONResponse:
        exported = await export_flag(request)
        if exported is None:
            raise CoupaError(400, otherwise)
        with coupa(request).engine.begin() as conn:
            row = find(conn, table, key, kind)
            mark_exported(conn, table, row["id"], exported)
            return DecimalJSONResponse(view(conn, {**row, "exported": exported}))
