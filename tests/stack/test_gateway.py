"""The gateway in front of the real dev server: bad input starts nothing, duplicates start nothing new."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from canonical import BankAccount, Money, PaymentInstruction, PaymentStatusReport
from connectors import registry
from finsync.temporal import data_converter
from gateway.app import create_app as create_gateway
from sandboxes.kit.webhooks import sign
from sandboxes.s4hana.app import ASYNC_PATH
from tests.stack.conftest import Stack
from tests.stack.helpers import bank_reports, submit
from tests.support.s4hana import journal_entry, soap_request, wait_for
from tests.support.servers import serve
from workflows.expense.model import workflow_id
from workflows.expense.workflow import ExpenseReimbursementWorkflow

pytestmark = pytest.mark.stack

CLOSED_IBAN = "DE44500105175407324931"   # seed: E2004's account, closed at the bank
US_ACCOUNT = BankAccount(holder_name="Finsync Demo Inc.", account_number="000123456789", bic="CHASUS33XXX")
KATRIN = BankAccount(holder_name="Katrin Vogel", iban="DE75512108001245126199", bic="COBADEFFXXX")


def status_changed(report_id: str, status: str = "A_EXTV", previous: str = "A_NOTF",
                   payment: str = "P_NOTP", previous_payment: str = "P_NOTP", correlation_id: str | None = None) -> bytes:
    return json.dumps({
        "id": str(uuid.uuid4()), "correlationId": correlation_id or uuid.uuid4().hex, "eventType": "statusChanged",
        "topic": "public.concur.expense.report", "subtopic": "company", "timeStamp": "2026-11-20T10:00:00.000Z",
        "facts": {"companyId": "company", "reportId": report_id, "userId": str(uuid.uuid4()), "actingUserId": None,
                  "stepCode": None, "previousApprovalStatus": previous, "currentApprovalStatus": status,
                  "previousPaymentStatus": previous_payment, "currentPaymentStatus": payment, "href": "https://example/r"}}).encode()


def signed(stack: Stack, body: bytes, msg_id: str | None = None, timestamp: int | None = None,
           secret: str | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex[:20]}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    secret = secret or stack.settings.webhooks.expense_secrets[0].get_secret_value()
    return {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign([secret], msg_id, timestamp, body)}


def new_report_id() -> str:
    return f"GW{uuid.uuid4().hex[:18].upper()}"


async def history_counts(stack: Stack, report_id: str) -> tuple[int, int]:
    """(starts, signals) in the report's workflow history; the workflow is ended afterwards."""
    handle = stack.client.get_workflow_handle(workflow_id("concur", report_id))
    events = (await handle.fetch_history()).events
    await handle.terminate("test over")
    return (sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED for e in events),
            sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED for e in events))


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"] and problem["instance"]
    if slug:
        assert problem["type"] == f"https://finsync.dev/problems/{slug}"
    return problem


async def workflow_exists(stack: Stack, report_id: str) -> bool:
    try:
        await stack.client.get_workflow_handle(workflow_id("concur", report_id)).describe()
        return True
    except RPCError as error:
        assert error.status is RPCStatusCode.NOT_FOUND
        return False


@pytest.mark.parametrize("case, status, slug", [
    ("forged", 401, "bad-signature"),
    ("stale", 401, "stale-webhook"),
    ("malformed", 422, "malformed-event"),
    ("oversized", 413, "body-too-large"),
    ("unsigned", 400, "missing-signature-headers"),
])
async def test_bad_requests_are_refused_with_problem_json_and_start_nothing(stack: Stack, case, status, slug):
    report_id = f"GW{uuid.uuid4().hex[:18].upper()}"
    body = status_changed(report_id)
    headers = signed(stack, body)
    if case == "forged":
        headers = signed(stack, body, secret="whsec_" + "Zm9yZ2VkLXNlY3JldC1mb3ItdGVzdHM=")
    elif case == "stale":
        headers = signed(stack, body, timestamp=int(time.time()) - 3600)
    elif case == "malformed":
        body = b'{"eventType": "statusChanged", "facts": '
        headers = signed(stack, body)
    elif case == "oversized":
        body = body[:-1] + b', "padding": "' + b"x" * stack.settings.webhooks.max_body_bytes + b'"}'
        headers = signed(stack, body)
    elif case == "unsigned":
        headers = {"content-type": "application/json"}
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{stack.gateway_url}/webhooks/expense", content=body, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["type"].endswith(slug) and problem["detail"]
    assert not await workflow_exists(stack, report_id)


