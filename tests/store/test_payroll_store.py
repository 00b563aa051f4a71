"""A payroll run's results read into the store page by page, on SQLite and PostgreSQL: however the
rows are cut into pages, the sums are the same; a page applied twice counts once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonical.payroll import PayComponentKind, Payee, PayResultRow, PayrollRunRef, RegisterTotals
from finsync.store import IntegrationStore

E, D, R, N, ER = (PayComponentKind.EARNING, PayComponentKind.EMPLOYEE_DEDUCTION, PayComponentKind.REIMBURSEMENT,
                  PayComponentKind.NET_PAY, PayComponentKind.EMPLOYER_CONTRIBUTION)
END = date(2026, 11, 30)


def run(version: int = 1, period_end: date = END, run_id: str = "PR-2026-11") -> PayrollRunRef:
    return PayrollRunRef(provider="workday", run_id=run_id, version=version, pay_group="MONTHLY",
                         period_start=period_end.replace(day=1), period_end=period_end,
                         payment_date=period_end, finalized_by="payroll.admin")


def employee(worker: str, entity: str, currency: str, salary: str, tax: str, *, reimbursed: str = "0",
             net_off: str = "0", cost_center: str = "CC-1") -> list[PayResultRow]:
    gross, withheld, back = Decimal(salary), Decimal(tax), Decimal(reimbursed)
    rows = [PayResultRow(worker, entity, cost_center, "SALARY", E, gross, currency, END),
            PayResultRow(worker, entity, cost_center, "WAGE_TAX", D, withheld, currency, END),
            PayResultRow(worker, entity, cost_center, "SOCIAL_ER", ER, (gross / 10).quantize(Decimal("0.01")),
                         currency, END),
            PayResultRow(worker, entity, cost_center, "NET_PAY", N, gross - withheld + back + Decimal(net_off),
                         currency, END)]
    if back:
        rows.append(PayResultRow(worker, entity, cost_center, "EXPENSE_REIMB", R, back, currency, END))
    return rows


def read(store: IntegrationStore, key: PayrollRunRef, rows: list[PayResultRow], cuts: list[int]) -> None:
    store.begin_ingest(key)
    bounds = [0, *sorted(set(cuts)), len(rows)]
    pages = [rows[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a] or [[]]
    for index, page in enumerate(pages):
        cursor = None if index == 0 else str(index)
        assert store.add_page(key.key, cursor, page, str(index + 1) if index + 1 < len(pages) else None)


ROWS = (employee("W1", "US01", "USD", "5000.00", "1000.00", cost_center="CC-1000")
        + employee("W2", "US01", "USD", "4000.10", "800.05", reimbursed="120.40", cost_center="CC-2000")
        + employee("W3", "DE01", "EUR", "6000.00", "2100.33", cost_center="CC-4100"))
EXPECTED = [
    RegisterTotals(entity="DE01", currency="EUR", headcount=1, earnings=Decimal("6000.00"),
                   employee_deductions=Decimal("2100.33"), employer_contributions=Decimal("600.00"),
                   net_pay=Decimal("3899.67")),
    RegisterTotals(entity="US01", currency="USD", headcount=2, earnings=Decimal("9000.10"),
                   employee_deductions=Decimal("1800.05"), employer_contributions=Decimal("900.01"),
                   reimbursements=Decimal("120.40"), net_pay=Decimal("7320.45")),
]


def test_totals_per_entity_and_currency(store: IntegrationStore) -> None:
    read(store, run(), ROWS, [5])
    assert store.register_totals(run().key) == EXPECTED
    assert store.unbalanced_employees(run().key) == (0, [])
    ingest = store.ingest(run().key)
    assert ingest is not None and ingest.finished and ingest.rows == len(ROWS)


def test_a_page_applied_again_counts_once(store: IntegrationStore) -> None:
    key = run()
    store.begin_ingest(key)
    assert store.add_page(key.key, None, ROWS[:6], "p2")
    assert not store.add_page(key.key, None, ROWS[:6], "p2")     # a retried attempt re-reads the first page
    assert store.add_page(key.key, "p2", ROWS[6:], None)
    assert not store.add_page(key.key, "p2", ROWS[6:], None)
    assert store.register_totals(key.key) == EXPECTED


def test_an_employee_whose_net_pay_does_not_add_up_is_named(store: IntegrationStore) -> None:
    rows = ROWS + employee("W9", "DE01", "EUR", "3000.00", "900.00", net_off="0.01")
    read(store, run(), rows, [])
    assert store.unbalanced_employees(run().key) == (1, ["W9"])


def test_the_previous_period_is_the_last_finished_run_before_it(store: IntegrationStore) -> None:
    october, november = run(period_end=date(2026, 10, 31), run_id="PR-10"), run(run_id="PR-11")
    read(store, october, ROWS, [])
    read(store, run(version=2, period_end=date(2026, 10, 31), run_id="PR-10"), ROWS, [])
    store.begin_ingest(november)
    assert store.previous_run_key(november) == "workday:PR-10:v2"
    assert store.previous_run_key(october) is None


def test_amounts_finer_than_the_currency_are_refused(store: IntegrationStore) -> None:
    store.begin_ingest(run())
    with pytest.raises(ValueError, match="more decimals than USD"):
        store.add_page(run().key, None, [PayResultRow("W1", "US01", "CC", "SALARY", E, Decimal("1.001"), "USD", END)],
                       None)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(ROWS)), max_size=6), order=st.permutations(range(len(ROWS))))
def test_any_paging_of_the_rows_gives_the_same_sums(tmp_path_factory: pytest.TempPathFactory, cuts: list[int],
                                                   order: list[int]) -> None:
    store = IntegrationStore(f"sqlite:///{tmp_path_factory.mktemp('payroll') / 'store.db'}")
    read(store, run(), [ROWS[i] for i in order], cuts)
    assert store.register_totals(run().key) == EXPECTED
    lines = store.aggregate_lines(run().key, "US01")
    assert sum(line.amount for line in lines if line.kind is E) == Decimal("9000.10")


def test_net_pay_due_names_where_it_goes_and_who_has_no_bank_details(store: IntegrationStore) -> None:
    read(store, run(), ROWS, [])
    store.store_payees(run().key, [Payee("W1", "Maya Patel", "US01", "CHASUS33XXX", account_number="100000000001")])
    store.store_payees(run().key, [Payee("W1", "Maya Patel", "US01", "CHASUS33XXX", account_number="100000000001")])
    due = [(employee.worker_id, employee.net_minor, payee.name if payee else None)
           for employee, payee in store.net_pay_due(run().key, "US01")]
    assert due == [("W1", 400000, "Maya Patel"), ("W2", 332045, None)]


def test_a_rejected_transfer_keeps_its_reason(store: IntegrationStore) -> None:
    row = {"run_key": run().key, "worker_id": "W1", "entity": "US01", "end_to_end_id": "NP-1", "message_id": "M1",
           "amount_minor": 400000, "currency": "USD", "state": "SENT"}
    store.record_transfers([row])
    store.record_transfers([row | {"message_id": "M2"}])     # recorded already: stays in its first file
    [rejected] = store.reject_transfers({"NP-1": "AC04"})
    assert (rejected.worker_id, rejected.state, rejected.reason_code, rejected.message_id) == ("W1", "REJECTED", "AC04", "M1")
