"""The daily reconciliation on the time-skipping server: the real activity (activities/reconcile.py)
reads a real integration store and a scripted ERP and bank, keeps the differences in the store,
and the run says what it found in its result, its current details and the feed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.reconcile import ReconcileActivities, Reconciler, ReconcileRequest
from canonical import (
    BusinessProblem,
    FinanceEvent,
    FinanceEventType,
    Money,
    PaymentState,
    PaymentStatusReport,
    Side,
)
from canonical.keys import step_key
from connectors.errors import BusinessRuleError
from connectors.interfaces import LedgerJournal, LedgerLine
from finsync.config import Settings
from finsync.store import IntegrationStore
from tests.workflows.harness import record_history
from workflows.reconcile.workflow import DailyReconciliationWorkflow, ReconcileInput, ReconcileOutcome

DAY = date(2026, 3, 10)
AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


class ScriptedErp:
    """The ERP's journals, as its read methods would return them."""

    def __init__(self, journals: list[LedgerJournal]) -> None:
        self.journals = journals
        self.asked: set[str] = set()

    async def journals_by_external_id(self, external_ids: Collection[str]) -> list[LedgerJournal]:
        self.asked |= set(external_ids)
        return [j for j in self.journals if j.external_id in external_ids]

    async def journals_on(self, entity: str, day: date) -> list[LedgerJournal]:
        if entity not in ("US01", "DE01"):
            raise BusinessRuleError("netsuite", BusinessProblem(code="ENTITY_UNKNOWN", system="erp", reason=f"No {entity}"))
        return [j for j in self.journals if j.entity == entity and j.posting_date == day]


class ScriptedBank:
    """The bank's answer to a status lookup, for the payments it settled."""

    def __init__(self, settled: dict[str, PaymentStatusReport]) -> None:
        self.settled = settled
        self.asked: list[str] = []

    async def payment_status(self, message_id: str, end_to_end_id: str) -> PaymentStatusReport:
        self.asked.append(end_to_end_id)
        return self.settled.get(end_to_end_id) or PaymentStatusReport(
            message_id=message_id, end_to_end_id=end_to_end_id, state=PaymentState.UNKNOWN)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def ledger(erp_id: str, external_id: str, debit: str, credit: str, amount: str, day: date = DAY) -> LedgerJournal:
    return LedgerJournal(erp_id=erp_id, document_number=f"JE{erp_id}", external_id=external_id, entity="US01",
                         posting_date=day, currency="USD",
                         lines=[LedgerLine(account=debit, side=Side.DEBIT, amount=usd(amount)),
                                LedgerLine(account=credit, side=Side.CREDIT, amount=usd(amount))])


def settled(e2e: str, amount: str, source: str = "camt.054") -> PaymentStatusReport:
    return PaymentStatusReport(message_id=e2e.replace("FSE", "FSM"), end_to_end_id=e2e, state=PaymentState.SETTLED,
                               bank_status_code="BOOK", amount=usd(amount), debited=usd(amount), booking_date=DAY,
                               bank_reference=f"REF-{e2e}", source=source)


class Books:
    """What finsync recorded: the feed, the payment routes and the bank's reports."""

    def __init__(self, store: IntegrationStore) -> None:
        self.store = store

    def report(self, report_id: str, amount: str, *, erp_id: str, settlement_erp_id: str | None = None,
               paid: bool = True, at: datetime = AT) -> str:
        workflow_id, e2e = f"expense-concur-{report_id}", f"FSE-{report_id}-G0P1"
        events: list[tuple[FinanceEventType, dict[str, Any]]] = [
            (FinanceEventType.POSTED, {"external_id": step_key(workflow_id, "journal-0"), "erp_id": erp_id}),
            (FinanceEventType.PAYMENT_SENT, {"end_to_end_id": e2e, "message_id": e2e.replace("FSE", "FSM")})]
        if settlement_erp_id:
            events.append((FinanceEventType.SETTLEMENT_BOOKED, {
                "external_id": f"{e2e}:settlement", "erp_id": settlement_erp_id, "end_to_end_id": e2e,
                "debited": amount, "debited_currency": "USD", "payable": amount, "fx_difference": "0"}))
        if paid:
            events.append((FinanceEventType.PAID, {"platform_told": True}))
        self.store.route_payment(e2e, e2e.replace("FSE", "FSM"), workflow_id)
        self.store.append_events(FinanceEvent(
            event_id=f"{workflow_id}/run/{n}", type=kind, occurred_at=at + timedelta(minutes=n), process="expense",
            business_key=report_id, workflow_id=workflow_id, correlation_id=workflow_id, entity_code="US01",
            amount=usd(amount), data=data) for n, (kind, data) in enumerate(events))
        return workflow_id

    def camt054(self, report: PaymentStatusReport, workflow_id: str | None) -> None:
        self.store.record_bank_report(f"wh-{uuid.uuid4().hex}", report, workflow_id,
                                      "delivered" if workflow_id else "unknown_payment")


