"""The gateway's HTTP surface: one endpoint per vendor event source.

POST /webhooks/expense   SAP Concur ESS ``statusChanged`` events
POST /webhooks/bank      ISO 20022 pain.002 / camt.054 notifications

Each request is size-capped, signature- and timestamp-checked, parsed into canonical events and
routed to Temporal before it is acknowledged. Refusals are RFC 9457 problem+json and start
nothing; a repeated webhook id is acknowledged without doing anything again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client

from canonical import ApprovalStatus, ExpenseReport, ReportStatusChanged
from connectors.bank import parse_notification
from connectors.concur import parse_status_changed
from connectors.interfaces import ExpensePlatform
from finsync import correlation
from finsync.config import Settings
from finsync.store import IntegrationStore
from gateway.problems import Problem
from gateway.routing import Routed, Router
from gateway.verify import Verifier

log = logging.getLogger("finsync.gateway")

SUMMARY_LOOKUP_TIMEOUT = 2.0   # seconds; the summary line is nice to have, the ack is not optional


async def read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise Problem(413, "body-too-large", "Payload too large", f"at most {limit} bytes are accepted")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Problem(413, "body-too-large", "Payload too large", f"at most {limit} bytes are accepted")
    return bytes(body)


def create_app(settings: Settings, client: Client, store: IntegrationStore,
               platform: ExpensePlatform | None = None) -> FastAPI:
    """``platform`` (optional) lets the gateway read a new report's header for its summary line.

    A webhook secret that is not ``whsec_<base64>`` stops this here (ValueError), not a request.
    """
    app = FastAPI(title="finsync webhook gateway", version="1")
    router = Router(client, settings, store)
    hooks = settings.webhooks
    expense_verifier = Verifier([s.get_secret_value() for s in hooks.expense_secrets], tolerance=hooks.tolerance_seconds)
    bank_verifier = Verifier([s.get_secret_value() for s in hooks.bank_secrets], tolerance=hooks.tolerance_seconds)

    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> JSONResponse:
        log.warning("refused %s: %s", request.url.path, problem.detail)
        return problem.response(request.url.path)

    async def receive(request: Request, source: str, verifier: Verifier,
                      handle: Callable[[bytes, str], Awaitable[list[Routed]]]) -> JSONResponse:
        body = await read_capped(request, hooks.max_body_bytes)
        webhook_id = verifier.verify(request.headers, body)
        if await asyncio.to_thread(store.webhook_seen, webhook_id):
            return JSONResponse({"webhook_id": webhook_id, "outcome": "duplicate"}, status_code=200)
        routed = await handle(body, webhook_id)
        delivered = [r.workflow_id for r in routed if r.outcome == "delivered"]
        if delivered:   # only a start or signal needs guarding against redelivery
            await asyncio.to_thread(store.remember_webhook, webhook_id, source, delivered[0])
        return JSONResponse({"webhook_id": webhook_id, "routed": [r.__dict__ for r in routed]}, status_code=202)

    async def summary_report(event: ReportStatusChanged) -> ExpenseReport | None:
        if platform is None:
            return None
        try:
            return await asyncio.wait_for(platform.get_report(event.report_id, event.owner_ref), SUMMARY_LOOKUP_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - the summary must never block the event
            log.info("no summary for report %s: %r", event.report_id, error)
            return None

    async def expense(body: bytes, webhook_id: str) -> list[Routed]:
        try:
            event = parse_status_changed(body, webhook_id, None)
        except ValueError as error:
            raise Problem(422, "malformed-event", "Malformed expense event", str(error)) from error
        token = correlation.current.set(event.correlation_id)
        try:
            # A first submission starts the workflow: read the report once, for the summary line
            # and as the workflow's starting point.
            first = event.previous_approval_status in (None, ApprovalStatus.DRAFT)
            return [await router.expense_event(event, await summary_report(event) if first else None)]
        finally:
            correlation.current.reset(token)

    async def bank(body: bytes, webhook_id: str) -> list[Routed]:
        try:
            reports = parse_notification(body)
        except ValueError as error:
            raise Problem(422, "malformed-event", "Malformed bank notification", str(error)) from error
        message = body.decode("utf-8", errors="replace")
        return [await router.payment_report(report, webhook_id, message) for report in reports]

    @app.post("/webhooks/expense")
    async def expense_webhook(request: Request) -> JSONResponse:
        return await receive(request, "expense", expense_verifier, expense)

    @app.post("/webhooks/bank")
    async def bank_webhook(request: Request) -> JSONResponse:
        return await receive(request, "bank", bank_verifier, bank)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    return app
