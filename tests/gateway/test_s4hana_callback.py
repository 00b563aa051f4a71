"""The gateway's S/4HANA callback on the Temporal test server: the sandbox's asynchronous
confirmation, signed with Standard Webhooks, reaches the workflow posting each journal as a
``journal_confirmed`` signal; one for a journal no workflow posts is acknowledged and logged; an
unsigned, forged or unreadable one is refused as problem+json and signals nothing."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from canonical import JournalConfirmation
from canonical.journal import JOURNAL_CONFIRMED_SIGNAL, journal_workflow_id
from finsync.config import Settings
from finsync.store import IntegrationStore
from gateway.app import S4HANA_CONFIRMATIONS, create_app
from sandboxes.kit.webhooks import sign
from sandboxes.s4hana import confirmations
from sandboxes.s4hana import create_app as create_s4hana
from sandboxes.s4hana.app import ASYNC_PATH
from sandboxes.s4hana.tables import POSTED, REJECTED, InboundEntry, InboundMessage
from tests.support.s4hana import PASSWORD, TODAY, USER, journal_entry, soap_request, wait_for
from tests.support.servers import serve

NO_WORKER = "no-worker"   # the workflows only need to be running to take signals; none is ever run
PAYROLL = [("6500", "1000.00", "EUR", "CC-4200"), ("2250", "-1000.00", "EUR", None)]


@dataclass
class Gateway:
    client: Client
    http: httpx.AsyncClient
    secret: str

    async def post(self, body: bytes, *, signed: bool = True) -> httpx.Response:
        webhook_id, now = f"msg_{uuid.uuid4().hex[:20]}", int(time.time())
        headers = {"content-type": "text/xml; charset=utf-8", "webhook-id": webhook_id, "webhook-timestamp": str(now)}
        if signed:
            headers["webhook-signature"] = sign([self.secret], webhook_id, now, body)
        return await self.http.post(S4HANA_CONFIRMATIONS, content=body, headers=headers)

    async def posting(self, external_id: str) -> str:
        """A running workflow that posts the journal ``external_id``."""
        workflow_id = journal_workflow_id(external_id)
        await self.client.start_workflow("PayrollJournal", id=workflow_id, task_queue=NO_WORKER)
        return workflow_id

    async def signalled(self, workflow_id: str) -> list[JournalConfirmation]:
        history = await self.client.get_workflow_handle(workflow_id).fetch_history()
        signals = [e.workflow_execution_signaled_event_attributes for e in history.events
                   if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
        assert {s.signal_name for s in signals} <= {JOURNAL_CONFIRMED_SIGNAL}
        return [(await self.client.data_converter.decode(s.input.payloads, [JournalConfirmation]))[0] for s in signals]


@pytest.fixture
async def gateway(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = Settings(data_dir=tmp_path)
    app = create_app(settings, time_skipping_env.client, IntegrationStore(settings.database_url))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield Gateway(time_skipping_env.client, http, settings.webhooks.s4hana_secrets[0].get_secret_value())


def confirmation(*entries: tuple[str, bool]) -> bytes:
    """The sandbox's confirmation of (reference, posted) entries, rendered as it sends them."""
    message = InboundMessage(id=1, message_id="bulk-1", service="create", asynchronous=True, received_at=0, due_at=0)
    log = {True: [{"type_id": "614(RW)", "severity": 1, "note": "Document posted successfully"}],
           False: [{"type_id": "609(RW)", "severity": 3, "note": "Error in document"},
                   {"type_id": "201(F5)", "severity": 3, "note": "Posting period 002 2026 (Feb 2026) is not open."}]}
    return confirmations.render(message, [InboundEntry(
        message=1, position=i, entry_message_id=f"entry-{i}", original_reference_document=reference,
        logical_system="FINSYNC", company_code="1010", draft="{}", received_at=0, status=POSTED if posted else REJECTED,
        accounting_document="0100000007" if posted else None, fiscal_year=2026 if posted else None,
        log=json.dumps(log[posted])) for i, (reference, posted) in enumerate(entries)])


