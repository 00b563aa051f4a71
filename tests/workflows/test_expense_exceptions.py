"""Parked reports: every remedy offered is safe where the money is, and each one works.

Workflow logic on the time-skipping server, against the scripted World.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy

from canonical import ApprovalStatus, Money, PaymentState, PaymentStatusReport, Side
from finsync.config import BankVendorSettings, DebtorAccount, PaymentPurpose, Settings
from tests.workflows.harness import Run, running
from tests.workflows.world import CLOSED_ACCOUNT, GOOD_ACCOUNT, World, expense_line, report
from workflows.common.exceptions import ResolutionAction
from workflows.expense.model import BusinessStatus, ExpenseInput, TaskQueues
from workflows.expense.workflow import ExpenseReimbursementWorkflow

RETRY, CANCEL = ResolutionAction.RETRY, ResolutionAction.CANCEL
CORRECT, CLOSE_AS_PAID = ResolutionAction.CORRECT_COST_CENTER, ResolutionAction.CLOSE_AS_PAID


async def approved(run: Run) -> None:
    await run.until_status(BusinessStatus.AWAITING_APPROVAL)
    await run.platform_says(ApprovalStatus.APPROVED)


async def refused(run: Run, action: ResolutionAction, **fields: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await run.resolve(action, **fields)
    return str(error.value.cause)


# --- once the money has left the bank -------------------------------------------------------

async def test_a_report_recalled_after_it_was_paid_is_never_reversed_and_closes_as_paid(time_skipping_env, tmp_path):
    world = World(report("P1"), recall_on_settlement=True)
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        snap = await run.parked_on("PAID_BUT_RECALLED")
        assert snap.open_exception is not None
        assert snap.open_exception.actions == [RETRY, CLOSE_AS_PAID]
        assert "left the bank" in snap.open_exception.problem.reason
        why = await refused(run, CANCEL)
        assert "money has left the bank" in why
        assert (await run.snapshot()).status is BusinessStatus.EXCEPTION

        await run.resolve(CLOSE_AS_PAID, resolved_by="controller")
        outcome = await run.handle.result()

    assert outcome.status is BusinessStatus.PAID
    assert len(world.journals) == 1 and len(world.payments) == 1      # nothing reversed, nothing paid twice
    assert "reversed" not in run.event_types() and "cancelled" not in run.event_types()
    paid = [row for row in run.store.events(workflow_id=run.handle.id) if row.type == "paid"]
    assert '"platform_told": false' in paid[0].data


async def test_cancel_is_not_offered_while_a_payment_is_with_the_bank(time_skipping_env, tmp_path):
    world = World(report("P2"), bank_silent=True)
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        await run.until_status(BusinessStatus.PAYMENT_SENT)
        await time_skipping_env.sleep(timedelta(days=5, hours=1))
        snap = await run.parked_on("BANK_SILENT")
        assert snap.open_exception is not None and snap.open_exception.actions == [RETRY]
        assert "may still be executed" in await refused(run, CANCEL)

        await world.settle(run.handle.id)
        await run.resolve(RETRY)
        assert (await run.handle.result()).status is BusinessStatus.PAID
    assert len(world.payments) == 1 and len(world.journals) == 1


# --- the report moves under finsync ---------------------------------------------------------

async def test_a_recall_right_after_approval_returns_the_report_without_parking(time_skipping_env, tmp_path):
    world = World(report("P3"), claim_refusal="REPORT_RECALLED")
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        await run.until(lambda s: s.status is BusinessStatus.RETURNED
                        and any("before posting" in entry.note for entry in s.timeline))
        await run.platform_says(ApprovalStatus.PENDING_APPROVAL, previous=ApprovalStatus.RECALLED)
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        assert (await run.handle.result()).status is BusinessStatus.PAID
    assert "exception_raised" not in run.event_types()
    assert len(world.journals) == 1


async def test_a_recall_before_payment_reverses_once_and_pays_nothing(time_skipping_env, tmp_path):
    world = World(report("P4"), recall_on_posting_confirmation=True)
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        outcome = await run.handle.result()     # never resubmitted: expires after 90 days
    assert outcome.status is BusinessStatus.EXPIRED
    original, reversal = list(world.journals.values())
    assert reversal.reverses_external_id == original.external_id
    assert not world.payments and run.event_types().count("reversed") == 1


async def test_a_cancel_in_the_platform_ends_the_report_and_frees_its_claims(time_skipping_env, tmp_path):
    world = World(report("P5"))
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.CANCELLED)
        assert (await run.handle.result()).status is BusinessStatus.CANCELLED
        again = report("P5-again")
        assert run.store.register_expense_lines(again) == []     # the same claims are no duplicates now
    assert not world.journals


# --- cost-center corrections ------------------------------------------------------------------

async def test_a_missing_cost_center_is_given_by_finance(time_skipping_env, tmp_path):
    world = World(report("P6", cost_center=None), employee_cost_center=None)  # type: ignore[arg-type]
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        snap = await run.parked_on("COST_CENTER_MISSING")
        assert snap.open_exception is not None and snap.open_exception.problem.line_id == "L1"
        assert CORRECT in snap.open_exception.actions
        await run.resolve(CORRECT, cost_center="CC-2000", resolved_by="jane.doe")
        assert (await run.handle.result()).status is BusinessStatus.PAID
    (journal,) = world.journals.values()
    assert {ln.cost_center for ln in journal.lines if ln.side is Side.DEBIT} == {"CC-2000"}


async def test_a_typo_in_a_correction_can_be_corrected_again(time_skipping_env, tmp_path):
    world = World(report("P7", cost_center="CC-1900"), unknown_cost_centers={"CC-9999"})
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        await run.parked_on("COST_CENTER_INACTIVE")
        await run.resolve(CORRECT, cost_center="CC-9999")
        snap = await run.parked_on("COST_CENTER_UNKNOWN")
        assert snap.open_exception is not None and snap.open_exception.problem.subject == "CC-9999"
        await run.resolve(CORRECT, cost_center="CC-2000", resolved_by="jane.doe")
        assert (await run.handle.result()).status is BusinessStatus.PAID
        snap = await run.snapshot()
    (journal,) = world.journals.values()
    assert {ln.cost_center for ln in journal.lines if ln.side is Side.DEBIT} == {"CC-2000"}
    # The resolution record keeps the new value and who gave it, in the timeline and the feed.
    assert any("CC-2000" in entry.note and "jane.doe" in entry.note for entry in snap.timeline)
    resolved = [row for row in run.store.events(workflow_id=run.handle.id) if row.type == "exception_resolved"]
    assert '"cost_center": "CC-2000"' in resolved[-1].data and '"by": "jane.doe"' in resolved[-1].data


async def test_a_cost_center_the_erp_refuses_at_posting_is_corrected_by_its_code(time_skipping_env, tmp_path):
    world = World(report("P8", cost_center="CC-1500"), erp_refused_cost_centers={"CC-1500"})
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        snap = await run.parked_on("COST_CENTER_INACTIVE")
        assert snap.open_exception is not None and snap.open_exception.step == "posting"
        assert snap.open_exception.problem.subject == "CC-1500"
        await run.resolve(CORRECT, cost_center="CC-1000")
        assert (await run.handle.result()).status is BusinessStatus.PAID
    posted = [j for j in world.journals.values() if all(ln.cost_center != "CC-1500" for ln in j.lines)]
    assert len(posted) == 1


# --- paying -----------------------------------------------------------------------------------

async def test_missing_bank_details_park_and_pay_once_added(time_skipping_env, tmp_path):
    world = World(report("P9"), bank_account=None)
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        snap = await run.parked_on("BANK_DETAILS_MISSING")
        assert snap.open_exception is not None and snap.open_exception.actions == [RETRY, CANCEL]
        world.bank_account = GOOD_ACCOUNT
        await run.resolve(RETRY)
        assert (await run.handle.result()).status is BusinessStatus.PAID
    assert len(world.payments) == 1


async def test_a_missing_payout_account_parks_instead_of_failing_the_workflow_task(time_skipping_env, tmp_path):
    settings = Settings(bank=BankVendorSettings(debtor_accounts={}))
    world = World(report("P10"))
    async with running(time_skipping_env, world, tmp_path, settings=settings) as run:
        await approved(run)
        snap = await run.parked_on("PAYOUT_ACCOUNT_MISSING")
        assert snap.open_exception is not None and "US01" in snap.open_exception.problem.reason
        settings.bank.debtor_accounts[PaymentPurpose.REIMBURSEMENTS] = {"US01": {"USD": DebtorAccount(
            name="Finsync Demo Inc.", account_number="000123456789", bic="CHASUS33XXX", gl_account="1010")}}
        await run.resolve(RETRY)
        assert (await run.handle.result()).status is BusinessStatus.PAID
        history = await run.handle.fetch_history()
    assert not any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in history.events)
    assert len(world.payments) == 1


async def test_a_refused_reversal_parks_with_retry_only_and_reverses_once_retried(time_skipping_env, tmp_path):
    world = World(report("P11"), bank_account=CLOSED_ACCOUNT, closed_bank_accounts={CLOSED_ACCOUNT.account_id},
                  refuse_reversals=True)
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        await run.parked_on("PAYMENT_REJECTED")
        await run.resolve(CANCEL, resolved_by="controller")
        snap = await run.until(lambda s: s.open_exception is not None and s.open_exception.step == "reversal")
        assert snap.open_exception is not None and snap.open_exception.actions == [RETRY]
        world.refuse_reversals = False
        await run.resolve(RETRY)
        assert (await run.handle.result()).status is BusinessStatus.CANCELLED
    original, reversal = list(world.journals.values())
    assert reversal.reverses_external_id == original.external_id


# --- messages a workflow cannot use -----------------------------------------------------------

async def test_a_signal_with_a_naive_timestamp_is_dropped_and_the_report_goes_on(time_skipping_env, tmp_path):
    world = World(report("P12"))
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.handle.signal(ExpenseReimbursementWorkflow.report_status_changed.__name__, {
            "event_id": "naive-1", "source_system": "concur", "report_id": "P12", "approval_status": "A_APPR",
            "occurred_at": "2026-12-01T10:00:00", "correlation_id": "c"})
        await run.handle.signal("report_status_changed", {"not": "an event"})
        assert (await run.snapshot()).status is BusinessStatus.AWAITING_APPROVAL   # still answers, still waiting
        await run.platform_says(ApprovalStatus.APPROVED)
        assert (await run.handle.result()).status is BusinessStatus.PAID
        history = await run.handle.fetch_history()
    assert not any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in history.events)


def test_every_timestamp_in_the_contract_must_carry_its_timezone():
    from pydantic import ValidationError

    from canonical import ReportStatusChanged

    with pytest.raises(ValidationError):
        ReportStatusChanged(event_id="e", source_system="concur", report_id="R", approval_status=ApprovalStatus.APPROVED,
                            occurred_at=datetime(2026, 12, 1, 10), correlation_id="c")   # type: ignore[arg-type]


# --- settlement -------------------------------------------------------------------------------

async def test_settlement_is_booked_once_when_the_erps_answer_is_lost(time_skipping_env, tmp_path):
    world = World(report("S1"), settlement_answer_lost_once=True)
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        assert (await run.handle.result()).status is BusinessStatus.PAID
        snap = await run.snapshot()
    (settlement,) = world.settlements.values()
    assert settlement.external_id.endswith(":settlement") and len(snap.settlements) == 1
    assert run.event_types().count("settlement_booked") == 1


async def test_a_cross_currency_payment_books_what_the_bank_debited_and_the_fx_difference(time_skipping_env, tmp_path):
    """A EUR report of a USD entity, paid from its USD account: booked at the ERP's 1.0920, debited by
    the bank at 1.1000. The payable clears at its booked amount; the extra cost is a realized FX loss."""
    eur = report("S2", expense_line("L1", "GROUND_TRANSPORT", "51.32", "EUR"), expense_line("L2", "MEALS", "23.40", "EUR"),
                 currency="EUR")
    world = World(eur, debit_currency="USD", bank_rate=Decimal("1.1000"))
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        assert (await run.handle.result()).status is BusinessStatus.PAID
    (journal,) = world.journals.values()
    payable = next(ln.amount for ln in journal.lines if ln.account == "2150")
    assert payable == Money.of("81.59", "USD")                     # EUR 74.72 at 1.0920
    assert not any(ln.account == "7990" for ln in journal.lines) or all(
        ln.amount.amount <= Decimal("0.02") for ln in journal.lines if ln.account == "7990")
    (settlement,) = world.settlements.values()
    booked = {(ln.account, ln.side): ln.amount for ln in settlement.lines}
    assert booked == {("2150", Side.DEBIT): Money.of("81.59", "USD"), ("1010", Side.CREDIT): Money.of("82.19", "USD"),
                      ("7980", Side.DEBIT): Money.of("0.60", "USD")}   # EUR 74.72 at 1.1000 = USD 82.19
    (payment,) = world.payments.values()
    assert payment.amount == Money.of("74.72", "EUR")               # the instruction is in the reimbursement currency
    (booked_event,) = [row for row in run.store.events(workflow_id=run.handle.id) if row.type == "settlement_booked"]
    assert '"fx_difference": "0.60"' in booked_event.data and '"debited": "82.19"' in booked_event.data


async def test_a_payment_in_a_currency_the_entity_cannot_pay_parks_naming_both(time_skipping_env, tmp_path):
    settings = Settings(bank=BankVendorSettings(pay_cross_currency=False))
    eur = report("S3", expense_line("L1", "MEALS", "20.00", "EUR"), currency="EUR")
    world = World(eur)
    async with running(time_skipping_env, world, tmp_path, settings=settings) as run:
        await approved(run)
        snap = await run.parked_on("PAYOUT_ACCOUNT_MISSING")
        assert snap.open_exception is not None
        reason = snap.open_exception.problem.reason
        assert "US01" in reason and "EUR" in reason and "USD" in reason
        assert not world.payments
        await run.handle.terminate("test over")


# --- a return after settlement ------------------------------------------------------------------

async def test_a_returned_payment_reverses_its_settlement_parks_and_pays_again_on_retry(time_skipping_env, tmp_path):
    world = World(report("T1"))
    async with running(time_skipping_env, world, tmp_path) as run:
        await approved(run)
        first = await run.handle.result()
        assert first.status is BusinessStatus.PAID and first.payment is not None
        paid = first.payment
        # Days later the employee's bank sends the money back; the gateway starts a new run.
        returned = PaymentStatusReport(message_id=paid.message_id, end_to_end_id=paid.end_to_end_id,
                                       state=PaymentState.RETURNED, reason_code="AC04", bank_status_code="BOOK",
                                       debited=Money.of("222.50", "USD"), source="camt.054")
        queue = (await run.handle.describe()).task_queue
        again = await time_skipping_env.client.start_workflow(
            ExpenseReimbursementWorkflow.run,
            ExpenseInput(report_id="T1", task_queues=TaskQueues(expense=queue, erp=queue, bank=queue), returned=returned),
            id=run.handle.id, task_queue=queue, id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
        rerun = Run(run.env, again, world, run.store)
        snap = await rerun.parked_on("PAYMENT_RETURNED")
        assert snap.open_exception is not None and snap.open_exception.actions == [RETRY, CANCEL]
        assert "account is closed (AC04)" in snap.open_exception.problem.reason
        reversal = world.journals[f"{paid.end_to_end_id}:settlement-return"]
        assert reversal.reverses_external_id == f"{paid.end_to_end_id}:settlement"
        assert {(ln.account, ln.side) for ln in reversal.lines} == {("1010", Side.DEBIT), ("2150", Side.CREDIT)}

        await rerun.resolve(RETRY, note="employee gave a new account")
        outcome = await again.result()
    assert outcome.status is BusinessStatus.PAID
    assert len(world.payments) == 2 and len({p.end_to_end_id for p in world.payments.values()}) == 2
    assert len(world.settlements) == 2 and len(world.payment_confirmations) == 1   # the platform told once
    assert "payment_returned" in [row.type for row in run.store.events(workflow_id=run.handle.id)]
