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

End-of-day statements (camt.053.001.08) of the customer's own accounts (IBAN, or account number):
- ``GET /v1/accounts/{account}/statements?from=YYYY-MM-DD&to=YYYY-MM-DD`` -> JSON, one statement
  per day (default: the last 31 days up to today), each with its id, sequence number and url
- ``GET /v1/accounts/{account}/statements/{YYYY-MM-DD}`` -> the camt.053 (today's: booked so far)
Admin, to make a statement wrong as a bank sometimes does (``sandboxes.bank.injections``):
``POST /_sandbox/statements/left-out`` ``{"messageId", "endToEndId", "booking": "debit"|"return"}``
(the booking is on no statement and in no balance; ``DELETE /_sandbox/statements/left-out/{entryId}``
puts it back), ``POST /_sandbox/statements/extra-bookings`` ``{"account", "creditDebit": "DBIT"|"CRDT",
"amount", "bookingDate"?, "description"?, "bankTransactionCode"?, "counterparty"?, "endToEndId"?}``
(a charge or a credit nobody instructed; ``DELETE /_sandbox/statements/extra-bookings/{id}``), and
``GET /_sandbox/statements/injections``.

Sandbox assumptions (banks' corporate APIs differ and none is public in this shape): the JSON
202 acknowledgement, the transaction lookup JSON, the problem bodies (RFC 9457 with an ISO
status reason ``code``), the JSON webhook envelope around the ISO documents, the statement
routes, and a block without BtchBookg booked one entry per transaction.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator

from sandboxes.bank.accounts import list_accounts, seed_accounts, seed_customer_accounts, set_closed
from sandboxes.bank.camt053 import write_statement
from sandboxes.bank.conversion import seed_rates
from sandboxes.bank.entries import NotReturnable, book_return, entries_of
from sandboxes.bank.injections import (
    CannotInject,
    add_extra_booking,
    extra_booking_json,
    injections,
    leave_out,
    put_back,
    remove_extra_booking,
)
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
from sandboxes.bank.reports import Tally, file_rejection_report, new_message_id, status_report
from sandboxes.bank.statements import NoStatement, seed_statement_accounts, statement_days, statement_id, statement_of
from sandboxes.bank.subscription import subscription
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


class LeftOutBooking(BaseModel):
    messageId: str
    endToEndId: str
    booking: Literal["debit", "return"] = "debit"


class ExtraBookingRequest(BaseModel):
    account: str
    creditDebit: Literal["DBIT", "CRDT"]
    amount: Decimal = Field(gt=0, description="in the account's currency, e.g. \"12.50\"")
    bookingDate: date | None = None   # today
    # Texts as ISO 20022 takes them (Max500Text, Max140Text, Max35Text), no control characters.
    description: str | None = Field(None, pattern=r"^[^\x00-\x1f\x7f]{1,500}$")
    bankTransactionCode: str | None = Field(None, pattern=r"^[A-Z]{4}/[A-Z]{4}/[A-Z]{4}$")
    counterparty: str | None = Field(None, pattern=r"^[^\x00-\x1f\x7f]{1,140}$")
    endToEndId: str | None = Field(None, pattern=r"^[^\x00-\x1f\x7f]{1,35}$")


# The longest span one statement listing covers.
MAX_LISTED_DAYS = 366


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
    seed_statement_accounts(engine, company, datetime.now(UTC).date())
    if webhook_endpoint:
        subscription.subscribe(engine, webhook_endpoint)
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
        subscription.subscribe(engine, request.endpoint)
        return {"endpoint": request.endpoint}

    @api.get("/v1/webhooks/subscription")
    async def get_subscription(_client: str = Depends(bearer)) -> dict:
        endpoint = subscription.endpoint(engine)
        if endpoint is None:
            raise Problem(404, "Not Found", "no webhook subscription")
        return {"endpoint": endpoint}

    @api.get("/v1/accounts/{account_id}/statements")
    def statements(account_id: str, first: date | None = Query(None, alias="from"), last: date | None = Query(None, alias="to"),
                   _client: str = Depends(bearer)) -> dict:
        today = datetime.now(UTC).date()
        last = last or today
        first = first or last - timedelta(days=30)
        if not 0 <= (last - first).days < MAX_LISTED_DAYS:
            raise Problem(400, "Bad Request", f"from must be on or before to, at most {MAX_LISTED_DAYS} days apart")
        try:
            days = statement_days(engine, account_id, first, last, today)
        except NoStatement as missing:
            raise Problem(404, "Not Found", str(missing)) from None
        return {"account": account_id, "statements": [
            {"date": day.isoformat(), "statementId": statement_id(account_id, day), "sequenceNumber": number,
             "url": f"/v1/accounts/{quote(account_id, safe='')}/statements/{day.isoformat()}"}
            for day, number in days]}

    # Plain functions run in the server's thread pool: a statement of 50,000 bookings takes a
    # while and must not hold up settlement or the webhooks.
    @api.get("/v1/accounts/{account_id}/statements/{day}")
    def statement(account_id: str, day: date, _client: str = Depends(bearer)) -> Response:
        now = datetime.now(UTC)
        try:
            found = statement_of(engine, account_id, day, now.date())
        except NoStatement as missing:
            raise Problem(404, "Not Found", str(missing)) from None
        document = io.BytesIO()
        write_statement(document, found, message_id=new_message_id("STM"), now=now)
        return Response(document.getvalue(), media_type="application/xml")

    @api.post("/_sandbox/statements/left-out", status_code=201, include_in_schema=False)
    def leave_booking_out(request: LeftOutBooking) -> dict:
        try:
            left_out = leave_out(engine, request.messageId, request.endToEndId,
                                 DEBIT if request.booking == "debit" else CREDIT)
        except CannotInject as refused:
            raise Problem(404, "Not Found", str(refused)) from None
        return {"entryId": left_out.entry_id, "messageId": request.messageId, "endToEndId": request.endToEndId}

    @api.delete("/_sandbox/statements/left-out/{entry_id}", status_code=204, include_in_schema=False)
    def put_booking_back(entry_id: int) -> Response:
        if not put_back(engine, entry_id):
            raise Problem(404, "Not Found", f"booking {entry_id} is not left out")
        return Response(status_code=204)

    @api.post("/_sandbox/statements/extra-bookings", status_code=201, include_in_schema=False)
    def book_extra(request: ExtraBookingRequest) -> dict:
        try:
            booking = add_extra_booking(
                engine, request.account, direction=request.creditDebit, amount=request.amount,
                day=request.bookingDate or datetime.now(UTC).date(), description=request.description,
                bank_transaction_code=request.bankTransactionCode, counterparty_name=request.counterparty,
                end_to_end_id=request.endToEndId)
        except CannotInject as refused:
            raise Problem(422, "Unprocessable Entity", str(refused)) from None
        return extra_booking_json(booking)

    @api.delete("/_sandbox/statements/extra-bookings/{booking_id}", status_code=204, include_in_schema=False)
    def remove_extra(booking_id: int) -> Response:
        if not remove_extra_booking(engine, booking_id):
            raise Problem(404, "Not Found", f"no extra booking {booking_id}")
        return Response(status_code=204)

    @api.get("/_sandbox/statements/injections", include_in_schema=False)
    def statement_injections() -> dict:
        return injections(engine)

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
