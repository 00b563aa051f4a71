"""Split an amount by weights so the parts add up to the whole, to the minor unit.

USD 100.00 over three equal cost centers is 33.34 + 33.33 + 33.33: each part is rounded down to
the minor unit, and the cents left over go one each to the parts with the largest remainders
(ties to the earlier part), so the split is deterministic and never loses or invents a cent.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from canonical.money import Money, currency_exponent, to_decimal


def allocate(amount: Money, weights: list[Decimal]) -> list[Money]:
    """``amount`` split in proportion to ``weights`` (non-negative, not all zero)."""
    parts = [to_decimal(weight) for weight in weights]
    if not parts:
        raise ValueError("nothing to allocate to: no weights")
    if any(weight < 0 for weight in parts):
        raise ValueError("allocation weights cannot be negative")
    whole = sum(parts, Decimal(0))
    if whole == 0:
        raise ValueError("allocation weights add up to zero")
    unit = Decimal(1).scaleb(-currency_exponent(amount.currency))
    sign = -1 if amount.amount < 0 else 1
    magnitude = abs(amount.amount)
    exact = [magnitude * weight / whole for weight in parts]
    floors = [share.quantize(unit, rounding=ROUND_FLOOR) for share in exact]
    left_over = int((magnitude - sum(floors, Decimal(0))) / unit)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder[:left_over]:
        floors[index] += unit
    return [Money(amount=sign * share, currency=amount.currency) for share in floors]
