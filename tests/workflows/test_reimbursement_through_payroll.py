"""The hand-off between the expense and payroll processes (canonical/payroll_reimbursement.py),
both real, on the time-skipping server over one store: an approved expense of an entity that
reimburses through payroll is paid with the employee's next net pay, once, and only then confirmed
paid to the expense platform."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError

from canonical import ApprovalStatus, Money, Side
from finsync.config import RulesSettings, Settings
from finsync.store import IntegrationStore
from tests.workflows.harness import Run, running
from tests.workflows.payroll.harness import payroll_world, settled
from tests.workflows.payroll.world import Bank, Ledger, Provider, company, employee_rows, payee, run_ref
from tests.workflows.polling import until as poll
from tests.workflows.world import World, report
from workflows.common.exceptions import ResolutionAction
from workflows.expense.model import BusinessStatus
from workflows.payroll.entity import PayrollEntityWorkflow

EMPLOYEE = "E1001"       # the report's employee, in US01: the payroll system knows them by the same id
REIMBURSED = Money.of("222.50", "USD")


def through_payroll(tmp_path: Path, *entities: str) -> Settings:
    """The repository's rules, with ``entities`` reimbursing through payroll."""
    rules = RulesSettings()
    text = rules.payroll.read_text().replace("reimburse_through_payroll = []",
                                             f"reimburse_through_payroll = {list(entities)!r}".replace("'", '"'))
    assert "reimburse_through_payroll = [" in text and entities
    (tmp_path / "payroll.toml").write_text(text)
    return Settings(rules=rules.model_copy(update={"payroll": tmp_path / "payroll.toml"}))


async def handed_over(run: Run) -> str:
    await run.until_status(BusinessStatus.AWAITING_APPROVAL)
    await run.platform_says(ApprovalStatus.APPROVED)
    snapshot = await run.until_status(BusinessStatus.WITH_PAYROLL)
    assert snapshot.payroll_reference
    return snapshot.payroll_reference


async def pay_payroll(env, tmp_path: Path, provider: Provider, *, tell_expenses: bool = True,
                      bank: Bank | None = None) -> None:
    """The employee's next payroll run, carrying what was handed over, paid and reconciled. With
    ``tell_expenses`` False it is watched by query, as awaiting its end would let the server skip
    time (and the expense's daily look come round)."""
    run = run_ref()
    provider.pay_with_reimbursements(run, company() + employee_rows(EMPLOYEE, "US01", "USD", "CC-1000", "5100"))
    async with payroll_world(env, tmp_path, provider, Ledger("netsuite"), Ledger("sap"), bank,
                             tell_expenses=tell_expenses) as start:
        payroll = await start(run)
        done = await (payroll.outcome() if tell_expenses else payroll.until(settled))
    assert settled(done)


async def test_an_approved_expense_is_paid_once_with_the_next_net_pay_and_then_confirmed(time_skipping_env, tmp_path):
    world, provider = World(report()), Provider()
    async with running(time_skipping_env, world, tmp_path, settings=through_payroll(tmp_path, "US01"),
                       payroll=provider) as run:
        reference = await handed_over(run)
        # Handed over once, as the payable the expense journal booked; nothing went to the bank.
        assert provider.pay_inputs == {reference: (EMPLOYEE, "EXPENSE_REIMB", REIMBURSED)}
        assert world.payments == {} and world.payment_confirmations == []
        (journal,) = world.journals.values()
        assert {(ln.account, ln.side) for ln in journal.lines if ln.account == "2150"} == {("2150", Side.CREDIT)}

        await pay_payroll(time_skipping_env, tmp_path, provider)
        outcome = await run.handle.result()
        snapshot = await run.snapshot()

    assert outcome.status is BusinessStatus.PAID
    paid = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}").reimbursement_paid(reference)
    assert paid is not None and paid.worker_id == EMPLOYEE and paid.amount == REIMBURSED
    # The platform is told with the net-pay transfer that carried it; the payroll journal, not a
    # settlement of the expense's own, clears the payable.
    assert world.payment_confirmations == [paid.end_to_end_id]
    assert world.settlements == {}
    assert run.event_types()[-3:] == ["posted", "payment_sent", "paid"]
    assert snapshot.payments[-1].source == "payroll" and snapshot.payments[-1].amount == REIMBURSED
    assert "payroll run" in snapshot.timeline[-1].note


async def test_a_lost_word_from_payroll_is_found_by_the_reports_own_daily_look(time_skipping_env, tmp_path):
    world, provider = World(report()), Provider()
    async with running(time_skipping_env, world, tmp_path, settings=through_payroll(tmp_path, "US01"),
                       payroll=provider) as run:
        await handed_over(run)
        await pay_payroll(time_skipping_env, tmp_path, provider, tell_expenses=False)
        assert (await run.snapshot()).status is BusinessStatus.WITH_PAYROLL
        await time_skipping_env.sleep(timedelta(days=1, hours=1))
        outcome = await run.handle.result()
    assert outcome.status is BusinessStatus.PAID and len(world.payment_confirmations) == 1