async def test_the_same_event_delivered_five_times_starts_one_workflow_once(stack: Stack):
    report_id = f"GW{uuid.uuid4().hex[:18].upper()}"
    body = status_changed(report_id)
    headers = signed(stack, body)
    async with httpx.AsyncClient() as http:
        answers = [await http.post(f"{stack.gateway_url}/webhooks/expense", content=body, headers=headers)
                   for _ in range(5)]
    assert [a.status_code for a in answers] == [202, 200, 200, 200, 200]
    assert [a.json().get("outcome") for a in answers[1:]] == ["duplicate"] * 4
    handle = stack.client.get_workflow_handle(workflow_id("concur", report_id))
    history = await handle.fetch_history()
    starts = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]
    signals = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    assert len(starts) == 1 and len(signals) == 1
    await handle.terminate("test over")


async def test_redelivery_under_new_ids_still_reaches_the_one_workflow(stack: Stack):
    """A vendor that re-sends an event with a fresh delivery id: signals, never a second run."""
    report_id = f"GW{uuid.uuid4().hex[:18].upper()}"
    async with httpx.AsyncClient() as http:
        for _ in range(3):
            body = status_changed(report_id)
            response = await http.post(f"{stack.gateway_url}/webhooks/expense", content=body, headers=signed(stack, body))
            assert response.status_code == 202
    handle = stack.client.get_workflow_handle(workflow_id("concur", report_id))
    runs = [wf async for wf in stack.client.list_workflows(f"WorkflowId = '{handle.id}'")]
    assert len(runs) <= 1   # visibility may lag; the history below is authoritative
    history = await handle.fetch_history()
    assert sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED for e in history.events) == 1
    await handle.terminate("test over")


@pytest.mark.parametrize("previous, status, payment", [
    ("A_APPR", "A_APPR", "P_PROC"),     # finsync's posting confirmation
    ("A_EXTV", "A_PEND", "P_NOTP"),     # finsync's own release to the approver
])
async def test_events_that_only_echo_finsync_signal_nothing(stack: Stack, previous, status, payment):
    report_id = f"GW{uuid.uuid4().hex[:18].upper()}"
    body = status_changed(report_id, status, previous, payment)
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{stack.gateway_url}/webhooks/expense", content=body, headers=signed(stack, body))
    assert response.status_code == 202
    assert response.json()["routed"][0]["outcome"] == "not needed"
    assert not await workflow_exists(stack, report_id)


async def test_a_bank_report_on_a_payment_nobody_routed_is_kept_for_investigation(stack: Stack):
    """Money moved without a finsync process (made by hand, or by an instance that lost its
    store): the reports are acknowledged, start nothing, and keep the bank's message."""
    key = uuid.uuid4().hex[:10].upper()
    bank = registry.build(stack.settings.bank)
    try:
        await bank.send_payment(PaymentInstruction(
            message_id=f"HAND-M-{key}", end_to_end_id=f"HAND-E-{key}", debtor_entity="DE01",
            debtor_name="Finsync Demo GmbH", creditor=BankAccount(holder_name="Jonas Weber", iban=CLOSED_IBAN, bic="DEUTDEFFXXX"),
            debtor_account=BankAccount(holder_name="Finsync Demo GmbH", iban="DE02120300000000202051", bic="BYLADEM1001"),
            amount=Money.of("64.00", "EUR"), requested_execution_date=date.today(), remittance_info="made by hand"))
    finally:
        await bank.aclose()
    rows = await bank_reports(stack, f"HAND-E-{key}", count=1)
    assert rows and all(r.outcome == "unmatched" and r.workflow_id is None for r in rows)
    kept = [r for r in stack.store.bank_reports_to_investigate() if r.end_to_end_id == f"HAND-E-{key}"]
    assert kept and all(f"HAND-E-{key}" in (r.raw or "") for r in kept)   # the bank's own message
    assert [r.state for r in kept] == ["REJECTED"]                         # AC04: the account is closed


