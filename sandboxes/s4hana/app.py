"""The S/4HANA sandbox: journal entry posting over SOAP, read back over OData, on SQLite.

Routes (all under the communication user's HTTP Basic; a missing or wrong one is a 401 fault):
- ``POST /sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi``: synchronous
  ``JournalEntryCreateRequestConfirmation_In``; a ``JournalEntryBulkCreateRequest`` in, its
  ``JournalEntryBulkCreateConfirmation`` out (HTTP 200; refusals are in each entry's Log).
- ``POST /sap/bc/srt/scs_ext/sap/journalentrybulkcreationrequest``: asynchronous
  ``JournalEntryBulkCreationRequest_In``; the same request, acknowledged with HTTP 202 and an empty
  body. It is processed shortly after, and its confirmation POSTed to the registered callback.
- ``POST /sap/bc/srt/scs_ext/sap/journalentryreversalrequestconfi``: synchronous reversal by
  reference document (sandbox assumption, see messages.py); answered as the synchronous post.
- ``GET /sap/opu/odata/sap/API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic``: posted items,
  with reversal information (odata.py).
- ``GET /sap/opu/odata/sap/YY1_JOURNALENTRYCONFIRM_CDS/YY1_JournalEntryConfirm``: each inbound
  entry's status (PENDING, POSTED, REJECTED), document and log: the confirmation for a client that
  polls instead of (or as well as) taking the callback.
Admin (no authentication, never faulted): ``GET|PUT /_sandbox/callbacks`` ``{"endpoint": url}``
(the communication arrangement's outbound service for confirmations), ``GET|PUT
/_sandbox/processing`` ``{"delay_seconds": 1.0, "held": false}`` (the delayed-confirmation faults),
and the kit's ``/_sandbox/faults`` and ``/_sandbox/webhooks``.

Confirmations to the callback are SOAP messages (``text/xml``) signed with Standard Webhooks
headers (a sandbox addition: SAP authenticates its outbound calls with the arrangement's
credentials), retried by the kit's outbox until a 2xx, under one ``webhook-id`` per confirmation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from lxml import etree
from pydantic import BaseModel, Field

from sandboxes.kit.app import Sandbox, sandbox_asgi
from sandboxes.kit.db import create_tables, session, sqlite_engine
from sandboxes.kit.faults import FaultConfig, FaultInjector, FaultState
from sandboxes.kit.webhooks import Outbox, WebhookMessage
from sandboxes.s4hana import confirmations, inbound, messages, odata
from sandboxes.s4hana.auth import REALM, communication_user
from sandboxes.s4hana.odata import ODataError
from sandboxes.s4hana.processing import ProcessingControl, Processor, confirmation_callback
from sandboxes.s4hana.seed import seed_if_empty
from sandboxes.s4hana.soap import MAX_BODY_BYTES, XML_CONTENT_TYPE, SoapFault, body_payload, render_error
from sandboxes.s4hana.tables import TABLES

DEFAULT_PORT = 8706
DEFAULT_USERS = {"FINSYNC_COMM_USER": "sandbox-secret"}
# The same literal as finsync.config.WebhookSettings.s4hana_secrets (copied: a sandbox never imports finsync).
DEFAULT_WEBHOOK_SECRETS = ["whsec_Zmluc3luYy1sb2NhbC1zNGhhbmEtd2ViaG9vay1rZXk="]

SOAP_SERVICES = "/sap/bc/srt/scs_ext/sap"
SYNC_PATH = SOAP_SERVICES + "/journalentrycreaterequestconfi"
ASYNC_PATH = SOAP_SERVICES + "/journalentrybulkcreationrequest"
REVERSAL_PATH = SOAP_SERVICES + "/journalentryreversalrequestconfi"


class CallbackRegistration(BaseModel):
    endpoint: str = Field(pattern=r"^https?://\S+$", max_length=2000)


class ProcessingSettings(BaseModel):
    delay_seconds: float = Field(1.0, ge=0, le=3600, description="from receipt to processing (applies to new requests)")
    held: bool = Field(False, description="true: nothing is processed until set false again")


def create_app(db_path: str | Path, *, faults: FaultConfig | None = None, today: date | None = None,
               users: dict[str, str] | None = None, webhook_secrets: list[str] | None = None,
               callback: str | None = None, confirmation_delay_seconds: float = 1.0,
               webhook_schedule: list[float] | None = None) -> FaultInjector:
    """An S/4HANA Cloud tenant in SQLite at ``db_path``, seeded from the demo company on first
    creation (``today`` places the open periods). ``users``: communication user -> password;
    ``callback``: register the confirmations' endpoint from the start."""
    engine = sqlite_engine(db_path)
    create_tables(engine, [*TABLES, WebhookMessage])
    seed_if_empty(engine, today or date.today())
    if callback:
        confirmation_callback.subscribe(engine, callback)
    users = users or DEFAULT_USERS
    control = ProcessingControl(delay_seconds=confirmation_delay_seconds)
    outbox = Outbox(engine, schedule=webhook_schedule, extra_headers=lambda _msg, _ts: {
        "content-type": XML_CONTENT_TYPE, "SOAPAction": confirmations.SOAP_ACTION})
    processor = Processor(engine, outbox, control, webhook_secrets=webhook_secrets or DEFAULT_WEBHOOK_SECRETS)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        processor.start()
        try:
            yield
        finally:
            await processor.stop()

    api = FastAPI(title="SAP S/4HANA Cloud sandbox (journal entries)", lifespan=lifespan)

    @api.exception_handler(SoapFault)
    async def soap_fault(_request: Request, fault: SoapFault) -> Response:
        return fault.response()

    @api.exception_handler(ODataError)
    async def odata_error(_request: Request, error: ODataError) -> Response:
        return JSONResponse(error.body(), status_code=error.status)

    def authenticate(request: Request, refusal: Callable[[], Exception]) -> None:
        if communication_user(request.headers.get("authorization"), users) is None:
            raise refusal()

    async def soap_payload(request: Request, root: str) -> etree._Element:
        authenticate(request, lambda: SoapFault("Logon failed: the communication user or its password is wrong.",
                                                status=401, headers={"WWW-Authenticate": REALM}))
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise SoapFault(f"The request is larger than {MAX_BODY_BYTES} bytes.")
        return body_payload(bytes(body), root)

    def answer(message_id: int) -> Response:
        message, entries = inbound.process(engine, message_id)
        return Response(confirmations.render(message, entries), media_type=XML_CONTENT_TYPE)

    @api.post(SYNC_PATH)
    async def post_synchronously(request: Request) -> Response:
        draft = messages.read_create_request(await soap_payload(request, "JournalEntryBulkCreateRequest"))
        return answer(inbound.receive(engine, draft, "create", asynchronous=False))

    @api.post(ASYNC_PATH)
    async def post_asynchronously(request: Request) -> Response:
        draft = messages.read_create_request(await soap_payload(request, "JournalEntryBulkCreateRequest"))
        inbound.receive(engine, draft, "create", asynchronous=True, delay_seconds=control.delay_seconds)
        return Response(status_code=202)

    @api.post(REVERSAL_PATH)
    async def reverse(request: Request) -> Response:
        draft = messages.read_reversal_request(await soap_payload(request, "JournalEntryBulkReversalRequest"))
        return answer(inbound.receive(engine, draft, "reverse", asynchronous=False))

    def odata_read(read: Callable[..., dict[str, Any]]) -> Callable[[Request], Any]:
        async def route(request: Request) -> JSONResponse:
            authenticate(request, lambda: ODataError(401, "Logon failed: the communication user or its password is wrong.",
                                                     code="/IWFND/CM_BEC/001"))
            return JSONResponse(read(engine, dict(request.query_params), str(request.url)))
        return route

    api.add_api_route(odata.ITEMS_PATH, odata_read(odata.journal_items), methods=["GET"])
    api.add_api_route(odata.CONFIRMATIONS_PATH, odata_read(odata.entry_confirmations), methods=["GET"])

    @api.get("/_sandbox/callbacks", include_in_schema=False)
    async def get_callback() -> JSONResponse:
        endpoint = confirmation_callback.endpoint(engine)
        if endpoint is None:
            return JSONResponse({"detail": "No callback is registered."}, status_code=404)
        return JSONResponse({"endpoint": endpoint})

    @api.put("/_sandbox/callbacks", include_in_schema=False)
    async def put_callback(registration: CallbackRegistration) -> dict:
        confirmation_callback.subscribe(engine, registration.endpoint)
        return {"endpoint": registration.endpoint}

    @api.get("/_sandbox/processing", include_in_schema=False)
    async def get_processing() -> dict:
        with session(engine) as db:
            pending = inbound.pending_count(db)
        return {"delay_seconds": control.delay_seconds, "held": control.held, "pending_messages": pending}

    @api.put("/_sandbox/processing", include_in_schema=False)
    async def put_processing(settings: ProcessingSettings) -> dict:
        control.delay_seconds, control.held = settings.delay_seconds, settings.held
        return settings.model_dump()

    sandbox = Sandbox("s4hana", engine, FaultState(faults or FaultConfig.from_env("s4hana")), outbox)
    return sandbox_asgi(api, sandbox, render_error)
