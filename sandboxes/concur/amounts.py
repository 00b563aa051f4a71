"""Amounts as Concur carries them: exact decimals in a currency's minor unit, never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# Currencies whose minor unit is not two digits; every other currency has cents.
_MINOR_UNITS = {"BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "OMR": 3,
                "TND": 3, "UGX": 0, "VND": 0}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def money(value: Decimal | str, currency: str) -> dict[str, Any]:
    """Concur's amount object: ``{"value": 525.00, "currencyCode": "USD"}``."""
    return {"value": quantize(Decimal(value), currency), "currencyCode": currency}
