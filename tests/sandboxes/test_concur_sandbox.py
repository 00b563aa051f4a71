"""The Concur sandbox over real HTTP: OAuth, the report workflow, FI queue, ESS webhooks, faults."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from finsync.config import WebhookSettings
from sandboxes.concur import create_app
from sandboxes.concur.driver import ConcurDriver, DriverError, Expense
from tests.support.servers import serve

EXPENSE_SECRET = WebhookSettings().expense_secrets[0].get_secret_value()
FI = "/financialintegration/fi/v4/companies/transactiontypes/expense/transactions"
FAST_RETRIES = [0.2] * 10


@dataclass
class Delivery:
    hook: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """Webhook endpoints ``/hooks/{name}`` that record deliveries and answer scripted statuses."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.scripts: dict[str, list[int]] = {}
        self.app = FastAPI()

        @self.app.post("/hooks/{name}")
        async def hook(name: str, request: Request) -> Response:
            self.deliveries.append(Delivery(name, dict(request.headers), await request.body()))
            script = self.scripts.get(name) or []
            return Response(status_code=script.pop(0) if script else 200)

    def of(self, name: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.hook == name]


def verify_standard_webhook(delivery: Delivery, secret: str, tolerance: int = 300) -> bool:
    """Standard Webhooks v1 check, written from the spec (not the sandbox's signer)."""
    msg_id, timestamp = delivery.headers["webhook-id"], delivery.headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + delivery.body,
                                         hashlib.sha256).digest()).decode()
    return any(sig.startswith("v1,") and hmac.compare_digest(sig[3:], expected)
               for sig in delivery.headers["webhook-signature"].split())


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hooks = Receiver()
    async with serve(hooks.app) as url:
        yield hooks, url


@pytest.fixture
async def concur(tmp_path: Path) -> AsyncIterator[str]:
    async with serve(create_app(tmp_path / "concur.db", webhook_schedule=FAST_RETRIES)) as url:
        yield url


async def bearer(http: httpx.AsyncClient) -> dict[str, str]:
    response = await http.post("/oauth2/v0/token", data={
        "grant_type": "client_credentials", "client_id": "finsync", "client_secret": "sandbox-secret"})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def subscribe(http: httpx.AsyncClient, headers: dict[str, str], endpoint: str, name: str = "finsync") -> None:
    response = await http.put("/events/v4/subscriptions/webhook", headers=headers, json={
        "id": name, "filter": ".*", "topic": "public.concur.expense.report", "webHookConfig": {"endpoint": endpoint}})
    assert response.status_code == 200, response.text


TRIP = [
    Expense("AIRFR", "525.00", "USD", date(2026, 11, 2), vendor="United", purpose="Client visit"),
    Expense("LODNG", "238.00", "EUR", date(2026, 11, 3), vendor="Hotel Adlon", tax_code="DE19",
            cost_center="CC-2000"),
]


async def submitted_report(driver: ConcurDriver, employee: str = "E1001") -> str:
    report_id = await driver.create_report(employee, "Berlin client visit", "USD", TRIP, cost_center="CC-1000")
    await driver.submit(employee, report_id)
    return report_id