@pytest.fixture
def store(tmp_path: Path) -> IntegrationStore:
    return IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")


def a_day_in_us01(store: IntegrationStore) -> tuple[ScriptedErp, ScriptedBank]:
    """R1 paid before settlements were booked; R2 settled and booked; R3 booked from the bank's
    status lookup (no camt.054 kept)."""
    books = Books(store)
    r1 = books.report("R1", "84.37", erp_id="1001")
    books.camt054(settled("FSE-R1-G0P1", "84.37"), r1)
    r2 = books.report("R2", "50.00", erp_id="1002", settlement_erp_id="1003")
    books.camt054(settled("FSE-R2-G0P1", "50.00"), r2)
    books.report("R3", "20.00", erp_id="1004", settlement_erp_id="1005")
    erp = ScriptedErp([
        ledger("1001", "expense-concur-R1:journal-0", "6120", "2150", "84.37", date(2026, 3, 2)),
        ledger("1002", "expense-concur-R2:journal-0", "6110", "2150", "50.00", date(2026, 3, 3)),
        ledger("1003", "FSE-R2-G0P1:settlement", "2150", "1010", "50.00"),
        ledger("1004", "expense-concur-R3:journal-0", "6130", "2150", "20.00", date(2026, 3, 4)),
        ledger("1005", "FSE-R3-G0P1:settlement", "2150", "1010", "20.00")])
    return erp, ScriptedBank({"FSE-R3-G0P1": settled("FSE-R3-G0P1", "20.00", source="lookup")})


async def reconcile(env: WorkflowEnvironment, store: IntegrationStore, erp: ScriptedErp, bank: ScriptedBank,
                    entities: list[str], day: date | None = DAY) -> tuple[ReconcileOutcome, str, str]:
    """The run's outcome, its workflow id, and its current details (as the Web UI shows them)."""
    queue = f"reconcile-{uuid.uuid4().hex[:8]}"
    activities = ReconcileActivities(Reconciler(erp, bank, store, Settings()))  # type: ignore[arg-type]
    async with Worker(env.client, task_queue=queue, workflows=[DailyReconciliationWorkflow],
                      activities=[activities.reconcile_day]):
        handle = await env.client.start_workflow(
            DailyReconciliationWorkflow.run, ReconcileInput(entities=entities, day=day, erp_task_queue=queue),
            id=f"reconcile-{uuid.uuid4().hex[:8]}", task_queue=queue)
        try:
            outcome = await handle.result()
        finally:
            await record_history(handle, "reconcile")
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        return outcome, handle.id, metadata.current_details


async def test_each_entitys_day_is_kept_with_its_differences_and_announced(time_skipping_env, store):
    erp, bank = a_day_in_us01(store)
    outcome, run_id, details = await reconcile(time_skipping_env, store, erp, bank, ["DE01", "US01"])

    de01, us01 = outcome.results
    assert (outcome.day, de01.entity, de01.differences) == (DAY, "DE01", 0)
    assert de01.headline == "DE01 2026-03-10: clean: feed, ERP and bank agree (0 report(s), 0 ERP journal(s), " \
                            "0 bank debit(s))"
    assert us01.by_kind == {"payable_open": 1, "debit_not_booked": 1, "bank_account_movement": 1}
    assert (us01.checked.reports, us01.checked.journals, us01.checked.debits) == (3, 5, 3)

    kept = store.reconciliation(us01.id)
    assert kept is not None and (kept.entity_code, kept.day, kept.workflow_id) == ("US01", "2026-03-10", run_id)
    differences = {d["kind"]: d for d in json.loads(kept.differences)}
    assert differences["payable_open"]["report_id"] == "R1"
    assert differences["debit_not_booked"]["bank"] == ["FSE-R1-G0P1", "bank reference REF-FSE-R1-G0P1"]
    # The GL account 1010 was credited for R2 and R3's settlements; the bank also debited R1's.
    assert differences["bank_account_movement"]["expected"] == {"amount": "154.37", "currency": "USD"}
    assert differences["bank_account_movement"]["found"] == {"amount": "70.00", "currency": "USD"}

    assert bank.asked == ["FSE-R3-G0P1"]          # only the booking no kept camt.054 shows
    assert {"expense-concur-R1:journal-0", "expense-concur-R1:journal-1", "FSE-R1-G0P1:settlement"} <= erp.asked

    feed = store.events(workflow_id=run_id)
    assert [(e.type, e.entity_code, e.business_key) for e in feed] == [
        ("reconciled", "DE01", "DE01:2026-03-10"), ("reconciled", "US01", "US01:2026-03-10")]
    assert json.loads(feed[1].data) == {"reconciliation_id": us01.id, "day": "2026-03-10", "differences": 3,
                                             "by_kind": us01.by_kind, "reports": 3, "journals": 5, "debits": 3}

    assert details.split("\n\n") == [f"{de01.headline} (reconciliation {de01.id})",
                                     f"{us01.headline} (reconciliation {us01.id})"]


