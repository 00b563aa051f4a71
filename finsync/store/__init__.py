"""The integration store (sqlmodel; SQLite by default, PostgreSQL by configuration).

Its tables live with what owns them: ``runtime`` holds those the shared process runtime uses
(feed, payments and bank reports, webhook claims, sweeps, reconciliation), ``payments`` the
payment run's queue, ``expense`` the expense process's. A new process adds its module beside them, its records class to
``IntegrationStore``'s bases, and a migration for its tables (README, "Extending").
"""

from __future__ import annotations

from functools import lru_cache

from finsync.store.database import connect
from finsync.store.expense import ExpenseFingerprint, ExpenseRecords, expense_fingerprint
from finsync.store.migrate import upgrade_to_head
from finsync.store.payments import PaymentRecords, PaymentRequest
from finsync.store.payroll import PayrollRecords
from finsync.store.payroll_reimbursement import PayrollReimbursementRecords
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

__all__ = ["IN_LIST", "BankReportRow", "ExpenseFingerprint", "FinanceEventRow", "IntegrationStore", "PaymentRequest",
           "PaymentRoute", "ReconciliationRow", "SweepWatermark", "WebhookReceipt", "expense_fingerprint", "open_store"]


class IntegrationStore(RuntimeRecords, PaymentRecords, ExpenseRecords, PayrollRecords,
                       PayrollReimbursementRecords):
    """finsync's own database: every store table, the shared runtime's and each process's. Opening
    it brings its schema to the newest migration (finsync.store.migrate)."""

    def __init__(self, url: str) -> None:
        self.engine = connect(url)
        upgrade_to_head(self.engine)


@lru_cache(maxsize=8)
def open_store(url: str) -> IntegrationStore:
    return IntegrationStore(url)