async def approved_report(driver: ConcurDriver, http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    report_id = await submitted_report(driver)
    response = await http.patch(f"/expensereports/v4/reports/{report_id}/approve", headers=headers,
                                json={"comment": "Policy check passed", "reportSource": "OTHER"})
    assert response.status_code == 204, response.text
    await driver.approve_as_manager("E1000", report_id)
    return report_id


async def test_token_is_concur_shaped_and_every_route_needs_one(concur: str) -> None:
    async with httpx.AsyncClient(base_url=concur) as http:
        token = (await http.post("/oauth2/v0/token", data={
            "grant_type": "client_credentials", "client_id": "finsync", "client_secret": "sandbox-secret"})).json()
        assert token["expires_in"] == "3600" and token["token_type"] == "Bearer"
        assert token["geolocation"] == concur and token["refresh_token"]

        refreshed = await http.post("/oauth2/v0/token", data={
            "grant_type": "refresh_token", "client_id": "finsync", "client_secret": "sandbox-secret",
            "refresh_token": token["refresh_token"]})
        assert refreshed.status_code == 200

        wrong = await http.post("/oauth2/v0/token", data={
            "grant_type": "client_credentials", "client_id": "finsync", "client_secret": "guess"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"

        anonymous = await http.get("/profile/identity/v4/Users", headers={"concur-correlationid": "trace-42"})
        assert anonymous.status_code == 401
        assert anonymous.json()["httpStatus"] == "401 - Unauthorized"
        assert anonymous.headers["concur-correlationid"] == "trace-42"

        headers = {"Authorization": f"Bearer {token['access_token']}"}
        users = (await http.get("/profile/identity/v4/Users", headers=headers,
                                params={"filter": 'employeeNumber eq "E1001"'})).json()["Resources"]
        enterprise = users[0]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
        assert enterprise["employeeNumber"] == "E1001"
        manager = (await http.get(f"/profile/identity/v4/Users/{enterprise['manager']['value']}", headers=headers)).json()
        assert manager["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"] == "E1000"


async def test_workflow_emits_signed_status_changed_webhooks(concur: str, receiver: tuple[Receiver, str]) -> None:
    hooks, hooks_url = receiver
    async with httpx.AsyncClient(base_url=concur) as http, ConcurDriver(concur) as driver:
        headers = await bearer(http)
        await subscribe(http, headers, f"{hooks_url}/hooks/gateway")
        report_id = await submitted_report(driver)

        report = await driver.read_report("E1001", report_id)
        assert report["approvalStatusId"] == "A_EXTV" and report["reportVersion"] == 1
        assert await driver.manager_queue("E1000") == []   # not before the policy check passed

        raw = (await http.get(f"/expensereports/v4/users/{report['userId']}/context/TRAVELER/reports/{report_id}"
                              "/expenses", headers=headers)).text
        assert '"transactionAmount":{"value":525.00,"currencyCode":"USD"}' in raw
        assert '"reclaimableAmount":{"value":38.00,"currencyCode":"EUR"}' in raw  # 238.00 gross at 19 %

        passed = await http.patch(f"/expensereports/v4/reports/{report_id}/approve",
                                  headers={**headers, "concur-correlationid": "corr-policy-check"},
                                  json={"comment": "Policy check passed", "statusId": "A_EXTV"})
        assert passed.status_code == 204
        assert [r["reportId"] for r in await driver.manager_queue("E1000")] == [report_id]
        await driver.approve_as_manager("E1000", report_id)

        await eventually(lambda: len(hooks.deliveries) == 3)
    moves = [(d.event["facts"]["previousApprovalStatus"], d.event["facts"]["currentApprovalStatus"],
              d.event["facts"]["stepCode"]) for d in hooks.deliveries]
    assert sorted(moves) == sorted([("A_NOTF", "A_EXTV", None), ("A_EXTV", "A_PEND", "EXTVAL"),
                                    ("A_PEND", "A_APPR", None)])
    validated = next(d.event for d in hooks.deliveries if d.event["facts"]["stepCode"] == "EXTVAL")
    assert validated["correlationId"] == "corr-policy-check"  # the call that caused it
    for delivery in hooks.deliveries:
        assert verify_standard_webhook(delivery, EXPENSE_SECRET)
        assert not verify_standard_webhook(delivery, "whsec_" + base64.b64encode(b"x" * 32).decode())
        assert delivery.headers["webhook-id"] == delivery.event["id"]
        assert delivery.headers["concur-signature"]
        event = delivery.event
        assert event["eventType"] == "statusChanged" and event["topic"] == "public.concur.expense.report"
        assert event["facts"]["reportId"] == report_id and event["facts"]["href"].endswith(report_id)


async def test_fi_queue_pages_and_acknowledges_once(concur: str) -> None:
    async with httpx.AsyncClient(base_url=concur) as http, ConcurDriver(concur) as driver:
        headers = await bearer(http)
        reports = [await approved_report(driver, http, headers) for _ in range(3)]

        first = (await http.get(FI, params={"limit": 2, "page": 0}, headers=headers)).json()
        assert first["page"] == {"size": 2, "totalElements": 3, "totalPages": 2, "number": 0}
        assert {link["rel"] for link in first["links"]} == {"first", "self", "next", "last"}
        second = (await http.get(next(link["href"] for link in first["links"] if link["rel"] == "next"),
                                 headers=headers)).json()
        assert second["page"]["number"] == 1 and len(second["content"]) == 1
        items = first["content"] + second["content"]
        assert [json.loads(item["document"])["reportId"] for item in items] == reports
        assert all(item["docStatus"] == "READY" and item["docType"] == "EXPENSE" for item in items)

        doc_id = items[0]["id"]
        ack = (await http.post(f"{FI}/acknowledgements", json={"ids": [doc_id]}, headers=headers)).json()
        assert ack == [{"id": doc_id, "code": 0, "message": "Acknowledged", "acknowledgeResult": "SUCCESS"}]
        again = (await http.post(f"{FI}/acknowledgements", json={"ids": [doc_id]}, headers=headers)).json()
        assert again[0]["code"] == 101

        ready = (await http.get(FI, headers=headers)).json()
        assert doc_id not in [item["id"] for item in ready["content"]] and ready["page"]["totalElements"] == 2
        taken = (await http.get(FI, params={"docStatus": "ACKNOWLEDGED"}, headers=headers)).json()
        assert [item["id"] for item in taken["content"]] == [doc_id]


async def test_confirmations_mark_the_report_posted_then_paid(concur: str, receiver: tuple[Receiver, str]) -> None:
    hooks, hooks_url = receiver
    async with httpx.AsyncClient(base_url=concur) as http, ConcurDriver(concur) as driver:
        headers = await bearer(http)
        report_id = await approved_report(driver, http, headers)
        await subscribe(http, headers, f"{hooks_url}/hooks/gateway")
        doc_id = (await http.get(FI, headers=headers)).json()["content"][0]["id"]
        await http.post(f"{FI}/acknowledgements", json={"ids": [doc_id]}, headers=headers)

        posting: dict[str, Any] = {"systemId": "erp", "postingConfirmations": [{
            "docId": doc_id, "overallPostingStatusCode": "success",
            "postingDocs": [{"companyId": "US01", "documentNumber": "JE-1001", "fiscalYear": "2026"}]}]}
        for _ in range(2):  # the same confirmation twice is still a success
            result = (await http.post(f"{FI}/postingconfirmations", json=posting, headers=headers)).json()
            assert result[0]["code"] == 0 and result[0]["postingConfirmationResult"] == "SUCCESS"
        assert (await driver.read_report("E1001", report_id))["paymentStatusId"] == "P_PROC"
        posting["postingConfirmations"][0]["postingDocs"][0]["documentNumber"] = "JE-9999"
        conflict = (await http.post(f"{FI}/postingconfirmations", json=posting, headers=headers)).json()
        assert conflict[0]["code"] == 104

        payment = {"systemId": "bank", "processingConfirmation": [{
            "docId": doc_id, "processingStatusCode": "CP", "clearingDetails": [{
                "clearingDate": "2026-11-20T12:00:00Z", "clearingAmount": 782.28, "clearingCurrency": "USD",
                "receiver": {"receiverId": "E1001", "receiverName": "Jordan Lee", "receiverType": "EMPLOYEE"},
                "clearingReference": {"companyCode": "US01", "financialDocumentId": "PAY-1",
                                      "fiscalYear": "2026", "paymentRef": "E2E-1", "paymentMethod": "E"}}]}]}
        for _ in range(2):
            result = (await http.post(f"{FI}/paymentconfirmations", json=payment, headers=headers)).json()
            assert result[0]["code"] == 0
        assert (await driver.read_report("E1001", report_id))["paymentStatusId"] == "P_PAID"
        with pytest.raises(DriverError, match="already been paid"):
            await driver.recall("E1001", report_id)

        await eventually(lambda: len(hooks.deliveries) == 2)
    steps = [(d.event["facts"]["currentPaymentStatus"], d.event["facts"]["stepCode"]) for d in hooks.deliveries]
    assert sorted(steps, key=str) == sorted([("P_PROC", None), ("P_PAID", "PAIDREPORT")], key=str)


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "concur.db"
    async with serve(create_app(db)) as url, httpx.AsyncClient(base_url=url) as http:
        headers = await bearer(http)
        async with ConcurDriver(url) as driver:
            report_id = await submitted_report(driver)
            user_id = await driver.user_id("E1001")
    async with serve(create_app(db)) as url, httpx.AsyncClient(base_url=url) as http:
        # the token from before the restart is still good, and the report is where it was
        response = await http.get(f"/expensereports/v4/users/{user_id}/context/TRAVELER/reports/{report_id}",
                                  headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["approvalStatusId"] == "A_EXTV"
        users = (await http.get("/profile/identity/v4/Users", headers=headers)).json()
        assert users["totalResults"] == 11  # seeded once, not again


async def test_refusals_and_rate_limits_have_concur_bodies(concur: str) -> None:
    async with httpx.AsyncClient(base_url=concur) as http, ConcurDriver(concur) as driver:
        headers = await bearer(http)
        report_id = await approved_report(driver, http, headers)

        refused = await http.patch(f"/expensereports/v4/reports/{report_id}/sendBack", headers=headers,
                                   json={"comment": "Missing receipt"})
        assert refused.status_code == 409
        body = refused.json()
        assert set(body) == {"errorId", "errorMessage", "httpStatus", "path", "timestamp", "validationErrors"}
        assert "Approved (A_APPR)" in body["errorMessage"] and body["httpStatus"] == "409 - Conflict"
        assert body["path"] == f"/expensereports/v4/reports/{report_id}/sendBack"

        # A repeated approval meant for the validation step must not approve for the manager.
        waiting = await submitted_report(driver)
        for expected in (204, 409):
            response = await http.patch(f"/expensereports/v4/reports/{waiting}/approve", headers=headers,
                                        json={"comment": "Policy check passed", "statusId": "A_EXTV"})
            assert response.status_code == expected
        assert (await driver.read_report("E1001", waiting))["approvalStatusId"] == "A_PEND"

        invalid = await http.post(f"/expensereports/v4/users/{await driver.user_id('E1001')}/context/TRAVELER"
                                  "/reports", headers=headers, json={"name": "No currency"})
        assert invalid.status_code == 400
        assert invalid.json()["validationErrors"][0]["source"] == "currencyCode"

        configured = await http.put("/_sandbox/faults", json={"rate_limit_rate": 1.0, "retry_after_seconds": 7})
        assert configured.status_code == 200
        limited = await http.get("/profile/identity/v4/Users", headers=headers)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
        assert limited.json()["error"] == {"id": "security.rate.limit.reached", "message": "Too many requests"}
        assert limited.headers["concur-correlationid"]
        await http.put("/_sandbox/faults", json={})
        assert (await http.get("/profile/identity/v4/Users", headers=headers)).status_code == 200


async def test_delivery_is_retried_after_503_but_not_after_400(concur: str, receiver: tuple[Receiver, str]) -> None:
    hooks, hooks_url = receiver
    hooks.scripts = {"flaky": [503, 503], "picky": [400]}
    async with httpx.AsyncClient(base_url=concur) as http, ConcurDriver(concur) as driver:
        headers = await bearer(http)
        await subscribe(http, headers, f"{hooks_url}/hooks/flaky", name="flaky")
        await subscribe(http, headers, f"{hooks_url}/hooks/picky", name="picky")
        await submitted_report(driver)

        await eventually(lambda: len(hooks.of("flaky")) == 3)
        await asyncio.sleep(1.0)  # several retry periods: the 400 must not have been retried
        assert len(hooks.of("flaky")) == 3 and len(hooks.of("picky")) == 1
        assert len({d.headers["webhook-id"] for d in hooks.of("flaky")}) == 1  # the same message each time
        outbox = (await http.get("/_sandbox/webhooks")).json()
        assert outbox["delivered"] == 1 and outbox["dead"] == 1 and outbox["pending"] == 0


async def test_without_external_validation_a_submitted_report_goes_straight_to_the_manager(tmp_path: Path) -> None:
    async with serve(create_app(tmp_path / "concur.db", external_validation=False)) as url, \
            ConcurDriver(url) as driver:
        report_id = await submitted_report(driver)
        assert (await driver.read_report("E1001", report_id))["approvalStatusId"] == "A_PEND"
        assert [r["reportId"] for r in await driver.manager_queue("E1000")] == [report_id]
        assert await driver.manager_queue("E2000") == []
