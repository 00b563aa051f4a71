"""The sandbox's timestamps: UTC, to the microsecond, in one fixed form that sorts as the instants do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """``2026-03-15T10:00:00.000000Z``: how every ``...On`` field is stored and shown."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> str:
    """A filter value (ISO 8601, ``Z`` or an offset; none is UTC) in the stored form; ValueError otherwise."""
    # An unencoded "+" in a query string arrives as a space.
    return stamp(datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "+")))