async def test_a_scheduled_run_reconciles_the_day_before(time_skipping_env, store):
    before = (await time_skipping_env.get_current_time()).date()
    outcome, _, _ = await reconcile(time_skipping_env, store, ScriptedErp([]), ScriptedBank({}), ["US01"], day=None)
    after = (await time_skipping_env.get_current_time()).date()
    assert outcome.day in {before - timedelta(days=1), after - timedelta(days=1)}
    assert outcome.results[0].day == outcome.day and outcome.results[0].differences == 0


async def test_an_entity_that_cannot_be_reconciled_does_not_stop_the_others(time_skipping_env, store):
    erp, bank = a_day_in_us01(store)
    with pytest.raises(WorkflowFailureError) as failure:
        await reconcile(time_skipping_env, store, erp, bank, ["XX01", "US01"])
    assert "not reconciled: XX01" in str(failure.value.cause)
    assert [e.entity_code for e in store.events() if e.type == "reconciled"] == ["US01"]


# --- the activity's reading of the day, without Temporal -----------------------------------------
async def test_journals_of_the_day_are_placed_by_their_external_id_whatever_day_their_report_moved(store):
    """A settlement booked on the day for a report whose events are older (placed through the
    payment route), a journal under a hashed id the feed names, and one under a hashed id it does not."""
    books = Books(store)
    books.report("R5", "30.00", erp_id="1006", settlement_erp_id="1007", at=AT - timedelta(days=5))
    long_id = "L" * 60
    hashed = step_key(books.report(long_id, "10.00", erp_id="1008", paid=False, at=AT - timedelta(days=9)),
                      "journal-0")
    stranger = step_key("expense-concur-" + "S" * 60, "journal-0")
    erp = ScriptedErp([
        ledger("1006", "expense-concur-R5:journal-0", "6120", "2150", "30.00", date(2026, 3, 1)),
        ledger("1007", "FSE-R5-G0P1:settlement", "2150", "1010", "30.00"),
        ledger("1008", hashed, "6120", "2150", "10.00"),
        ledger("1009", stranger, "6120", "2150", "11.00")])
    reconciler = Reconciler(erp, ScriptedBank({}), store, Settings())  # type: ignore[arg-type]

    record = await reconciler.read_day("US01", DAY)

    assert sorted(t.report_id for t in record.trails) == [long_id, "R5"]
    summary = await reconciler.reconcile(ReconcileRequest(entity="US01", day=DAY, run_key="test/1"))
    kept = store.reconciliation(summary.id)
    assert kept is not None
    orphans = [d for d in json.loads(kept.differences) if d["kind"] == "journal_not_in_feed"]
    assert [d["erp"][0].split()[0] for d in orphans] == ["JE1009"]


async def test_a_retried_reconciliation_keeps_one_result_and_one_feed_event(store):
    erp, bank = a_day_in_us01(store)
    reconciler = Reconciler(erp, bank, store, Settings())  # type: ignore[arg-type]
    first = await reconciler.reconcile(ReconcileRequest(entity="US01", day=DAY, run_key="run-1/US01"))
    again = await reconciler.reconcile(ReconcileRequest(entity="US01", day=DAY, run_key="run-1/US01"))
    assert again.id == first.id
    assert [e.type for e in store.events() if e.type == "reconciled"] == ["reconciled"]