async def test_net_pay_the_bank_rejects_leaves_it_unpaid_until_the_employee_is_paid_again(time_skipping_env, tmp_path):
    world, provider = World(report()), Provider()
    bank = Bank(closed={payee(EMPLOYEE, "US01").account_number or ""})
    store = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    async with running(time_skipping_env, world, tmp_path, settings=through_payroll(tmp_path, "US01"),
                       payroll=provider) as run:
        reference = await handed_over(run)
        payroll_run = run_ref()
        provider.pay_with_reimbursements(
            payroll_run, company() + employee_rows(EMPLOYEE, "US01", "USD", "CC-1000", "5100"))
        async with payroll_world(time_skipping_env, tmp_path, provider, Ledger("netsuite"), Ledger("sap"),
                                 bank) as start:
            payroll = await start(payroll_run)
            await payroll.until(lambda s: "US01" in s.entities)
            us = payroll.entity("US01")
            await poll(lambda: us.query(PayrollEntityWorkflow.status),
                       lambda s: any(e.item == f"employee {EMPLOYEE}" for e in s.open_exceptions), lambda s: str(s.status))
            await time_skipping_env.sleep(timedelta(days=2))
            assert (await run.snapshot()).status is BusinessStatus.WITH_PAYROLL
            assert world.payment_confirmations == [] and store.reimbursement_paid(reference) is None

            bank.closed.clear()                          # the employee's account corrected in payroll
            await payroll.resolve(ResolutionAction.RETRY, handle=us, item=f"employee {EMPLOYEE}")
            outcome = await run.handle.result()
    assert outcome.status is BusinessStatus.PAID
    paid = store.reimbursement_paid(reference)
    assert paid is not None and world.payment_confirmations == [paid.end_to_end_id]
    assert [len(sent["transfers"]) for sent in bank.files.values() if sent["transfers"][0][0] == paid.end_to_end_id] == [1]


async def test_with_payroll_nothing_is_reversed_and_silence_only_offers_waiting_on(time_skipping_env, tmp_path):
    world, provider = World(report()), Provider()
    async with running(time_skipping_env, world, tmp_path, settings=through_payroll(tmp_path, "US01"),
                       payroll=provider) as run:
        await handed_over(run)
        await time_skipping_env.sleep(timedelta(days=46))
        snapshot = await run.parked_on("PAYROLL_SILENT")
        assert snapshot.open_exception is not None
        assert snapshot.open_exception.actions == [ResolutionAction.RETRY]
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await run.resolve(ResolutionAction.CANCEL)
        assert "the reimbursement is with payroll" in str(refused.value.cause)
        assert not any(entry.reverses_external_id for entry in world.journals.values())
        # Payroll pays it while it is parked: the report resumes by itself.
        await pay_payroll(time_skipping_env, tmp_path, provider)
        outcome = await run.handle.result()
    assert outcome.status is BusinessStatus.PAID


async def test_a_worker_the_payroll_system_does_not_know_parks_and_cancel_reverses_the_journal(
        time_skipping_env, tmp_path):
    world, provider = World(report()), Provider(unknown_workers={EMPLOYEE})
    async with running(time_skipping_env, world, tmp_path, settings=through_payroll(tmp_path, "US01"),
                       payroll=provider) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        snapshot = await run.parked_on("VENDOR_REFUSED")
        assert snapshot.open_exception is not None
        assert "no worker with Employee ID 'E1001'" in snapshot.open_exception.problem.reason
        assert snapshot.open_exception.actions == [ResolutionAction.RETRY, ResolutionAction.CANCEL]
        await run.resolve(ResolutionAction.CANCEL)
        outcome = await run.handle.result()
    assert outcome.status is BusinessStatus.CANCELLED
    assert provider.pay_inputs == {}
    (reversal,) = [entry for entry in world.journals.values() if entry.reverses_external_id]
    assert reversal.total().amount == Decimal("222.50")


async def test_an_entity_that_pays_through_the_bank_still_does(time_skipping_env, tmp_path):
    world, provider = World(report()), Provider()
    async with running(time_skipping_env, world, tmp_path, settings=through_payroll(tmp_path, "DE01"),
                       payroll=provider) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        outcome = await run.handle.result()
    assert outcome.status is BusinessStatus.PAID
    assert provider.pay_inputs == {} and len(world.payments) == 1 and len(world.settlements) == 1


async def test_an_entity_whose_payroll_posts_to_another_ledger_parks_before_handing_anything_over(
        time_skipping_env, tmp_path):
    world, provider = World(report(), employee_cost_center="CC-1000"), Provider()
    settings = through_payroll(tmp_path, "US01")
    rules = settings.rules.payroll
    rules.write_text(rules.read_text().replace('US01 = "erp"', 'US01 = "s4hana"'))
    async with running(time_skipping_env, world, tmp_path, settings=settings, payroll=provider) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        snapshot = await run.parked_on("PAYROLL_ACCOUNT_MISMATCH")
        assert snapshot.open_exception is not None
        assert "posts to the 's4hana' ledger" in snapshot.open_exception.problem.reason
        assert provider.pay_inputs == {} and world.payments == {}
        rules.write_text(rules.read_text().replace('US01 = "s4hana"', 'US01 = "erp"'))   # aligned: retry hands over
        await run.resolve(ResolutionAction.RETRY)
        await run.until_status(BusinessStatus.WITH_PAYROLL)
    assert len(provider.pay_inputs) == 1
