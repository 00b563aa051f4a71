"""The integration store's schema comes from its migrations, on SQLite and on PostgreSQL: a new store
gets every table, a store made before migrations keeps its rows, opening again changes nothing,
processes starting together all start, and no table changes without a migration."""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, create_engine, event, insert, inspect, select, text

from finsync.store import IntegrationStore
from finsync.store.database import StoreTable
from finsync.store.migrate import StoreTooNew, alembic_config, head, upgrade_to_head

LEGACY = Path(__file__).parent / "legacy"
BASELINE = "0001"
AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

# A row in each table, with only the columns the first store already had.
ROWS: dict[str, dict[str, Any]] = {
    "finance_event": {"event_id": "wf-1/run/1", "type": "posted", "occurred_at": AT, "process": "expense",
                      "business_key": "R1", "workflow_id": "wf-1", "correlation_id": "c-1", "entity_code": "DE01",
                      "amount": "1234.56", "currency": "EUR", "summary": "posted", "data": "{}", "recorded_at": AT},
    "expense_fingerprint": {"fingerprint": "E1|2026-11-18|42.50|EUR|bluebottle", "report_id": "R1", "line_id": "L1"},
    "payment_route": {"end_to_end_id": "E2E-1", "message_id": "MSG-1", "workflow_id": "wf-1", "created_at": AT},
    "webhook_receipt": {"webhook_id": "msg_1", "source": "concur", "workflow_id": "wf-1", "received_at": AT},
    "bank_report": {"webhook_id": "msg_2", "end_to_end_id": "E2E-1", "message_id": "MSG-1", "state": "settled",
                    "source": "camt.054", "workflow_id": "wf-1", "outcome": "delivered", "investigate": False,
                    "report": "{}", "received_at": AT},
    "sweep_watermark": {"name": "expense", "watermark": AT.isoformat(), "updated_at": AT},
    "reconciliation": {"run_key": "recon-DE01-2026-11-20", "entity_code": "DE01", "day": "2026-11-20", "ran_at": AT,
                       "difference_count": 0, "summary": "no differences", "counts": "{}", "differences": "[]"},
}


def schema_of(url: str) -> dict[str, Any]:
    """Every table as the database describes it: columns, primary key, unique constraints, indexes."""
    engine = create_engine(url)
    try:
        described = inspect(engine)
        return {table: {
            "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                        for c in described.get_columns(table)],
            "primary key": described.get_pk_constraint(table)["constrained_columns"],
            "unique": sorted((u["name"] or "", *u["column_names"]) for u in described.get_unique_constraints(table)),
            "indexes": sorted((i["name"] or "", bool(i["unique"]), *i["column_names"]) for i in described.get_indexes(table)),
        } for table in described.get_table_names() if table != "alembic_version"}
    finally:
        engine.dispose()


def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def made_before_migrations(url: str, version: str) -> None:
    """The store as the code before migrations made it (tests/store/legacy), with a row in each table."""
    engine = create_engine(url)
    ddl = (LEGACY / f"{version}.{engine.dialect.name}.sql").read_text()
    try:
        with engine.begin() as db:
            for statement in re.sub(r"^--.*$", "", ddl, flags=re.MULTILINE).split(";"):
                if statement.strip():
                    db.exec_driver_sql(statement)
            for table in inspect(db).get_table_names():
                db.execute(insert(StoreTable.metadata.tables[table]).values(ROWS[table]))
    finally:
        engine.dispose()


def test_a_new_store_gets_every_table_at_the_newest_revision(new_database: Callable[[], str]):
    url = new_database()
    IntegrationStore(url)
    assert set(schema_of(url)) == set(StoreTable.metadata.tables)
    assert revision_of(url) == head()


def test_the_tables_and_their_migrations_agree(new_database: Callable[[], str]):
    """Fails when a table changes without a migration: `python -m finsync.store.revision "..."` writes it."""
    store = IntegrationStore(new_database())
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), StoreTable.metadata) == []


