"""The integration store behaves the same on SQLite (default) and PostgreSQL (production)."""

from __future__ import annotations

from datetime import datetime, timezone

from canonical import FinanceEvent, FinanceEventType, Money
from finsync.store import IntegrationStore
from tests.workflows.world import expense_line, report


def event(n: int, kind: FinanceEventType = FinanceEventType.POSTED) -> FinanceEvent:
    return FinanceEvent(event_id=f"wf-1/run/{n}", type=kind, occurred_at=datetime(2026, 11, 20, 10, n, tzinfo=timezone.utc),
                        process="expense", business_key="R1", workflow_id="wf-1", correlation_id="c-1",
                        entity_code="DE01", amount=Money.of("1234.56", "EUR"), summary=f"event {n}", data={"n": n})


def test_the_feed_is_append_only_ordered_and_a_retried_write_adds_nothing(store: IntegrationStore):
    assert store.append_events([event(1), event(2)]) == 2
    assert store.append_events([event(2), event(3)]) == 1          # a local activity retried
    rows = store.events(workflow_id="wf-1")
    assert [r.event_id for r in rows] == ["wf-1/run/1", "wf-1/run/2", "wf-1/run/3"]
    assert rows[0].amount == "1234.56" and rows[0].currency == "EUR"   # exact, as text
    assert [r.event_id for r in store.events(after_seq=rows[1].seq)] == ["wf-1/run/3"]


def test_duplicate_lines_are_found_across_reports_but_not_within_one(store: IntegrationStore):
    first = report("R1", expense_line("L1", "MEALS", "42.50", merchant="Blue Bottle"))
    again = report("R2", expense_line("L9", "MEALS", "42.50", merchant="blue-bottle"))
    assert store.register_expense_lines(first) == []
    assert store.register_expense_lines(first) == []                 # the same report re-checked
    assert store.register_expense_lines(again) == [("L9", "R1")]


def test_payment_routes_and_webhook_receipts(store: IntegrationStore):
    store.route_payment("FSE-R1-G1P1", "FSM-R1-G1P1", "expense-concur-R1")
    store.route_payment("FSE-R1-G1P1", "FSM-R1-G1P1", "expense-concur-R1")   # retried activity
    assert store.workflow_for_payment("FSE-R1-G1P1") == "expense-concur-R1"
    assert store.workflow_for_payment("FSE-unknown") is None
    assert not store.webhook_seen("msg_1")
    store.remember_webhook("msg_1", "expense", "expense-concur-R1")
    store.remember_webhook("msg_1", "expense", "expense-concur-R1")
    assert store.webhook_seen("msg_1")
