"""Listing the reports a sweep looks at: the Concur connector against the sandbox's v3 list over HTTP."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx

from canonical import ApprovalStatus, PaymentStatus, ReportStatusChanged
from connectors.concur.client import V3_PAGE_SIZE
from sandboxes.concur.driver import Expense
from tests.connectors import test_concur_connector
from tests.connectors.test_concur_connector import World

world = test_concur_connector.world   # the sandbox on a port, a connector and a driver on it

DINNER = [Expense("DINNR", "45.10", "USD", date(2026, 11, 3), vendor="Borchardt")]


async def report(world: World, state: str) -> str:
    """A report of E1001's left in ``state``: draft, submitted, released, approved or sent back."""
    report_id = await world.driver.create_report("E1001", f"{state} dinner", "USD", DINNER)
    if state == "draft":
        return report_id
    await world.driver.submit("E1001", report_id)
    if state == "sent back":
        await world.client.send_back(report_id, "receipt missing")
    if state in ("released", "approved"):
        await world.client.pass_validation(report_id, "Passed finsync policy check")
    if state == "approved":
        await world.driver.approve_as_manager("E1000", report_id)
    return report_id


async def listed(world: World, since: datetime | None, page_size: int = V3_PAGE_SIZE) -> list[ReportStatusChanged]:
    return [event async for event in world.client.changed_reports(since, page_size=page_size)]


async def test_the_list_holds_reports_waiting_for_a_decision_or_payment_and_nothing_else(world: World):
    waiting = {await report(world, "submitted"): ApprovalStatus.PENDING_VALIDATION,
               await report(world, "released"): ApprovalStatus.PENDING_APPROVAL,
               await report(world, "approved"): ApprovalStatus.APPROVED}
    for state in ("draft", "sent back"):
        await report(world, state)
    changes = await listed(world, None)
    assert {e.report_id: e.approval_status for e in changes} == waiting
    approved = next(e for e in changes if e.approval_status is ApprovalStatus.APPROVED)
    assert approved.payment_status is PaymentStatus.NOT_PAID and approved.previous_approval_status is None


async def test_every_page_is_read_and_each_report_listed_once(world: World):
    reports = {await report(world, "submitted") for _ in range(5)}
    changes = await listed(world, None, page_size=2)
    assert sorted(e.report_id for e in changes) == sorted(reports)


async def test_the_same_state_read_twice_is_the_same_event_stamped_with_the_platform_s_time(world: World):
    report_id = await report(world, "submitted")
    first, second = await listed(world, None), await listed(world, None)
    assert [e.event_id for e in first] == [e.event_id for e in second]
    async with httpx.AsyncClient() as http:   # the v3 read names the same modification time
        token = await world.driver.token()
        row = (await http.get(f"{world.url}/api/v3.0/expense/reports/{report_id}", params={"user": "ALL"},
                              headers={"Authorization": f"Bearer {token}"})).json()
    assert first[0].occurred_at.isoformat(timespec="milliseconds").replace("+00:00", "Z") == row["LastModifiedDate"]
    await world.client.pass_validation(report_id, "Passed finsync policy check")
    moved = await listed(world, None)
    assert moved[0].event_id != first[0].event_id and moved[0].occurred_at > first[0].occurred_at


async def test_only_reports_changed_after_since_are_listed(world: World):
    earlier = await report(world, "submitted")
    cut = (await listed(world, None))[0].occurred_at
    later = await report(world, "submitted")
    assert [e.report_id for e in await listed(world, cut)] == [later]
    assert {e.report_id for e in await listed(world, cut - timedelta(seconds=1))} == {earlier, later}


async def test_without_user_all_a_company_token_sees_no_reports_and_a_bad_limit_is_refused(world: World):
    await report(world, "submitted")
    token = await world.driver.token()
    async with httpx.AsyncClient(base_url=world.url, headers={"Authorization": f"Bearer {token}"}) as http:
        own = (await http.get("/api/v3.0/expense/reports")).json()
        refused = await http.get("/api/v3.0/expense/reports", params={"user": "ALL", "limit": 1000})
        bad_date = await http.get("/api/v3.0/expense/reports", params={"user": "ALL", "modifiedDateAfter": "soon"})
    assert own == {"Items": [], "NextPage": None}
    assert refused.status_code == 400 and "limit" in refused.json()["errorMessage"]
    assert bad_date.status_code == 400 and "modifiedDateAfter" in bad_date.json()["errorMessage"]
