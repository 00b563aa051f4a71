"""The integration store (sqlmodel; SQLite by default, PostgreSQL by configuration).

Its tables live with what owns them: ``runtime`` holds those the shared process runtime uses
(feed, payments and bank reports, webhook claims, sweeps, reconciliation), ``expense`` the
expense process's. A new process adds its module beside them, its records class to
``IntegrationStore``'s bases, and a migration for its tables (README, "Extending").
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Table, inspect, text
from sqlalchemy.engine import Engine

from finsync.store.database import StoreTable, connect
from finsync.store.expense import ExpenseFingerprint, ExpenseRecords, expense_fingerprint
from finsync.store.runtime import (
    IN_LIST,
    BankReportRow,
    FinanceEventRow,
    PaymentRoute,
    ReconciliationRow,
    RuntimeRecords,
    SweepWatermark,
    WebhookReceipt,
)

__all__ = ["IN_LIST", "BankReportRow", "ExpenseFingerprint", "FinanceEventRow", "IntegrationStore", "PaymentRoute",
           "ReconciliationRow", "SweepWatermark", "WebhookReceipt", "expense_fingerprint", "open_store"]


class IntegrationStore(RuntimeRecords, ExpenseRecords):
    """finsync's own database: every store table, the shared runtime's and each process's."""

    def __init__(self, url: str) -> None:
        self.engine = connect(url)
        StoreTable.metadata.create_all(self.engine)
        _add_new_columns(self.engine, ExpenseFingerprint.__table__)  # type: ignore[attr-defined]


def _add_new_columns(engine: Engine, table: Table) -> None:
    """Columns added to a table since a store was created (nullable, so no backfill is needed)."""
    existing = {column["name"] for column in inspect(engine).get_columns(table.name)}
    with engine.begin() as db:
        for column in table.columns:
            if column.name not in existing:
                db.execute(text(f'ALTER TABLE {table.name} ADD COLUMN {column.name} '
                                f'{column.type.compile(engine.dialect)}'))


@lru_cache(maxsize=8)
def open_store(url: str) -> IntegrationStore:
    return IntegrationStore(url)
