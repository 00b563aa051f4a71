"""The bank sandbox: an ISO 20022 corporate payments API.

Routes (all under a Bearer token from ``POST /oauth/token``, client credentials over HTTP Basic):
- ``POST /v1/payments`` (``application/xml``, a pain.001.001.09 of any number of PmtInf and
  transactions, up to 50,000 and more) -> 202 ``{messageId, status, statusUrl}``; each
  transaction is then settled or rejected on its own, and reported in a pain.002 of its own,
  unless the file pays from one of the customer's accounts that is closed: then the whole file is
  rejected (AC05) in one group-level pain.002 (GrpSts RJCT, no transactions listed). A file
  whose every PmtInf asks for batch booking (BtchBookg true, a payroll's net pay) is reported
  as a whole: once all of it is decided, one pain.002 with the counts and sums per status
  (NbOfTxsPerSts) and each block's status, no transaction listed
- ``GET /v1/payments/{msgId}/status`` -> the current pain.002.001.10. For a file reported as a
  whole, it lists only the rejected transactions, a page at a time (``?limit=`` up to 5,000,
  default 1,000; ``limit=0`` for the counts alone), the next page named by a ``Link: <...>;
  rel="next"`` header (RFC 8288) whose ``cursor`` the bank chose
- ``GET /v1/payments/{msgId}/transactions/{endToEndId}`` -> one transaction as JSON: the instructed
  ``amount``/``currency``; once settled, ``debit`` ``{amount, currency, exchangeRate, bookingDate,
  bankReference}`` in the debtor account's currency; once returned (``status`` RJCT after it had
  settled), ``return`` (the same fields and ``reasonCode``) for what was credited back
- ``PUT /v1/webhooks/subscription`` ``{"endpoint": url}`` -> where reports are pushed
Admin (no token, never faulted): ``GET /_sandbox/payments``, ``GET /_sandbox/accounts``,
``PUT /_sandbox/accounts/{id}`` ``{"closed": bool}`` (an employee's account, or one of the
customer's own, whose files are then rejected whole),
``POST /_sandbox/payments/{msgId}/transactions/{endToEndId}/return`` ``{"reasonCode": "AC04"}``
(the creditor's bank sends a settled payment back: the debtor account is credited, camt.054 CRDT).

Sandbox assumptions (banks' corporate APIs differ and none is public in this shape): the JSON
202 acknowledgement, the transaction lookup JSON, the problem bodies (RFC 9457 with an ISO
status reason ``code``), and the JSON webhook envelope around the ISO documents.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator

from sandboxes.bank.accounts import list_accounts, seed_accounts, seed_customer_accounts, set_closed
from sandboxes.bank.conversion import seed_rates
from sandboxes.bank.entries import NotReturnable, book_return, entries_of
from sandboxes.bank.pain001 import Pain001Refused, read_pain001
from sandboxes.bank.payments import (
    DuplicatePayment,
    accept,
    find_message,
    find_rejection,
    find_transaction,
    list_transactions,
    rejected_page,
    reported_as_group,
    tally,
    transactions_of,
)
from sandboxes.bank.processing import Settlement
from sandboxes.bank.reports import Tally, file_rejection_report, status_report
from sandboxes.bank.subscription import subscribe, subscribed_endpoint
from sandboxes.bank.tables import CREDIT, DEBIT, TABLES, AccountEntry, PaymentTransaction
from sandboxes.kit.app import Sandbox, sandbox_asgi
from sandboxes.kit.company import load_company
from sandboxes.kit.db import create_tables, session, sqlite_engine
from sandboxes.kit.faults import FaultConfig, FaultInjector, FaultState
from sandboxes.kit.tokens import TokenIssuer
from sandboxes.kit.webhooks import Outbox, WebhookMessage

DEFAULT_CLIENTS = {"finsync": "sandbox-secret"}
# The same literal as finsync.config.WebhookSettings.bank_secrets (copied: a sandbox never imports finsync).
DEFAULT_WEBHOOK_SECRETS = ["whsec_Zmluc3luYy1sb2NhbC1iYW5rLXdlYmhvb2sta2V5LTE="]
# Fixed, so tokens issued before a restart stay valid after it.
TOKEN_SIGNING_KEY = b"finsync-bank-sandbox-token-key"
CORRELATION_HEADER = "X-Request-ID"
MAX_DOCUMENT_BYTES = 200 * 1024 * 1024   # a payroll of 50,000 transfers is some 30 MB
REJECTIONS_PER_PAGE, MAX_REJECTIONS_PER_PAGE = 1000, 5000
PROBLEM_JSON = "application/problem+json"
XML_TYPES = {"application/xml", "text/xml"}


class Problem(Exception):
    """An RFC 9457 problem answer; ``code`` is the ISO 20022 status reason where one fits."""

    def __init__(self, status: int, title: str, detail: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"type": "about:blank", "title": self.title, "status": self.status, "detail": self.detail,
                **self.extra}


def render_error(status: int, retry_after: float | None) -> tuple[bytes, str]:
    detail = "the bank is unavailable" if status >= 500 else "too many requests"
    if retry_after is not None:
        detail += f"; retry after {int(retry_after)} s"
    body = Problem(status, HTTPStatus(status).phrase, detail).body()
    return json.dumps(body).encode(), PROBLEM_JSON


class SubscriptionRequest(BaseModel):
    endpoint: str

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("endpoint must be an http(s) URL")
        return value


class AccountUpdate(BaseModel):
    closed: bool


class PaymentReturn(BaseModel):
    reasonCode: str = Field(pattern=r"^[A-Z0-9]{4}$", description="ISO 20022 return reason, e.g. AC04, MS03")


def _basic_client(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[len("Basic "):], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def create_app(db_path: str | Path, *, faults: FaultConfig | None = None, webhook_endpoint: str | None = None,
               webhook_secrets: list[str] | None = None, clients: dict[str, str] | None = None,
               settle_after_seconds: float = 1.0, webhook_schedule: list[float] | None = None) -> FaultInjector:
    engine = sqlite_engine(db_path)
    create_tables(engine, [*TABLES, WebhookMessage])
    company = load_company()
    seed_accounts(engine, company)
    seed_customer_accounts(engine, company)
    seed_rates(engine, company, datetime.now(UTC).date())
    if webhook_endpoint:
        subscribe(engine, webhook_endpoint)
    issuer = TokenIssuer(TOKEN_SIGNING_KEY, clients or DEFAULT_CLIENTS)
    outbox = Outbox(engine, schedule=webhook_schedule)
    settlement = Settlement(engine, outbox, settle_after_seconds=settle_after_seconds,
                            webhook_secrets=webhook_secrets or DEFAULT_WEBHOOK_SECRETS)

    def described(tx: PaymentTransaction) -> dict[str, Any]:
        return _transaction_json(tx, entries_of(engine, [tx]).get(tx.id, []))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settlement.start()
        try:
            yield
        finally:
            await settlement.stop()

    api = FastAPI(title="Bank sandbox (ISO 20022)", lifespan=lifespan)

    @api.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, media_type=PROBLEM_JSON, headers=exc.headers)

    @api.middleware("http")
    async def _correlation(request: Request, call_next):  # noqa: ANN001, ANN202
        request_id = request.headers.get(CORRELATION_HEADER) or uuid.uuid4().hex
        response = await call_next(request)
        response.headers[CORRELATION_HEADER] = request_id
        return response

    def bearer(authorization: str | None = Header(None)) -> str:
        claims = issuer.verify(authorization)
        if claims is None:
            raise Problem(401, "Unauthorized", "a valid Bearer token is required",
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return claims.client_id

    @api.post("/oauth/token")
    async def token(request: Request) -> JSONResponse:
        client = _basic_client(request.headers.get("authorization"))
        if client is None or not issuer.check_client(*client):
            return JSONResponse({"error": "invalid_client"}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="bank"'})
        form = parse_qs((await request.body()).decode(errors="replace"))
        if form.get("grant_type") != ["client_credentials"]:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        return JSONResponse({"access_token": issuer.issue(client[0]), "token_type": "Bearer",
                             "expires_in": issuer.lifetime})

    @api.post("/v1/payments", status_code=202)
    async def submit_payment(request: Request, _client: str = Depends(bearer)) -> JSONResponse:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in XML_TYPES:
            raise Problem(415, "Unsupported Media Type", "send the pain.001 document as application/xml")
        document = await _body(request)
        try:
            # Reading and storing 50,000 transactions takes seconds: the API answers meanwhile.
            stored = await asyncio.to_thread(lambda: accept(engine, read_pain001(document), document, time.time()))
        except Pain001Refused as refused:
            raise Problem(400, refused.title, refused.detail, code=refused.code, errors=refused.errors) from None
        except DuplicatePayment as duplicate:
            raise Problem(409, "Duplicate payment", duplicate.detail, code="DUPL",
                          messageId=duplicate.original_msg_id,
                          statusUrl=_status_url(duplicate.original_msg_id)) from None
        return JSONResponse({"messageId": stored.msg_id, "status": "ACTC", "statusUrl": _status_url(stored.msg_id)},
                            status_code=202)

    @api.get("/v1/payments/{msg_id}/status")
    async def payment_status_report(msg_id: str, _client: str = Depends(bearer),
                                    limit: int = Query(REJECTIONS_PER_PAGE, ge=0, le=MAX_REJECTIONS_PER_PAGE),
                                    cursor: int = Query(0, ge=0)) -> Response:
        message = find_message(engine, msg_id)
        if message is None:
            raise Problem(404, "Not Found", f"no payment message {msg_id}")
        rejection = find_rejection(engine, msg_id)
        if rejection is not None:
            return Response(file_rejection_report(message, rejection, now=datetime.now(UTC)),
                            media_type="application/xml")
        with session(engine) as db:
            as_group = reported_as_group(db, msg_id)
        if not as_group:
            transactions = transactions_of(engine, msg_id)
            return Response(status_report(message, transactions, tally=Tally.of(transactions), now=datetime.now(UTC)),
                            media_type="application/xml")
        listed, next_cursor = rejected_page(engine, msg_id, cursor, limit) if limit else ([], None)
        document = status_report(message, listed, tally=tally(engine, msg_id), now=datetime.now(UTC), every_block=True)
        headers = {"Link": f'<{_status_url(msg_id)}?cursor={next_cursor}&limit={limit}>; rel="next"'} \
            if next_cursor is not None else None
        return Response(document, media_type="application/xml", headers=headers)

    @api.get("/v1/payments/{msg_id}/transactions/{end_to_end_id}")
    async def transaction(msg_id: str, end_to_end_id: str, _client: str = Depends(bearer)) -> dict:
        tx = find_transaction(engine, msg_id, end_to_end_id)
        if tx is None:
            raise Problem(404, "Not Found", f"no transaction {end_to_end_id} in payment message {msg_id}")
        return described(tx)

    @api.put("/v1/webhooks/subscription")
    async def put_subscription(request: SubscriptionRequest, _client: str = Depends(bearer)) -> dict:
        subscribe(engine, request.endpoint)
        return {"endpoint": request.endpoint}

    @api.get("/v1/webhooks/subscription")
    async def get_subscription(_client: str = Depends(bearer)) -> dict:
        endpoint = subscribed_endpoint(engine)
        if endpoint is None:
            raise Problem(404, "Not Found", "no webhook subscription")
        return {"endpoint": endpoint}

    @api.get("/_sandbox/payments", include_in_schema=False)
    async def payments() -> list[dict]:
        transactions = list_transactions(engine)
        entries = entries_of(engine, transactions)
        return [_transaction_json(tx, entries.get(tx.id, [])) for tx in transactions]

    @api.post("/_sandbox/payments/{msg_id}/transactions/{end_to_end_id}/return", include_in_schema=False)
    async def return_payment(msg_id: str, end_to_end_id: str, request: PaymentReturn) -> dict:
        try:
            tx = book_return(engine, msg_id, end_to_end_id, request.reasonCode, datetime.now(UTC).date())
        except NotReturnable as refused:
            raise Problem(409, "Conflict", str(refused)) from None
        if tx is None:
            raise Problem(404, "Not Found", f"no transaction {end_to_end_id} in payment message {msg_id}")
        return described(tx)

    @api.get("/_sandbox/accounts", include_in_schema=False)
    async def accounts() -> list[dict]:
        return [account.model_dump() for account in list_accounts(engine)]

    @api.put("/_sandbox/accounts/{account_id}", include_in_schema=False)
    async def update_account(account_id: str, update: AccountUpdate) -> dict:
        return set_closed(engine, account_id, update.closed).model_dump()

    sandbox = Sandbox(name="bank", engine=engine, faults=FaultState(faults or FaultConfig.from_env("bank")),
                      outbox=outbox)
    return sandbox_asgi(api, sandbox, render_error)


async def _body(request: Request) -> bytes:
    """The request body, refused (413) as soon as it outgrows what the bank takes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise Problem(413, "Payload Too Large", f"documents are limited to {MAX_DOCUMENT_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_DOCUMENT_BYTES:
            raise Problem(413, "Payload Too Large", f"documents are limited to {MAX_DOCUMENT_BYTES} bytes")
    return bytes(body)


def _transaction_json(tx: PaymentTransaction, entries: list[AccountEntry]) -> dict[str, Any]:
    booked = {entry.direction: entry for entry in entries}
    returned = booked.get(CREDIT)
    return {"messageId": tx.msg_id, "endToEndId": tx.end_to_end_id, "status": tx.status,
            "reasonCode": tx.reason_code, "amount": tx.amount, "currency": tx.currency,
            "bookingDate": tx.booking_date, "bankReference": tx.bank_reference,
            "debit": _entry_json(booked[DEBIT]) if DEBIT in booked else None,
            "return": {**_entry_json(returned), "reasonCode": returned.return_reason} if returned else None}


def _entry_json(entry: AccountEntry) -> dict[str, Any]:
    return {"amount": entry.amount, "currency": entry.currency, "exchangeRate": entry.exchange_rate,
            "bookingDate": entry.booking_date, "bankReference": entry.bank_reference}


def _status_url(msg_id: str) -> str:
    return f"/v1/payments/{quote(msg_id, safe='')}/status"
