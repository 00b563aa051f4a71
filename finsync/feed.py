"""``finsync feed``: the finance event feed, read without SQL.

The integration store's ``finance_event`` table is append-only and numbered (``seq``), so a
reader that remembers the last seq it saw (``--after``) gets every later event exactly once.
Filters: one process run (workflow id) or one business object (business key, e.g. a report id).
``--json`` prints one JSON object per line for programs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text
from sqlmodel import Session, col, select

from canonical import Money
from finsync.store import FinanceEventRow, IntegrationStore
from finsync.terminal import money, text


class NoStore(Exception):
    """The configured SQLite store does not exist (nothing was recorded here); one line."""


def sqlite_path(database_url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(database_url.removeprefix(prefix)) if database_url.startswith(prefix) else None


def open_existing(database_url: str) -> IntegrationStore:
    """The store, without creating an empty one where a reader merely looked in the wrong folder."""
    path = sqlite_path(database_url)
    if path is not None and not path.exists():
        raise NoStore(f"no integration store at {path}: nothing has been recorded there "
                      "(run this where finsync dev runs, or set store_url / data_dir)")
    return IntegrationStore(database_url)


def read(store: IntegrationStore, *, after: int = 0, workflow_id: str | None = None, business_key: str | None = None,
         limit: int = 100) -> list[FinanceEventRow]:
    query = select(FinanceEventRow).where(col(FinanceEventRow.seq) > after)
    if workflow_id is not None:
        query = query.where(FinanceEventRow.workflow_id == workflow_id)
    if business_key is not None:
        query = query.where(FinanceEventRow.business_key == business_key)
    with Session(store.engine) as db:
        return list(db.exec(query.order_by(col(FinanceEventRow.seq)).limit(limit)).all())


def as_json(row: FinanceEventRow) -> dict[str, Any]:
    """One event for a program: amounts as decimal strings with their currency, times in ISO 8601."""
    return {
        "seq": row.seq, "event_id": row.event_id, "type": row.type, "occurred_at": row.occurred_at.isoformat(),
        "recorded_at": row.recorded_at.isoformat(), "process": row.process, "business_key": row.business_key,
        "workflow_id": row.workflow_id, "correlation_id": row.correlation_id, "entity_code": row.entity_code,
        "amount": {"amount": row.amount, "currency": row.currency} if row.amount is not None else None,
        "summary": row.summary, "data": json.loads(row.data or "{}"),
    }


def table(rows: list[FinanceEventRow]) -> Table:
    table = Table(title=text(f"{len(rows)} finance events"), box=box.SIMPLE_HEAD)
    table.add_column("seq", no_wrap=True, justify="right")
    table.add_column("occurred (UTC)", no_wrap=True)
    table.add_column("event, report / summary", overflow="fold", ratio=1)
    table.add_column("entity", no_wrap=True)
    table.add_column("amount", no_wrap=True, justify="right")
    for row in rows:
        amount = money(Money.of(row.amount, row.currency)) if row.amount is not None and row.currency else ""
        what = Text.assemble((row.type, "bold"), " ", row.business_key, "\n", row.summary)
        table.add_row(text(row.seq), text(f"{row.occurred_at:%Y-%m-%d %H:%M:%S}"), what, text(row.entity_code),
                      text(amount))
    if rows:
        table.caption = text(f"next page: --after {rows[-1].seq}")
    return table