async def running_workflow(stack: Stack, key: str) -> str:
    """A submitted report's workflow, waiting for its approver: a process that takes signals. Its
    amount comes from ``key``, so no later report in the module is its duplicate."""
    amount = (Decimal(10000 + int(key, 16) % 90000) / 100).quantize(Decimal("0.01"))
    report_id = await submit(stack, amount=str(amount))
    deadline = asyncio.get_running_loop().time() + 30
    while not await workflow_exists(stack, report_id):
        assert asyncio.get_running_loop().time() < deadline, f"no workflow for {report_id}"
        await asyncio.sleep(0.1)
    return workflow_id("concur", report_id)


async def settled_payment(stack: Stack, key: str, routed_to: str) -> PaymentInstruction:
    """EUR 86.00 from the USD account, routed to ``routed_to``, once its ACSC and DBIT were routed."""
    payment = PaymentInstruction(
        message_id=f"RTN-M-{key}", end_to_end_id=f"RTN-E-{key}", debtor_entity="US01",
        debtor_name=US_ACCOUNT.holder_name, debtor_account=US_ACCOUNT, creditor=KATRIN,
        amount=Money.of("86.00", "EUR"), requested_execution_date=date.today(), remittance_info="return test")
    stack.store.route_payment(payment.end_to_end_id, payment.message_id, routed_to)
    bank = registry.build(stack.settings.bank)
    try:
        await bank.send_payment(payment)
    finally:
        await bank.aclose()
    assert len(await bank_reports(stack, payment.end_to_end_id, count=2)) == 2
    return payment


async def returned_by_the_bank(stack: Stack, payment: PaymentInstruction, reason: str) -> None:
    async with httpx.AsyncClient(base_url=stack.settings.bank.base_url) as http:
        response = await http.post(f"/_sandbox/payments/{payment.message_id}/transactions/"
                                   f"{payment.end_to_end_id}/return", json={"reasonCode": reason})
    assert response.status_code == 200, response.text


async def payment_signals(stack: Stack, wf_id: str, expected: int, timeout: float = 30) -> int:
    """The payment_status signals in the workflow's history, once ``expected`` are there: a signal
    that arrives during a workflow task is written to the history when that task completes."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        history = await stack.client.get_workflow_handle(wf_id).fetch_history()
        count = [e.workflow_execution_signaled_event_attributes.signal_name for e in history.events
                 if e.HasField("workflow_execution_signaled_event_attributes")].count("payment_status")
        if count >= expected or asyncio.get_running_loop().time() > deadline:
            return count
        await asyncio.sleep(0.1)


def late_rejection(payment: PaymentInstruction) -> bytes:
    """The shape some banks report a return in: a pain.002 RJCT after the ACSC."""
    document = f"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><CstmrPmtStsRpt>
 <GrpHdr><MsgId>STS-LATE</MsgId><CreDtTm>{date.today()}T12:00:00Z</CreDtTm></GrpHdr>
 <OrgnlGrpInfAndSts><OrgnlMsgId>{payment.message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
 </OrgnlGrpInfAndSts>
 <OrgnlPmtInfAndSts><OrgnlPmtInfId>{payment.message_id}</OrgnlPmtInfId>
  <TxInfAndSts><OrgnlEndToEndId>{payment.end_to_end_id}</OrgnlEndToEndId><TxSts>RJCT</TxSts>
   <StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts>
 </OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"""
    return json.dumps({"type": "payment.status_report", "timestamp": f"{date.today()}T12:00:00Z",
                       "data": {"format": "pain.002.001.10", "messageId": payment.message_id,
                                "document": document}}).encode()


