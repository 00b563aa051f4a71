"""The expense process's tables, and what the store does with them.

- ``expense_fingerprint``: the lines of every report that may still be paid, for duplicate
  detection across reports (a cancelled or expired report's lines are released).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, select

from canonical import ExpenseReport
from finsync.store.database import Records, StoreTable


class ExpenseFingerprint(StoreTable, table=True):
    __tablename__ = "expense_fingerprint"
    __table_args__ = (UniqueConstraint("fingerprint", "report_id", "line_id"),)

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(index=True)
    report_id: str = Field(index=True)
    line_id: str
    submitted_at: datetime | None = None   # UTC; with the report id, decides which claim came first


def _utc(moment: datetime | None) -> datetime | None:
    """In UTC (a moment without a zone is taken to be UTC already)."""
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


NEVER = datetime.max.replace(tzinfo=UTC)


def _claim_order(submitted_at: datetime | None, report_id: str) -> tuple[datetime, str]:
    """Which of two claims came first: submitted earlier, then the smaller report id (no time: last)."""
    return _utc(submitted_at) or NEVER, report_id


def expense_fingerprint(employee_id: str, day: str, amount: Decimal, currency: str, merchant: str) -> str:
    merchant_key = re.sub(r"[^a-z0-9]", "", merchant.lower())
    return f"{employee_id}|{day}|{amount}|{currency}|{merchant_key}"


class ExpenseRecords(Records):
    """Duplicate expense detection across reports."""

    def register_expense_lines(self, report: ExpenseReport) -> list[tuple[str, str]]:
        """Keep this report's current lines; return (line_id, original_report_id) for each line
        that an earlier claim already holds.

        Idempotent: running it again for the same report gives the same answer, whatever ran in
        between. "Earlier" is a fixed order, submission time then report id, never the order in
        which workers got here, so of two identical claims exactly one is the original. A line
        removed from the report is released."""
        submitted = _utc(report.submitted_at)
        prints = {(ln.line_id, expense_fingerprint(report.employee_id, ln.transaction_date.isoformat(),
                                                   ln.amount.amount, ln.amount.currency, ln.merchant))
                  for ln in report.lines}
        with self._session() as db:
            kept = {(row.line_id, row.fingerprint): row for row in db.exec(
                select(ExpenseFingerprint).where(ExpenseFingerprint.report_id == report.report_id))}
            for key, row in kept.items():
                if key not in prints:
                    db.delete(row)
            for line_id, fingerprint in prints - kept.keys():
                db.add(ExpenseFingerprint(fingerprint=fingerprint, report_id=report.report_id, line_id=line_id,
                                          submitted_at=submitted))
            db.commit()
            mine = _claim_order(submitted, report.report_id)
            hits: list[tuple[str, str]] = []
            for line_id, fingerprint in sorted(prints):
                others = db.exec(select(ExpenseFingerprint).where(
                    ExpenseFingerprint.fingerprint == fingerprint,
                    ExpenseFingerprint.report_id != report.report_id)).all()
                first = min(others, key=lambda row: _claim_order(row.submitted_at, row.report_id), default=None)
                if first is not None and _claim_order(first.submitted_at, first.report_id) < mine:
                    hits.append((line_id, first.report_id))
        return hits

    def release_expense_lines(self, report_id: str) -> int:
        """Forget a report's lines (it was cancelled or expired): they no longer make others duplicates."""
        with self._session() as db:
            rows = db.exec(select(ExpenseFingerprint).where(ExpenseFingerprint.report_id == report_id)).all()
            for row in rows:
                db.delete(row)
            db.commit()
        return len(rows)
