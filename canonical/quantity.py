"""Quantities and unit prices: more decimals than money, rounded to money once, at the line.

A purchase order line of 3 units at USD 12.3456 is USD 37.04 (37.0368 rounded once); adding the
rounded unit prices instead would drift by a cent per unit. So a unit price keeps up to
``PRICE_DECIMALS`` and a line's amount is ``extend(quantity, price)``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from canonical.money import Money, currency_exponent, to_decimal

QUANTITY_DECIMALS = 4     # as ERPs keep fractional units (hours, kilograms)
PRICE_DECIMALS = 6        # unit prices and rates: beyond any currency's minor unit


def _places(value: Decimal, places: int, what: str) -> Decimal:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"{what} {value} has more than {places} decimals")
    return value


class Quantity(BaseModel):
    """A non-negative count of a unit of measure (``EA``, ``HR``, ``KG``)."""

    model_config = ConfigDict(frozen=True)

    value: Decimal
    unit: str = "EA"

    @field_validator("value", mode="before")
    @classmethod
    def _decimal(cls, value: Any) -> Decimal:
        amount = to_decimal(value)
        if amount < 0:
            raise ValueError(f"a quantity cannot be negative (got {amount})")
        return _places(amount, QUANTITY_DECIMALS, "quantity")

    @classmethod
    def of(cls, value: Any, unit: str = "EA") -> Quantity:
        return cls(value=value, unit=unit)

    def _same_unit(self, other: Quantity) -> None:
        if other.unit != self.unit:
            raise ValueError(f"cannot combine {self.unit} and {other.unit}")

    def __add__(self, other: Quantity) -> Quantity:
        self._same_unit(other)
        return Quantity(value=self.value + other.value, unit=self.unit)

    def __sub__(self, other: Quantity) -> Quantity:
        """A negative result is refused (a quantity cannot be negative): compare first."""
        self._same_unit(other)
        return Quantity(value=self.value - other.value, unit=self.unit)

    def __le__(self, other: Quantity) -> bool:
        self._same_unit(other)
        return self.value <= other.value

    def __lt__(self, other: Quantity) -> bool:
        self._same_unit(other)
        return self.value < other.value

    def __str__(self) -> str:
        return f"{self.value.normalize():f} {self.unit}"


class UnitPrice(BaseModel):
    """A price per unit in an ISO 4217 currency, with up to ``PRICE_DECIMALS`` decimals (never rounded)."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _decimal(cls, value: Any) -> Decimal:
        return _places(to_decimal(value), PRICE_DECIMALS, "unit price")

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        currency_exponent(value.upper())
        return value.upper()

    @classmethod
    def of(cls, amount: Any, currency: str) -> UnitPrice:
        return cls(amount=amount, currency=currency)

    def __str__(self) -> str:
        return f"{self.currency} {self.amount.normalize():f}"


def extend(quantity: Quantity, price: UnitPrice) -> Money:
    """The line amount: quantity x unit price, rounded to the currency's minor unit once."""
    return Money(amount=quantity.value * price.amount, currency=price.currency)