async def test_a_return_after_settlement_is_signalled_or_starts_a_run_that_parks(stack: Stack):
    """Once a payment is decided, the camt.054 DBIT is not signalled; its return always is, whether
    the bank reports it as a camt.054 credit or as a pain.002 RJCT after the ACSC. A return whose
    report's run has ended starts a new run of it, which parks for finance (here: nothing of the
    payment was booked by finsync, so it says so), rather than being left to investigate."""
    key = uuid.uuid4().hex[:10].upper()
    wf_id = await running_workflow(stack, key)
    by_camt054 = await settled_payment(stack, f"C{key}", wf_id)
    by_pain002 = await settled_payment(stack, f"P{key}", wf_id)
    await returned_by_the_bank(stack, by_camt054, "MS03")
    body = late_rejection(by_pain002)
    bank_secret = stack.settings.webhooks.bank_secrets[0].get_secret_value()
    async with httpx.AsyncClient() as http:
        late = await http.post(f"{stack.gateway_url}/webhooks/bank", content=body,
                               headers=signed(stack, body, secret=bank_secret))
    assert late.status_code == 202, late.text

    for payment, source in ((by_camt054, "camt.054"), (by_pain002, "pain.002")):
        rows = await bank_reports(stack, payment.end_to_end_id, count=3)
        assert sorted((r.state, r.outcome) for r in rows) == [
            ("RETURNED", "delivered"), ("SETTLED", "already decided"), ("SETTLED", "delivered")]
        (returned,) = [r for r in rows if r.state == "RETURNED"]
        assert (returned.source, returned.workflow_id, returned.investigate) == (source, wf_id, False)
    (credit,) = [PaymentStatusReport.model_validate_json(r.report) for r in stack.store.bank_reports(
        by_camt054.end_to_end_id) if r.state == "RETURNED"]
    assert (credit.reason_code, credit.debited) == ("MS03", Money.of("94.39", "USD"))   # back into the USD account
    assert await payment_signals(stack, wf_id, 4) == 4   # per payment: its settlement and its return

    await stack.client.get_workflow_handle(wf_id).terminate("test over")
    after_close = await settled_payment(stack, f"X{key}", wf_id)
    await returned_by_the_bank(stack, after_close, "AC04")
    rows = await bank_reports(stack, after_close.end_to_end_id, count=3)
    assert sorted((r.state, r.outcome, r.investigate) for r in rows) == [
        ("RETURNED", "delivered", False), ("SETTLED", "closed", False), ("SETTLED", "closed", False)]
    handle = stack.client.get_workflow_handle_for(ExpenseReimbursementWorkflow.run, wf_id)
    deadline = asyncio.get_running_loop().time() + 30
    while (snap := await handle.query(ExpenseReimbursementWorkflow.status)).open_exception is None:
        assert asyncio.get_running_loop().time() < deadline, snap.timeline[-3:]
        await asyncio.sleep(0.2)
    assert snap.open_exception.problem.code == "RETURN_NOT_BOOKED"
    assert after_close.end_to_end_id in snap.open_exception.problem.reason
    await handle.terminate("test over")


def hostile_headers(stack: Stack, body: bytes) -> list[dict[str, Any]]:
    """What a scanner sends: each set keeps a real signature where one can be made."""
    now = str(int(time.time()))
    secret = stack.settings.webhooks.expense_secrets[0].get_secret_value()

    def signed_as(msg_id: str, timestamp: str) -> dict[str, Any]:
        return {"webhook-id": msg_id, "webhook-timestamp": timestamp,
                "webhook-signature": sign([secret], msg_id, timestamp, body)}   # type: ignore[arg-type]

    return [
        signed_as("msg_huge_ts", "9" * 400),                      # once an OverflowError: 500
        signed_as("msg_neg_ts", "-1790000000"),
        signed_as("msg_float_ts", f"{now}.5"),
        signed_as("msg_" + "x" * 300, now),
        {**signed_as("msg_latin", now), "webhook-signature": "v1,\xe9\xe9".encode("latin-1")},
        {**signed_as("msg_latin_id", now), "webhook-id": "msg_\xe9".encode("latin-1")},
        {**signed_as("msg_latin_ts", now), "webhook-timestamp": "\xb9\xb2".encode("latin-1")},
        {**signed_as("msg_many", now), "webhook-signature": ("v1,a " * 1000).strip()},
        {**signed_as("msg_v1a", now), "webhook-signature": "v1a,abc v2,def , v1,"},
    ]


async def test_hostile_webhook_headers_are_refused_with_a_4xx_problem_never_a_5xx(stack: Stack):
    report_id = new_report_id()
    body = status_changed(report_id)
    async with httpx.AsyncClient() as http:
        for headers in hostile_headers(stack, body):
            response = await http.post(f"{stack.gateway_url}/webhooks/expense", content=body,
                                       headers={"content-type": "application/json", **headers})
            assert 400 <= response.status_code < 500, (headers, response.status_code, response.text)
            assert_problem(response, response.status_code)
    assert not await workflow_exists(stack, report_id)


