"""Printing for the ``finsync`` command line: vendor text stays text.

Report names, merchants, bank ids and reasons come from vendors and employees. Rich reads
``[...]`` in a plain string as markup, so an EndToEndId containing ``[/`` would crash the
output (and ``[link=...]`` would forge a link). Every console here has markup off; emphasis
is given with explicit styles on ``Text``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.text import Text

from canonical import Money


def console(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr, markup=False, highlight=False, emoji=False)


def text(value: object, style: str = "") -> Text:
    """A table cell or line from any value, never parsed as markup (None prints as empty)."""
    return Text("" if value is None else str(value), style=style)


def money(value: Money | None) -> str:
    """An amount always with its currency: two currencies never share a bare column."""
    return "" if value is None else f"{value.amount:,} {value.currency}"


def age(since: datetime | None, now: datetime | None = None) -> str:
    """How long ago, as finance reads a queue: 45m, 5h 10m, 3d 4h."""
    if since is None:
        return ""
    if since.tzinfo is None:   # stored naive, written in UTC
        since = since.replace(tzinfo=UTC)
    seconds = max(0, int(((now or datetime.now(UTC)) - since).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"
