"""An entity's payroll journal from its aggregates: expense by cost center, liabilities by
account, and for any payroll whose employees add up, an entry that balances."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canonical.journal import Side
from canonical.payroll import AggregateLine, PayComponentKind, PayrollRunRef
from canonical.payroll_journal import UnmappedPayComponents, entity_journal, journal_external_id
from canonical.payroll_rules import PayrollRulebook

RULES = PayrollRulebook.model_validate(tomllib.loads(Path("config/payroll.toml").read_text()))
RUN = PayrollRunRef(provider="workday", run_id="PR-2026-11", version=2, pay_group="MONTHLY",
                    period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), payment_date=date(2026, 11, 27),
                    finalized_by="payroll.admin")
K = PayComponentKind


def line(cost_center: str, component: str, kind: K, amount: str) -> AggregateLine:
    return AggregateLine(cost_center=cost_center, component=component, kind=kind, currency="EUR", amount=Decimal(amount))


LINES = [line("CC-4100", "SALARY", K.EARNING, "10000.00"), line("CC-4200", "SALARY", K.EARNING, "8000.00"),
         line("CC-4100", "BONUS", K.EARNING, "500.00"),
         line("CC-4100", "WAGE_TAX", K.EMPLOYEE_DEDUCTION, "3000.00"),
         line("CC-4200", "WAGE_TAX", K.EMPLOYEE_DEDUCTION, "2000.00"),
         line("CC-4100", "SOCIAL_ER", K.EMPLOYER_CONTRIBUTION, "2100.00"),
         line("CC-4200", "SOCIAL_ER", K.EMPLOYER_CONTRIBUTION, "1600.00"),
         line("CC-4100", "EXPENSE_REIMB", K.REIMBURSEMENT, "120.00"),
         line("CC-4100", "NET_PAY", K.NET_PAY, "7620.00"), line("CC-4200", "NET_PAY", K.NET_PAY, "6000.00")]


def test_expense_by_cost_center_and_liabilities_by_account() -> None:
    entry = entity_journal(RUN, "DE01", LINES, RULES, date(2026, 11, 30))
    got = {(ln.side, ln.account, ln.cost_center): ln.amount.amount for ln in entry.lines}
    assert got == {
        (Side.DEBIT, "6500", "CC-4100"): Decimal("10000.00"), (Side.DEBIT, "6500", "CC-4200"): Decimal("8000.00"),
        (Side.DEBIT, "6510", "CC-4100"): Decimal("500.00"),
        (Side.DEBIT, "6520", "CC-4100"): Decimal("2100.00"), (Side.DEBIT, "6520", "CC-4200"): Decimal("1600.00"),
        (Side.DEBIT, "2150", None): Decimal("120.00"),             # the employee payable the expense was booked to
        (Side.CREDIT, "2200", None): Decimal("5000.00"),
        (Side.CREDIT, "2230", None): Decimal("3700.00"),           # the employer's contributions owed
        (Side.CREDIT, "2250", None): Decimal("13620.00"),          # net pay, cleared by the bank batch
    }
    assert entry.external_id == journal_external_id(RUN, "DE01") == "payroll-PR-2026-11-v2:DE01"
    assert entry.total().amount == Decimal("22320.00")


def test_a_component_with_no_account_stops_the_journal() -> None:
    with pytest.raises(UnmappedPayComponents, match="CAR_ALLOWANCE"):
        entity_journal(RUN, "DE01", [*LINES, line("CC-4100", "CAR_ALLOWANCE", K.EARNING, "300.00")], RULES,
                       date(2026, 11, 30))


cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))


@given(st.lists(st.tuples(st.sampled_from(["CC-4100", "CC-4200"]), cents, cents, cents, cents, cents),
                min_size=1, max_size=20))
def test_a_payroll_whose_employees_add_up_balances(
        employees: list[tuple[str, Decimal, Decimal, Decimal, Decimal, Decimal]]) -> None:
    lines = []
    for cost_center, salary, bonus, tax, employer, reimbursed in employees:
        withheld = min(tax, salary + bonus)
        lines += [line(cost_center, "SALARY", K.EARNING, str(salary)), line(cost_center, "BONUS", K.EARNING, str(bonus)),
                  line(cost_center, "WAGE_TAX", K.EMPLOYEE_DEDUCTION, str(withheld)),
                  line(cost_center, "SOCIAL_ER", K.EMPLOYER_CONTRIBUTION, str(employer)),
                  line(cost_center, "EXPENSE_REIMB", K.REIMBURSEMENT, str(reimbursed)),
                  line(cost_center, "NET_PAY", K.NET_PAY, str(salary + bonus - withheld + reimbursed))]
    if all(ln.amount == 0 for ln in lines):
        return
    entry = entity_journal(RUN, "DE01", lines, RULES, date(2026, 11, 30))   # built only if it balances
    net_pay = sum((ln.amount for ln in lines if ln.kind is K.NET_PAY), Decimal(0))
    assert sum((ln.amount.amount for ln in entry.lines if ln.account == "2250"), Decimal(0)) == net_pay