@pytest.mark.parametrize("report_id", ["R" * 1200, "../../oauth2/v0/token", "GW1/../GW2", "GW1\u0000x", "GW1?user=ALL"])
async def test_an_id_not_in_the_vendors_format_is_refused_with_422_and_starts_nothing(stack: Stack, report_id: str):
    """A 1,200-character id once gave a 500 (which the vendor retries for 72 hours); one with ../
    started a workflow whose calls went to another Concur path, carrying the token."""
    body = status_changed(report_id)
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{stack.gateway_url}/webhooks/expense", content=body, headers=signed(stack, body))
    assert "facts.reportId" in assert_problem(response, 422, "malformed-event")["detail"]
    assert report_id not in response.text   # the detail names the rule, it does not echo the id
    if len(report_id) < 100:
        assert not await workflow_exists(stack, report_id)


async def test_fifty_simultaneous_deliveries_of_one_webhook_start_and_signal_once(stack: Stack):
    report_id = new_report_id()
    body = status_changed(report_id)
    headers = signed(stack, body)
    async with httpx.AsyncClient(timeout=30) as http:
        answers = await asyncio.gather(*[http.post(f"{stack.gateway_url}/webhooks/expense", content=body,
                                                   headers=headers) for _ in range(50)])
    assert sorted(a.status_code for a in answers) == [200] * 49 + [202]
    assert await history_counts(stack, report_id) == (1, 1)


async def test_a_delivery_that_fails_releases_its_claim_so_the_retry_is_handled(stack: Stack):
    """The first attempt reaches a Temporal that cannot take it (a namespace that does not exist):
    503, and the vendor's retry of the same webhook id, through a working gateway, starts the workflow."""
    report_id = new_report_id()
    body = status_changed(report_id)
    headers = signed(stack, body)
    broken = await Client.connect(stack.client.service_client.config.target_host, namespace="no-such-namespace",
                                  data_converter=data_converter(stack.settings.temporal))
    async with serve(create_gateway(stack.settings, broken, stack.store)) as broken_url, httpx.AsyncClient() as http:
        failed = await http.post(f"{broken_url}/webhooks/expense", content=body, headers=headers)
        retried = await http.post(f"{stack.gateway_url}/webhooks/expense", content=body, headers=headers)
        again = await http.post(f"{stack.gateway_url}/webhooks/expense", content=body, headers=headers)
    assert_problem(failed, 503, "not-delivered")
    assert (retried.status_code, again.status_code, again.json()["outcome"]) == (202, 200, "duplicate")
    assert await history_counts(stack, report_id) == (1, 1)


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/webhooks/expense", 405), ("PUT", "/webhooks/bank", 405), ("GET", "/no/such/endpoint", 404),
    ("POST", "/webhooks", 404),
])
async def test_unknown_endpoints_and_methods_are_answered_with_problem_json(stack: Stack, method, path, status):
    async with httpx.AsyncClient() as http:
        response = await http.request(method, f"{stack.gateway_url}{path}")
    assert_problem(response, status)
    if status == 405:
        assert response.headers["allow"] == "POST"


async def test_the_openapi_document_describes_headers_bodies_and_answers(stack: Stack):
    async with httpx.AsyncClient() as http:
        document = (await http.get(f"{stack.gateway_url}/openapi.json")).json()
    schemas = document["components"]["schemas"]

    def resolve(schema: dict) -> dict:
        return schemas[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema

    for path, body, fields in (("/webhooks/expense", "StatusChangedEvent", {"eventType", "timeStamp", "facts"}),
                               ("/webhooks/bank", "BankNotification", {"type", "data"})):
        operation = document["paths"][path]["post"]
        headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= headers.keys()
        assert all(headers[name]["required"] for name in ("webhook-id", "webhook-timestamp", "webhook-signature"))
        request = resolve(operation["requestBody"]["content"]["application/json"]["schema"])
        assert request["title"] == body and fields <= set(request["required"])
        answers = operation["responses"]
        assert set(resolve(answers["202"]["content"]["application/json"]["schema"])["properties"]) == {"webhook_id", "routed"}
        for status in ("400", "401", "413", "422"):
            problem = resolve(answers[status]["content"]["application/problem+json"]["schema"])
            assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])
    facts = resolve(schemas["StatusChangedEvent"]["properties"]["facts"])
    assert facts["properties"]["reportId"]["pattern"] == "^[A-Za-z0-9]{1,32}$"   # the format rule, published


