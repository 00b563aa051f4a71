"""Quantity x unit price is rounded to the currency once, at the line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canonical import Money, currency_exponent
from canonical.quantity import Quantity, UnitPrice, extend


@pytest.mark.parametrize(("quantity", "price", "currency", "line", "rounded_per_unit"), [
    ("3", "12.3456", "USD", "37.04", "37.05"),      # 37.0368 once; 3 x 12.35 per unit
    ("3", "333.5", "JPY", "1001", "1002"),          # 1000.5 half up; 3 x 334 per unit
    ("7", "1.2345", "BHD", "8.642", "8.645"),       # 8.6415; 7 x 1.235 per unit
    ("2.5", "0.4567", "BHD", "1.142", "1.143"),     # 1.14175; 2.5 x 0.457 per unit
])
def test_a_line_is_rounded_once_not_summed_from_rounded_unit_amounts(quantity: str, price: str, currency: str, line: str,
                                                                      rounded_per_unit: str):
    assert extend(Quantity.of(quantity), UnitPrice.of(price, currency)) == Money.of(line, currency)
    unit_amount = Money.of(price, currency)   # what rounding the unit price first would pay per unit
    assert Money(amount=Decimal(quantity) * unit_amount.amount, currency=currency) == Money.of(rounded_per_unit, currency)


def test_quantities_and_prices_keep_their_own_precision_and_refuse_more():
    assert Quantity.of("0.0001", "KG").value == Decimal("0.0001")
    assert UnitPrice.of("0.000001", "USD").amount == Decimal("0.000001")
    for bad in [lambda: Quantity.of("0.00001"), lambda: Quantity.of("-1"), lambda: UnitPrice.of("0.0000001", "USD"),
                lambda: UnitPrice.of("1", "XAU")]:
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(TypeError):
        Quantity.of(1.5)


def test_quantities_of_different_units_do_not_add():
    with pytest.raises(ValueError, match="cannot combine EA and KG"):
        Quantity.of(1) + Quantity.of(1, "KG")


@settings(max_examples=200, deadline=None)
@given(currency=st.sampled_from(["USD", "JPY", "BHD"]), quantity=st.decimals(0, 10**6, places=4),
       price=st.decimals(-(10**6), 10**6, places=6))
def test_a_line_amount_is_the_exact_product_rounded_half_up_once(currency: str, quantity: Decimal, price: Decimal):
    amount = extend(Quantity.of(quantity), UnitPrice.of(price, currency))
    exact = Fraction(quantity) * Fraction(price) * 10 ** currency_exponent(currency)   # in minor units
    in_minor = Fraction(amount.amount.scaleb(currency_exponent(currency)))
    assert abs(in_minor - exact) <= Fraction(1, 2)
    assert amount.amount == (quantity * price).quantize(Decimal(1).scaleb(-currency_exponent(currency)), ROUND_HALF_UP)
