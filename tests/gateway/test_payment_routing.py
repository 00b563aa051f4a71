"""The bank's reports reach the processes waiting for the payments, on the Temporal test server:
a transaction's report its own process by EndToEndId, a whole file's or block's rejection every
process with a payment routed under it, each as one PaymentStatusReport with its EndToEndId."""

from __future__ import annotations

import json
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

from canonical import PaymentState, PaymentStatusReport
from finsync.config import Settings
from finsync.store import IntegrationStore
from gateway.app import create_app
from sandboxes.kit.webhooks import sign

NO_WORKER = "no-worker"   # the processes only need to be running to take signals; none is ever run


@dataclass
class Bank:
    client: Client
    store: IntegrationStore
    http: httpx.AsyncClient
    secret: str

    async def notify(self, document: str) -> httpx.Response:
        body = json.dumps({"type": "payment.status_report", "timestamp": "2026-11-23T08:00:00Z",
                           "data": {"format": "pain.002.001.10", "document": document}}).encode()
        webhook_id, now = f"msg_{uuid.uuid4().hex[:20]}", int(time.time())
        return await self.http.post("/webhooks/bank", content=body, headers={
            "content-type": "application/json", "webhook-id": webhook_id, "webhook-timestamp": str(now),
            "webhook-signature": sign([self.secret], webhook_id, now, body)})

    async def process(self, *payments: tuple[str, str, str]) -> str:
        """A running process that sent ``payments`` (EndToEndId, MsgId, PmtInfId)."""
        workflow_id = f"process-{uuid.uuid4().hex[:8]}"
        await self.client.start_workflow("PaymentProcess", id=workflow_id, task_queue=NO_WORKER)
        for end_to_end_id, message_id, payment_info_id in payments:
            self.store.route_payment(end_to_end_id, message_id, workflow_id, payment_info_id)
        return workflow_id

    async def signalled(self, workflow_id: str) -> list[PaymentStatusReport]:
        """The payment_status signals in the process's history (written when the signal is taken)."""
        history = await self.client.get_workflow_handle(workflow_id).fetch_history()
        signals = [e.workflow_execution_signaled_event_attributes for e in history.events
                   if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
        assert {s.signal_name for s in signals} <= {"payment_status"}
        return [(await self.client.data_converter.decode(s.input.payloads, [PaymentStatusReport]))[0] for s in signals]


@pytest.fixture
async def bank(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Bank]:
    settings = Settings(data_dir=tmp_path)
    store = IntegrationStore(settings.database_url)
    app = create_app(settings, time_skipping_env.client, store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield Bank(time_skipping_env.client, store, http, settings.webhooks.bank_secrets[0].get_secret_value())


def pain002(message_id: str, group_status: str, blocks: str = "") -> str:
    return f"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><CstmrPmtStsRpt>
 <GrpHdr><MsgId>STS-{uuid.uuid4().hex[:8]}</MsgId><CreDtTm>2026-11-23T08:00:00Z</CreDtTm></GrpHdr>
 <OrgnlGrpInfAndSts><OrgnlMsgId>{message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
  <OrgnlNbOfTxs>3</OrgnlNbOfTxs><GrpSts>{group_status}</GrpSts>
  <StsRsnInf><Rsn><Cd>AC05</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>{blocks}
</CstmrPmtStsRpt></Document>"""


def block(payment_info_id: str, status: str, transactions: str = "") -> str:
    return (f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{payment_info_id}</OrgnlPmtInfId><PmtInfSts>{status}</PmtInfSts>"
            f"{transactions}</OrgnlPmtInfAndSts>")


async def test_a_transactions_report_reaches_only_the_process_of_its_end_to_end_id(bank: Bank) -> None:
    mine = await bank.process(("E-1", "RUN-1", "RUN-1-P1"))
    neighbour = await bank.process(("E-2", "RUN-1", "RUN-1-P1"))
    settled = block("RUN-1-P1", "PART", "<TxInfAndSts><OrgnlEndToEndId>E-1</OrgnlEndToEndId><TxSts>ACSC</TxSts>"
                                        "<OrgnlTxRef><Amt><InstdAmt Ccy=\"EUR\">10.00</InstdAmt></Amt></OrgnlTxRef>"
                                        "</TxInfAndSts>")

    response = await bank.notify(pain002("RUN-1", "PART", settled))

    assert response.status_code == 202, response.text
    assert [(r.end_to_end_id, r.message_id, r.payment_info_id, r.state) for r in await bank.signalled(mine)] == [
        ("E-1", "RUN-1", "RUN-1-P1", PaymentState.SETTLED)]
    assert await bank.signalled(neighbour) == []


async def test_a_whole_file_rejected_reaches_every_process_once_per_payment(bank: Bank) -> None:
    run = await bank.process(("E-1", "RUN-2", "RUN-2-P1"), ("E-2", "RUN-2", "RUN-2-P1"))
    requisition = await bank.process(("E-3", "RUN-2", "RUN-2-P2"))
    elsewhere = await bank.process(("E-9", "RUN-3", "RUN-3-P1"))

    response = await bank.notify(pain002("RUN-2", "RJCT"))

    assert response.status_code == 202, response.text
    assert sorted((r["workflow_id"], r["outcome"]) for r in response.json()["routed"]) == sorted(
        [(run, "delivered"), (run, "delivered"), (requisition, "delivered")])
    # Signals to one process go out concurrently: their order says nothing.
    told = {wf: sorted((r.end_to_end_id, r.payment_info_id, r.state, r.reason_code) for r in await bank.signalled(wf))
            for wf in (run, requisition, elsewhere)}
    assert told == {
        run: [("E-1", "RUN-2-P1", PaymentState.REJECTED, "AC05"), ("E-2", "RUN-2-P1", PaymentState.REJECTED, "AC05")],
        requisition: [("E-3", "RUN-2-P2", PaymentState.REJECTED, "AC05")],
        elsewhere: []}
    kept = [(row.end_to_end_id, row.state, row.workflow_id, row.outcome) for e2e in ("E-1", "E-2", "E-3")
            for row in bank.store.bank_reports(e2e)]
    assert kept == [("E-1", "REJECTED", run, "delivered"), ("E-2", "REJECTED", run, "delivered"),
                    ("E-3", "REJECTED", requisition, "delivered")]


async def test_a_rejected_block_reaches_only_the_processes_of_its_payments(bank: Bank) -> None:
    first_block = await bank.process(("E-1", "RUN-4", "RUN-4-P1"))
    second_block = await bank.process(("E-2", "RUN-4", "RUN-4-P2"))

    response = await bank.notify(pain002("RUN-4", "PART", block("RUN-4-P2", "RJCT")))

    assert response.status_code == 202, response.text
    assert await bank.signalled(first_block) == []
    assert [(r.end_to_end_id, r.state) for r in await bank.signalled(second_block)] == [("E-2", PaymentState.REJECTED)]


async def test_a_rejected_file_no_process_sent_is_kept_for_investigation(bank: Bank) -> None:
    response = await bank.notify(pain002("RUN-NOBODY", "RJCT"))

    assert response.status_code == 202, response.text
    assert response.json()["routed"] == [{"workflow_id": None, "outcome": "unmatched"}]
    (kept,) = bank.store.bank_reports_to_investigate()
    assert (kept.end_to_end_id, kept.message_id, kept.state, kept.outcome) == ("", "RUN-NOBODY", "REJECTED", "unmatched")
    assert "RUN-NOBODY" in (kept.raw or "")
