"""The payroll process's tables: a run's results, aggregated as they are read.

- ``payroll_ingest``: one row per run version (``PayrollRunRef.key``): where reading its results
  stands (the provider's page cursor), how many rows were read, whether it is finished.
- ``payroll_aggregate``: the run's amounts per entity, currency, cost center and pay component.
- ``payroll_employee``: each employee's sums per kind (earnings, deductions, employer, reimbursements,
  net pay): the per-employee check, the entity totals and the net-pay batch are read from here.
- ``payroll_payee``: where each employee's net pay goes (name and bank account, from the payroll
  system's payment elections), read once per run and entity.
- ``payroll_reimbursement_line`` (finsync/store/payroll_reimbursement.py): the expenses a run
  reimburses, by reference.
- ``payroll_payment``: each employee's net-pay transfer: its EndToEndId, the file (MsgId) it went
  in, and the bank's word on it (sent, rejected with a reason, paid again after a rejection).

Amounts are integer minor units (cents), so sums in SQL are exact and fast. A page is applied in
one transaction together with the cursor that follows it, so a page is never counted twice nor
lost, whichever attempt of the reading activity applies it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from sqlalchemy import BigInteger, Column, func
from sqlalchemy import select as select_columns  # sqlmodel's select takes at most four columns
from sqlmodel import Field, Session, col, select

from canonical.money import from_minor_units, to_minor_units
from canonical.payroll import AggregateLine, PayComponentKind, Payee, PayResultRow, PayrollRunRef, RegisterTotals
from finsync.store.database import Records, StoreTable, upsert_into, utcnow
from finsync.store.payments import PaymentRequest
from finsync.store.payroll_reimbursement import add_reimbursement_lines
from finsync.store.sealing import FieldSealer

EARNING, DEDUCTION, EMPLOYER, REIMBURSEMENT, NET_PAY = (
    PayComponentKind.EARNING, PayComponentKind.EMPLOYEE_DEDUCTION, PayComponentKind.EMPLOYER_CONTRIBUTION,
    PayComponentKind.REIMBURSEMENT, PayComponentKind.NET_PAY)
# Which of an employee's sums a component kind adds to.
_EMPLOYEE_SUM = {EARNING: "earnings_minor", DEDUCTION: "deductions_minor", EMPLOYER: "employer_minor",
                 REIMBURSEMENT: "reimbursements_minor", NET_PAY: "net_minor"}


def _minor() -> Column:
    return Column(BigInteger, nullable=False, default=0)


class PayrollIngest(StoreTable, table=True):
    __tablename__ = "payroll_ingest"

    run_key: str = Field(primary_key=True)
    provider: str
    run_id: str = Field(index=True)
    version: int
    pay_group: str
    period_end: date
    cursor: str | None = None        # the provider's cursor of the next page to read
    rows: int = 0
    finished: bool = False
    started_at: datetime
    finished_at: datetime | None = None


class PayrollAggregate(StoreTable, table=True):
    __tablename__ = "payroll_aggregate"

    run_key: str = Field(primary_key=True)
    entity: str = Field(primary_key=True)
    currency: str = Field(primary_key=True)
    cost_center: str = Field(primary_key=True)
    component: str = Field(primary_key=True)
    kind: str
    amount_minor: int = Field(sa_column=_minor())


class PayrollEmployee(StoreTable, table=True):
    __tablename__ = "payroll_employee"

    run_key: str = Field(primary_key=True)
    worker_id: str = Field(primary_key=True)
    entity: str
    currency: str
    earnings_minor: int = Field(sa_column=_minor())
    deductions_minor: int = Field(sa_column=_minor())
    employer_minor: int = Field(sa_column=_minor())
    reimbursements_minor: int = Field(sa_column=_minor())
    net_minor: int = Field(sa_column=_minor())


class PayrollPayee(StoreTable, table=True):
    __tablename__ = "payroll_payee"

    run_key: str = Field(primary_key=True)
    worker_id: str = Field(primary_key=True)
    entity: str = Field(index=True)
    name: str
    bic: str
    iban: str | None = None
    account_number: str | None = None


class PayrollPayment(StoreTable, table=True):
    __tablename__ = "payroll_payment"

    run_key: str = Field(primary_key=True)
    worker_id: str = Field(primary_key=True)
    entity: str
    end_to_end_id: str = Field(unique=True)
    message_id: str = Field(index=True)
    amount_minor: int = Field(sa_column=_minor())
    currency: str
    state: str                       # SENT, REJECTED
    reason_code: str | None = None


to_minor, from_minor = to_minor_units, from_minor_units


class PayrollRecords(Records):
    """A payroll run's results, read page by page into sums."""

    # Seals the payees' names and bank accounts at rest (finsync/store/sealing.py); the worker sets
    # it where payload encryption is on. None: they are stored as they are.
    sealer: FieldSealer | None = None

    def begin_ingest(self, run: PayrollRunRef) -> PayrollIngest:
        """Where reading ``run`` stands: a new ingest, or the one an earlier attempt left."""
        with self._session() as db:
            ingest = db.get(PayrollIngest, run.key)
            if ingest is None:
                ingest = PayrollIngest(run_key=run.key, provider=run.provider, run_id=run.run_id, version=run.version,
                                       pay_group=run.pay_group, period_end=run.period_end, started_at=utcnow())
                db.add(ingest)
                db.commit()
            return ingest

    def add_page(self, run_key: str, read_from: str | None, rows: list[PayResultRow], next_cursor: str | None) -> bool:
        """Add one page (read from cursor ``read_from``) and move the cursor past it, in one
        transaction. False, and nothing added, if the ingest no longer stands at ``read_from``
        (another attempt applied this page already)."""
        with self._session() as db:
            ingest = db.get(PayrollIngest, run_key, with_for_update=True)
            if ingest is None or ingest.finished or ingest.cursor != read_from:
                return False
            self._upsert_adding(db, PayrollAggregate, _aggregates(run_key, rows),
                                keys=["run_key", "entity", "currency", "cost_center", "component"],
                                adding=["amount_minor"])
            self._upsert_adding(db, PayrollEmployee, _employees(run_key, rows),
                                keys=["run_key", "worker_id"], adding=list(_EMPLOYEE_SUM.values()))
            add_reimbursement_lines(db, run_key, rows)
            ingest.cursor, ingest.rows = next_cursor, ingest.rows + len(rows)
            if next_cursor is None:
                ingest.finished, ingest.finished_at = True, utcnow()
            db.add(ingest)
            db.commit()
            return True

    def ingest(self, run_key: str) -> PayrollIngest | None:
        with self._session() as db:
            return db.get(PayrollIngest, run_key)

    def register_totals(self, run_key: str) -> list[RegisterTotals]:
        """The run's totals per entity and currency, recomputed from every employee's sums."""
        e = PayrollEmployee
        columns = [col(e.entity), col(e.currency), func.count(), *(func.sum(getattr(e, name)) for name in (
            "earnings_minor", "deductions_minor", "employer_minor", "reimbursements_minor", "net_minor"))]
        query = (select_columns(*columns).where(col(e.run_key) == run_key)
                 .group_by(e.entity, e.currency).order_by(e.entity, e.currency))
        with self._session() as db:
            found = db.execute(query).all()
        return [RegisterTotals(entity=entity, currency=currency, headcount=count,
                               earnings=from_minor(earn, currency), employee_deductions=from_minor(ded, currency),
                               employer_contributions=from_minor(er, currency),
                               reimbursements=from_minor(reimb, currency), net_pay=from_minor(net, currency))
                for entity, currency, count, earn, ded, er, reimb, net in found]

    def unbalanced_employees(self, run_key: str, examples: int = 5) -> tuple[int, list[str]]:
        """Employees whose earnings - deductions + reimbursements is not their net pay: how many,
        and the first few worker ids."""
        e = PayrollEmployee
        off = (col(e.earnings_minor) - col(e.deductions_minor) + col(e.reimbursements_minor) != col(e.net_minor))
        with self._session() as db:
            count = db.exec(select(func.count()).select_from(e).where(e.run_key == run_key, off)).one()
            first = db.exec(select(e.worker_id).where(e.run_key == run_key, off).order_by(e.worker_id)
                            .limit(examples)).all()
        return int(count), list(first)

    def aggregate_lines(self, run_key: str, entity: str) -> list[AggregateLine]:
        """The entity's amounts per cost center and component, in a stable order."""
        a = PayrollAggregate
        with self._session() as db:
            found = db.exec(select(a).where(a.run_key == run_key, a.entity == entity)
                            .order_by(a.currency, a.cost_center, a.component)).all()
        return [AggregateLine(cost_center=row.cost_center, component=row.component, kind=PayComponentKind(row.kind),
                              currency=row.currency, amount=from_minor(row.amount_minor, row.currency))
                for row in found]

    def previous_run_key(self, run: PayrollRunRef) -> str | None:
        """The latest fully read run of the same provider and pay group for an earlier period: the
        one a variance is measured against (a reopened run's earlier versions are not earlier periods)."""
        i = PayrollIngest
        with self._session() as db:
            return db.exec(select(i.run_key).where(i.provider == run.provider, i.pay_group == run.pay_group,
                                                   i.period_end < run.period_end, col(i.finished).is_(True))
                           .order_by(col(i.period_end).desc(), col(i.version).desc()).limit(1)).first()

    def store_payees(self, run_key: str, payees: list[Payee]) -> None:
        """Where these employees' net pay goes for the run, as the payroll system says now: read
        again after a rejection, an employee's corrected account replaces the one that failed
        (transfers already written keep the account they were sent to)."""
        if not payees:
            return
        seal = self.sealer.seal if self.sealer else (lambda value: value)
        rows = [{"run_key": run_key, "worker_id": p.worker_id, "entity": p.entity, "name": seal(p.name), "bic": p.bic,
                 "iban": seal(p.iban), "account_number": seal(p.account_number)} for p in payees]
        statement = upsert_into(self.engine.dialect.name, PayrollPayee)
        with self._session() as db:
            db.execute(statement.on_conflict_do_update(index_elements=["run_key", "worker_id"], set_={
                name: statement.excluded[name] for name in ("entity", "name", "bic", "iban", "account_number")}), rows)
            db.commit()

    def net_pay_due(self, run_key: str, entity: str) -> Iterator[tuple[PayrollEmployee, PayrollPayee | None]]:
        """Each employee of the entity with net pay to transfer, and where it goes (None: no bank
        details), in worker order, read in chunks so a large payroll never stands in memory."""
        e, p = PayrollEmployee, PayrollPayee
        query = (select(e, p).join(p, (col(p.run_key) == col(e.run_key)) & (col(p.worker_id) == col(e.worker_id)),
                                   isouter=True)
                 .where(e.run_key == run_key, e.entity == entity, col(e.net_minor) > 0).order_by(e.worker_id)
                 .execution_options(yield_per=2000))
        with self._session() as db:
            for employee, payee in db.exec(query):
                yield employee, self._opened(payee)

    def record_transfers(self, rows: list[dict], *, again: bool = False) -> None:
        """Net-pay transfers as written into a file (SENT). One already recorded stays as it is,
        unless it is paid ``again`` after a rejection: then it is the new transfer that stands."""
        if not rows:
            return
        statement = upsert_into(self.engine.dialect.name, PayrollPayment)
        keys = ["run_key", "worker_id"]
        statement = (statement.on_conflict_do_update(index_elements=keys, set_={
            name: statement.excluded[name] for name in ("end_to_end_id", "message_id", "state", "reason_code")})
                     if again else statement.on_conflict_do_nothing(index_elements=keys))
        with self._session() as db:
            db.execute(statement, [{"reason_code": None} | row for row in rows])
            db.commit()

    def settled_transfers(self, run_key: str, message_id: str) -> list[tuple[str, int]]:
        """(EndToEndId, amount in minor units) of the file's transfers the bank did not reject."""
        p = PayrollPayment
        with self._session() as db:
            return list(db.exec(select(p.end_to_end_id, p.amount_minor).where(
                p.run_key == run_key, p.message_id == message_id, p.state == "SENT").order_by(p.end_to_end_id)))

    def file_paid_minor(self, run_key: str, message_id: str) -> int:
        """What file ``message_id`` paid, in minor units: its transfers the bank did not reject."""
        p = PayrollPayment
        with self._session() as db:
            return int(db.exec(select(func.coalesce(func.sum(p.amount_minor), 0)).where(
                p.run_key == run_key, p.message_id == message_id, p.state == "SENT")).one())

    def sent_transfers(self, run_key: str, message_id: str, workers: list[str]) -> dict[str, str]:
        """Worker -> EndToEndId of these workers' transfers in file ``message_id`` that the bank did
        not reject."""
        p = PayrollPayment
        with self._session() as db:
            return dict(db.exec(select(p.worker_id, p.end_to_end_id).where(
                p.run_key == run_key, p.message_id == message_id, p.state == "SENT", col(p.worker_id).in_(workers))).all())

    def rejected_workers(self, run_key: str, entity: str) -> set[str]:
        """The entity's employees whose last net-pay transfer of the run the bank rejected."""
        p = PayrollPayment
        with self._session() as db:
            return set(db.exec(select(p.worker_id).where(p.run_key == run_key, p.entity == entity,
                                                         p.state == "REJECTED")))

    def reject_transfers(self, rejected: dict[str, str | None]) -> list[PayrollPayment]:
        """Mark these transfers (EndToEndId -> reason code) rejected; the payments as they now stand."""
        with self._session() as db:
            found = list(db.exec(select(PayrollPayment).where(col(PayrollPayment.end_to_end_id).in_(list(rejected)))))
            for payment in found:
                payment.state, payment.reason_code = "REJECTED", rejected[payment.end_to_end_id]
                db.add(payment)
            db.commit()
            return found

    def files_sent(self, message_ids: set[str]) -> set[str]:
        """Which of these MsgIds are files finsync sent: a payroll's net pay or a payment run's file."""
        if not message_ids:
            return set()
        with self._session() as db:
            payroll = set(db.exec(select(PayrollPayment.message_id).where(
                col(PayrollPayment.message_id).in_(message_ids)).distinct()))
            runs = set(db.exec(select(PaymentRequest.message_id).where(
                col(PaymentRequest.message_id).in_(message_ids)).distinct()))
        return payroll | {message_id for message_id in runs if message_id}

    def payee(self, run_key: str, worker_id: str) -> PayrollPayee | None:
        with self._session() as db:
            return self._opened(db.get(PayrollPayee, (run_key, worker_id)))

    def _opened(self, payee: PayrollPayee | None) -> PayrollPayee | None:
        """The payee with its sealed columns opened: a copy, never the row the session holds (a
        change to that would be written back)."""
        if payee is None or self.sealer is None:
            return payee
        opened = self.sealer.open
        return PayrollPayee(run_key=payee.run_key, worker_id=payee.worker_id, entity=payee.entity, bic=payee.bic,
                            name=opened(payee.name) or "", iban=opened(payee.iban),
                            account_number=opened(payee.account_number))

    def _upsert_adding(self, db: Session, table: type[StoreTable], rows: list[dict], *, keys: list[str],
                       adding: list[str]) -> None:
        """Insert ``rows``; where one exists by ``keys``, add the ``adding`` columns to it."""
        if not rows:
            return
        statement = upsert_into(self.engine.dialect.name, table)
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: table.__table__.c[name] + statement.excluded[name]   # type: ignore[attr-defined]
                  for name in adding})
        db.execute(statement, rows)


def _aggregates(run_key: str, rows: Iterable[PayResultRow]) -> list[dict]:
    sums: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    for row in rows:
        sums[(row.entity, row.currency, row.cost_center, row.component, row.kind.value)] += \
            to_minor(row.amount, row.currency)
    return [{"run_key": run_key, "entity": entity, "currency": currency, "cost_center": cost_center,
             "component": component, "kind": kind, "amount_minor": amount}
            for (entity, currency, cost_center, component, kind), amount in sums.items()]


def _employees(run_key: str, rows: Iterable[PayResultRow]) -> list[dict]:
    found: dict[str, dict] = {}
    for row in rows:
        employee = found.get(row.worker_id)
        if employee is None:
            employee = found[row.worker_id] = {"run_key": run_key, "worker_id": row.worker_id, "entity": row.entity,
                                               "currency": row.currency} | dict.fromkeys(_EMPLOYEE_SUM.values(), 0)
        employee[_EMPLOYEE_SUM[row.kind]] += to_minor(row.amount, row.currency)
    return list(found.values())
