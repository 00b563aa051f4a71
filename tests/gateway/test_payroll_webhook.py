"""The gateway's payroll webhook on the Temporal test server: a signed "finalized" starts the
version's run once however often it comes, "reopened" reaches it, and an unsigned or malformed
event is refused as problem+json and starts nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from finsync.config import Settings
from finsync.store import IntegrationStore
from gateway.app import create_app
from sandboxes.kit.webhooks import sign
from workflows.payroll.model import SIGNAL_RUN_CHANGED

RUN_ID = "PAYRUN-000042"
WORKFLOW = f"payroll-workday-{RUN_ID}-v1"


def pay_run(status: str) -> dict:
    return {"id": RUN_ID, "version": 1, "status": status, "payGroup": {"id": "MONTHLY-ALL"},
            "periodStartDate": "2026-11-01", "periodEndDate": "2026-11-30", "paymentDate": "2026-11-27",
            "finalizedBy": "pat.payroll", "lastActionBy": "pat.payroll", "statusChangedOn": "2026-11-26T09:00:00Z"}


@dataclass
class Gateway:
    client: Client
    http: httpx.AsyncClient
    secret: str

    async def post(self, event_type: str, data: dict, *, signed: bool = True) -> httpx.Response:
        body = json.dumps({"type": event_type, "timestamp": "2026-11-26T09:00:01Z", "data": data}).encode()
        webhook_id, now = f"msg_{uuid.uuid4().hex[:20]}", int(time.time())
        headers = {"content-type": "application/json", "webhook-id": webhook_id, "webhook-timestamp": str(now)}
        if signed:
            headers["webhook-signature"] = sign([self.secret], webhook_id, now, body)
        return await self.http.post("/webhooks/payroll", content=body, headers=headers)


@pytest.fixture
async def gateway(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = Settings(data_dir=tmp_path)
    app = create_app(settings, time_skipping_env.client, IntegrationStore(settings.database_url))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield Gateway(time_skipping_env.client, http, settings.webhooks.payroll_secrets[0].get_secret_value())


async def test_finalized_starts_the_versions_run_once_and_reopened_reaches_it(gateway: Gateway) -> None:
    first = await gateway.post("payroll.run.finalized", pay_run("Finalized"))
    assert first.status_code == 202, first.text
    assert first.json()["routed"] == [{"workflow_id": WORKFLOW, "outcome": "delivered"}]
    again = await gateway.post("payroll.run.finalized", pay_run("Finalized"))    # a new delivery of the same state
    assert again.json()["routed"] == [{"workflow_id": WORKFLOW, "outcome": "not needed"}]

    reopened = await gateway.post("payroll.run.reopened", pay_run("Reopened"))
    assert reopened.json()["routed"] == [{"workflow_id": WORKFLOW, "outcome": "delivered"}]
    history = await gateway.client.get_workflow_handle(WORKFLOW).fetch_history()
    signals = [e.workflow_execution_signaled_event_attributes.signal_name for e in history.events
               if e.HasField("workflow_execution_signaled_event_attributes")]
    assert signals == [SIGNAL_RUN_CHANGED]


async def test_unsigned_or_contradictory_events_are_refused_and_start_nothing(gateway: Gateway) -> None:
    unsigned = await gateway.post("payroll.run.finalized", pay_run("Finalized"), signed=False)
    assert unsigned.status_code in (400, 401) and unsigned.headers["content-type"] == "application/problem+json"
    contradictory = await gateway.post("payroll.run.finalized", pay_run("Reopened"))
    assert contradictory.status_code == 422
    assert "whose status is 'Reopened'" in contradictory.json()["detail"]
    with pytest.raises(RPCError):          # no run was started
        await gateway.client.get_workflow_handle(WORKFLOW).describe()


async def test_a_reopen_of_a_run_finsync_never_started_is_acknowledged(gateway: Gateway) -> None:
    response = await gateway.post("payroll.run.reopened", pay_run("Reopened"))
    assert response.status_code == 202
    assert response.json()["routed"] == [{"workflow_id": WORKFLOW, "outcome": "closed"}]
