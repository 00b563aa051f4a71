"""The store's side of reimbursement through payroll: what was handed over, which run version
carries it, and the one transfer that paid it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from canonical import Money
from canonical.payroll_reimbursement import PayrollReimbursement
from finsync.store import IntegrationStore
from tests.store.test_payroll_store import employee, read, run

PAID_ON = date(2026, 11, 29)


def handoff(reference: str, worker: str = "W2", amount: str = "120.40") -> PayrollReimbursement:
    return PayrollReimbursement(reference=reference, expense_workflow_id=f"expense-concur-{reference}",
                                report_id=reference, entity="US01", worker_id=worker, component="EXPENSE_REIMB",
                                amount=Money.of(amount, "USD"))


def with_reference(rows: list, reference: str) -> list:
    return [replace(row, reference=reference) if row.component == "EXPENSE_REIMB" else row for row in rows]


def transfer(version: int, worker: str, e2e: str, message_id: str, state: str = "SENT") -> dict:
    return {"run_key": run(version).key, "worker_id": worker, "entity": "US01", "end_to_end_id": e2e,
            "message_id": message_id, "amount_minor": 1, "currency": "USD", "state": state}


def test_a_run_pays_what_was_handed_over_once_and_tells_whom(store: IntegrationStore) -> None:
    store.record_handoff(handoff("R1"))
    store.record_handoff(handoff("R1"))            # handed over again: one record
    rows = employee("W1", "US01", "USD", "5000.00", "1000.00") + with_reference(
        employee("W2", "US01", "USD", "4000.10", "800.05", reimbursed="120.40"), "R1")
    read(store, run(), rows, [3])
    assert store.unpaid_reimbursement_workers(run().key) == ["W2"]
    store.record_transfers([transfer(1, "W1", "NP-1", "M1"), transfer(1, "W2", "NP-2", "M1")])

    [(told, paid)] = store.settle_reimbursements(run().key, "M1", store.sent_transfers(run().key, "M1", ["W2"]),
                                                 PAID_ON)
    assert told == "expense-concur-R1"
    assert (paid.reference, paid.worker_id, paid.end_to_end_id, paid.amount) == ("R1", "W2", "NP-2",
                                                                               Money.of("120.40", "USD"))
    assert store.reimbursement_paid("R1") == paid
    # Settled again (a retried activity): the same word, to tell again; nothing changes.
    assert store.settle_reimbursements(run().key, "M1", {}, date(2026, 12, 5)) == [(told, paid)]
    assert store.unpaid_reimbursement_workers(run().key) == []


def test_a_rejected_transfer_pays_nothing_and_a_later_version_does_not_pay_twice(store: IntegrationStore) -> None:
    store.record_handoff(handoff("R1"))
    rows = with_reference(employee("W2", "US01", "USD", "4000.10", "800.05", reimbursed="120.40"), "R1")
    read(store, run(1), rows, [])
    store.record_transfers([transfer(1, "W2", "NP-1", "M1")])
    store.reject_transfers({"NP-1": "AC04"})
    assert store.sent_transfers(run(1).key, "M1", ["W2"]) == {}
    assert store.settle_reimbursements(run(1).key, "M1", {}, PAID_ON) == []
    assert store.reimbursement_paid("R1") is None

    # Paid alone in a new file: now it is paid.
    store.record_transfers([transfer(1, "W2", "NP-1-A1", "M1-A1")], again=True)
    [(_, paid)] = store.settle_reimbursements(run(1).key, "M1-A1", {"W2": "NP-1-A1"}, PAID_ON)
    assert paid.end_to_end_id == "NP-1-A1"

    # A later version of the run carries the same reference: the first payment stands.
    read(store, run(2), rows, [])
    assert store.settle_reimbursements(run(2).key, "M2", {"W2": "NP-9"}, PAID_ON) == []
    assert store.reimbursement_paid("R1") == paid


def test_a_reimbursement_nobody_handed_over_is_recorded_but_tells_nobody(store: IntegrationStore) -> None:
    rows = with_reference(employee("W2", "US01", "USD", "4000.10", "800.05", reimbursed="120.40"), "HR-ENTERED")
    read(store, run(), rows, [])
    assert store.settle_reimbursements(run().key, "M1", {"W2": "NP-2"}, PAID_ON) == []
    paid = store.reimbursement_paid("HR-ENTERED")
    assert paid is not None and paid.end_to_end_id == "NP-2"
