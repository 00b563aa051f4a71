"""The two reads every Coupa resource has: ``GET /api/{resource}`` (a filtered page) and
``GET /api/{resource}/{id}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from sandboxes.coupa import listing
from sandboxes.coupa.bodies import path_id
from sandboxes.coupa.context import coupa
from sandboxes.coupa.errors import not_found
from sandboxes.kit.jsonio import DecimalJSONResponse

View = Callable[[Connection, dict[str, Any]], dict[str, Any]]


def find(conn: Connection, table: Table, key: str, kind: str) -> dict[str, Any]:
    """The record ``key`` (from the URL) names, else a 404."""
    row = conn.execute(table.select().where(table.c.id == path_id(key, kind))).mappings().first()
    if row is None:
        raise not_found(kind, key)
    return dict(row)


def add_read_routes(router: APIRouter, resource: str, kind: str, view: View) -> None:
    spec = listing.RESOURCES[resource]

    @router.get("")
    async def list_records(request: Request) -> DecimalJSONResponse:
        with coupa(request).engine.connect() as conn:
            return DecimalJSONResponse(listing.listed(conn, spec, request.query_params.multi_items(), view))

    @router.get("/{key}")
    async def get_record(key: str, request: Request) -> DecimalJSONResponse:
        with coupa(request).engine.connect() as conn:
            return DecimalJSONResponse(view(conn, find(conn, spec.table, key, kind)))
