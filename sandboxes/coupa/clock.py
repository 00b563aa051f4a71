"""Coupa's timestamps: ISO 8601 to the second with an offset, ``2026-03-15T10:00:00+00:00``.

Coupa stamps records to the second, so several changes can share one ``updated-at``: a poller
that asks for ``updated-at[gt]`` the last stamp it saw misses a change made later in that same
second. Read with an overlap and let ``exported=false`` drop what was already taken.

The sandbox writes every stamp in UTC in exactly this form, so the stored text sorts as the
instants do and a filter compares text with text. A filter's instant keeps its fraction of a
second (``10:00:00.5`` sorts after ``10:00:00+00:00`` and before ``10:00:01+00:00``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """How a record's ``created-at``/``updated-at`` is stored and shown."""
    return _utc(moment).replace(microsecond=0).isoformat()


def instant(text: str) -> str:
    """A filter value (a date-time, or a date meaning its midnight UTC) in the stored form.

    Raises ValueError for anything else."""
    if len(text) == 10:
        moment = datetime.combine(date.fromisoformat(text), time(), UTC)
    else:
        # An unencoded "+" in a query string arrives as a space.
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    try:
        return _utc(moment).isoformat()
    except OverflowError:   # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise ValueError(f"{text} is out of range") from None


def _utc(moment: datetime) -> datetime:
    """UTC; a moment without an offset is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
