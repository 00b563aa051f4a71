"""The shared runtime's tables, which every finance process uses, and what the store does with them.

- ``finance_event``: the append-only feed of canonical finance events reporting reads.
- ``payment_route``: which workflow waits for which bank payment (EndToEndId), and the file
  (MsgId) and block (PmtInfId) it went in, for the gateway.
- ``webhook_receipt``: webhook ids claimed by the gateway (handled, or being handled), and the
  workflow each was for when the gateway knew it.
- ``bank_report``: every bank status report received, and what became of it; one that no
  running process took (unknown EndToEndId, or a rejection after the process ended) keeps the
  bank's message, for finance to investigate; so does the rejection of a whole file that no
  route names (its end_to_end_id is empty).
- ``sweep_watermark``: how far each sweep of a platform has read, so the next one (after a
  restart too) reads only what changed since.
- ``reconciliation``: each reconciliation of one entity's day (feed, ERP, bank) and the
  differences it found, for ``finsync reconcile`` to show.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import date, datetime

from sqlalchemy import UniqueConstraint, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, col, select

from canonical import FinanceEvent, GroupStatusReport, PaymentState, PaymentStatusReport
from finsync.store.database import Records, StoreTable, utcnow


class FinanceEventRow(StoreTable, table=True):
    __tablename__ = "finance_event"

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True)
    type: str = Field(index=True)
    occurred_at: datetime
    process: str = Field(index=True)
    business_key: str = Field(index=True)
    workflow_id: str = Field(index=True)
    correlation_id: str = Field(index=True)
    entity_code: str | None = None
    amount: str | None = None          # Decimal as text: exact, portable across databases
    currency: str | None = None
    summary: str = ""
    data: str = "{}"
    recorded_at: datetime


class PaymentRoute(StoreTable, table=True):
    __tablename__ = "payment_route"

    end_to_end_id: str = Field(primary_key=True)
    message_id: str = Field(index=True)
    workflow_id: str
    created_at: datetime
    payment_info_id: str | None = Field(default=None, index=True)   # None on routes from before batches: their MsgId

    @property
    def block(self) -> str:
        """The PmtInfId the payment went in."""
        return self.payment_info_id or self.message_id


class WebhookReceipt(StoreTable, table=True):
    __tablename__ = "webhook_receipt"

    webhook_id: str = Field(primary_key=True)
    source: str
    workflow_id: str | None = None
    received_at: datetime


class BankReportRow(StoreTable, table=True):
    __tablename__ = "bank_report"
    __table_args__ = (UniqueConstraint("webhook_id", "end_to_end_id", "source"),)

    seq: int | None = Field(default=None, primary_key=True)
    webhook_id: str
    end_to_end_id: str = Field(index=True)
    message_id: str
    state: str
    source: str                      # pain.002, camt.054
    workflow_id: str | None = None
    outcome: str                     # see gateway.routing.Routed
    investigate: bool = Field(default=False, index=True)   # no running process took it
    report: str                      # the canonical PaymentStatusReport, JSON
    raw: str | None = None           # the bank's message, kept for those to investigate
    received_at: datetime


class SweepWatermark(StoreTable, table=True):
    __tablename__ = "sweep_watermark"

    name: str = Field(primary_key=True)
    watermark: str                   # ISO 8601 with its offset: exact, and portable across databases
    updated_at: datetime


class ReconciliationRow(StoreTable, table=True):
    __tablename__ = "reconciliation"

    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True)    # the run that made it: saving it again (a retry) keeps one row
    entity_code: str = Field(index=True)
    day: str = Field(index=True)         # ISO date
    ran_at: datetime
    workflow_id: str | None = None       # the reconciliation workflow; None when run from the command line
    difference_count: int
    summary: str                         # the day in one line
    counts: str = "{}"                   # what was compared, JSON
    differences: str = "[]"              # JSON list (activities/reconcile_compare.py Difference)


IN_LIST = 500    # values in one SQL IN list


def chunks(values: Collection[str]) -> Iterable[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), IN_LIST):
        yield ordered[start:start + IN_LIST]


class RuntimeRecords(Records):
    """The feed, payment routes and bank reports, webhook claims, sweep watermarks and reconciliations."""

    # --- finance event feed --------------------------------------------------------------
    def append_events(self, events: Iterable[FinanceEvent]) -> int:
        """Append events; an event id already in the feed is skipped (retries are harmless)."""
        added = 0
        with self._session() as db:
            for event in events:
                if db.exec(select(FinanceEventRow.seq).where(FinanceEventRow.event_id == event.event_id)).first():
                    continue
                db.add(FinanceEventRow(
                    event_id=event.event_id, type=event.type.value, occurred_at=event.occurred_at,
                    process=event.process, business_key=event.business_key, workflow_id=event.workflow_id,
                    correlation_id=event.correlation_id, entity_code=event.entity_code,
                    amount=str(event.amount.amount) if event.amount else None,
                    currency=event.amount.currency if event.amount else None,
                    summary=event.summary, data=json.dumps(event.data, default=str), recorded_at=utcnow()))
                added += 1
            db.commit()
        return added

    def events(self, *, after_seq: int = 0, workflow_id: str | None = None, limit: int = 1000) -> list[FinanceEventRow]:
        query = select(FinanceEventRow).where(col(FinanceEventRow.seq) > after_seq)
        if workflow_id:
            query = query.where(FinanceEventRow.workflow_id == workflow_id)
        with self._session() as db:
            return list(db.exec(query.order_by(col(FinanceEventRow.seq)).limit(limit)).all())

    def events_between(self, start: datetime, end: datetime, *, types: Collection[str],
                       entity_code: str | None = None) -> list[FinanceEventRow]:
        """Events of these types that occurred in [start, end), of one entity if given."""
        query = select(FinanceEventRow).where(col(FinanceEventRow.type).in_(list(types)),
                                              col(FinanceEventRow.occurred_at) >= start,
                                              col(FinanceEventRow.occurred_at) < end)
        if entity_code is not None:
            query = query.where(FinanceEventRow.entity_code == entity_code)
        with self._session() as db:
            return list(db.exec(query.order_by(col(FinanceEventRow.seq))).all())

    def events_of_workflows(self, workflow_ids: Collection[str], *, types: Collection[str]) -> list[FinanceEventRow]:
        """Every event of these types of these process runs, oldest first."""
        rows: list[FinanceEventRow] = []
        with self._session() as db:
            for chunk in chunks(workflow_ids):
                rows += db.exec(select(FinanceEventRow).where(col(FinanceEventRow.workflow_id).in_(chunk),
                                                              col(FinanceEventRow.type).in_(list(types)))).all()
        return sorted(rows, key=lambda row: row.seq or 0)

    def events_naming(self, value: str, *, types: Collection[str]) -> list[FinanceEventRow]:
        """Events of these types whose data holds ``value`` as a string (say a hashed external id).
        Reads every such event: for the rare value nothing else leads to."""
        with self._session() as db:
            return list(db.exec(select(FinanceEventRow).where(
                col(FinanceEventRow.type).in_(list(types)),
                col(FinanceEventRow.data).contains(json.dumps(value), autoescape=True))).all())

    # --- payment routing -------------------------------------------------------------------
    def route_payment(self, end_to_end_id: str, message_id: str, workflow_id: str,
                      payment_info_id: str | None = None) -> None:
        self.route_payments([PaymentRoute(end_to_end_id=end_to_end_id, message_id=message_id, workflow_id=workflow_id,
                                          payment_info_id=payment_info_id or message_id, created_at=utcnow())])

    def route_transfers(self, message_id: str, transfers: Collection[tuple[str, str, str]]) -> None:
        """Route each (EndToEndId, PmtInfId, owning workflow) of one file, first route winning."""
        now = utcnow()
        self.route_payments([PaymentRoute(end_to_end_id=e2e, message_id=message_id, payment_info_id=block,
                                          workflow_id=owner, created_at=now) for e2e, block, owner in transfers])

    def route_payments(self, routes: Collection[PaymentRoute]) -> None:
        """Keep each route whose EndToEndId has none yet (a retry's routes are already there)."""
        with self._session() as db:
            known: set[str] = set()
            for chunk in chunks([route.end_to_end_id for route in routes]):
                known.update(db.exec(select(PaymentRoute.end_to_end_id).where(col(PaymentRoute.end_to_end_id).in_(chunk))))
            db.add_all(route for route in routes if route.end_to_end_id not in known)
            try:
                db.commit()
            except IntegrityError:  # a concurrent retry registered some first: keep the rest one by one
                db.rollback()
                if len(routes) > 1:
                    for route in routes:
                        self.route_payments([route])

    def routes_in(self, message_id: str, payment_info_id: str | None = None) -> list[PaymentRoute]:
        """The payments routed in file ``message_id`` (in its block ``payment_info_id`` if given)."""
        with self._session() as db:
            routes = db.exec(select(PaymentRoute).where(PaymentRoute.message_id == message_id)
                             .order_by(col(PaymentRoute.end_to_end_id))).all()
        return [route for route in routes if payment_info_id in (None, route.block)]

    def workflow_for_payment(self, end_to_end_id: str) -> str | None:
        with self._session() as db:
            route = db.get(PaymentRoute, end_to_end_id)
            return route.workflow_id if route else None

    # --- bank reports ------------------------------------------------------------------------
    def payment_decided(self, end_to_end_id: str) -> bool:
        """A settlement or rejection for this payment already reached its process."""
        with self._session() as db:
            return db.exec(select(BankReportRow.seq).where(
                BankReportRow.end_to_end_id == end_to_end_id, BankReportRow.outcome == "delivered",
                col(BankReportRow.state).in_([s.value for s in PaymentState if s.decided])).limit(1)).first() is not None

    def record_bank_report(self, webhook_id: str, report: PaymentStatusReport | GroupStatusReport,
                           workflow_id: str | None, outcome: str, *, investigate: bool = False,
                           raw: str | None = None) -> None:
        end_to_end_id = report.end_to_end_id if isinstance(report, PaymentStatusReport) else ""
        with self._session() as db:
            db.add(BankReportRow(webhook_id=webhook_id, end_to_end_id=end_to_end_id,
                                 message_id=report.message_id, state=report.state.value, source=report.source,
                                 workflow_id=workflow_id, outcome=outcome, investigate=investigate,
                                 report=report.model_dump_json(), raw=raw if investigate else None,
                                 received_at=utcnow()))
            try:
                db.commit()
            except IntegrityError:   # the same delivery routed again after a crash: kept once
                db.rollback()

    def bank_reports(self, end_to_end_id: str) -> list[BankReportRow]:
        with self._session() as db:
            return list(db.exec(select(BankReportRow).where(BankReportRow.end_to_end_id == end_to_end_id)
                                .order_by(col(BankReportRow.seq))).all())

    def bank_reports_of(self, end_to_end_ids: Collection[str], *, states: Collection[str]) -> list[BankReportRow]:
        rows: list[BankReportRow] = []
        with self._session() as db:
            for chunk in chunks(end_to_end_ids):
                rows += db.exec(select(BankReportRow).where(col(BankReportRow.end_to_end_id).in_(chunk),
                                                            col(BankReportRow.state).in_(list(states)))).all()
        return sorted(rows, key=lambda row: row.seq or 0)

    def bank_reports_received_since(self, since: datetime, *, states: Collection[str]) -> list[BankReportRow]:
        with self._session() as db:
            return list(db.exec(select(BankReportRow).where(col(BankReportRow.received_at) >= since,
                                                            col(BankReportRow.state).in_(list(states)))
                                .order_by(col(BankReportRow.seq))).all())

    def workflows_for_payments(self, end_to_end_ids: Collection[str]) -> dict[str, str]:
        """The workflow that sent each payment (EndToEndId), where finsync sent it."""
        routes: dict[str, str] = {}
        with self._session() as db:
            for chunk in chunks(end_to_end_ids):
                routes.update((r.end_to_end_id, r.workflow_id) for r in db.exec(
                    select(PaymentRoute).where(col(PaymentRoute.end_to_end_id).in_(chunk))))
        return routes

    def bank_reports_to_investigate(self, limit: int = 1000) -> list[BankReportRow]:
        with self._session() as db:
            return list(db.exec(select(BankReportRow).where(col(BankReportRow.investigate))
                                .order_by(col(BankReportRow.seq)).limit(limit)).all())

    # --- webhook claims ------------------------------------------------------------------------
    def claim_webhook(self, webhook_id: str, source: str, workflow_id: str | None = None) -> bool:
        """Take ``webhook_id`` for handling: True for exactly one caller, however many deliveries
        of it arrive at once, in this process or another. The insert is the check (its primary
        key refuses a second one), so no two callers can both see it free."""
        with self._session() as db:
            db.add(WebhookReceipt(webhook_id=webhook_id, source=source, workflow_id=workflow_id,
                                  received_at=utcnow()))
            try:
                db.commit()
            except IntegrityError:
                db.rollback()
                return False
        return True

    def release_webhook(self, webhook_id: str) -> None:
        """Give up a claim whose handling failed, so the vendor's retry is handled afresh."""
        with self._session() as db:
            db.exec(delete(WebhookReceipt).where(col(WebhookReceipt.webhook_id) == webhook_id))
            db.commit()

    # --- sweep watermarks -------------------------------------------------------------------
    def sweep_watermark(self, name: str) -> datetime | None:
        with self._session() as db:
            row = db.get(SweepWatermark, name)
            return datetime.fromisoformat(row.watermark) if row else None

    def set_sweep_watermark(self, name: str, at: datetime) -> None:
        with self._session() as db:
            row = db.get(SweepWatermark, name) or SweepWatermark(name=name, watermark="", updated_at=utcnow())
            row.watermark, row.updated_at = at.isoformat(), utcnow()
            db.add(row)
            db.commit()

    # --- reconciliations --------------------------------------------------------------------
    def save_reconciliation(self, *, run_key: str, entity_code: str, day: date, workflow_id: str | None,
                            difference_count: int, summary: str, counts: str, differences: str) -> int:
        """Keep one reconciliation; the same run saving again keeps the first. Returns its id."""
        with self._session() as db:
            kept = db.exec(select(ReconciliationRow.id).where(ReconciliationRow.run_key == run_key)).first()
            if kept is not None:
                return kept
            row = ReconciliationRow(run_key=run_key, entity_code=entity_code, day=day.isoformat(), ran_at=utcnow(),
                                    workflow_id=workflow_id, difference_count=difference_count, summary=summary,
                                    counts=counts, differences=differences)
            db.add(row)
            try:
                db.commit()
            except IntegrityError:   # the same run, saving at the same moment elsewhere
                db.rollback()
                return self.save_reconciliation(run_key=run_key, entity_code=entity_code, day=day,
                                                workflow_id=workflow_id, difference_count=difference_count,
                                                summary=summary, counts=counts, differences=differences)
            assert row.id is not None
            return row.id

    def reconciliation(self, reconciliation_id: int) -> ReconciliationRow | None:
        with self._session() as db:
            return db.get(ReconciliationRow, reconciliation_id)
