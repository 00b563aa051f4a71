"""The gateway's procurement webhook (the Coupa sandbox's optional events) on the Temporal test
server with the real Coupa sandbox behind the connector: a signed event reaches the requisition's
workflow through the routing table, as the same change the poller hands over; an unsigned or
malformed one is refused as problem+json and starts nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from canonical.procurement import ProcurementChange
from finsync.config import ProcurementVendorSettings, Settings
from finsync.store import IntegrationStore
from gateway.app import create_app
from sandboxes.kit.webhooks import sign
from tests.support.coupa import World, coupa_world, invoiced, issued
from workflows.procurement.model import workflow_id


@dataclass
class Gateway:
    client: Client
    http: httpx.AsyncClient
    secret: str
    coupa: World

    async def post(self, event_type: str, document_id: Any, *, signed: bool = True,
                   webhook_id: str | None = None) -> httpx.Response:
        body = json.dumps({"type": event_type, "timestamp": "2026-03-20T10:00:00Z",
                           "data": {"id": document_id, "status": "created"}}).encode()
        webhook_id, now = webhook_id or f"msg_{uuid.uuid4().hex[:20]}", int(time.time())
        headers = {"content-type": "application/json", "webhook-id": webhook_id, "webhook-timestamp": str(now)}
        if signed:
            headers["webhook-signature"] = sign([self.secret], webhook_id, now, body)
        return await self.http.post("/webhooks/procurement", content=body, headers=headers)

    async def signalled(self, requisition_id: str) -> list[ProcurementChange]:
        history = await self.client.get_workflow_handle(workflow_id("coupa", requisition_id)).fetch_history()
        signals = [e.workflow_execution_signaled_event_attributes for e in history.events
                   if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
        return [(await self.client.data_converter.decode(s.input.payloads, [ProcurementChange]))[0] for s in signals]


@pytest.fixture
async def gateway(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with coupa_world(tmp_path / "coupa.db") as coupa:
        settings = Settings(data_dir=tmp_path, procurement=ProcurementVendorSettings(base_url=coupa.url))
        app = create_app(settings, time_skipping_env.client, IntegrationStore(settings.database_url),
                         procurement=coupa.client)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
            yield Gateway(time_skipping_env.client, http, settings.webhooks.procurement_secrets[0].get_secret_value(),
                          coupa)


async def test_a_signed_invoice_event_reaches_the_requisition_as_the_change_the_poller_hands_over(
        gateway: Gateway) -> None:
    requisition_id, order = await issued(gateway.coupa)
    invoice = await invoiced(gateway.coupa, order)

    response = await gateway.post("invoice.updated", invoice["id"])
    assert response.status_code == 202, response.text
    assert response.json()["routed"] == [{"workflow_id": workflow_id("coupa", requisition_id), "outcome": "delivered"}]
    polled = [c async for c in gateway.coupa.client.changes(None) if c.invoice is not None]
    (signalled,) = await gateway.signalled(requisition_id)
    assert [signalled.change_id] == [c.change_id for c in polled]   # the workflow takes the poller's copy as seen
    assert signalled.invoice is not None and signalled.invoice.invoice_number == "INV-1001"

    again = await gateway.post("invoice.updated", invoice["id"], webhook_id=response.json()["webhook_id"])
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert len(await gateway.signalled(requisition_id)) == 1


async def test_a_receipt_event_signals_and_an_event_no_process_takes_is_acknowledged(gateway: Gateway) -> None:
    requisition_id, order = await issued(gateway.coupa)
    receipt = await gateway.coupa.driver.receive(order["order-lines"][0]["id"], "2")
    assert (await gateway.post("inventory_transaction.created", receipt["id"])).status_code == 202
    (signalled,) = await gateway.signalled(requisition_id)
    assert signalled.receipt is not None and signalled.receipt.quantity.value == 2

    ignored = await gateway.post("supplier.updated", 1)
    assert ignored.status_code == 202 and ignored.json()["routed"] == []


async def test_an_invoice_not_yet_approved_is_not_handed_on(gateway: Gateway) -> None:
    requisition_id, order = await issued(gateway.coupa)
    await gateway.coupa.driver.auto_approve_invoices(False)
    pending = await invoiced(gateway.coupa, order)
    response = await gateway.post("invoice.updated", pending["id"])
    assert response.status_code == 202 and response.json()["routed"] == [{"workflow_id": None, "outcome": "not needed"}]
    with pytest.raises(RPCError):
        await gateway.client.get_workflow_handle(workflow_id("coupa", requisition_id)).describe()


@pytest.mark.parametrize(("signed", "body_id", "status", "slug"), [
    (False, 1, 400, "missing-signature-headers"),
    (True, "../suppliers/1", 422, "malformed-event")], ids=["unsigned", "id not Coupa's"])
async def test_a_refused_event_is_problem_json_and_starts_nothing(gateway: Gateway, signed: bool, body_id: Any,
                                                                   status: int, slug: str) -> None:
    response = await gateway.post("invoice.updated", body_id, signed=signed)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(slug)


async def test_a_wrong_signature_is_401(gateway: Gateway) -> None:
    gateway.secret = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    response = await gateway.post("invoice.updated", 1)
    assert response.status_code == 401 and response.headers["content-type"].startswith("application/problem+json")
