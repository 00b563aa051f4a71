"""The gateway's HTTP surface: one endpoint per vendor event source.

POST /webhooks/expense   SAP Concur ESS ``statusChanged`` events
POST /webhooks/bank      ISO 20022 pain.002 / camt.054 notifications (a whole file's rejection
                         reaches every process with a payment in it)
POST /webhooks/procurement  the Coupa sandbox's receipt and invoice events, each routed by the
                         table from (source, event type) to a process (gateway/routing.py)
POST /webhooks/payroll    the payroll system's pay run events: finalized starts the version's run,
                         reopened and cancelled are told to it (the payroll sweep catches a lost one)
POST /callbacks/s4hana/journal-entry  SAP S/4HANA's asynchronous journal entry confirmation (a SOAP
                         message, Standard Webhooks-signed by the sandbox): each entry's outcome is
                         signalled to the workflow posting it, if one runs

Each request is size-capped, signature- and timestamp-checked and parsed into canonical events;
then its webhook id is claimed (one delivery of an id is acted on, however many arrive at once)
and the events are routed to Temporal before the request is acknowledged. Refusals are RFC 9457
problem+json and start nothing; a repeated webhook id is acknowledged without doing anything
again. Every webhook gets one log line: its id, source, outcome and correlation id.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client

from canonical import ApprovalStatus, ExpenseReport, ReportStatusChanged
from connectors.bank import parse_notification
from connectors.bank.notifications import BankNotification
from connectors.concur import parse_status_changed
from connectors.concur.events import StatusChangedEvent
from connectors.coupa.events import ProcurementEvent, parse_event
from connectors.interfaces import ExpensePlatform, ProcurementPlatform
from connectors.s4hana.confirmations import journal_confirmations
from connectors.workday.events import PayRunEvent, parse_run_event
from finsync import correlation
from finsync.config import Settings
from finsync.store import IntegrationStore
from gateway import openapi, problems
from gateway.problems import Problem
from gateway.routing import Routed, Router, subject, to_investigate
from gateway.verify import Verifier
from workflows.expense.model import workflow_id
from workflows.payroll.model import workflow_id as payroll_workflow_id

log = logging.getLogger("finsync.gateway")

SUMMARY_LOOKUP_TIMEOUT = 2.0   # seconds; the summary line is nice to have, the ack is not optional
S4HANA_CONFIRMATIONS = "/callbacks/s4hana/journal-entry"   # registered in S/4HANA's communication arrangement


@dataclass
class Delivery:
    """A verified, parsed webhook, not yet acted on."""

    act: Callable[[], Awaitable[Acted]]
    workflow_id: str | None = None       # the workflow it is for, when known before routing
    correlation_id: str | None = None    # the vendor's, when the event carries one


@dataclass
class Acted:
    routed: list[Routed]
    outcome: str                 # for the log line
    needs_attention: bool = False


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


def unverified(webhook_id: str | None) -> str:
    """A webhook-id header that did not pass verification, made safe to log: quoted, escaped, short."""
    return "-" if webhook_id is None else ascii(webhook_id[:80])


def create_app(settings: Settings, client: Client, store: IntegrationStore,
               platform: ExpensePlatform | None = None, procurement: ProcurementPlatform | None = None) -> FastAPI:
    """``platform`` (optional) lets the gateway read a new report's header for its summary line;
    ``procurement`` the document a procurement event names (without it, the poller takes them).

    A webhook secret that is not ``whsec_<base64>`` stops this here (ValueError), not a request.
    """
    app = FastAPI(title="finsync webhook gateway", version="1",
                  description="Signed vendor webhooks (Standard Webhooks) in; Temporal workflow starts and signals out.")
    problems.install(app)
    openapi.install(app, [StatusChangedEvent, BankNotification, ProcurementEvent, PayRunEvent])
    router = Router(client, settings, store, procurement)
    events = router.event_table()
    hooks = settings.webhooks
    expense_verifier = Verifier([s.get_secret_value() for s in hooks.expense_secrets], tolerance=hooks.tolerance_seconds)
    bank_verifier = Verifier([s.get_secret_value() for s in hooks.bank_secrets], tolerance=hooks.tolerance_seconds)
    procurement_verifier = Verifier([s.get_secret_value() for s in hooks.procurement_secrets],
                                    tolerance=hooks.tolerance_seconds)
    payroll_verifier = Verifier([s.get_secret_value() for s in hooks.payroll_secrets], tolerance=hooks.tolerance_seconds)
    s4hana_verifier = Verifier([s.get_secret_value() for s in hooks.s4hana_secrets], tolerance=hooks.tolerance_seconds)

    async def receive(request: Request, source: str, verifier: Verifier,
                      parse: Callable[[bytes, str], Delivery]) -> JSONResponse:
        token = correlation.current.set(correlation.new_id())
        shown = unverified(request.headers.get("webhook-id"))
        outcome, level, failure = "failed", logging.ERROR, None
        try:
            try:
                body = await read_capped(request, hooks.max_body_bytes)
                webhook_id = shown = verifier.verify(request.headers, body)
                delivery = parse(body, webhook_id)
            except Problem as problem:
                outcome, level = f"refused {problem.status} {problem.slug}: {problem.detail}", logging.WARNING
                return problem.response(request.url.path)
            if delivery.correlation_id:
                correlation.current.set(delivery.correlation_id)
            if not await asyncio.to_thread(store.claim_webhook, webhook_id, source, delivery.workflow_id):
                outcome, level = "duplicate", logging.INFO
                return JSONResponse({"webhook_id": webhook_id, "outcome": "duplicate"}, status_code=200)
            try:
                acted = await delivery.act()
            except Exception as error:  # noqa: BLE001 - whatever failed, the vendor's retry must be handled
                await asyncio.to_thread(store.release_webhook, webhook_id)
                outcome, failure = "failed, released for the vendor's retry", error
                return Problem(503, "not-delivered", "Event not delivered",
                               "finsync could not act on this event now; it is handled when it is sent again"
                               ).response(request.url.path)
            outcome, level = acted.outcome, logging.WARNING if acted.needs_attention else logging.INFO
            return JSONResponse({"webhook_id": webhook_id, "routed": [r.__dict__ for r in acted.routed]},
                                status_code=202)
        finally:
            log.log(level, "webhook %s from %s: %s", shown, source, outcome, exc_info=failure,
                    extra={"webhook_id": shown, "source": source, "outcome": outcome,
                           "correlation_id": correlation.current.get()})
            correlation.current.reset(token)

    async def summary_report(event: ReportStatusChanged) -> ExpenseReport | None:
        if platform is None:
            return None
        try:
            return await asyncio.wait_for(platform.get_report(event.report_id, event.owner_ref), SUMMARY_LOOKUP_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - the summary must never block the event
            log.debug("no summary for report %s: %r", event.report_id, error)
            return None

    def expense(body: bytes, webhook_id: str) -> Delivery:
        try:
            event = parse_status_changed(body, webhook_id, None)
        except ValueError as error:
            raise Problem(422, "malformed-event", "Malformed expense event", str(error)) from error

        async def act() -> Acted:
            # A first submission starts the workflow: read the report once, for the summary line
            # and as the workflow's starting point.
            first = event.previous_approval_status in (None, ApprovalStatus.DRAFT)
            routed = await router.expense_event(event, await summary_report(event) if first else None)
            return Acted([routed], f"{routed.outcome} {routed.workflow_id}")

        return Delivery(act, workflow_id(event.source_system, event.report_id), event.correlation_id)

    def bank(body: bytes, webhook_id: str) -> Delivery:
        try:
            reports = parse_notification(body)
        except ValueError as error:
            raise Problem(422, "malformed-event", "Malformed bank notification", str(error)) from error

        async def act() -> Acted:
            message = body.decode("utf-8", errors="replace")
            lines, routed, attention = [], [], False
            for report in reports:
                handled = await router.bank_report(report, webhook_id, message)
                routed += [r for _, r in handled]
                keep = any(to_investigate(r.outcome, each.state) for each, r in handled)
                attention |= keep
                if len(handled) == 1:
                    ((_, r),) = handled
                    said = f"{r.outcome} {r.workflow_id or ''}".rstrip()
                else:   # a file's report, told to each of its payments' processes
                    said = ", ".join(f"{n} {outcome}" for outcome, n in Counter(r.outcome for _, r in handled).items())
                lines.append(f"{report.source} {subject(report)} {report.state}: {said}"
                             + (" (kept for investigation)" if keep else ""))
            return Acted(routed, "; ".join(lines) or "no payment reports in it", needs_attention=attention)

        return Delivery(act)

    def routed_event(source: str) -> Callable[[bytes, str], Delivery]:
        """A parser for a source whose events name one document: each goes to the process the
        table names for its (source, event type)."""

        def parse(body: bytes, webhook_id: str) -> Delivery:
            try:
                event = parse_event(body)
            except ValueError as error:
                raise Problem(422, "malformed-event", f"Malformed {source} event", str(error)) from error
            handler = events.get((source, event.type))

            async def act() -> Acted:
                if handler is None:
                    return Acted([], f"{ascii(event.type[:60])}: no process takes this event type")
                routed = await handler(event.data.id)
                return Acted([routed], f"{event.type} {event.data.id}: {routed.outcome} {routed.workflow_id or ''}".rstrip())

            return Delivery(act)

        return parse

    def payroll(body: bytes, webhook_id: str) -> Delivery:
        try:
            event = parse_run_event(body)
        except ValueError as error:
            raise Problem(422, "malformed-event", "Malformed pay run event", str(error)) from error

        async def act() -> Acted:
            routed = await router.payroll_event(event)
            return Acted([routed], f"pay run {ascii(event.run.run_id[:60])} v{event.run.version} "
                                   f"{event.state.value.lower()}: {routed.outcome} {routed.workflow_id}")

        return Delivery(act, payroll_workflow_id(event.run))

    def s4hana_confirmation(body: bytes, webhook_id: str) -> Delivery:
        try:
            confirmed = journal_confirmations(body)
        except ValueError as error:
            raise Problem(422, "malformed-confirmation", "Malformed journal entry confirmation", str(error)) from error

        async def act() -> Acted:
            routed = [await router.journal_confirmation(each) for each in confirmed]
            said = [f"{ascii(each.external_id[:80])} {'posted' if each.accepted else 'refused'}: {r.outcome} {r.workflow_id}"
                    for each, r in zip(confirmed, routed, strict=True)]
            return Acted(routed, "; ".join(said))

        return Delivery(act)

    @app.post("/webhooks/expense", summary="A Concur statusChanged event", **openapi.webhook_operation(StatusChangedEvent))
    async def expense_webhook(request: Request) -> JSONResponse:
        return await receive(request, "expense", expense_verifier, expense)

    @app.post("/webhooks/bank", summary="A bank's pain.002 or camt.054 notification",
              **openapi.webhook_operation(BankNotification))
    async def bank_webhook(request: Request) -> JSONResponse:
        return await receive(request, "bank", bank_verifier, bank)

    procurement_event = routed_event("procurement")

    @app.post("/webhooks/procurement", summary="A procurement platform's receipt or invoice event",
              **openapi.webhook_operation(ProcurementEvent))
    async def procurement_webhook(request: Request) -> JSONResponse:
        return await receive(request, "procurement", procurement_verifier, procurement_event)

    @app.post("/webhooks/payroll", summary="A payroll system's pay run event (finalized, reopened, cancelled)",
              **openapi.webhook_operation(PayRunEvent))
    async def payroll_webhook(request: Request) -> JSONResponse:
        return await receive(request, "payroll", payroll_verifier, payroll)

    @app.post(S4HANA_CONFIRMATIONS, summary="SAP S/4HANA's journal entry confirmation",
              **openapi.webhook_operation("A SOAP envelope holding a JournalEntryBulkCreateConfirmation"))
    async def s4hana_callback(request: Request) -> JSONResponse:
        return await receive(request, "s4hana", s4hana_verifier, s4hana_confirmation)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    return app
