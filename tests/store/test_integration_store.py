"""The integration store behaves the same on SQLite (default) and PostgreSQL (production)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine

from canonical import FinanceEvent, FinanceEventType, Money, PaymentState, PaymentStatusReport
from finsync.store import IntegrationStore, PaymentRoute
from tests.workflows.world import expense_line, report


def event(n: int, kind: FinanceEventType = FinanceEventType.POSTED) -> FinanceEvent:
    return FinanceEvent(event_id=f"wf-1/run/{n}", type=kind, occurred_at=datetime(2026, 11, 20, 10, n, tzinfo=UTC),
                        process="expense", business_key="R1", workflow_id="wf-1", correlation_id="c-1",
                        entity_code="DE01", amount=Money.of("1234.56", "EUR"), summary=f"event {n}", data={"n": n})


def test_the_feed_is_append_only_ordered_and_a_retried_write_adds_nothing(store: IntegrationStore):
    assert store.append_events([event(1), event(2)]) == 2
    assert store.append_events([event(2), event(3)]) == 1          # a local activity retried
    rows = store.events(workflow_id="wf-1")
    assert [r.event_id for r in rows] == ["wf-1/run/1", "wf-1/run/2", "wf-1/run/3"]
    assert rows[0].amount == "1234.56" and rows[0].currency == "EUR"   # exact, as text
    assert [r.event_id for r in store.events(after_seq=rows[1].seq or 0)] == ["wf-1/run/3"]


def test_duplicate_lines_are_found_across_reports_but_not_within_one(store: IntegrationStore):
    first = report("R1", expense_line("L1", "MEALS", "42.50", merchant="Blue Bottle"))
    again = report("R2", expense_line("L9", "MEALS", "42.50", merchant="blue-bottle"))
    assert store.register_expense_lines(first) == []
    assert store.register_expense_lines(first) == []                 # the same report re-checked
    assert store.register_expense_lines(again) == [("L9", "R1")]


def test_of_two_identical_claims_the_earlier_is_the_original_however_often_checked(store: IntegrationStore):
    """Not the order in which workers got there: a worker may die after storing the lines and
    check again, and the later claim may be checked first."""
    early = datetime(2026, 11, 10, 9, tzinfo=UTC)
    first = report("D1", expense_line("L1", "MEALS", "42.50")).model_copy(update={"submitted_at": early})
    second = report("D2", expense_line("L1", "MEALS", "42.50")).model_copy(
        update={"submitted_at": early + timedelta(hours=1)})
    assert store.register_expense_lines(second) == []          # the later claim happens to be checked first
    assert store.register_expense_lines(first) == []           # the earlier one is the original
    assert store.register_expense_lines(second) == [("L1", "D1")]
    assert store.register_expense_lines(second) == [("L1", "D1")]   # again: the same answer
    assert store.register_expense_lines(first) == []


def test_a_released_or_removed_line_is_no_longer_the_original(store: IntegrationStore):
    first = report("R1", expense_line("L1", "MEALS", "42.50"), expense_line("L2", "LODGING", "180.00"))
    store.register_expense_lines(first)
    store.register_expense_lines(report("R1", expense_line("L1", "MEALS", "42.50")))   # L2 removed, resubmitted
    assert store.register_expense_lines(report("R2", expense_line("L7", "LODGING", "180.00"))) == []
    assert store.release_expense_lines("R1") == 1                  # R1 cancelled
    assert store.register_expense_lines(report("R3", expense_line("L5", "MEALS", "42.50"))) == []


def test_payment_routes(store: IntegrationStore):
    store.route_payment("FSE-R1-G1P1", "FSM-R1-G1P1", "expense-concur-R1")
    store.route_payment("FSE-R1-G1P1", "FSM-R1-G1P1", "expense-concur-R1")   # retried activity
    assert store.workflow_for_payment("FSE-R1-G1P1") == "expense-concur-R1"
    assert store.workflow_for_payment("FSE-unknown") is None


def test_a_batchs_routes_are_found_by_file_and_block_and_a_retry_keeps_the_first(store: IntegrationStore):
    def routes(workflow_id: str) -> list[PaymentRoute]:
        return [PaymentRoute(end_to_end_id=f"E{n}", message_id="RUN-1", payment_info_id=f"RUN-1-P{n % 2}",
                             workflow_id=workflow_id, created_at=datetime.now(UTC)) for n in range(600)]

    store.route_payments(routes("payment-run-1"))
    store.route_payments(routes("payment-run-retried"))          # a retried activity: the first routes stand
    store.route_payment("FSE-R1-G1P1", "FSM-R1-G1P1", "expense-concur-R1")

    assert len(store.routes_in("RUN-1")) == 600
    assert {r.workflow_id for r in store.routes_in("RUN-1")} == {"payment-run-1"}
    assert sorted(r.end_to_end_id for r in store.routes_in("RUN-1", "RUN-1-P1")) == sorted(
        f"E{n}" for n in range(1, 600, 2))
    assert [(r.end_to_end_id, r.block) for r in store.routes_in("FSM-R1-G1P1", "FSM-R1-G1P1")] == [
        ("FSE-R1-G1P1", "FSM-R1-G1P1")]                        # a single payment's block is its file
    assert store.routes_in("RUN-1", "RUN-1-P9") == [] and store.routes_in("RUN-2") == []


def test_routes_from_before_batches_gain_the_block_column_and_read_as_their_file(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with create_engine(url).begin() as db:   # the table as stores created before batches have it
        db.exec_driver_sql("CREATE TABLE payment_route (end_to_end_id VARCHAR PRIMARY KEY, message_id VARCHAR "
                           "NOT NULL, workflow_id VARCHAR NOT NULL, created_at DATETIME NOT NULL)")
        db.exec_driver_sql("INSERT INTO payment_route VALUES ('FSE-R1-G1P1', 'FSM-R1-G1P1', 'expense-concur-R1', "
                           "'2026-11-20 10:00:00')")
    store = IntegrationStore(url)
    assert [(r.end_to_end_id, r.payment_info_id, r.block) for r in store.routes_in("FSM-R1-G1P1", "FSM-R1-G1P1")] == [
        ("FSE-R1-G1P1", None, "FSM-R1-G1P1")]


def test_a_webhook_is_claimed_once_and_a_released_claim_can_be_taken_again(store: IntegrationStore):
    assert store.claim_webhook("msg_1", "expense", "expense-concur-R1")
    assert not store.claim_webhook("msg_1", "expense", "expense-concur-R1")   # a redelivery
    assert store.claim_webhook("msg_2", "bank")                                # another id is its own
    store.release_webhook("msg_1")                                             # handling failed
    assert store.claim_webhook("msg_1", "expense", "expense-concur-R1")        # the vendor's retry
    store.release_webhook("msg_unknown")                                       # nothing to release: no error


def test_fifty_simultaneous_claims_of_one_webhook_give_it_to_exactly_one(store: IntegrationStore):
    ready = threading.Barrier(50)

    def claim(_: int) -> bool:
        ready.wait()
        return store.claim_webhook("msg_race", "expense", "expense-concur-R1")

    with ThreadPoolExecutor(max_workers=50) as pool:
        assert sorted(pool.map(claim, range(50))) == [False] * 49 + [True]


def bank_report(state: PaymentState, source: str, e2e: str = "FSE-R1-G1P1") -> PaymentStatusReport:
    return PaymentStatusReport(message_id="FSM-R1-G1P1", end_to_end_id=e2e, state=state, source=source,
                               bank_status_code={"SETTLED": "ACSC", "REJECTED": "RJCT"}.get(state.value, "PDNG"))


def test_bank_reports_are_kept_and_those_no_process_took_are_listed_with_the_message(store: IntegrationStore):
    assert not store.payment_decided("FSE-R1-G1P1")
    store.record_bank_report("msg_1", bank_report(PaymentState.ACCEPTED, "pain.002"), "expense-concur-R1", "delivered")
    assert not store.payment_decided("FSE-R1-G1P1")                 # accepted is not decided
    store.record_bank_report("msg_2", bank_report(PaymentState.SETTLED, "pain.002"), "expense-concur-R1", "delivered")
    store.record_bank_report("msg_2", bank_report(PaymentState.SETTLED, "pain.002"), "expense-concur-R1", "delivered")
    assert store.payment_decided("FSE-R1-G1P1")
    store.record_bank_report("msg_3", bank_report(PaymentState.SETTLED, "camt.054"), "expense-concur-R1",
                             "already decided", raw="<Document/>")
    store.record_bank_report("msg_4", bank_report(PaymentState.REJECTED, "pain.002", "FSE-NOBODY"), None,
                             "unmatched", investigate=True, raw="<Document>RJCT</Document>")

    (kept,) = store.bank_reports_to_investigate()
    assert (kept.end_to_end_id, kept.outcome, kept.raw) == ("FSE-NOBODY", "unmatched", "<Document>RJCT</Document>")
    assert PaymentStatusReport.model_validate_json(kept.report).state is PaymentState.REJECTED
    assert not store.payment_decided("FSE-NOBODY")                  # nothing took it
