"""The NetSuite sandbox: REST record API, SuiteQL and M2M OAuth, on SQLite.

Records: reference data (records.py), journal entries (journal.py), and requisition-to-pay:
vendors, purchase orders as commitments, vendor bills, their credits and payments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from sandboxes.kit.app import Sandbox, sandbox_asgi
from sandboxes.kit.db import sqlite_engine
from sandboxes.kit.faults import FaultConfig, FaultState
from sandboxes.kit.jsonio import DecimalJSONResponse, loads
from sandboxes.netsuite import (
    budgets,
    documents,
    journal,
    purchase_order,
    records,
    suiteql,
    vendor_bill,
    vendor_credit,
    vendor_payment,
)
from sandboxes.netsuite.auth import TOKEN_PATH, AssertionRejected, Certificates, M2MAuth, dev_certificates
from sandboxes.netsuite.concurrency import ConcurrencyGate
from sandboxes.netsuite.errors import NetSuiteError, invalid_login, not_found, render_error
from sandboxes.netsuite.paging import envelope, paging
from sandboxes.netsuite.seed import seed_if_empty
from sandboxes.netsuite.tables import create_tables

RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"

# Transactions, by REST record type: how each is read, which are upserted by external id, and
# what a vendor bill transforms into.
RENDER: dict[str, Callable[..., dict[str, Any]]] = {
    m.RECORD: m.render for m in (journal, purchase_order, vendor_bill, vendor_credit, vendor_payment)}
UPSERT: dict[str, Callable[[Connection, str, Any], int]] = {
    m.RECORD: m.upsert for m in (journal, purchase_order, vendor_bill)}
BILL_TRANSFORMS: dict[str, Callable[[Connection, str, Any], int]] = {
    vendor_credit.RECORD: vendor_credit.reverse_bill, vendor_payment.RECORD: vendor_payment.pay_bill}


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
            if rt.recordtype is not None:
                found = documents.find(conn, rt.recordtype, key)
                if found is None:
                    raise not_found()
                return DecimalJSONResponse(RENDER[rt.name](conn, found, base_url(request), expand=expand))
            row = _find_row(conn, rt, key)
        return DecimalJSONResponse(records.render(rt, row, base_url(request)))

    @api.post(RECORD + "/{record}", dependencies=[Depends(authorized)])
    async def create_record(record: str, request: Request) -> Response:
        if record.lower() != journal.RECORD.lower():
            raise NetSuiteError(400, f"The sandbox creates journalEntry records only, not {record}; upsert the others "
                                     "with PUT .../eid:{externalId}.", "INVALID_PARAMETER")
        body = await json_body(request)
        with engine.begin() as conn:
            new_id = journal.create(conn, body)
        return _created(request, journal.RECORD, new_id)

    @api.put(RECORD + "/{record}/{key}", dependencies=[Depends(authorized)])
    async def upsert_record(record: str, key: str, request: Request) -> Response:
        rt = records.record_type(record)
        upsert = UPSERT.get(rt.name)
        if upsert is None:
            raise NetSuiteError(400, f"The sandbox upserts {', '.join(UPSERT)} records only, not {rt.name}.",
                                "INVALID_PARAMETER")
        if not key.startswith("eid:") or len(key) == len("eid:"):
            raise NetSuiteError(400, f"Upsert needs an external ID in the URL: .../{rt.name}/eid:{{externalId}}.",
                                "INVALID_PARAMETER")
        body = await json_body(request)
        with engine.begin() as conn:
            record_id = upsert(conn, key[len("eid:"):], body)
        return _created(request, rt.name, record_id)

    @api.post(RECORD + "/{record}/{key}/!transform/{target}", dependencies=[Depends(authorized)])
    async def transform_record(record: str, key: str, target: str, request: Request) -> Response:
        made = records.record_type(target).name
        transform = BILL_TRANSFORMS.get(made) if records.record_type(record).name == vendor_bill.RECORD else None
        if transform is None:
            raise NetSuiteError(400, "The sandbox transforms a vendorBill into a vendorCredit or a vendorPayment only.",
                                "INVALID_PARAMETER")
        body = await json_body(request)
        with engine.begin() as conn:
            made_id = transform(conn, key, body)
        return _created(request, made, made_id)

    @api.patch(RECORD + "/{record}/{key}", dependencies=[Depends(authorized)])
    async def patch_record(record: str, key: str, request: Request) -> Response:
        rt = records.record_type(record)
        if rt.name == purchase_order.RECORD:
            body = await json_body(request)
            with engine.begin() as conn:
                purchase_order.patch(conn, key, body)
            return Response(status_code=204)
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


def _created(request: Request, record: str, record_id: int) -> Response:
    location = records.href(str(request.base_url).rstrip("/"), record, record_id)
    return Response(status_code=204, headers={"Location": location})