def gateway_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The gateway's log lines, each as its fields (the message among them)."""
    return [{**vars(r), "message": r.getMessage()} for r in caplog.records
            if r.name == "finsync.gateway" and r.levelno >= logging.INFO]


async def test_each_webhook_gets_one_log_line_with_id_source_outcome_and_correlation(stack: Stack, caplog):
    caplog.set_level(logging.INFO, logger="finsync.gateway")
    report_id, correlation_id = new_report_id(), uuid.uuid4().hex
    body = status_changed(report_id, correlation_id=correlation_id)
    headers = signed(stack, body)
    forged = signed(stack, body, msg_id="msg_forged", secret="whsec_" + "Zm9yZ2VkLXNlY3JldC1mb3ItdGVzdHM=")
    webhook_id, lines = headers["webhook-id"], []
    async with httpx.AsyncClient() as http:
        for attempt in (headers, headers, forged):
            caplog.clear()
            await http.post(f"{stack.gateway_url}/webhooks/expense", content=body, headers=attempt)
            (line,) = [r for r in gateway_lines(caplog) if r["webhook_id"] in (webhook_id, "'msg_forged'")]
            lines.append(line)
    started, duplicate, refused = lines
    fields = ("webhook_id", "source", "outcome", "correlation_id")
    assert [started[f] for f in fields] == [webhook_id, "expense", f"delivered {workflow_id('concur', report_id)}",
                                            correlation_id]
    assert [duplicate[f] for f in fields] == [webhook_id, "expense", "duplicate", correlation_id]
    assert refused["outcome"].startswith("refused 401 bad-signature") and refused["levelno"] == logging.WARNING
    assert refused["webhook_id"] == "'msg_forged'" and refused["correlation_id"]   # not verified: shown quoted
    assert all(line["webhook_id"] in line["message"] and line["outcome"] in line["message"] for line in lines)
    await history_counts(stack, report_id)


async def test_a_vendors_delivery_is_logged_by_its_outbox_and_by_the_gateway(stack: Stack, caplog):
    """One line per delivery attempt at the sending sandbox (id, endpoint, status), one at the gateway."""
    caplog.set_level(logging.INFO, logger="sandboxes.kit.webhooks")
    caplog.set_level(logging.INFO, logger="finsync.gateway")
    report_id = await submit(stack)
    started = f"delivered {workflow_id('concur', report_id)}"
    deadline = asyncio.get_running_loop().time() + 30
    while True:   # the submission's event: delivered by the sandbox, which logs the gateway's 202
        ids = [r["webhook_id"] for r in gateway_lines(caplog) if r["outcome"] == started]
        sent = [r.getMessage() for r in caplog.records if r.name == "sandboxes.kit.webhooks"]
        if ids and f"webhook {ids[0]} to {stack.gateway_url}/webhooks/expense: 202" in sent:
            break
        assert asyncio.get_running_loop().time() < deadline, (ids, sent)
        await asyncio.sleep(0.1)
    assert len(ids) == 1 and sum(ids[0] in line for line in sent) == 1   # one attempt, one line each
    await stack.client.get_workflow_handle(workflow_id("concur", report_id)).terminate("test over")


async def test_s4hanas_confirmation_is_verified_and_acknowledged_by_the_gateway(stack: Stack):
    s4hana = stack.settings.s4hana
    async with httpx.AsyncClient(base_url=s4hana.base_url, auth=(s4hana.user, s4hana.password.get_secret_value())) as sap:
        accepted = await sap.post(ASYNC_PATH, content=soap_request(journal_entry(
            f"payroll:{uuid.uuid4().hex[:8]}:DE01", [("6500", "10.00", "EUR", "CC-4200"), ("2250", "-10.00", "EUR", None)],
            posting_date=date.today().isoformat())))
        assert accepted.status_code == 202

        async def acknowledged() -> dict | None:
            outbox = (await sap.get("/_sandbox/webhooks")).json()
            return outbox if outbox["delivered"] else None

        assert await wait_for(acknowledged, timeout=30) == {"pending": 0, "delivered": 1, "dead": 0, "duplicates_sent": 0}