def test_the_comparison_sees_a_column_an_index_and_a_table_that_no_migration_made(new_database: Callable[[], str]):
    store = IntegrationStore(new_database())
    changed = MetaData()
    for table in StoreTable.metadata.tables.values():
        table.to_metadata(changed)
    route = changed.tables["payment_route"]
    route.append_column(Column("column_without_migration", String, nullable=True))
    Index("ix_without_migration", route.c.workflow_id)
    Table("table_without_migration", changed, Column("id", Integer, primary_key=True))
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), changed)
    assert sorted((d[0], d[-1].name) for d in differences) == [
        ("add_column", "column_without_migration"), ("add_index", "ix_without_migration"),
        ("add_table", "table_without_migration")]


def test_the_baseline_is_exactly_the_schema_stores_had_before_migrations(new_database: Callable[[], str]):
    before, baseline = new_database(), new_database()
    made_before_migrations(before, "main")
    engine = create_engine(baseline)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), BASELINE)
    engine.dispose()
    assert schema_of(before) == schema_of(baseline)


@pytest.mark.parametrize("version", ["main", "first"])
def test_a_store_made_before_migrations_is_brought_to_the_newest_revision_and_keeps_its_rows(
        new_database: Callable[[], str], version: str):
    """"main": the store as the last code before migrations made it; "first": as the first store was made,
    without the tables, the column and the index that came later."""
    old, new = new_database(), new_database()
    made_before_migrations(old, version)
    kept = set(schema_of(old))

    store = IntegrationStore(old)
    IntegrationStore(new)

    assert revision_of(old) == head()
    assert schema_of(old) == schema_of(new)
    with store.engine.connect() as connection:
        for table in kept:
            rows = connection.execute(select(StoreTable.metadata.tables[table])).mappings().all()
            assert len(rows) == 1 and ROWS[table].items() <= rows[0].items(), table
    assert [event.event_id for event in store.events()] == ["wf-1/run/1"]
    assert store.workflow_for_payment("E2E-1") == "wf-1"
    assert not store.claim_webhook("msg_1", "concur")      # still claimed


def test_opening_a_store_again_changes_nothing(new_database: Callable[[], str]):
    url = new_database()
    IntegrationStore(url)
    schema = schema_of(url)
    engine = create_engine(url)
    writes: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_connection, _cursor, statement: str, *_args: object) -> None:  # noqa: ANN001
        if re.match(r"\s*(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE)\b", statement, re.IGNORECASE):
            writes.append(statement)

    upgrade_to_head(engine)
    with engine.begin() as connection:   # the upgrade itself, as a process that waited for the lock runs it
        command.upgrade(alembic_config(connection), "head")
    engine.dispose()
    assert writes == []
    assert schema_of(url) == schema and revision_of(url) == head()


def test_a_store_a_newer_finsync_migrated_is_refused_in_one_line(new_database: Callable[[], str]):
    url = new_database()
    IntegrationStore(url)
    with create_engine(url).begin() as db:
        db.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreTooNew, match=r"is at migration 9999, which this finsync does not know \(its newest is "):
        IntegrationStore(url)


def _open_when_all_are_ready(url: str, ready: Barrier) -> None:
    ready.wait(timeout=120)
    IntegrationStore(url)


def test_processes_opening_a_new_store_at_the_same_moment_all_open_it(new_database: Callable[[], str]):
    """The gateway and workers start together against one new store: one migrates, the others wait and
    find it done."""
    url = new_database()
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(4)
    openers = [spawn.Process(target=_open_when_all_are_ready, args=(url, ready)) for _ in range(4)]
    try:
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(timeout=180)
        assert [opener.exitcode for opener in openers] == [0, 0, 0, 0]
    finally:
        for opener in openers:
            if opener.is_alive():
                opener.kill()
    assert revision_of(url) == head()
    assert set(schema_of(url)) == set(StoreTable.metadata.tables)
