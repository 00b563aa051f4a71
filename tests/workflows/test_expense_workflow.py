"""Expense workflow logic on the time-skipping server, against a scripted outside world."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError

from canonical import ApprovalStatus, Side
from tests.workflows.harness import running
from tests.workflows.world import CLOSED_ACCOUNT, GOOD_ACCOUNT, OWNER_REF, World, expense_line, report
from workflows.common import search
from workflows.common.exceptions import ResolutionAction
from workflows.common.process import RESOLVE_EXCEPTION
from workflows.expense.model import BusinessStatus, ExpenseResolution


async def test_happy_path_posts_once_pays_once_and_confirms(time_skipping_env, tmp_path):
    world = World(report())
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        assert world.validations == 1
        waiting = (await run.handle.describe()).typed_search_attributes
        assert waiting.get(search.BUSINESS_STATUS) == "AWAITING_APPROVAL" and waiting.get(search.PROCESS) == "expense"
        await run.platform_says(ApprovalStatus.APPROVED)
        outcome = await run.handle.result()

    assert outcome.status is BusinessStatus.PAID
    assert len(world.journals) == 1 and len(world.payments) == 1
    (journal,) = world.journals.values()
    assert journal.total(Side.DEBIT).amount == journal.total(Side.CREDIT).amount == 222.50
    assert {ln.account for ln in journal.lines} == {"6120", "6110", "2150"}
    assert world.posting_confirmations and world.payment_confirmations
    assert run.event_types() == ["submitted", "validated", "approved", "posted", "payment_sent", "settlement_booked",
                                 "paid"]
    # The settlement clears the payable against the bank account's GL account, exactly as paid.
    (settlement,) = world.settlements.values()
    assert {(ln.account, ln.side, ln.amount.amount) for ln in settlement.lines} == {
        ("2150", Side.DEBIT, Decimal("222.50")), ("1010", Side.CREDIT, Decimal("222.50"))}
    described = await run.handle.describe()
    attrs = described.typed_search_attributes
    assert attrs.get(search.BUSINESS_STATUS) == "PAID"
    assert attrs.get(search.LEGAL_ENTITY) == "US01"
    assert attrs.get(search.FUNCTIONAL_AMOUNT) == 222.5
    # Written when the report comes to rest, not at every step: each upsert costs the server
    # (5, and one more for the book-settlement patch's own marker while it is in force).
    history = await run.handle.fetch_history()
    assert sum(e.HasField("upsert_workflow_search_attributes_event_attributes") for e in history.events) <= 6


async def test_while_the_erp_is_down_after_approval_the_list_says_coding(time_skipping_env, tmp_path):
    world = World(report(), erp_down=True)
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        await run.until_status(BusinessStatus.CODING)
        await run.until(lambda _: world.erp_calls >= 2)      # failing and being retried
        attrs = (await run.handle.describe()).typed_search_attributes
        assert attrs.get(search.BUSINESS_STATUS) == "CODING"  # not the approval wait that is over
        world.erp_down = False
        assert (await run.handle.result()).status is BusinessStatus.PAID


async def test_a_report_the_gateway_read_is_not_read_again_and_the_owner_travels(time_skipping_env, tmp_path):
    world = World(report())
    async with running(time_skipping_env, world, tmp_path, handed_over=True) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        assert (await run.handle.result()).status is BusinessStatus.PAID
    assert world.reads == 0
    assert world.owner_refs == {OWNER_REF}     # every call could address the report without a lookup
    history = await run.handle.fetch_history()
    assert sum(e.HasField("activity_task_scheduled_event_attributes") for e in history.events) == 8   # 7 + settlement


async def test_approval_is_reminded_after_two_days_and_escalated_after_five(time_skipping_env, tmp_path):
    world = World(report())
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await time_skipping_env.sleep(timedelta(days=2, hours=1))
        await run.until(lambda s: "approval_reminded" in run.event_types())
        assert (await run.snapshot()).status is BusinessStatus.AWAITING_APPROVAL
        assert "approval_escalated" not in run.event_types()
        await time_skipping_env.sleep(timedelta(days=3))
        await run.until_status(BusinessStatus.APPROVAL_OVERDUE)
        assert "approval_escalated" in run.event_types()
        await run.platform_says(ApprovalStatus.APPROVED)
        assert (await run.handle.result()).status is BusinessStatus.PAID


async def test_policy_breach_sends_the_report_back_and_a_corrected_resubmission_is_paid(time_skipping_env, tmp_path):
    world = World(report("R2", expense_line("L1", "MEALS", "310.00"), expense_line("L2", "LODGING", "120.00", receipt=False,
                                                                                    merchant="Hotel Adler")))
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.RETURNED)
        assert len(world.send_backs) == 1
        reason = world.send_backs[0]
        assert "above the limit of USD 150.00" in reason and "Hotel Adler" in reason and "needs a receipt" in reason
        assert world.validations == 0 and not world.journals

        world.report = report("R2", expense_line("L1", "MEALS", "140.00"))
        await run.platform_says(ApprovalStatus.PENDING_VALIDATION)
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        assert (await run.handle.result()).status is BusinessStatus.PAID
    assert run.event_types().count("returned") == 1
    assert len(world.journals) == 1


async def test_a_report_never_resubmitted_expires(time_skipping_env, tmp_path):
    world = World(report("R3", expense_line("L1", "MEALS", "999.00")))
    async with running(time_skipping_env, world, tmp_path) as run:
        outcome = await run.handle.result()  # skips the 90-day resubmission window
    assert outcome.status is BusinessStatus.EXPIRED and not world.journals


async def test_inactive_cost_center_parks_and_resumes_after_correction(time_skipping_env, tmp_path):
    world = World(report("R4", cost_center="CC-1900"))
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        snap = await run.until_status(BusinessStatus.EXCEPTION)
        assert snap.open_exception is not None
        assert snap.open_exception.problem.code == "COST_CENTER_INACTIVE"
        assert "CC-1900" in snap.open_exception.problem.reason
        attrs = (await run.handle.describe()).typed_search_attributes
        assert attrs.get(search.EXCEPTION_REASON) == "COST_CENTER_INACTIVE"
        assert attrs.get(search.LEGAL_ENTITY) == "US01"

        with pytest.raises(WorkflowUpdateFailedError):   # validated before it is accepted
            await run.handle.execute_update(RESOLVE_EXCEPTION, ExpenseResolution(
                action=ResolutionAction.SET_POSTING_DATE, posting_date=date(2026, 11, 30), resolved_by="ap.clerk"),
                result_type=str)
        with pytest.raises(WorkflowUpdateFailedError):
            await run.handle.execute_update(RESOLVE_EXCEPTION, ExpenseResolution(
                action=ResolutionAction.CORRECT_COST_CENTER, resolved_by="ap.clerk"), result_type=str)
        assert (await run.snapshot()).status is BusinessStatus.EXCEPTION

        await run.handle.execute_update(RESOLVE_EXCEPTION, ExpenseResolution(
            action=ResolutionAction.CORRECT_COST_CENTER, cost_center="CC-1000", resolved_by="ap.clerk"), result_type=str)
        assert (await run.handle.result()).status is BusinessStatus.PAID

    (journal,) = world.journals.values()
    assert {ln.cost_center for ln in journal.lines if ln.side is Side.DEBIT} == {"CC-1000"}
    assert (await run.handle.describe()).typed_search_attributes.get(search.EXCEPTION_REASON) is None
    assert run.event_types().count("exception_raised") == 1 and run.event_types().count("exception_resolved") == 1


async def test_closed_period_parks_and_posts_on_the_date_finance_sets(time_skipping_env, tmp_path):
    world = World(report("R5"), closed_periods={"Nov 2026"})
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        snap = await run.until_status(BusinessStatus.EXCEPTION)
        assert snap.open_exception is not None
        assert snap.open_exception.problem.code == "PERIOD_CLOSED"
        assert "Nov 2026 is closed" in snap.open_exception.problem.reason
        await run.handle.execute_update(RESOLVE_EXCEPTION, ExpenseResolution(
            action=ResolutionAction.SET_POSTING_DATE, posting_date=date(2026, 12, 1), resolved_by="controller"), result_type=str)
        assert (await run.handle.result()).status is BusinessStatus.PAID
    (journal,) = world.journals.values()
    assert journal.posting_date == date(2026, 12, 1)


async def test_rejected_payment_parks_and_pays_once_after_the_bank_details_are_corrected(time_skipping_env, tmp_path):
    world = World(report("R6"), bank_account=CLOSED_ACCOUNT, closed_bank_accounts={CLOSED_ACCOUNT.account_id})
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        snap = await run.until_status(BusinessStatus.EXCEPTION)
        assert snap.open_exception is not None
        assert snap.open_exception.problem.code == "PAYMENT_REJECTED"
        assert "account is closed (AC04)" in snap.open_exception.problem.reason

        # Retrying before the ERP was corrected sends nothing: the same closed account would bounce again.
        await run.handle.execute_update(RESOLVE_EXCEPTION, ExpenseResolution(
            action=ResolutionAction.RETRY, resolved_by="ap.clerk"), result_type=str)
        snap = await run.until(
            lambda s: s.open_exception is not None and s.open_exception.problem.code == "BANK_DETAILS_UNCHANGED")
        assert snap.open_exception is not None
        assert len(world.payments) == 1

        world.bank_account = GOOD_ACCOUNT
        await run.handle.execute_update(RESOLVE_EXCEPTION, ExpenseResolution(
            action=ResolutionAction.RETRY, resolved_by="ap.clerk", note="employee gave new account"), result_type=str)
        outcome = await run.handle.result()

    assert outcome.status is BusinessStatus.PAID
    assert len(world.payments) == 2                       # one rejected, one paid
    paid_to = [p.creditor.account_id for p in world.payments.values()]
    assert paid_to == [CLOSED_ACCOUNT.account_id, GOOD_ACCOUNT.account_id]
    assert len({p.message_id for p in world.payments.values()}) == 2
    assert len(world.journals) == 1 and len(world.payment_confirmations) == 1


async def test_recall_after_posting_produces_exactly_one_reversal(time_skipping_env, tmp_path):
    world = World(report("R7"), recall_on_post=True)
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        outcome = await run.handle.result()   # waits on the outcome: never resubmitted, it expires
        snap = await run.snapshot()
    assert outcome.status is BusinessStatus.EXPIRED
    assert len(snap.journals) == 1 and len(snap.reversals) == 1
    original, reversal = list(world.journals.values())
    assert reversal.reverses_external_id == original.external_id
    assert reversal.total(Side.DEBIT) == original.total(Side.CREDIT)
    assert not world.payments and not world.posting_confirmations
    assert run.event_types().count("reversed") == 1


async def test_cancel_while_parked_reverses_the_posted_journal(time_skipping_env, tmp_path):
    world = World(report("R8"), bank_account=CLOSED_ACCOUNT, closed_bank_accounts={CLOSED_ACCOUNT.account_id})
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        await run.until_status(BusinessStatus.EXCEPTION)
        await run.handle.execute_update(RESOLVE_EXCEPTION, ExpenseResolution(
            action=ResolutionAction.CANCEL, resolved_by="controller", note="employee left"), result_type=str)
        outcome = await run.handle.result()
    assert outcome.status is BusinessStatus.CANCELLED
    original, reversal = list(world.journals.values())
    assert reversal.reverses_external_id == original.external_id
    assert not world.payment_confirmations


async def test_a_refusal_outside_posting_parks_instead_of_failing_and_resumes_on_retry(time_skipping_env, tmp_path):
    world = World(report("R9"), report_missing=True)
    async with running(time_skipping_env, world, tmp_path) as run:
        snap = await run.until_status(BusinessStatus.EXCEPTION)
        assert snap.open_exception is not None
        assert snap.open_exception.problem.code == "REPORT_NOT_FOUND"
        assert snap.open_exception.step == "expense.fetch_report"
        world.report_missing = False
        await run.handle.execute_update(RESOLVE_EXCEPTION, ExpenseResolution(
            action=ResolutionAction.RETRY, resolved_by="ap.clerk"), result_type=str)
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        assert (await run.handle.result()).status is BusinessStatus.PAID


async def test_an_approval_stamped_by_a_clock_behind_finsyncs_is_still_honoured(time_skipping_env, tmp_path):
    """The manager approves the instant finsync releases the report; the vendor's timestamp
    is earlier than the workflow's own time for that release. Seen in the demo."""
    world = World(report("R16"))
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED, behind=timedelta(seconds=30))
        assert (await run.handle.result()).status is BusinessStatus.PAID


@pytest.mark.parametrize("order", ["in order", "reversed"])
async def test_events_stamped_in_the_same_millisecond_follow_the_status_chain(time_skipping_env, tmp_path, order):
    """Release to the approver and approval within one vendor millisecond, delivered either way round."""
    world = World(report(f"R17{order[0]}"))
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        instant = await time_skipping_env.get_current_time()
        released = dict(status=ApprovalStatus.PENDING_APPROVAL, previous=ApprovalStatus.PENDING_VALIDATION, at=instant)
        approved = dict(status=ApprovalStatus.APPROVED, previous=ApprovalStatus.PENDING_APPROVAL, at=instant)
        for event in ([released, approved] if order == "in order" else [approved, released]):
            await run.platform_says(**event)
        assert (await run.handle.result()).status is BusinessStatus.PAID


async def test_an_approval_that_arrives_before_the_release_call_returns_is_kept(time_skipping_env, tmp_path):
    """Found by the benchmark: finsync's own record of releasing the report overwrote the approval."""
    world = World(report("R18"), approve_during_validation=True)
    async with running(time_skipping_env, world, tmp_path) as run:
        assert (await run.handle.result()).status is BusinessStatus.PAID
