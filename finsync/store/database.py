"""The integration store's database: the metadata every store table belongs to, and the engine.

Store tables derive from ``StoreTable``, never from ``SQLModel`` directly: their own metadata holds
exactly the store's tables (the sandboxes keep theirs in ``SQLModel.metadata``), which is what the
migrations are written against and checked against.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

BUSY_TIMEOUT = 30.0   # seconds SQLite waits on another process's lock


class StoreTable(SQLModel):
    metadata = MetaData()


def connect(url: str, **options: Any) -> Engine:
    """An engine on the store: SQLite in WAL mode (readers do not wait for the writer), or PostgreSQL."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **options)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT}, **options)

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection, _record) -> None:  # noqa: ANN001
        # WAL is kept in the file: the first opener converts it. Another process converting it at the
        # same moment makes this fail at once with "database is locked" (SQLite does not wait on a
        # journal mode change), so try again until the file is WAL or the busy timeout has passed.
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                dbapi_connection.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine


def upsert_into(dialect: str, table: type[StoreTable]) -> Any:
    """An INSERT on ``table`` that takes ON CONFLICT clauses, in the store's dialect (PostgreSQL or SQLite)."""
    insert = postgres_insert if dialect == "postgresql" else sqlite_insert
    return insert(table.__table__)   # type: ignore[attr-defined]


class Records:
    """What every part of the store works with: the engine, and a session on it."""

    engine: Engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


def utcnow() -> datetime:
    return datetime.now(UTC)
