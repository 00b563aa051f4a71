"""What the reconciliation reads from the integration store and keeps in it, the same on SQLite and
PostgreSQL: a day's events, many process runs at once, a value in event data, settled bank
reports, payment routes, and one kept result per run."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from canonical import FinanceEvent, FinanceEventType, Money, PaymentState, PaymentStatusReport
from finsync.store import IN_LIST, IntegrationStore

DAY_START = datetime(2026, 3, 10, tzinfo=UTC)


def event(workflow_id: str, n: int, at: datetime, kind: FinanceEventType = FinanceEventType.POSTED,
          entity: str = "US01", **data: str) -> FinanceEvent:
    return FinanceEvent(event_id=f"{workflow_id}/run/{n}", type=kind, occurred_at=at, process="expense",
                        business_key=workflow_id.removeprefix("expense-concur-"), workflow_id=workflow_id,
                        correlation_id=workflow_id, entity_code=entity, amount=Money.of("10.00", "USD"), data=data)


def test_the_events_of_a_day_are_of_that_day_that_entity_and_those_types(store: IntegrationStore):
    store.append_events([
        event("expense-concur-R1", 1, DAY_START),                                   # the first moment: in
        event("expense-concur-R1", 2, DAY_START + timedelta(days=1)),               # the next day's first: out
        event("expense-concur-R2", 1, DAY_START - timedelta(microseconds=1)),       # the day before: out
        event("expense-concur-R3", 1, DAY_START + timedelta(hours=23), FinanceEventType.PAID),
        event("expense-concur-R4", 1, DAY_START + timedelta(hours=1), FinanceEventType.SUBMITTED),
        event("expense-concur-R5", 1, DAY_START + timedelta(hours=2), entity="DE01")])

    found = store.events_between(DAY_START, DAY_START + timedelta(days=1), types=["posted", "paid"],
                                 entity_code="US01")

    assert [e.event_id for e in found] == ["expense-concur-R1/run/1", "expense-concur-R3/run/1"]


def test_the_events_of_more_runs_than_one_query_names(store: IntegrationStore):
    workflows = [f"expense-concur-R{n:04d}" for n in range(IN_LIST + 5)]
    store.append_events(event(w, 1, DAY_START) for w in workflows)
    store.append_events([event(workflows[0], 2, DAY_START, FinanceEventType.SUBMITTED)])

    found = store.events_of_workflows(workflows, types=["posted"])

    assert [e.workflow_id for e in found] == workflows


def test_an_event_is_found_by_a_value_in_its_data_and_only_by_the_whole_value(store: IntegrationStore):
    hashed = "PPQ53FYAG6V4GONNN6LO6LQQN5OCOEI3H25WSIDNH42LCKY3F4FA"
    store.append_events([event("expense-concur-L1", 1, DAY_START, external_id=hashed, erp_id="1001"),
                         event("expense-concur-L2", 1, DAY_START, FinanceEventType.REVERSED, erp_id="10011"),
                         event("expense-concur-L3", 1, DAY_START, external_id="50%_off")])

    assert [e.workflow_id for e in store.events_naming(hashed, types=["posted"])] == ["expense-concur-L1"]
    assert [e.workflow_id for e in store.events_naming("1001", types=["posted", "reversed"])] == ["expense-concur-L1"]
    assert store.events_naming(hashed, types=["reversed"]) == []
    assert store.events_naming("%", types=["posted"]) == [] and store.events_naming("50%_", types=["posted"]) == []


def test_settled_bank_reports_and_the_workflows_that_sent_them(store: IntegrationStore):
    def report(e2e: str, state: PaymentState) -> PaymentStatusReport:
        return PaymentStatusReport(message_id="M", end_to_end_id=e2e, state=state, amount=Money.of("10.00", "USD"),
                                   booking_date=date(2026, 3, 10), source="camt.054")

    store.record_bank_report("wh-1", report("E1", PaymentState.SETTLED), "wf-1", "delivered")
    store.record_bank_report("wh-2", report("E2", PaymentState.REJECTED), "wf-2", "delivered")
    store.record_bank_report("wh-3", report("E3", PaymentState.SETTLED), None, "unknown_payment")
    store.route_payment("E1", "M", "wf-1")
    store.route_payment("E3", "M", "wf-3")

    assert [r.end_to_end_id for r in store.bank_reports_of(["E1", "E2"], states=["SETTLED"])] == ["E1"]
    recent = store.bank_reports_received_since(datetime.now(UTC) - timedelta(minutes=5), states=["SETTLED"])
    assert [r.end_to_end_id for r in recent] == ["E1", "E3"]
    assert store.bank_reports_received_since(datetime.now(UTC) + timedelta(minutes=5), states=["SETTLED"]) == []
    assert store.workflows_for_payments(["E1", "E2", "E3"]) == {"E1": "wf-1", "E3": "wf-3"}


def test_a_reconciliation_is_kept_once_per_run(store: IntegrationStore):
    def save(run_key: str, differences: int) -> int:
        return store.save_reconciliation(run_key=run_key, entity_code="US01", day=date(2026, 3, 10), workflow_id=None,
                                         difference_count=differences, summary=f"{differences} difference(s)",
                                         counts='{"reports": 2}', differences=json.dumps([{"kind": "payable_open"}]))

    first = save("run-1/US01", 1)
    assert save("run-1/US01", 5) == first            # a retry of the same run
    second = save("run-2/US01", 0)
    assert second != first
    kept = store.reconciliation(first)
    assert kept is not None
    assert (kept.entity_code, kept.day, kept.difference_count, kept.summary) == ("US01", "2026-03-10", 1,
                                                                                  "1 difference(s)")
    assert json.loads(kept.differences) == [{"kind": "payable_open"}]
    assert store.reconciliation(second + 1) is None
