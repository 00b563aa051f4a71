"""The integration store's schema, brought to the newest migration whenever a store is opened.

The migrations are Alembic revisions in ``migrations/versions``, shipped inside the package and run
from here: no alembic.ini, no alembic command. Processes that open one store at the same moment
(the gateway and a worker starting together) take turns: on PostgreSQL through an advisory lock
held for the upgrade's transaction, on SQLite through a write transaction (BEGIN IMMEDIATE) around
it. Whoever comes second finds the schema at the newest revision and changes nothing.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from finsync.store.database import connect

MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE_LOCK = int.from_bytes(b"finsync")   # PostgreSQL advisory lock key: a number no one else uses


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, without a file; env.py migrates ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


@lru_cache(maxsize=1)
def head() -> str:
    """The newest revision. Two heads (two branches each added a revision) are a mistake to fix first."""
    heads = scripts().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the integration store's migrations have {len(heads)} heads ({', '.join(heads)}): "
                           "renumber the later revision to follow the other (its down_revision)")
    return heads[0]


@lru_cache(maxsize=1)
def revisions() -> frozenset[str]:
    return frozenset(script.revision for script in scripts().walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The store's revision; None for a new store, or one made before migrations."""
    return MigrationContext.configure(connection).get_current_revision()


class StoreTooNew(RuntimeError):
    """The store was migrated by a newer finsync than this one; one line."""


def upgrade_to_head(engine: Engine) -> None:
    """Bring the store behind ``engine`` to the newest revision; at it already, nothing is written."""
    with engine.connect() as connection:
        current = current_revision(connection)
    if current == head():
        return
    if current is not None and current not in revisions():
        raise StoreTooNew(f"the integration store at {engine.url} is at migration {current}, which this finsync "
                          f"does not know (its newest is {head()}): run the finsync that migrated it, or a newer one")
    migrator = _migration_engine(engine.url.render_as_string(hide_password=False))
    try:
        with migrator.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
            command.upgrade(alembic_config(connection), "head")
    finally:
        migrator.dispose()


def _migration_engine(url: str) -> Engine:
    """One connection whose transaction holds the upgrade. On SQLite the driver's own transaction
    handling is switched off, so that the upgrade's DDL (which it would run outside any transaction)
    runs inside one that takes the write lock at its start."""
    engine = connect(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_connection, _record) -> None:  # noqa: ANN001
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _take_the_write_lock(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
