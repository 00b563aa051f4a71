"""Policy rules and journal coding: pure functions, no Temporal needed."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from activities.bookkeeping import load_rulebook
from canonical import (
    AccountingPeriod,
    ApprovalStatus,
    CodingContext,
    CostCenter,
    Employee,
    ExpenseLine,
    ExpenseReport,
    FxRate,
    GLAccount,
    LegalEntity,
    Money,
    Side,
    currency_exponent,
)
from canonical.expense_rules import DuplicateHit
from finsync.config import BankVendorSettings, PaymentPurpose, RulesSettings
from tests.workflows.world import World, expense_line, report
from workflows.expense.coding import CodingOverrides, CodingProblem, build_journal, coding_request
from workflows.expense.rules import check_policy

RULES = RulesSettings()
BOOK = load_rulebook(RULES.expense_policy, RULES.expense_accounts,
                     BankVendorSettings().accounts_for(PaymentPurpose.REIMBURSEMENTS))


def test_rule_files_load_with_versions_and_payout_accounts():
    assert BOOK.policy.version and BOOK.accounts.version
    assert set(BOOK.accounts.entities) == {"US01", "DE01"}
    assert BOOK.payout_accounts["DE01"].iban


def test_within_policy_has_no_breach():
    assert check_policy(report(), BOOK.policy, []) == []


def test_limit_receipt_and_duplicate_breaches_are_all_reported():
    r = report("R9", expense_line("L1", "MEALS", "150.01"), expense_line("L2", "LODGING", "90.00", receipt=False),
               expense_line("L3", "GROUND_TRANSPORT", "20.00"))
    breaches = check_policy(r, BOOK.policy, [DuplicateHit(line_id="L3", other_report_id="R1")])
    assert [(b.line_id, b.rule) for b in breaches] == [("L1", "LIMIT"), ("L2", "RECEIPT"), ("L3", "DUPLICATE")]
    assert "already claimed on report R1" in breaches[2].message


def test_limit_is_inclusive_and_receipt_threshold_applies_from_the_amount():
    r = report("R10", expense_line("L1", "MEALS", "150.00", receipt=False))
    assert [b.rule for b in check_policy(r, BOOK.policy, [])] == ["RECEIPT"]


async def _ctx(world: World, r, posting_date=date(2026, 11, 10)):
    return await world.load_coding_context(coding_request(r, BOOK.accounts, CodingOverrides(), posting_date))


async def test_journal_splits_reclaimable_tax_and_credits_the_employee():
    r = report("R11", expense_line("L1", "LODGING", "119.00", tax="19.00"))
    ctx = await _ctx(World(r), r)
    je = build_journal(r, ctx, BOOK.accounts, external_id="x", posting_date=date(2026, 11, 10), overrides=CodingOverrides())
    by_account = {(ln.account, ln.side): ln.amount for ln in je.lines}
    assert by_account == {("6110", Side.DEBIT): Money.of("100.00", "USD"), ("1410", Side.DEBIT): Money.of("19.00", "USD"),
                          ("2150", Side.CREDIT): Money.of("119.00", "USD")}


async def test_a_foreign_line_is_taken_at_the_platforms_conversion_and_needs_no_rate():
    # EUR 33.33 reimbursed as USD 36.39 in a USD report of a USD entity: nothing to convert.
    r = report("R12", expense_line("L1", "MEALS", "33.33", "EUR", posted="36.39"), expense_line("L2", "MEALS", "10.00"))
    ctx = await _ctx(World(r), r)
    je = build_journal(r, ctx, BOOK.accounts, external_id="x", posting_date=date(2026, 11, 10), overrides=CodingOverrides())
    assert je.currencies == {"USD"}
    debits = {ln.memo.split(" ")[0]: ln.amount.amount for ln in je.lines if ln.account == "6120"}
    assert debits == {"R12/L1": Decimal("36.39"), "R12/L2": Decimal("10.00")}
    assert next(ln for ln in je.lines if ln.account == "2150").amount == Money.of("46.39", "USD") == r.reimbursement_total
    assert not any(ln.account == "7990" for ln in je.lines)


def test_one_rate_per_journal_leaves_only_true_rounding_across_currencies():
    """Property: reports in EUR, JPY, BHD, GBP or USD for entities in USD, JPY, BHD or EUR, with
    foreign lines, tax and refunds: the payable is the report total at the posting-date rate, and
    the rounding line is at most one minor unit per converted amount (never an FX difference)."""
    rng = random.Random(20261201)
    for case in range(400):
        functional = rng.choice(["USD", "JPY", "BHD", "EUR"])
        currency = rng.choice(["EUR", "JPY", "BHD", "GBP", "USD"])
        rate = Decimal(rng.randint(1, 2_000_000)) / Decimal(10) ** rng.randint(3, 6)
        lines = []
        for n in range(rng.randint(1, 8)):
            amount = _random_amount(rng, currency, refund=n > 0 and rng.random() < 0.15)
            foreign = rng.random() < 0.3
            tax = Money(amount=amount.amount * Decimal("0.19"), currency=currency) if rng.random() < 0.4 else None
            lines.append(ExpenseLine(
                line_id=f"L{n}", category=rng.choice(["MEALS", "LODGING", "AIRFARE"]), transaction_date=date(2026, 11, 3),
                merchant=f"M{n}", amount=Money(amount=amount.amount * 3, currency="CHF") if foreign else amount,
                posted_amount=amount if foreign else None,
                reclaimable_tax=Money(amount=tax.amount * 3, currency="CHF") if foreign and tax else tax))
        r = ExpenseReport(report_id=f"P{case}", source_system="concur", name="property", employee_id="E1001",
                          cost_center="CC-1000", currency=currency, lines=lines, approval_status=ApprovalStatus.APPROVED)
        if r.reimbursement_total.amount <= 0:
            continue
        ctx = _context(functional, currency, rate)
        je = build_journal(r, ctx, BOOK.accounts, external_id=f"p{case}", posting_date=date(2026, 11, 10),
                           overrides=CodingOverrides())
        assert je.currencies == {functional}
        payable = next(ln.amount for ln in je.lines if ln.account == "2150")
        expected = r.reimbursement_total if currency == functional else r.reimbursement_total.convert(rate, functional)
        assert payable == expected, case
        rounding = sum((ln.amount.amount for ln in je.lines if ln.account == "7990"), Decimal(0))
        converted = 0 if currency == functional else sum(1 for ln in je.lines if ln.account != "2150")
        assert rounding <= converted * Decimal(1).scaleb(-currency_exponent(functional)), (case, rounding, converted)


def _random_amount(rng: random.Random, currency: str, *, refund: bool) -> Money:
    minor = rng.randint(1, 500_000) * (-1 if refund else 1)
    return Money(amount=Decimal(minor).scaleb(-currency_exponent(currency)), currency=currency)


def _context(functional: str, currency: str, rate: Decimal) -> CodingContext:
    accounts = ["6100", "6110", "6120", "6130", "1410", "2150", "7990"]
    return CodingContext(
        entity=LegalEntity(code="US01", name="Entity", functional_currency=functional, country="US"),
        employee=Employee(employee_id="E1001", name="Jordan Lee", entity_code="US01", cost_center="CC-1000"),
        cost_centers={"CC-1000": CostCenter(code="CC-1000", name="CC-1000", entity_code="US01")},
        accounts={n: GLAccount(number=n, name=n) for n in accounts},
        period=AccountingPeriod(name="Nov 2026", start=date(2026, 11, 1), end=date(2026, 11, 30), closed=False),
        fx_rates=[FxRate(from_currency=currency, to_currency=functional, rate=rate, rate_date=date(2026, 11, 1))])


@pytest.mark.parametrize("world_change, code", [
    ({"closed_periods": {"Nov 2026"}}, "PERIOD_CLOSED"),
    ({"inactive_cost_centers": {"CC-1000"}}, "COST_CENTER_INACTIVE"),
])
async def test_master_data_problems_name_what_to_fix(world_change, code):
    r = report("R13")
    world = World(r, **world_change)
    ctx = await _ctx(world, r)
    with pytest.raises(CodingProblem) as problem:
        build_journal(r, ctx, BOOK.accounts, external_id="x", posting_date=date(2026, 11, 10), overrides=CodingOverrides())
    assert problem.value.problem.code == code


async def test_a_cost_center_correction_recodes_every_line():
    r = report("R14", cost_center="CC-1900")
    overrides = CodingOverrides(cost_centers={"CC-1900": "CC-2000"})
    request = coding_request(r, BOOK.accounts, overrides, date(2026, 11, 10))
    assert request.cost_centers == ["CC-2000"]
    ctx = await World(r).load_coding_context(request)
    je = build_journal(r, ctx, BOOK.accounts, external_id="x", posting_date=date(2026, 11, 10), overrides=overrides)
    assert {ln.cost_center for ln in je.lines if ln.side is Side.DEBIT} == {"CC-2000"}


async def test_missing_fx_rate_is_a_problem_not_a_crash():
    r = ExpenseReport(**{**report("R15").model_dump(), "currency": "GBP",
                         "lines": [expense_line("L1", "MEALS", "20.00", "GBP")]})
    ctx = await _ctx(World(r), r)
    with pytest.raises(CodingProblem) as problem:
        build_journal(r, ctx, BOOK.accounts, external_id="x", posting_date=date(2026, 11, 10), overrides=CodingOverrides())
    assert problem.value.problem.code == "FX_RATE_MISSING" and "GBP/USD" in problem.value.problem.reason


async def test_a_refund_line_credits_its_expense_account():
    r = report("R16", expense_line("L1", "LODGING", "200.00"), expense_line("L2", "LODGING", "-50.00", merchant="Refund"))
    ctx = await _ctx(World(r), r)
    je = build_journal(r, ctx, BOOK.accounts, external_id="x", posting_date=date(2026, 11, 10), overrides=CodingOverrides())
    lodging = sorted((ln.side, ln.amount.amount) for ln in je.lines if ln.account == "6110")
    assert lodging == [(Side.CREDIT, Decimal("50.00")), (Side.DEBIT, Decimal("200.00"))]
    assert next(ln for ln in je.lines if ln.account == "2150").amount == Money.of("150.00", "USD")


async def test_a_report_that_reimburses_nothing_is_a_problem_not_a_crash():
    r = report("R17", expense_line("L1", "MEALS", "20.00"), expense_line("L2", "MEALS", "-20.00", merchant="Refund"))
    ctx = await _ctx(World(r), r)
    with pytest.raises(CodingProblem) as problem:
        build_journal(r, ctx, BOOK.accounts, external_id="x", posting_date=date(2026, 11, 10), overrides=CodingOverrides())
    assert problem.value.problem.code == "NOTHING_TO_REIMBURSE"