async def test_the_sandboxs_confirmation_reaches_the_workflow_posting_each_journal(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    gateway_app = create_app(settings, time_skipping_env.client, IntegrationStore(settings.database_url))
    async with serve(gateway_app) as gateway_url:
        sandbox = create_s4hana(tmp_path / "s4hana.db", today=TODAY, confirmation_delay_seconds=0,
                                callback=gateway_url + S4HANA_CONFIRMATIONS)
        async with serve(sandbox) as sap_url, httpx.AsyncClient(base_url=sap_url, auth=(USER, PASSWORD)) as sap:
            gateway = Gateway(time_skipping_env.client, sap, "")
            posted, refused = await gateway.posting("payroll:RUN-1:DE01"), await gateway.posting("payroll:RUN-1:DE01-late")
            response = await sap.post(ASYNC_PATH, content=soap_request(
                journal_entry("payroll:RUN-1:DE01", PAYROLL),
                journal_entry("payroll:RUN-1:DE01-late", PAYROLL, posting_date="2026-02-27")))
            assert response.status_code == 202
            (accepted,) = await wait_for(lambda: gateway.signalled(posted))
            (rejected,) = await wait_for(lambda: gateway.signalled(refused))
            webhooks = (await sap.get("/_sandbox/webhooks")).json()
    assert accepted == JournalConfirmation(external_id="payroll:RUN-1:DE01", accepted=True, document_number="0100000000",
                                           company_code="1010", fiscal_year=2026, reason="")
    assert (rejected.accepted, rejected.document_number, rejected.fiscal_year) == (False, None, None)
    assert "(Feb 2026) is not open" in rejected.reason and "Error in document" not in rejected.reason
    assert webhooks == {"pending": 0, "delivered": 1, "dead": 0, "duplicates_sent": 0}   # acknowledged with a 2xx


async def test_a_confirmation_no_workflow_waits_for_is_acknowledged_in_one_log_line(gateway, caplog):
    caplog.set_level(logging.INFO, logger="finsync.gateway")
    response = await gateway.post(confirmation(("payroll:RUN-2:DE01", True)))
    assert response.status_code == 202
    assert response.json()["routed"] == [{"workflow_id": "payroll-journal:payroll:RUN-2:DE01",
                                          "outcome": "no such workflow; its read-back decides"}]
    (line,) = [r.getMessage() for r in caplog.records if r.name == "finsync.gateway"]
    assert "from s4hana" in line and "'payroll:RUN-2:DE01' posted: no such workflow" in line


async def test_one_confirmation_of_several_journals_signals_each_once(gateway):
    first, second = await gateway.posting("payroll:RUN-3:DE01"), await gateway.posting("payroll:RUN-3:DE02")
    body = confirmation(("payroll:RUN-3:DE01", True), ("payroll:RUN-3:DE02", False))
    response = await gateway.post(body)
    assert [r["outcome"] for r in response.json()["routed"]] == ["delivered", "delivered"]
    assert [c.accepted for c in await gateway.signalled(first)] == [True]
    assert [(c.accepted, c.reason) for c in await gateway.signalled(second)] == [
        (False, "Posting period 002 2026 (Feb 2026) is not open.")]


@pytest.mark.parametrize(("signed", "secret", "status", "slug"), [
    (False, None, 400, "missing-signature-headers"),
    (True, "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", 401, "bad-signature"),
], ids=["unsigned", "forged"])
async def test_an_unsigned_or_forged_confirmation_is_refused_and_signals_nothing(gateway, signed, secret, status, slug):
    workflow_id = await gateway.posting("payroll:RUN-4:DE01")
    if secret:
        gateway.secret = secret
    response = await gateway.post(confirmation(("payroll:RUN-4:DE01", True)), signed=signed)
    assert response.status_code == status and response.json()["type"].endswith(slug)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await gateway.signalled(workflow_id) == []


@pytest.mark.parametrize(("body", "words"), [
    (b"<not xml", "not well-formed XML"),
    (b'{"type": "journal.confirmed"}', "not well-formed XML"),
    (confirmation(("payroll:RUN-5:DE01", True)).replace(b"<CompanyCode>1010</CompanyCode>", b""),
     "lacks its reference, company code or log"),
    (confirmation(("payroll:RUN-5:DE01", True)).replace(b"JournalEntryBulkCreateConfirmation", b"SomethingElse"),
     "not a journal entry confirmation"),
], ids=["not-xml", "json", "no-company-code", "other-message"])
async def test_a_confirmation_that_cannot_be_read_is_a_422_in_one_line(gateway, body, words):
    workflow_id = await gateway.posting("payroll:RUN-5:DE01")
    response = await gateway.post(body)
    assert response.status_code == 422 and response.json()["type"].endswith("malformed-confirmation")
    detail = response.json()["detail"]
    assert words in detail and "\n" not in detail
    assert await gateway.signalled(workflow_id) == []
