"""Quantities, prices and money as Coupa carries them: decimal strings in JSON.

Coupa renders decimals as JSON strings (``"price": "600.00"``); the sandbox does too, and takes a
string or a JSON number on the way in (never a float: request bodies are parsed with Decimal).
A line's total is quantity x price rounded once to the currency's exponent, half up (Coupa's
rounding mode is unverified).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import iso4217

from sandboxes.coupa.errors import CoupaError

MAX_PLACES = 4                       # quantities and unit prices
MAX_MAGNITUDE = Decimal(10) ** 12    # larger is a typo, not a purchase


def decimal_value(value: object, field: str, *, places: int = MAX_PLACES) -> Decimal:
    """A positive decimal with at most ``places`` decimals, or a 400 naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise CoupaError(400, f"{field} must be a decimal number, such as \"12.50\".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CoupaError(400, f"{field} must be a decimal number, such as \"12.50\".") from None
    if not number.is_finite() or number <= 0 or number >= MAX_MAGNITUDE:
        raise CoupaError(400, f"{field} must be greater than 0 and less than {MAX_MAGNITUDE:,}.")
    if -number.as_tuple().exponent > places:   # type: ignore[operator]
        raise CoupaError(400, f"{field} has more than {places} decimal places.")
    return number


def currency_code(value: object, field: str = "currency") -> str:
    """``{"code": "USD"}`` (as Coupa nests it) or a bare code, checked against ISO 4217."""
    code = value.get("code") if isinstance(value, dict) else value
    if not isinstance(code, str):
        raise CoupaError(400, f"{field} must be given as {{\"code\": \"USD\"}}.")
    try:
        iso4217.Currency(code)
    except ValueError:
        raise CoupaError(400, f"{field} {code} is not an ISO 4217 currency code.") from None
    return code


def exponent(currency: str) -> int:
    return iso4217.Currency(currency).exponent or 0


def money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


def line_total(quantity: str | Decimal, price: str | Decimal, currency: str) -> Decimal:
    return money(Decimal(quantity) * Decimal(price), currency)


def text(number: Decimal) -> str:
    """How a decimal is stored and shown: plain digits, never an exponent (``1E+2``)."""
    return format(number, "f")


@dataclass(frozen=True)
class PaymentTerm:
    """``"2/10 net 30"`` (2 % off if paid within 10 days, else due in 30) or ``"net 30"``."""

    code: str
    net_days: int
    discount_rate: Decimal | None = None
    discount_days: int | None = None

    @classmethod
    def parse(cls, code: str) -> PaymentTerm:
        found = re.fullmatch(r"(?:(\d+(?:\.\d+)?)/(\d+) )?net (\d+)", code.strip().lower())
        if found is None:
            raise ValueError(f"payment term {code!r} is not like '2/10 net 30' or 'net 30'")
        rate, discount_days, net_days = found.groups()
        return cls(code, int(net_days), Decimal(rate) if rate else None,
                   int(discount_days) if discount_days else None)

    def net_due(self, invoice_date: date) -> date:
        return invoice_date + timedelta(days=self.net_days)

    def discount_due(self, invoice_date: date) -> date | None:
        return invoice_date + timedelta(days=self.discount_days) if self.discount_days is not None else None

    def view(self) -> dict:
        return {"code": self.code, "days-for-net-payment": self.net_days,
                "discount-rate": text(self.discount_rate) if self.discount_rate is not None else None,
                "days-for-discount-payment": self.discount_days}
