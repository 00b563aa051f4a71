"""The Concur connector against the Concur sandbox over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from canonical import (
    ApprovalStatus,
    Money,
    PaymentState,
    PaymentStatus,
    PaymentStatusReport,
    PostedJournal,
)
from connectors.concur import ConcurClient, parse_status_changed
from connectors.errors import (
    AmbiguousWriteError,
    BusinessRuleError,
    RateLimitedError,
    TransientVendorError,
    VendorRejectedError,
)
from finsync.config import ExpenseVendorSettings
from sandboxes.concur import create_app
from sandboxes.concur.driver import ConcurDriver, Expense
from tests.support.servers import serve

TRIP = [
    Expense("AIRFR", "525.00", "USD", date(2026, 11, 2), vendor="United", purpose="Client visit"),
    Expense("LODNG", "238.00", "EUR", date(2026, 11, 3), vendor="Hotel Adlon", tax_code="DE19",
            cost_center="CC-2000"),
    Expense("DINNR", "45.10", "USD", date(2026, 11, 3), vendor="Borchardt", receipt=False),
]

# The reference's sample event (vendor-apis.md §1), with its elided ids filled in.
USER = "32c2fcc3-6e5a-4b1f-9a43-0f2d8e7b5c11"
SAMPLE_EVENT: dict[str, Any] = {
    "id": "0490b3fb-5a1e-4d7c-9d3e-1d2f8c6b7a90", "correlationId": "7e38c2b0a1d94f6e8b5a", "eventType": "statusChanged",
    "topic": "public.concur.expense.report", "subtopic": "company-1", "timeStamp": "2021-03-18T23:11:51.034Z",
    "facts": {"companyId": "company-1", "reportId": "57EE1FDA348046E8A08B", "userId": USER, "actingUserId": None,
              "stepCode": None, "previousApprovalStatus": "A_NOTF", "currentApprovalStatus": "A_PEND",
              "previousPaymentStatus": "P_NOTP", "currentPaymentStatus": "P_NOTP",
              "href": f"https://us.api.concursolutions.com/expensereports/v4/users/{USER}/context/TRAVELER/reports/57EE"},
}


@dataclass
class World:
    url: str
    client: ConcurClient
    driver: ConcurDriver


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with serve(create_app(tmp_path / "concur.db")) as url:
        client = ConcurClient.from_settings(ExpenseVendorSettings(base_url=url))
        async with ConcurDriver(url) as driver:
            yield World(url, client, driver)
        await client.aclose()


async def submitted(world: World) -> str:
    report_id = await world.driver.create_report("E1001", "Berlin client visit", "USD", TRIP, cost_center="CC-1000",
                                                 report_date=date(2026, 11, 5))
    await world.driver.submit("E1001", report_id)
    return report_id


async def approved(world: World) -> str:
    report_id = await submitted(world)
    await world.client.pass_validation(report_id, "Passed finsync policy check")
    await world.driver.approve_as_manager("E1000", report_id)
    return report_id


def posted_journal(amount: str = "808.48") -> PostedJournal:
    return PostedJournal(external_id="expense-R1:journal", erp_id="JE-77", document_number="JE-1001", entity="US01",
                         posting_date=date(2026, 11, 20), amount=Money.of(amount, "USD"))


def settled(amount: str = "808.48") -> PaymentStatusReport:
    return PaymentStatusReport(message_id="MSG-1", end_to_end_id="E2E-R1", state=PaymentState.SETTLED,
                               bank_status_code="ACSC", amount=Money.of(amount, "USD"),
                               booking_date=date(2026, 11, 21), bank_reference="BANK-REF-1")


async def test_report_maps_to_canonical_with_exact_amounts(world: World) -> None:
    report_id = await submitted(world)
    report = await world.client.get_report(report_id)

    assert (report.report_id, report.source_system, report.employee_id, report.approver_id) == (
        report_id, "concur", "E1001", "E1000")
    assert report.cost_center == "CC-1000" and report.currency == "USD" and report.version == 1
    assert report.approval_status is ApprovalStatus.PENDING_VALIDATION
    assert report.payment_status is PaymentStatus.NOT_PAID
    assert report.report_date == date(2026, 11, 5) and report.submitted_at is not None

    air, hotel, dinner = report.lines
    assert (air.category, air.amount, air.merchant, air.receipt_present) == (
        "AIRFARE", Money.of("525.00", "USD"), "United", True)
    assert hotel.category == "LODGING" and hotel.amount == Money.of("238.00", "EUR")
    assert hotel.reclaimable_tax == Money.of("38.00", "EUR")
    assert hotel.cost_center == "CC-2000" and report.line_cost_center(hotel) == "CC-2000"
    assert hotel.posted_amount is not None and hotel.posted_amount.currency == "USD"
    assert dinner.category == "MEALS" and dinner.receipt_present is False and dinner.cost_center is None
    assert isinstance(dinner.amount.amount, Decimal) and str(dinner.amount.amount) == "45.10"
    assert report.reimbursement_total == Money.of(Decimal("570.10") + hotel.posted_amount.amount, "USD")


async def test_claim_twice_returns_the_same_document_then_posting_and_payment_are_confirmed(world: World) -> None:
    report_id = await approved(world)
    first = await world.client.claim_for_posting(report_id)
    again = await world.client.claim_for_posting(report_id)
    assert first.posting_ref == again.posting_ref
    assert first.report.approval_status is ApprovalStatus.APPROVED

    total = str(first.report.reimbursement_total.amount)
    await world.client.confirm_posting(first, posted_journal(total))
    await world.client.confirm_posting(first, posted_journal(total))  # a retried confirmation is harmless
    assert (await world.client.get_report(report_id)).payment_status is PaymentStatus.PROCESSING
    await world.client.confirm_payment(first, settled(total))
    assert (await world.client.get_report(report_id)).payment_status is PaymentStatus.PAID


async def test_a_claim_whose_answer_was_lost_is_found_again(world: World) -> None:
    report_id = await approved(world)
    async with httpx.AsyncClient(base_url=world.url) as http:
        await http.put("/_sandbox/faults", json={"ambiguous_rate": 1.0, "path_pattern": "acknowledgements"})
        with pytest.raises(AmbiguousWriteError):
            await world.client.claim_for_posting(report_id)   # acknowledged, but the answer never came
        await http.put("/_sandbox/faults", json={})
    claim = await world.client.claim_for_posting(report_id)
    assert claim.report.report_id == report_id and claim.posting_ref


async def test_pass_validation_is_idempotent(world: World) -> None:
    report_id = await submitted(world)
    await world.client.pass_validation(report_id, "Passed finsync policy check")
    await world.client.pass_validation(report_id, "Passed finsync policy check")  # answer lost, retried
    assert (await world.client.get_report(report_id)).approval_status is ApprovalStatus.PENDING_APPROVAL


async def test_a_retried_release_looks_first_and_does_not_approve_for_the_manager(world: World) -> None:
    report_id = await submitted(world)
    await world.client.pass_validation(report_id, "Passed finsync policy check")
    sent: list[str] = []
    world.client._http.event_hooks["request"].append(lambda request: _record(sent, request))
    await world.client.pass_validation(report_id, "Passed finsync policy check", lookup_first=True)
    assert not any(line.startswith("PATCH") for line in sent)   # found released: nothing sent again
    assert (await world.client.get_report(report_id)).approval_status is ApprovalStatus.PENDING_APPROVAL


async def _record(sent: list[str], request: httpx.Request) -> None:
    sent.append(f"{request.method} {request.url.path}")


async def test_the_owner_named_by_an_event_spares_the_owner_lookup(world: World) -> None:
    report_id = await submitted(world)
    owner = (await world.client.get_report(report_id)).owner_ref
    assert owner
    fresh = ConcurClient.from_settings(ExpenseVendorSettings(base_url=world.url))
    sent: list[str] = []
    fresh._http.event_hooks["request"].append(lambda request: _record(sent, request))
    try:
        report = await fresh.get_report(report_id, owner)
        assert report.report_id == report_id and report.employee_id == "E1001"
        assert not any("/api/v3.0/" in line for line in sent)
        # A wrong owner (say, from a stale event) costs the lookup, not the report.
        other = ConcurClient.from_settings(ExpenseVendorSettings(base_url=world.url))
        try:
            assert (await other.get_report(report_id, "no-such-user")).employee_id == "E1001"
        finally:
            await other.aclose()
    finally:
        await fresh.aclose()


async def test_send_back_reaches_the_employee(world: World) -> None:
    report_id = await submitted(world)
    reason = "The dinner on 3 Nov has no receipt; attach it and resubmit."
    await world.client.send_back(report_id, reason)
    await world.client.send_back(report_id, reason)  # answer lost, retried: already with the employee
    assert (await world.client.get_report(report_id)).approval_status is ApprovalStatus.RETURNED
    seen_by_employee = await world.driver.read_report("E1001", report_id)
    assert [c["comment"] for c in seen_by_employee["comments"]] == [reason]
    assert seen_by_employee["isSentBack"] is True


async def test_send_back_of_an_approved_report_is_a_business_rule_error(world: World) -> None:
    report_id = await approved(world)
    with pytest.raises(BusinessRuleError) as refused:
        await world.client.send_back(report_id, "Missing receipt")
    assert not isinstance(refused.value, VendorRejectedError)
    assert refused.value.problem.code == "REPORT_ALREADY_APPROVED"
    assert "already approved" in refused.value.problem.reason and report_id in refused.value.problem.reason


async def test_recall_after_claim_is_seen_and_refuses_the_posting_confirmation(world: World) -> None:
    report_id = await approved(world)
    claim = await world.client.claim_for_posting(report_id)
    await world.driver.recall("E1001", report_id, "Wrong hotel invoice")
    assert (await world.client.get_report(report_id)).approval_status is ApprovalStatus.RECALLED
    with pytest.raises(BusinessRuleError) as refused:
        await world.client.confirm_posting(claim, posted_journal())
    assert refused.value.problem.code == "REPORT_RECALLED"


async def test_unknown_report_is_a_business_rule_error(world: World) -> None:
    with pytest.raises(BusinessRuleError) as refused:
        await world.client.get_report("0000000000000000DEAD")
    assert refused.value.problem.code == "REPORT_NOT_FOUND"


async def test_429_becomes_rate_limited_with_the_vendors_retry_after(world: World) -> None:
    report_id = await submitted(world)
    async with httpx.AsyncClient(base_url=world.url) as http:
        await http.put("/_sandbox/faults", json={"rate_limit_rate": 1.0, "retry_after_seconds": 7,
                                                 "path_pattern": "reports"})
    with pytest.raises(RateLimitedError) as limited:
        await world.client.get_report(report_id)
    assert limited.value.retry_after == 7


async def test_subscribe_webhook_registers_with_ess(world: World) -> None:
    await world.client.subscribe_webhook("http://127.0.0.1:8700/webhooks/expense")
    await world.client.subscribe_webhook("http://127.0.0.1:8700/webhooks/expense")  # a PUT: no duplicate
    async with httpx.AsyncClient(base_url=world.url) as http:
        token = (await http.post("/oauth2/v0/token", data={
            "grant_type": "client_credentials", "client_id": "finsync", "client_secret": "sandbox-secret"})).json()
        subs = (await http.get("/events/v4/subscriptions",
                               headers={"Authorization": f"Bearer {token['access_token']}"})).json()
    assert [s["webHookConfig"]["endpoint"] for s in subs] == ["http://127.0.0.1:8700/webhooks/expense"]


def test_parse_status_changed_reads_the_reference_sample() -> None:
    event = parse_status_changed(json.dumps(SAMPLE_EVENT).encode(), "msg-1", "corr-1")
    assert (event.event_id, event.source_system, event.report_id) == ("msg-1", "concur", "57EE1FDA348046E8A08B")
    assert event.approval_status is ApprovalStatus.PENDING_APPROVAL
    assert event.previous_approval_status is ApprovalStatus.DRAFT
    assert event.payment_status is PaymentStatus.NOT_PAID
    assert event.occurred_at == datetime(2021, 3, 18, 23, 11, 51, 34000, tzinfo=UTC)
    assert event.correlation_id == "corr-1"
    assert event.owner_ref == USER
    assert parse_status_changed(json.dumps(SAMPLE_EVENT).encode(), "msg-1", None).correlation_id == \
        "7e38c2b0a1d94f6e8b5a"


def test_parse_status_changed_tells_a_recall_from_a_send_back() -> None:
    def moved_back(step: str) -> ApprovalStatus:
        sample = {**SAMPLE_EVENT, "facts": {**SAMPLE_EVENT["facts"], "stepCode": step,
                                            "previousApprovalStatus": "A_APPR", "currentApprovalStatus": "A_RESU"}}
        return parse_status_changed(json.dumps(sample).encode(), "msg-2", None).approval_status
    assert moved_back("RECALL") is ApprovalStatus.RECALLED
    assert moved_back("SENDBACK") is ApprovalStatus.RETURNED


@pytest.mark.parametrize(("body", "message"), [
    (b'{"eventType": "statusChanged", "facts": {', "not valid JSON"),
    (b'["statusChanged"]', "not a JSON object"),
    (json.dumps({**SAMPLE_EVENT, "eventType": "reportDeleted"}).encode(), "statusChanged"),
    (json.dumps({k: v for k, v in SAMPLE_EVENT.items() if k != "facts"}).encode(), "facts: Field required"),
    (json.dumps({**SAMPLE_EVENT, "facts": {**SAMPLE_EVENT["facts"], "reportId": None}}).encode(), "reportId"),
    (json.dumps({**SAMPLE_EVENT, "timeStamp": "yesterday"}).encode(), "timeStamp"),
])
def test_parse_status_changed_refuses_malformed_events(body: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_status_changed(body, "msg-3", None)


def with_facts(**facts: object) -> bytes:
    return json.dumps({**SAMPLE_EVENT, "facts": {**SAMPLE_EVENT["facts"], **facts}}).encode()


@pytest.mark.parametrize("report_id", ["R" * 1200, "../../oauth2/v0/token", "57EE/../x", "57EE\u0000", "57EE?user=ALL",
                                       "57EE#x", "", " 57EE", "57ÉE", 57])
def test_a_report_id_not_in_concurs_format_is_refused_before_anything_uses_it(report_id: object) -> None:
    """It would become a workflow id (Temporal refuses 1,000+ bytes) and a segment of vendor paths."""
    with pytest.raises(ValueError, match="facts.reportId"):
        parse_status_changed(with_facts(reportId=report_id), "msg-4", None)


@pytest.mark.parametrize("user_id", ["user-1", "../" + USER, USER + "/x", USER[:-1] + "\u0000", "x" * 2000])
def test_a_user_id_that_is_not_a_concur_uuid_is_refused(user_id: str) -> None:
    with pytest.raises(ValueError, match="facts.userId"):
        parse_status_changed(with_facts(userId=user_id), "msg-5", None)


def test_the_documented_id_formats_are_taken() -> None:
    event = parse_status_changed(with_facts(reportId="764428DD6A664AF0BFCB", userId=USER.upper()), "msg-6", None)
    assert (event.report_id, event.owner_ref) == ("764428DD6A664AF0BFCB", USER.upper())


@pytest.mark.parametrize("correlation", ["x\r\nSet-Cookie: a=b", "c" * 65, {"id": 1}, 42, ""])
def test_an_unusable_correlation_id_is_replaced_by_the_delivery_id_not_refused(correlation: object) -> None:
    """It travels on in vendor request headers and logs; the event itself is fine."""
    body = json.dumps({**SAMPLE_EVENT, "correlationId": correlation}).encode()
    assert parse_status_changed(body, "msg-7", None).correlation_id == "msg-7"


async def test_a_login_from_the_vendor_is_quoted_in_the_directory_filter_never_pasted() -> None:
    """SCIM filters take JSON string literals: a quote in the login cannot widen the filter."""
    login = 'eve" or userName pr or userName eq "x'
    filters: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v0/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        if request.url.path.startswith("/api/v3.0/expense/reports/"):
            return httpx.Response(200, json={"ID": "R1", "OwnerLoginID": login})
        filters.append(request.url.params["filter"])
        return httpx.Response(200, json={"Resources": []})

    client = ConcurClient("https://concur.example", client_id="finsync", client_secret="s",
                          transport=httpx.MockTransport(answer))
    try:
        with pytest.raises(BusinessRuleError):
            await client.get_report("R1")
    finally:
        await client.aclose()
    assert filters == ['userName eq "eve\\" or userName pr or userName eq \\"x"']


async def test_a_token_endpoint_that_cannot_be_reached_is_retried_as_transient() -> None:
    """No traceback from the HTTP library: one line naming the token request, and Temporal retries."""
    client = ConcurClient("http://127.0.0.1:9", client_id="finsync", client_secret="x")   # nothing listens on 9
    try:
        with pytest.raises(TransientVendorError, match="token request to http://127.0.0.1:9/oauth2/v0/token failed"):
            await client.get_report("R1")
    finally:
        await client.aclose()
