"""The payroll run on the time-skipping server: read, tie, variance, one journal per entity in its
ERP, net pay as one file per entity with rejected employees parked alone, the statement read
against it; a reopen before net pay left reverses each journal once, and after it is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities import payroll_pay
from canonical.payroll import PayrollRunEvent, PayrollRunState
from finsync.store import IntegrationStore
from tests.workflows.payroll.harness import payroll_world, settled
from tests.workflows.payroll.world import Bank, Ledger, Provider, company, finalized, german_iban, payee, run_ref
from tests.workflows.polling import until as poll
from workflows.common.exceptions import ResolutionAction
from workflows.payroll.entity import PayrollEntityWorkflow
from workflows.payroll.model import SIGNAL_RUN_CHANGED, EntitySnapshot, EntityStatus, PayrollStatus, entity_workflow_id


def reopened(event: PayrollRunEvent) -> PayrollRunEvent:
    return event.model_copy(update={"state": PayrollRunState.REOPENED, "event_id": "evt-reopen", "actor": "pat.payroll"})


async def test_each_entity_posts_once_to_its_own_erp_and_a_reopen_reverses_each_once(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    run = run_ref(payment_date=date.today() + timedelta(days=10))     # net pay has not left yet
    provider, netsuite, sap, bank = Provider(rows={run.key: company()}), Ledger("netsuite"), Ledger("sap"), Bank()
    async with payroll_world(time_skipping_env, tmp_path, provider, netsuite, sap, bank) as start:
        payroll = await start(run)
        posted = await payroll.until(lambda s: s.status is PayrollStatus.POSTED)
        assert {e: p.status for e, p in posted.entities.items()} == {"US01": EntityStatus.POSTED,
                                                                   "DE01": EntityStatus.POSTED}
        assert posted.rows == 40 and provider.pages_served == 6        # read by pages, never in history
        assert netsuite.posts == 1 and sap.posts == 1
        [us], [de] = netsuite.journals.values(), sap.journals.values()
        assert (us.entity, de.entity) == ("US01", "DE01")
        assert netsuite.credit("2250") == Decimal("24012.00")          # net pay owed: 6 x 80% of salaries
        await payroll.handle.signal(SIGNAL_RUN_CHANGED, reopened(finalized(run)))
        await payroll.handle.signal(SIGNAL_RUN_CHANGED, reopened(finalized(run)))   # the event came twice
        done = await payroll.outcome()
    assert done.status is PayrollStatus.REVERSED
    assert bank.files == {}                                            # nothing was paid
    assert [r.reverses_external_id for r in netsuite.reversals()] == [us.external_id]
    assert [r.reverses_external_id for r in sap.reversals()] == [de.external_id]
    assert {e: p.status for e, p in done.entities.items()} == {"US01": EntityStatus.REVERSED,
                                                             "DE01": EntityStatus.REVERSED}


async def test_a_run_not_taken_back_completes_after_the_reopen_window(time_skipping_env: WorkflowEnvironment,
                                                                        tmp_path: Path) -> None:
    run = run_ref()
    netsuite, sap = Ledger("netsuite"), Ledger("sap")
    async with payroll_world(time_skipping_env, tmp_path, Provider(rows={run.key: company()}), netsuite, sap) as start:
        done = await (await start(run)).outcome()
    assert done.status is PayrollStatus.COMPLETED
    assert not netsuite.reversals() and not sap.reversals()
    # Net pay that left the bank is booked against the paying account, once per file: the net pay
    # payable the run's journal credited stands at zero, the bank's GL account is down by as much.
    for ledger, bank_gl in ((netsuite, "1010"), (sap, "1020")):
        [booking] = ledger.net_pay_bookings()
        assert ledger.net("2250") == 0 and ledger.net(bank_gl) == -ledger.credit("2250") != 0
    assert netsuite.credit("2250") == Decimal("24012.00")


async def test_a_variance_needs_a_reason_and_another_approver_than_who_finalized(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    october, november = run_ref(run_id="PR-2026-10", period_end=date(2026, 10, 31)), run_ref()
    provider = Provider(rows={october.key: company(), november.key: company(salary_scale="1.3")})
    async with payroll_world(time_skipping_env, tmp_path, provider, Ledger("netsuite"), Ledger("sap")) as start:
        first = await start(october)
        await first.until(settled)
        payroll = await start(november)
        parked = await payroll.parked_on("PAYROLL_VARIANCE")
        assert "US01 net pay" in parked.open_exceptions[0].problem.reason
        with pytest.raises(WorkflowUpdateFailedError) as no_reason:
            await payroll.resolve(ResolutionAction.ACCEPT_VARIANCE)
        assert "needs a reason" in str(no_reason.value.cause)
        with pytest.raises(WorkflowUpdateFailedError) as same_person:
            await payroll.resolve(ResolutionAction.ACCEPT_VARIANCE, by="pat.payroll", note="annual raise")
        assert "may not approve" in str(same_person.value.cause)
        await payroll.resolve(ResolutionAction.ACCEPT_VARIANCE, note="annual raise of 30 %")
        approved = await payroll.until(settled)
    assert any("variance accepted by casey.controller" in entry.note for entry in approved.timeline)
    # October's file is on the same statement: it is October's to reconcile, not an unknown booking.
    statements = {e: p.payment.statement if p.payment else "" for e, p in approved.entities.items()}
    assert all(line.endswith("reconciled") for line in statements.values()), statements


async def test_totals_that_do_not_tie_park_the_run_with_the_difference(time_skipping_env: WorkflowEnvironment,
                                                                       tmp_path: Path) -> None:
    run = run_ref()
    provider = Provider(rows={run.key: company()}, register_off={"DE01": Decimal("-10.00")})
    netsuite, sap = Ledger("netsuite"), Ledger("sap")
    async with payroll_world(time_skipping_env, tmp_path, provider, netsuite, sap) as start:
        payroll = await start(run)
        parked = await payroll.parked_on("PAYROLL_CONTROL_TOTALS_DIFFER")
        assert "DE01 net pay" in parked.open_exceptions[0].problem.reason
        assert "difference 10.00" in parked.open_exceptions[0].problem.reason
        assert netsuite.posts == sap.posts == 0
        await payroll.resolve(ResolutionAction.CANCEL)
        assert (await payroll.outcome()).status is PayrollStatus.CANCELLED


async def test_a_closed_period_parks_only_that_entity_and_posts_on_the_date_finance_gives(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    run = run_ref()
    netsuite, sap = Ledger("netsuite"), Ledger("sap", closed_months={(2026, 11)})
    async with payroll_world(time_skipping_env, tmp_path, Provider(rows={run.key: company()}), netsuite, sap) as start:
        payroll = await start(run)
        await payroll.until(lambda s: "US01" in s.entities and s.entities["US01"].journal is not None)
        germany = payroll.entity("DE01")
        await poll(lambda: germany.query(PayrollEntityWorkflow.status),
                   lambda s: any(e.problem.code == "PERIOD_CLOSED" for e in s.open_exceptions), lambda s: str(s.status))
        # One entity's trouble holds back no other (US01 may have booked its net pay by now too).
        assert len(netsuite.payroll_journals()) == 1 and sap.posts == 0
        await payroll.resolve(ResolutionAction.SET_POSTING_DATE, handle=germany, posting_date=date(2026, 12, 1))
        await payroll.until(settled)
    [de] = sap.payroll_journals()
    assert de.posting_date == date(2026, 12, 1)


async def test_a_reopen_before_posting_stops_the_run_with_nothing_to_undo(time_skipping_env: WorkflowEnvironment,
                                                                           tmp_path: Path) -> None:
    run = run_ref()
    provider = Provider(rows={run.key: company()}, register_off={"US01": Decimal("1.00")})
    netsuite, sap = Ledger("netsuite"), Ledger("sap")
    async with payroll_world(time_skipping_env, tmp_path, provider, netsuite, sap) as start:
        payroll = await start(run)
        await payroll.parked_on("PAYROLL_CONTROL_TOTALS_DIFFER")
        await payroll.handle.signal(SIGNAL_RUN_CHANGED, reopened(finalized(run)))
        done = await payroll.outcome()
    assert done.status is PayrollStatus.SUPERSEDED
    assert netsuite.journals == {} and sap.journals == {}


async def test_a_partly_rejected_batch_parks_only_those_employees_and_the_rest_is_paid(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    run = run_ref()
    closed = payee("W007", "DE01").iban or ""
    bank, sap = Bank(closed={closed}), Ledger("sap")
    async with payroll_world(time_skipping_env, tmp_path, Provider(rows={run.key: company()}), Ledger("netsuite"),
                             sap, bank) as start:
        payroll = await start(run)
        germany = payroll.entity("DE01")
        parked = await payroll.employee_parked("DE01", "W007")
        [exception] = parked.open_exceptions
        assert "Mitarbeiter 7's net pay of EUR 3,205.60 (the beneficiary account is closed)" in exception.problem.reason
        assert exception.problem.vendor_code == "AC04" and exception.actions == [ResolutionAction.RETRY]
        assert parked.payment is not None and (parked.payment.settled, parked.payment.rejected) == (3, 1)
        us = await poll(lambda: payroll.entity("US01").query(PayrollEntityWorkflow.status),
                        lambda s: s.status is EntityStatus.RECONCILED, lambda s: str(s.status))
        assert us.payment is not None and us.payment.settled == 6       # the other entity is not held back
        # What left is booked (before the employee was parked); their net pay is still owed.
        assert len(sap.net_pay_bookings()) == 1 and sap.net("2250") == -Decimal("3205.60")

        bank.closed.clear()                                              # the employee's bank details fixed
        await payroll.resolve(ResolutionAction.RETRY, handle=germany, item="employee W007")
        done = await payroll.until(lambda s: settled(s) and all(
            p.payment is not None and not p.payment.rejected for p in s.entities.values()))
    assert done.status is PayrollStatus.RECONCILED
    assert sorted(len(sent["transfers"]) for sent in bank.files.values()) == [1, 4, 6]   # W007 again, DE01, US01
    assert len(sap.net_pay_bookings()) == 2 and sap.net("2250") == 0                 # the file, then W007 alone
    # Both DE01 files are read against the statement: the first, and W007's paid again.
    events = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}").events(workflow_id=entity_workflow_id(run, "DE01"))
    reconciled = [json.loads(row.data) for row in events if row.type == "reconciled"]
    assert [(r.get("message_id") is None, r["reconciled"]) for r in reconciled] == [(True, True), (False, True)]
    assert "reconciled" in (done.entities["DE01"].payment.statement if done.entities["DE01"].payment else "")


async def test_a_reopen_after_net_pay_left_the_bank_is_refused_with_the_money_safe_choices(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    run = run_ref()
    netsuite, sap = Ledger("netsuite"), Ledger("sap")
    async with payroll_world(time_skipping_env, tmp_path, Provider(rows={run.key: company()}), netsuite, sap) as start:
        payroll = await start(run)
        await payroll.until(settled)
        await payroll.handle.signal(SIGNAL_RUN_CHANGED, reopened(finalized(run)))
        us = payroll.entity("US01")     # its child exists: the run is settled
        parked = await poll(lambda: us.query(PayrollEntityWorkflow.status),
                            lambda s: bool(s.open_exceptions), lambda s: str(s.status))
        [exception] = parked.open_exceptions
        assert exception.problem.code == "PAYROLL_REOPENED_AFTER_PAYMENT"
        assert exception.actions == [ResolutionAction.CLOSE_AS_PAID, ResolutionAction.RETRY]   # never cancel
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await payroll.resolve(ResolutionAction.CANCEL, handle=us)
        assert "the money has left the bank" in str(refused.value.cause)
        for entity in ("US01", "DE01"):
            await payroll.resolve(ResolutionAction.CLOSE_AS_PAID, handle=payroll.entity(entity),
                                  note="the corrected version pays the difference")
        done = await payroll.outcome()
    assert {p.status for p in done.entities.values()} == {EntityStatus.KEPT}
    assert netsuite.reversals() == [] and sap.reversals() == []


async def test_a_file_the_bank_refuses_whole_parks_the_entity_and_is_sent_again_as_a_new_file(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    run = run_ref()
    bank = Bank(refuse_files=1)                                         # the first file sent is refused (AC05)
    async with payroll_world(time_skipping_env, tmp_path, Provider(rows={run.key: company()}), Ledger("netsuite"),
                             Ledger("sap"), bank) as start:
        payroll = await start(run)
        await payroll.until(lambda s: len(s.entities) == 2)


        async def at_rest(entity: str) -> EntitySnapshot:
            return await poll(lambda: payroll.entity(entity).query(PayrollEntityWorkflow.status),
                              lambda s: s.status in (EntityStatus.EXCEPTION, EntityStatus.RECONCILED),
                              lambda s: str(s.status))

        [entity] = [e for e in ("US01", "DE01") if (await at_rest(e)).status is EntityStatus.EXCEPTION]
        snapshot = await payroll.entity(entity).query(PayrollEntityWorkflow.status)
        [exception] = snapshot.open_exceptions
        assert exception.item is None and exception.problem.vendor_code == "AC05"
        await payroll.resolve(ResolutionAction.RETRY, handle=payroll.entity(entity))
        done = await payroll.until(settled)
    payment = done.entities[entity].payment
    assert payment is not None and payment.settled == payment.transfers and payment.message_id.endswith("net1")
    assert payment.statement.endswith("reconciled"), payment.statement


async def test_an_employee_with_no_bank_account_is_not_paid_silently_but_parked_until_one_is_added(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    run = run_ref()
    provider, bank = Provider(rows={run.key: company()}, without_account={"W008"}), Bank()
    async with payroll_world(time_skipping_env, tmp_path, provider, Ledger("netsuite"), Ledger("sap"), bank) as start:
        payroll = await start(run)
        germany = payroll.entity("DE01")
        parked = await payroll.employee_parked("DE01", "W008")
        assert parked.open_exceptions[0].problem.code == "BANK_DETAILS_MISSING"
        assert parked.payment is not None and (parked.payment.transfers, parked.payment.rejected) == (3, 1)
        await payroll.resolve(ResolutionAction.RETRY, handle=germany, item="employee W008")     # not fixed yet
        again = await poll(lambda: germany.query(PayrollEntityWorkflow.status),
                           lambda s: any("still has no bank account" in e.problem.reason for e in s.open_exceptions),
                           lambda s: str(s.status))
        assert [e.item for e in again.open_exceptions] == ["employee W008"]
        provider.without_account.clear()
        await payroll.resolve(ResolutionAction.RETRY, handle=germany, item="employee W008")
        done = await payroll.until(lambda s: settled(s) and all(
            p.payment is not None and not p.payment.rejected for p in s.entities.values()))
    assert sorted(len(sent["transfers"]) for sent in bank.files.values()) == [1, 3, 6]
    assert done.entities["DE01"].payment is not None and done.entities["DE01"].payment.settled == 4


async def test_an_account_corrected_in_the_payroll_system_is_the_one_paid_again(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    run = run_ref()
    provider = Provider(rows={run.key: company()})
    bank = Bank(closed={payee("W007", "DE01").iban or ""})        # the old account stays closed
    async with payroll_world(time_skipping_env, tmp_path, provider, Ledger("netsuite"), Ledger("sap"), bank) as start:
        payroll = await start(run)
        germany = payroll.entity("DE01")
        await payroll.employee_parked("DE01", "W007")
        new_iban = german_iban("0000777777")
        provider.corrected["W007"] = replace(payee("W007", "DE01"), iban=new_iban)   # fixed in Workday
        await payroll.resolve(ResolutionAction.RETRY, handle=germany, item="employee W007")
        done = await payroll.until(lambda s: settled(s) and all(
            p.payment is not None and not p.payment.rejected for p in s.entities.values()))
    assert done.status is PayrollStatus.RECONCILED
    [again] = [sent for sent in bank.files.values() if len(sent["transfers"]) == 1]
    assert [account for _, account, _, _ in again["transfers"]] == [new_iban]


async def test_rejections_beyond_those_listed_park_together_and_each_employee_is_paid_once(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payroll_pay, "REJECTIONS_SHOWN", 1)     # the workflow carries one employee by name
    run = run_ref()
    closed = {payee(worker, "DE01").iban or "" for worker in ("W006", "W007", "W008")}
    bank, sap = Bank(closed=set(closed)), Ledger("sap")
    async with payroll_world(time_skipping_env, tmp_path, Provider(rows={run.key: company()}), Ledger("netsuite"),
                             sap, bank) as start:
        payroll = await start(run)
        germany = payroll.entity("DE01")
        parked = await payroll.entity_until("DE01", lambda s: len(s.open_exceptions) == 2)
        items = sorted(e.item or "" for e in parked.open_exceptions)
        assert items == ["employee W006", "employees not listed"]
        [together] = [e for e in parked.open_exceptions if e.item == "employees not listed"]
        assert "2 more are parked here together" in together.problem.reason and together.actions == [
            ResolutionAction.RETRY]

        bank.closed.clear()
        await payroll.resolve(ResolutionAction.RETRY, handle=germany, item="employees not listed")
        await payroll.entity_until("DE01", lambda s: [e.item for e in s.open_exceptions] == ["employee W006"])
        await payroll.resolve(ResolutionAction.RETRY, handle=germany, item="employee W006")
        done = await payroll.until(lambda s: settled(s) and all(
            p.payment is not None and not p.payment.rejected for p in s.entities.values()))
    assert done.status is PayrollStatus.RECONCILED
    paid_to = [account for sent in bank.files.values() for e2e, account, _, _ in sent["transfers"]
               if e2e not in sent["rejected"]]
    assert sorted(account for account in paid_to if account in closed) == sorted(closed)   # each once
    assert sorted(len(sent["transfers"]) for sent in bank.files.values()) == [1, 2, 4, 6]
    assert sap.net("2250") == 0
