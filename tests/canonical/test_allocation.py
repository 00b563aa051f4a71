"""Allocation with a remainder: the parts add up to the whole, each within a minor unit of its share."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canonical import Money, currency_exponent
from canonical.allocation import allocate


def test_a_hundred_dollars_over_three_cost_centers():
    assert [p.amount for p in allocate(Money.of("100.00", "USD"), [Decimal(1)] * 3)] == [
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]


def test_the_left_over_minor_units_go_to_the_largest_remainders_in_yen_and_dinar():
    # JPY 1,000 by 1:1:1:3 -> 166.67, 166.67, 166.67, 500: two yen left over, to the earlier ties
    assert [p.amount for p in allocate(Money.of(1000, "JPY"), [Decimal(w) for w in (1, 1, 1, 3)])] == [
        Decimal(167), Decimal(167), Decimal(166), Decimal(500)]
    # BHD 10.000 by 0.7 : 0.2 : 0.1 is exact
    assert [p.amount for p in allocate(Money.of("10", "BHD"), [Decimal("0.7"), Decimal("0.2"), Decimal("0.1")])] == [
        Decimal("7.000"), Decimal("2.000"), Decimal("1.000")]


def test_a_credit_is_split_like_a_debit():
    assert [p.amount for p in allocate(Money.of("-100.00", "USD"), [Decimal(1)] * 3)] == [
        Decimal("-33.34"), Decimal("-33.33"), Decimal("-33.33")]


@pytest.mark.parametrize("weights", [[], [Decimal(0), Decimal(0)], [Decimal(1), Decimal(-1)]])
def test_weights_that_cannot_split_anything_are_refused(weights: list[Decimal]):
    with pytest.raises(ValueError):
        allocate(Money.of("1.00", "USD"), weights)


WEIGHTS = st.lists(st.one_of(st.just(Decimal(0)), st.decimals(0, 10**6, places=4)), min_size=1, max_size=12).filter(
    lambda weights: sum(weights) > 0)


@settings(max_examples=200, deadline=None)
@given(currency=st.sampled_from(["USD", "JPY", "BHD"]), minor_units=st.integers(-10**12, 10**12), weights=WEIGHTS)
def test_parts_add_up_to_the_whole_and_each_is_within_one_minor_unit_of_its_exact_share(
        currency: str, minor_units: int, weights: list[Decimal]):
    exponent = currency_exponent(currency)
    amount = Money(amount=Decimal(minor_units).scaleb(-exponent), currency=currency)
    parts = allocate(amount, weights)
    assert len(parts) == len(weights) and all(part.currency == currency for part in parts)
    assert sum((part.amount for part in parts), Decimal(0)) == amount.amount
    whole = sum(Fraction(weight) for weight in weights)
    for part, weight in zip(parts, weights, strict=True):
        share = Fraction(minor_units) * Fraction(weight) / whole   # in minor units
        assert abs(Fraction(part.amount.scaleb(exponent)) - share) < 1
        if weight == 0:
            assert part.is_zero
