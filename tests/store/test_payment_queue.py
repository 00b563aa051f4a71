"""The payment run's queue, on SQLite and PostgreSQL: a payment is queued once however often its
process asks, claimed by the first run on or after its day, and never by two runs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from canonical import BankAccount, CreditTransfer, Money, PaymentIdReused, PaymentOrder, PaymentRequestState
from finsync.store import IntegrationStore

DE_EUR = BankAccount(holder_name="Finsync Demo GmbH", iban="DE02120300000000202051", bic="BYLADEM1001")
KATRIN = BankAccount(holder_name="Katrin Vogel", iban="DE75512108001245126199", bic="COBADEFFXXX")
MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)
QUEUED, IN_RUN, SENT, WITHDRAWN = (PaymentRequestState.QUEUED, PaymentRequestState.IN_RUN,
                                   PaymentRequestState.SENT, PaymentRequestState.WITHDRAWN)


def order(e2e: str, amount: str = "100.00", day: date = MONDAY) -> PaymentOrder:
    return PaymentOrder(debtor_entity="DE01", debtor_name=DE_EUR.holder_name, debtor_account=DE_EUR,
                        requested_execution_date=day,
                        transfer=CreditTransfer(end_to_end_id=e2e, creditor=KATRIN, amount=Money.of(amount, "EUR")))


def queue(store: IntegrationStore, *orders: PaymentOrder, owner: str = "requisition-R1") -> None:
    for one in orders:
        store.enqueue_payment(one, owner, "supplier_payments")


def states(store: IntegrationStore, *e2es: str) -> list[tuple[str, str | None, str | None]]:
    rows = [store.payment_request(e2e) for e2e in e2es]
    return [(row.state, row.run_key, row.message_id) if row else ("missing", None, None) for row in rows]


def test_a_payment_queued_again_is_the_one_already_queued_and_another_under_its_id_is_refused(store: IntegrationStore):
    first = store.enqueue_payment(order("E1", "42.50"), "requisition-R1", "supplier_payments")
    again = store.enqueue_payment(order("E1", "42.50"), "requisition-R1", "supplier_payments")   # an activity retried
    assert (again.state, again.requested_at, again.order) == (QUEUED, first.requested_at, order("E1", "42.50"))
    assert (again.amount, again.currency, again.requested_execution_date) == ("42.50", "EUR", MONDAY)

    with pytest.raises(PaymentIdReused, match="EndToEndId E1 is already queued for another payment"):
        store.enqueue_payment(order("E1", "99.00"), "requisition-R1", "supplier_payments")
    with pytest.raises(PaymentIdReused):
        store.enqueue_payment(order("E1", "42.50"), "requisition-R2", "supplier_payments")
    assert store.payment_request("E1").order == order("E1", "42.50")   # type: ignore[union-attr]

    store.claim_due_payments("run-1", MONDAY)
    store.file_payments({"MSG-1": ["E1"]})
    later = store.enqueue_payment(order("E1", "42.50"), "requisition-R1", "supplier_payments")
    assert (later.state, later.run_key, later.message_id) == (IN_RUN, "run-1", "MSG-1")   # where it now stands


def test_a_run_claims_what_is_due_by_its_day_in_the_order_it_was_queued(store: IntegrationStore):
    queue(store, order("E3", day=TUESDAY), order("E1", day=MONDAY), order("E2", day=WEDNESDAY))

    claimed = store.claim_due_payments("run-tue", TUESDAY)

    assert [row.end_to_end_id for row in claimed] == ["E3", "E1"]
    assert states(store, "E1", "E2", "E3") == [(IN_RUN, "run-tue", None), (QUEUED, None, None),
                                               (IN_RUN, "run-tue", None)]
    assert store.claim_due_payments("run-wed", WEDNESDAY)[0].end_to_end_id == "E2"


def test_a_run_claiming_again_gets_what_it_claimed_and_nothing_queued_since(store: IntegrationStore):
    queue(store, order("E1"), order("E2"))
    first = [row.end_to_end_id for row in store.claim_due_payments("run-1", MONDAY)]
    queue(store, order("E3"))

    assert [row.end_to_end_id for row in store.claim_due_payments("run-1", MONDAY)] == first == ["E1", "E2"]
    assert states(store, "E3") == [(QUEUED, None, None)]   # the next run's
    assert [row.end_to_end_id for row in store.claim_due_payments("run-2", MONDAY)] == ["E3"]


def test_runs_claiming_at_once_never_share_a_payment(store: IntegrationStore):
    queue(store, *(order(f"E{n:03d}") for n in range(200)))
    runs = [f"run-{n}" for n in range(8)]
    ready = threading.Barrier(len(runs))

    def claim(run_key: str) -> list[str]:
        ready.wait()
        return [row.end_to_end_id for row in store.claim_due_payments(run_key, MONDAY)]

    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        claims = list(pool.map(claim, runs))

    every = [e2e for claimed in claims for e2e in claimed]
    assert sorted(every) == [f"E{n:03d}" for n in range(200)]   # each once: none lost, none in two runs
    for run_key, claimed in zip(runs, claims, strict=True):
        assert {store.payment_request(e2e).run_key for e2e in claimed} <= {run_key}   # type: ignore[union-attr]


def test_a_file_is_sent_or_withdrawn_and_a_withdrawn_payment_is_never_claimed_again(store: IntegrationStore):
    queue(store, order("E1"), order("E2"), order("E3"))
    store.claim_due_payments("run-1", MONDAY)
    store.file_payments({"MSG-A": ["E1", "E2"], "MSG-B": ["E3"]})
    assert [row.end_to_end_id for row in store.payments_in_file("MSG-A")] == ["E1", "E2"]

    store.mark_file_sent("MSG-A")
    withdrawn = store.withdraw_file("MSG-B")
    assert [row.end_to_end_id for row in store.withdraw_file("MSG-B")] == [row.end_to_end_id for row in withdrawn] == ["E3"]
    assert store.withdraw_file("MSG-A") == []                     # a file with the bank is never taken back

    assert states(store, "E1", "E2", "E3") == [(SENT, "run-1", "MSG-A"), (SENT, "run-1", "MSG-A"),
                                               (WITHDRAWN, "run-1", "MSG-B")]
    assert store.payment_request("E1").sent_at is not None          # type: ignore[union-attr]
    assert [row.end_to_end_id for row in store.claim_due_payments("run-1", MONDAY)] == ["E1", "E2"]
    assert store.payments_in_file("MSG-B") == []
