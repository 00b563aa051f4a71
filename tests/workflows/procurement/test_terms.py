"""When an invoice is paid and how much: terms, discount date, due date, rounding per currency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from canonical import Money, currency_exponent
from canonical.procurement import InvoiceLine, PaymentTerms
from tests.workflows.procurement.documents import invoice, invoice_line
from workflows.procurement.terms import PaymentPlan, payment_plan, terms_for

NET_30 = PaymentTerms.parse("net 30")
TWO_TEN_NET_30 = PaymentTerms.parse("2/10 net 30")
DEC_1 = date(2026, 12, 1)


def plan(*lines: InvoiceLine, terms: PaymentTerms | None = None, supplier: PaymentTerms | None = TWO_TEN_NET_30,
         take: bool = True, currency: str = "USD") -> PaymentPlan:
    bill = invoice(*lines, currency=currency, invoice_date=DEC_1, terms=terms)
    return payment_plan(bill, supplier_terms=supplier, default=NET_30, take_discounts=take)


def test_two_ten_net_thirty_pays_on_the_tenth_day_less_two_percent():
    p = plan(invoice_line("L1", "OL1", 10, "100.00"))
    assert (p.discount_date, p.due_date, p.discount) == (date(2026, 12, 11), date(2026, 12, 31), Money.of("20.00", "USD"))
    assert p.pay_on(today=DEC_1) == date(2026, 12, 11)
    assert p.amount_on(date(2026, 12, 11)) == Money.of("980.00", "USD")
    assert p.amount_on(date(2026, 12, 12)) == Money.of("1000.00", "USD")


def test_once_the_discount_date_has_passed_it_is_the_due_date_at_the_full_amount():
    p = plan(invoice_line("L1", "OL1", 10, "100.00"))
    assert p.pay_on(today=date(2026, 12, 12)) == date(2026, 12, 31)
    assert p.amount_on(p.pay_on(today=date(2026, 12, 12))) == Money.of("1000.00", "USD")


def test_an_overdue_invoice_is_paid_today_never_in_the_past():
    p = plan(invoice_line("L1", "OL1", 10, "100.00"))
    assert p.pay_on(today=date(2027, 1, 5)) == date(2027, 1, 5)


def test_without_the_discount_policy_it_is_paid_on_the_due_date_in_full():
    p = plan(invoice_line("L1", "OL1", 10, "100.00"), take=False)
    assert p.pay_on(today=DEC_1) == date(2026, 12, 31)
    assert p.amount_on(date(2026, 12, 5)) == Money.of("1000.00", "USD")


def test_the_invoices_terms_win_over_the_suppliers_which_win_over_the_default():
    on_invoice = PaymentTerms.parse("net 45")
    bill = invoice(invoice_line("L1", "OL1", 1, "1"), terms=on_invoice)
    assert terms_for(bill, TWO_TEN_NET_30, NET_30) == on_invoice
    assert terms_for(invoice(invoice_line("L1", "OL1", 1, "1")), TWO_TEN_NET_30, NET_30) == TWO_TEN_NET_30
    assert terms_for(invoice(invoice_line("L1", "OL1", 1, "1")), None, NET_30) == NET_30
    p = plan(invoice_line("L1", "OL1", 1, "1"), supplier=None)
    assert (p.due_date, p.discount_date, p.discount) == (date(2026, 12, 31), None, Money.zero("USD"))
    assert p.pay_on(today=DEC_1) == date(2026, 12, 31)


def test_the_discount_is_taken_on_the_total_rounded_once():
    # 2 % of USD 20.50 = USD 0.41; 2 % of each USD 10.25 line would be 0.205 -> 0.21 twice = USD 0.42
    p = plan(invoice_line("L1", "OL1", 1, "10.25"), invoice_line("L2", "OL2", 1, "10.25"))
    assert p.discount == Money.of("0.41", "USD")


def test_yen_and_dinar_discounts_round_to_their_minor_unit():
    yen = plan(invoice_line("L1", "OL1", 1, "12345", currency="JPY"), currency="JPY")   # 2 % = 246.9
    assert (yen.discount, yen.amount_on(DEC_1)) == (Money.of(247, "JPY"), Money.of(12098, "JPY"))
    dinar = plan(invoice_line("L1", "OL1", 1, "10.125", currency="BHD"), currency="BHD",
                 terms=PaymentTerms.parse("1.5/10 net 30"))   # 1.5 % of BHD 10.125 = 0.151875
    assert (dinar.discount, dinar.amount_on(DEC_1)) == (Money.of("0.152", "BHD"), Money.of("9.973", "BHD"))


TERMS = st.builds(lambda net, days, pct: PaymentTerms(net_days=net, discount_days=min(days, net), discount_percent=pct),
                  st.integers(0, 120), st.integers(0, 60), st.decimals(0, "99.99", places=2))


@settings(max_examples=150, deadline=None)
@given(currency=st.sampled_from(["USD", "JPY", "BHD"]), minor_units=st.lists(st.integers(0, 10**9), min_size=1, max_size=5),
       terms=TERMS, take=st.booleans(), today_offset=st.integers(-10, 200), pay_offset=st.integers(-10, 200))
def test_what_is_paid_plus_the_discount_is_always_the_invoice_total(currency: str, minor_units: list[int],
                                                                     terms: PaymentTerms, take: bool, today_offset: int,
                                                                     pay_offset: int):
    exponent = currency_exponent(currency)
    lines = [invoice_line(f"L{i}", f"OL{i}", 1, Decimal(units).scaleb(-exponent), currency=currency)
             for i, units in enumerate(minor_units)]
    p = plan(*lines, terms=terms, take=take, currency=currency)
    total = sum(minor_units)
    exact = Fraction(total) * Fraction(terms.discount_percent) / 100   # in minor units
    assert abs(Fraction(p.discount.amount.scaleb(exponent)) - exact) <= Fraction(1, 2)   # rounded once

    day = DEC_1 + timedelta(days=pay_offset)
    assert p.amount_on(day) + p.discount_on(day) == p.total == Money(amount=Decimal(total).scaleb(-exponent),
                                                                     currency=currency)
    today = DEC_1 + timedelta(days=today_offset)
    when = p.pay_on(today)
    assert when >= today and (when <= p.due_date or when == today)
    discounted = take and terms.discount_percent and p.discount_date is not None and today <= p.discount_date
    assert p.amount_on(when) == (p.total - p.discount if discounted else p.total)
