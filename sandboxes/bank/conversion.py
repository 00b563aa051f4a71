"""Paying in a currency other than the account's: the bank converts at its own rate.

The rate is the latest of the bank's rates (seed ``bank_fx_rates``) effective on the booking
day, as units of the account's currency per one unit of the payment's. The account is debited
(or, for a return, credited) the instructed amount times that rate, exactly, then rounded half
up to the account currency's minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import iso4217
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sandboxes.bank.tables import FxRate
from sandboxes.kit.company import fx_rate_rows
from sandboxes.kit.db import session


class NoRate(Exception):
    """The bank does not convert between these currencies."""


@dataclass(frozen=True)
class Booked:
    """An amount as booked on the account."""

    amount: Decimal
    currency: str
    rate: Decimal | None   # account-currency units per instructed unit; None when nothing was converted


def seed_rates(engine: Engine, company: dict[str, Any], today: date) -> None:
    """The bank's rates, once, on a fresh table; effective dates are relative to ``today``."""
    with session(engine) as db:
        if db.exec(select(FxRate).limit(1)).first() is not None:
            return
        for row in fx_rate_rows({"fx_rates": company.get("bank_fx_rates", [])}, today):
            db.add(FxRate(from_currency=row["from"], to_currency=row["to"], rate=row["rate"],
                          effective_date=row["effective"].isoformat()))
        db.commit()


def _rate(db: Session, from_currency: str, to_currency: str, day: date) -> Decimal:
    found = db.exec(select(FxRate).where(
        FxRate.from_currency == from_currency, FxRate.to_currency == to_currency,
        FxRate.effective_date <= day.isoformat(),
    ).order_by(col(FxRate.effective_date).desc())).first()
    if found is None:
        raise NoRate(f"the bank has no rate from {from_currency} to {to_currency} on {day}")
    return Decimal(found.rate)


def booking_rate(db: Session, currency: str, account_currency: str | None, day: date) -> Decimal | None:
    """The rate an amount in ``currency`` is booked at on an account in ``account_currency`` on
    ``day``; None when nothing is converted: the same currency, or an account the bank does not
    hold (``None``), booked in the payment's currency. ``NoRate`` if the bank does not convert."""
    if account_currency is None or account_currency == currency:
        return None
    return _rate(db, currency, account_currency, day)


def converted(amount: Decimal, currency: str, account_currency: str | None, rate: Decimal | None) -> Booked:
    """``amount`` in ``currency`` as booked at ``rate`` (from ``booking_rate``)."""
    if rate is None or account_currency is None:
        return Booked(amount, currency, None)
    minor_unit = Decimal(1).scaleb(-(iso4217.Currency(account_currency).exponent or 0))
    return Booked((amount * rate).quantize(minor_unit, rounding=ROUND_HALF_UP), account_currency, rate)


def book_amount(db: Session, amount: Decimal, currency: str, account_currency: str | None, day: date) -> Booked:
    """``amount`` in ``currency`` as booked on an account in ``account_currency`` on ``day``."""
    return converted(amount, currency, account_currency, booking_rate(db, currency, account_currency, day))
