"""Money: a Decimal amount in an ISO 4217 currency, quantized to the currency's minor unit.

Floats are refused at the door: a vendor's JSON number must be parsed as Decimal
(``response.json(parse_float=Decimal)``) before it becomes Money.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

import iso4217
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

# Commercial rounding (half away from zero), as ERPs and banks round amounts.
ROUNDING = ROUND_HALF_UP


@cache
def currency_exponent(code: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency (USD 2, JPY 0, BHD 3)."""
    try:
        exponent = iso4217.Currency(code).exponent
    except ValueError:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code") from None
    if exponent is None:  # XAU, XDR, ...: no minor unit, not a cash currency
        raise ValueError(f"{code} has no minor unit and cannot carry a cash amount")
    return exponent


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` to the minor unit of ``currency``."""
    return amount.quantize(Decimal(1).scaleb(-currency_exponent(currency)), rounding=ROUNDING)


def from_minor_units(minor: int, currency: str) -> Decimal:
    """An amount counted in the currency's minor unit (cents) as a Decimal: 12345 USD is 123.45."""
    return Decimal(minor).scaleb(-currency_exponent(currency))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """An amount as a count of the currency's minor unit: 123.45 USD is 12345. More decimals than
    the currency has are refused, never rounded away."""
    scaled = amount.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimals than {currency} allows")
    return int(scaled)


def to_decimal(value: Any) -> Decimal:
    """Convert a str/int/Decimal to Decimal; refuse floats, which cannot hold money exactly."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"money must not be a float or bool (got {value!r}); pass a str or Decimal")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal amount") from None
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite amount")
    return result


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Decimal:
        return to_decimal(value)

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        value = value.upper()
        currency_exponent(value)
        return value

    @model_validator(mode="after")
    def _quantized(self) -> Money:
        object.__setattr__(self, "amount", quantize(self.amount, self.currency))
        return self

    @classmethod
    def of(cls, amount: Any, currency: str) -> Money:
        return cls(amount=amount, currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=Decimal(0), currency=currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency} without FX")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def convert(self, rate: Decimal, to_currency: str) -> Money:
        """Multiply by an FX rate (units of ``to_currency`` per unit of this currency)."""
        return Money(amount=self.amount * to_decimal(rate), currency=to_currency)

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,}"


def total(items: list[Money], currency: str) -> Money:
    """Sum of amounts in one currency (zero for an empty list)."""
    result = Money.zero(currency)
    for item in items:
        result = result + item
    return result
