"""The NetSuite sandbox: REST record API, SuiteQL and M2M OAuth, on SQLite."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from sandboxes.kit.app import Sandbox, sandbox_asgi
from sandboxes.kit.db import sqlite_engine
from sandboxes.kit.faults import FaultConfig, FaultState
from sandboxes.kit.jsonio import DecimalJSONResponse, loads
from sandboxes.netsuite import budgets, journal, records, suiteql
from sandboxes.netsuite.auth import TOKEN_PATH, AssertionRejected, Certificates, M2MAuth, dev_certificates
from sandboxes.netsuite.concurrency import ConcurrencyGate
from sandboxes.netsuite.errors import NetSuiteError, invalid_login, not_found, render_error
from sandboxes.netsuite.paging import envelope, paging
from sandboxes.netsuite.seed import seed_if_empty
from sandboxes.netsuite.tables import create_tables

RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"


def create_app(db_path: str | Path, *, faults: FaultConfig | None = None, today: date | None = None,
               concurrency_limit: int = 5, clients: Certificates | None = None) -> ConcurrencyGate:
    """A NetSuite account in SQLite at ``db_path``, seeded from the demo company on first creation.

    ``clients`` registers M2M certificates (client id -> certificate id -> PEM); by default the
    DEV-ONLY key pair in ``dev_keys/`` for client id ``finsync``.
    """
    engine = sqlite_engine(db_path)
    create_tables(engine)
    seed_if_empty(engine, today or date.today())
    auth = M2MAuth(clients if clients is not None else dev_certificates())
    sandbox = Sandbox("netsuite", engine, FaultState(faults or FaultConfig.from_env("netsuite")))
    api = FastAPI(title="NetSuite sandbox (REST web services)")

    @api.exception_handler(NetSuiteError)
    async def netsuite_error(_request: Request, exc: NetSuiteError) -> Response:
        return exc.response()

    def authorized(request: Request) -> None:
        if auth.bearer(request.headers.get("authorization")) is None:
            raise invalid_login()

    async def json_body(request: Request) -> object:
        try:
            return loads(await request.body())
        except ValueError:
            raise NetSuiteError(400, "The request body is not valid JSON.", "INVALID_CONTENT") from None

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    @api.post(TOKEN_PATH)
    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        try:
            return JSONResponse(auth.token_for(form, str(request.url.replace(query=None))))
        except AssertionRejected as exc:
            # Sandbox addition: error_description says why (NetSuite's is terse).
            return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=400)

    @api.get(RECORD + "/{record}", dependencies=[Depends(authorized)])
    async def list_records(record: str, request: Request) -> Response:
        rt = records.record_type(record)
        limit, offset = paging(request.query_params.get("limit"), request.query_params.get("offset"))
        q = request.query_params.get("q")
        condition = records.where(rt, q) if q else None
        query = select(rt.table.c.id).order_by(rt.table.c.id)
        if condition is not None:
            query = query.where(condition)
        if rt.recordtype is not None:
            query = query.where(rt.table.c.recordtype == rt.recordtype)
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            ids = conn.execute(query.limit(limit).offset(offset)).scalars().all()
        items = [{"links": [{"rel": "self", "href": records.href(base_url(request), rt.name, i)}], "id": str(i)}
                 for i in ids]
        return DecimalJSONResponse(envelope(items, total, limit, offset, request.url))

    @api.get(RECORD + "/{record}/{key}", dependencies=[Depends(authorized)])
    async def get_record(record: str, key: str, request: Request) -> Response:
        rt = records.record_type(record)
        expand = request.query_params.get("expandSubResources", "").lower() == "true"
        with engine.connect() as conn:
            if rt.name == journal.RECORD:
                found = journal.find(conn, key)
                if found is None:
                    raise not_found()
                return DecimalJSONResponse(journal.render(conn, found, base_url(request), expand=expand))
            row = _find_row(conn, rt, key)
        return DecimalJSONResponse(records.render(rt, row, base_url(request)))

    @api.post(RECORD + "/{record}", dependencies=[Depends(authorized)])
    async def create_record(record: str, request: Request) -> Response:
        _only_journals(record)
        body = await json_body(request)
        with engine.begin() as conn:
            new_id = journal.create(conn, body)
        return _created(request, new_id)

    @api.put(RECORD + "/{record}/{key}", dependencies=[Depends(authorized)])
    async def upsert_record(record: str, key: str, request: Request) -> Response:
        _only_journals(record)
        if not key.startswith("eid:") or len(key) == len("eid:"):
            raise NetSuiteError(400, "Upsert needs an external ID in the URL: .../journalEntry/eid:{externalId}.",
                                "INVALID_PARAMETER")
        body = await json_body(request)
        with engine.begin() as conn:
            journal_id = journal.upsert(conn, key[len("eid:"):], body)
        return _created(request, journal_id)

    @api.patch(RECORD + "/{record}/{key}", dependencies=[Depends(authorized)])
    async def patch_record(record: str, key: str, request: Request) -> Response:
        rt = records.record_type(record)
        if not rt.writable:
            raise NetSuiteError(400, f"The sandbox does not support updating {rt.name} records.", "INVALID_PARAMETER")
        body = await json_body(request)
        values = records.patch_values(rt, body)
        with engine.begin() as conn:
            row = _find_row(conn, rt, key)
            if values:
                conn.execute(update(rt.table).where(rt.table.c.id == row["id"]).values(**values))
        return Response(status_code=204)

    @api.post(SUITEQL, dependencies=[Depends(authorized)])
    async def run_suiteql(request: Request) -> Response:
        # Sandbox assumption: a SuiteQL call without ``Prefer: transient`` is refused as below.
        if "transient" not in request.headers.get("prefer", "").lower():
            raise NetSuiteError(400, "SuiteQL requests need the header Prefer: transient.", "INVALID_HEADER")
        body = await json_body(request)
        limit, offset = paging(request.query_params.get("limit"), request.query_params.get("offset"))
        rows = suiteql.run(engine, body.get("q") if isinstance(body, dict) else None)
        items = [{"links": [], **row} for row in rows[offset:offset + limit]]
        return DecimalJSONResponse(envelope(items, len(rows), limit, offset, request.url))

    @api.put("/_sandbox/budgets", include_in_schema=False)
    async def put_budget(request: Request) -> Response:
        body = await json_body(request)
        with engine.begin() as conn:
            return JSONResponse(budgets.set_budget(conn, body))

    return ConcurrencyGate(sandbox_asgi(api, sandbox, render_error), concurrency_limit)


def _only_journals(record: str) -> None:
    if record.lower() != journal.RECORD.lower():
        raise NetSuiteError(400, f"The sandbox creates and upserts journalEntry records only, not {record}.",
                            "INVALID_PARAMETER")


def _find_row(conn: Connection, rt: records.RecordType, key: str) -> dict:
    c = rt.table.c
    if key.startswith("eid:") and "externalid" in c:
        condition = c.externalid == key[len("eid:"):]
    elif key.isdigit():
        condition = c.id == int(key)
    else:
        raise not_found()
    found = conn.execute(select(rt.table).where(condition)).mappings().first()
    if found is None:
        raise not_found()
    return dict(found)


def _created(request: Request, journal_id: int) -> Response:
    location = records.href(str(request.base_url).rstrip("/"), journal.RECORD, journal_id)
    return Response(status_code=204, headers={"Location": location})
