"""Settlement journals: pure, shared by every process that pays through the bank."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from canonical import CompanyBankAccount, Money, Side
from canonical.settlement import Settlement, SettlementProblem, exchange_difference, settlement_entry

USD_ACCOUNT = CompanyBankAccount(holder_name="Finsync Demo Inc.", bic="CHASUS33XXX", account_number="000123456789",
                                 currency="USD", gl_account="1010")
EUR_ACCOUNT = CompanyBankAccount(holder_name="Finsync Demo Inc.", bic="CHASUS33XXX", account_number="000123456790",
                                 currency="EUR", gl_account="1011")


def settlement(debited: Money, *, account: CompanyBankAccount = USD_ACCOUNT, rate: Decimal | None = None,
               fx_account: str | None = "7980") -> Settlement:
    return Settlement(end_to_end_id="FSE-R1-G1P1", entity="US01", functional_currency="USD", payable_account="2150",
                      payable=Money.of("81.59", "USD"), bank_account=account, debited=debited, debited_rate=rate,
                      fx_account=fx_account, booking_date=date(2026, 12, 1), memo="Settlement of R1")


def booked(entry) -> dict[tuple[str, Side], Decimal]:  # noqa: ANN001
    return {(ln.account, ln.side): ln.amount.amount for ln in entry.lines}


def test_a_payment_at_the_booked_amount_clears_the_payable_against_the_bank():
    entry = settlement_entry(settlement(Money.of("81.59", "USD")))
    assert entry.external_id == "FSE-R1-G1P1:settlement"
    assert booked(entry) == {("2150", Side.DEBIT): Decimal("81.59"), ("1010", Side.CREDIT): Decimal("81.59")}


def test_a_cheaper_payment_is_a_realized_gain():
    assert exchange_difference(settlement(Money.of("80.99", "USD"))) == Money.of("-0.60", "USD")
    entry = settlement_entry(settlement(Money.of("80.99", "USD")))
    assert booked(entry) == {("2150", Side.DEBIT): Decimal("81.59"), ("1010", Side.CREDIT): Decimal("80.99"),
                             ("7980", Side.CREDIT): Decimal("0.60")}


def test_a_debit_in_a_foreign_currency_account_is_booked_at_the_erps_rate():
    entry = settlement_entry(settlement(Money.of("74.72", "EUR"), account=EUR_ACCOUNT, rate=Decimal("1.0920")))
    assert booked(entry) == {("2150", Side.DEBIT): Decimal("81.59"), ("1011", Side.CREDIT): Decimal("81.59")}


def test_what_cannot_be_booked_says_what_is_missing():
    with pytest.raises(SettlementProblem) as no_rate:
        settlement_entry(settlement(Money.of("74.72", "EUR"), account=EUR_ACCOUNT))
    assert no_rate.value.problem.code == "FX_RATE_MISSING" and "EUR/USD" in no_rate.value.problem.reason
    with pytest.raises(SettlementProblem) as no_fx_account:
        settlement_entry(settlement(Money.of("82.19", "USD"), fx_account=None))
    assert no_fx_account.value.problem.code == "FX_ACCOUNT_MISSING"
