"""Reimbursement through payroll in the store (canonical/payroll_reimbursement.py is the contract).

- ``payroll_handoff``: each reimbursement the expense process handed to payroll, by reference: who
  to tell when it is paid.
- ``payroll_reimbursement_line``: each reimbursement a payroll run version carries (its
  REIMBURSEMENT rows with a reference, written as the results are read), and, once the bank took
  the worker's net-pay transfer, the file and transfer that paid it.

A reference is paid once: the first transfer recorded stands, whichever run version it was in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, Session, col, select

from canonical import Money
from canonical.money import from_minor_units, to_minor_units
from canonical.payroll import PayComponentKind, PayResultRow
from canonical.payroll_reimbursement import PayrollReimbursement, ReimbursementPaid
from finsync.store.database import Records, StoreTable, upsert_into, utcnow


class PayrollHandoff(StoreTable, table=True):
    __tablename__ = "payroll_handoff"

    reference: str = Field(primary_key=True)
    expense_workflow_id: str
    report_id: str
    entity: str
    worker_id: str
    component: str
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str
    handed_at: datetime


class PayrollReimbursementLine(StoreTable, table=True):
    __tablename__ = "payroll_reimbursement_line"

    run_key: str = Field(primary_key=True)
    reference: str = Field(primary_key=True, index=True)
    worker_id: str
    entity: str
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str
    message_id: str | None = None        # set once the bank took the worker's net-pay transfer
    end_to_end_id: str | None = None
    paid_on: date | None = None


def add_reimbursement_lines(db: Session, run_key: str, rows: Iterable[PayResultRow]) -> None:
    """A results page's reimbursements with a reference, as lines of the run: inside the
    transaction that applies the page (finsync/store/payroll.py), so they count once."""
    lines = [{"run_key": run_key, "reference": row.reference, "worker_id": row.worker_id, "entity": row.entity,
              "amount_minor": to_minor_units(row.amount, row.currency), "currency": row.currency}
             for row in rows if row.kind is PayComponentKind.REIMBURSEMENT and row.reference]
    if lines:
        db.execute(upsert_into(db.get_bind().dialect.name, PayrollReimbursementLine).on_conflict_do_nothing(
            index_elements=["run_key", "reference"]), lines)


class PayrollReimbursementRecords(Records):
    """The hand-off's records: what was handed over, what a run carries, and what was paid."""

    def record_handoff(self, handoff: PayrollReimbursement) -> None:
        """Once per reference: handing the same reimbursement over again changes nothing."""
        row = {"reference": handoff.reference, "expense_workflow_id": handoff.expense_workflow_id,
               "report_id": handoff.report_id, "entity": handoff.entity, "worker_id": handoff.worker_id,
               "component": handoff.component, "amount_minor": to_minor_units(handoff.amount.amount, handoff.amount.currency),
               "currency": handoff.amount.currency, "handed_at": utcnow()}
        with self._session() as db:
            db.execute(upsert_into(self.engine.dialect.name, PayrollHandoff).on_conflict_do_nothing(
                index_elements=["reference"]), [row])
            db.commit()

    def unpaid_reimbursement_workers(self, run_key: str) -> list[str]:
        """The workers the run reimburses something not yet paid."""
        line = PayrollReimbursementLine
        with self._session() as db:
            return list(db.exec(select(line.worker_id).where(line.run_key == run_key, col(line.message_id).is_(None))
                                .distinct().order_by(line.worker_id)))

    def settle_reimbursements(self, run_key: str, message_id: str, transfers: dict[str, str],
                              paid_on: date) -> list[tuple[str, ReimbursementPaid]]:
        """Record the run's reimbursements of these workers (worker id -> EndToEndId in file
        ``message_id``) as paid, unless a reference was paid already; then (expense workflow id,
        word) for every reimbursement this file paid, now or by an earlier call, to be told."""
        line = PayrollReimbursementLine
        with self._session() as db:
            unpaid = list(db.exec(select(line).where(
                line.run_key == run_key, col(line.worker_id).in_(list(transfers)), col(line.message_id).is_(None))))
            if unpaid:
                already = set(db.exec(select(line.reference).where(
                    col(line.reference).in_([u.reference for u in unpaid]), col(line.message_id).is_not(None))))
                for found in unpaid:
                    if found.reference not in already:
                        found.message_id, found.end_to_end_id = message_id, transfers[found.worker_id]
                        found.paid_on = paid_on
                        db.add(found)
                db.commit()
            paid = db.exec(select(line, PayrollHandoff.expense_workflow_id).join(
                PayrollHandoff, col(PayrollHandoff.reference) == col(line.reference))
                .where(line.run_key == run_key, line.message_id == message_id).order_by(line.reference)).all()
        return [(workflow_id, _paid(found)) for found, workflow_id in paid]

    def reimbursement_paid(self, reference: str) -> ReimbursementPaid | None:
        """The net-pay transfer that paid ``reference``; None while none has."""
        line = PayrollReimbursementLine
        with self._session() as db:
            found = db.exec(select(line).where(line.reference == reference, col(line.message_id).is_not(None))
                            .order_by(col(line.paid_on), line.run_key).limit(1)).first()
        return _paid(found) if found is not None else None


def _paid(line: PayrollReimbursementLine) -> ReimbursementPaid:
    assert line.message_id is not None and line.end_to_end_id is not None and line.paid_on is not None
    return ReimbursementPaid(reference=line.reference, run=line.run_key, worker_id=line.worker_id,
                             amount=Money(amount=from_minor_units(line.amount_minor, line.currency),
                                          currency=line.currency),
                             message_id=line.message_id, end_to_end_id=line.end_to_end_id, paid_on=line.paid_on)
