from decimal import Decimal

import pytest
from pydantic import ValidationError

from canonical import Money
from canonical.money import currency_exponent


@pytest.mark.parametrize("code, exponent", [("USD", 2), ("EUR", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3)])
def test_exponent_comes_from_the_iso_table(code, exponent):
    assert currency_exponent(code) == exponent


@pytest.mark.parametrize("raw, code, expected", [
    ("10.005", "USD", "10.01"),      # half away from zero
    ("-10.005", "USD", "-10.01"),
    ("1000.5", "JPY", "1001"),
    ("1.0004", "BHD", "1.000"),
    ("1.0005", "BHD", "1.001"),
    ("7", "EUR", "7.00"),
])
def test_amounts_are_quantized_to_the_currency_minor_unit(raw, code, expected):
    money = Money.of(raw, code)
    assert money.amount == Decimal(expected)
    assert str(money.amount) == expected


def test_float_is_refused():
    with pytest.raises((TypeError, ValidationError)):
        Money.of(0.1, "USD")


def test_unknown_currency_is_refused():
    with pytest.raises(ValidationError):
        Money.of("1", "XYZ")


def test_arithmetic_refuses_mixed_currencies():
    with pytest.raises(ValueError):
        Money.of("1", "USD") + Money.of("1", "EUR")
    assert Money.of("1.10", "USD") + Money.of("2.20", "USD") == Money.of("3.30", "USD")


def test_conversion_rounds_to_the_target_currency():
    assert Money.of("100", "EUR").convert(Decimal("162.3456"), "JPY") == Money.of("16235", "JPY")


def test_survives_the_temporal_pydantic_converter_exactly():
    from temporalio.contrib.pydantic import pydantic_data_converter
    payloads = pydantic_data_converter.payload_converter.to_payloads([Money.of("0.10", "USD")])
    (back,) = pydantic_data_converter.payload_converter.from_payloads(payloads, [Money])
    assert back == Money.of("0.10", "USD") and isinstance(back.amount, Decimal)
