"""The reconciliation's activity: read one entity's day from the feed, the ERP and the bank, compare
(``activities/reconcile_compare.py``), and keep the result in the integration store.

The workflow gets counts and the stored result's id only: a day's differences can be many.
``finsync reconcile`` runs the same ``Reconciler`` without Temporal. The activity runs on the ERP's
task queue, as nearly all its calls are SuiteQL; the bank is asked only about settlements booked
whose debit no stored camt.054 shows (the workflow may have learnt it from a status lookup).
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity

from activities.errors import vendor_call
from activities.payroll import load_payroll_rulebook
from canonical import (
    BusinessProblem,
    FinanceEvent,
    FinanceEventType,
    Money,
    PaymentState,
    PaymentStatusReport,
    ProblemCode,
)
from canonical.expense_rules import AccountMapping
from connectors.errors import BusinessRuleError
from connectors.interfaces import Bank, Erp, LedgerJournal
from finsync import correlation
from finsync.config import EntityAccounts, PaymentPurpose, Settings

if TYPE_CHECKING:
    from finsync.store import BankReportRow, FinanceEventRow, IntegrationStore  # workflows import this module

from activities.reconcile_compare import (
    JOURNAL_EVENTS,
    MONEY_EVENTS,
    BankDebit,
    Counts,
    DayRecord,
    FeedEntry,
    PayrollFileBooked,
    ReportTrail,
    compare,
    counts,
    headline,
    is_finsync_external_id,
    owner_of,
)

if TYPE_CHECKING:
    from finsync.store import BankReportRow, FinanceEventRow, IntegrationStore  # workflows import this module

PROCESS = "reconciliation"
COMMAND = "finsync-reconcile-command"   # the feed's workflow id for a reconciliation run from the command line
DEBIT_NOTIFICATION = "camt.054"
# A debit booked on the day may be notified a little before the day begins in UTC (the bank's
# booking date is its own local date); none is notified before the day before.
NOTIFIED_FROM = timedelta(days=1)
SELF_RECONCILED = {"payroll"}   # processes that match their own money against the bank statement
RECONCILED_LEDGER = "erp"       # the ERP whose journals this reconciliation reads (config/payroll.toml's name)


class ReconcileRequest(BaseModel):
    entity: str
    day: date
    run_key: str                      # the run reconciling: retried with the same key, it keeps one result
    workflow_id: str | None = None    # None: the command line


class ReconciliationSummary(BaseModel):
    """One entity's day, reconciled: the counts, the line, and where the differences are kept."""

    id: int                           # in the integration store's ``reconciliation`` table
    entity: str
    day: date
    differences: int
    by_kind: dict[str, int] = {}
    checked: Counts = Counts()
    headline: str


class Reconciler:
    def __init__(self, erp: Erp, bank: Bank, store: IntegrationStore, settings: Settings) -> None:
        self.erp = erp
        self.bank = bank
        self.store = store
        self.settings = settings

    async def reconcile(self, request: ReconcileRequest) -> ReconciliationSummary:
        """Compare the day, keep the differences, and say so in the feed (once per run key)."""
        record = await self.read_day(request.entity, request.day)
        differences = compare(record)
        checked = counts(record)
        line = headline(request.entity, request.day, differences, checked)
        by_kind: dict[str, int] = {}
        for difference in differences:
            by_kind[difference.kind.value] = by_kind.get(difference.kind.value, 0) + 1
        reconciliation_id = await asyncio.to_thread(
            self.store.save_reconciliation, run_key=request.run_key, entity_code=request.entity, day=request.day,
            workflow_id=request.workflow_id, difference_count=len(differences), summary=line,
            counts=checked.model_dump_json(),
            differences=json.dumps([d.model_dump(mode="json") for d in differences]))
        summary = ReconciliationSummary(id=reconciliation_id, entity=request.entity, day=request.day,
                                        differences=len(differences), by_kind=by_kind, checked=checked, headline=line)
        await asyncio.to_thread(self.store.append_events, [_reconciled(request, summary)])
        return summary

    async def read_day(self, entity: str, day: date) -> DayRecord:
        payable_account = self._payable_account(entity)
        start = datetime.combine(day, time(), UTC)
        day_events = await asyncio.to_thread(self.store.events_between, start, start + timedelta(days=1),
                                             types=MONEY_EVENTS, entity_code=entity)
        day_debits = await self._debits_booked(day, since=start - NOTIFIED_FROM)
        day_journals = await self.erp.journals_on(entity, day)

        workflows = ({e.workflow_id for e in day_events} | await self._journal_owners(day_journals)
                     | {owner for owner in day_debits.values() if owner})
        trails = [t for t in await self._trails(workflows - self._self_reconciled(day_events))
                  if t.entity in (entity, None)]
        debits = await self._debits_of(trails)
        mine = {t.workflow_id for t in trails}
        for debit, owner in day_debits.items():
            if owner in mine or (owner is None and self._from_entity_account(entity, debit.debited.currency)):
                debits.setdefault(debit.end_to_end_id, debit)
        journals = await self.erp.journals_by_external_id(set().union(*(t.candidate_external_ids() for t in trails)))
        returns = [credit for credit, owner in (await self._booked(day, start - NOTIFIED_FROM, PaymentState.RETURNED)).items()
                   if owner in mine or (owner is None and self._from_entity_account(entity, credit.debited.currency))]
        return DayRecord(entity=entity, day=day, payable_account=payable_account,
                         bank_gl_accounts={currency: account.gl_account for currency, account
                                           in self._reimbursement_accounts().get(entity, {}).items()},
                         trails=trails, debits=list(debits.values()), returns=returns, journals=journals,
                         day_journals=day_journals, payroll_files=self._payroll_files(entity, day_events))

    async def _debits_booked(self, day: date, since: datetime) -> dict[BankDebit, str | None]:
        """The debits the bank notified (camt.054) as booked on the day, each payment once, with the
        workflow that sent it where finsync knows it."""
        return await self._booked(day, since, PaymentState.SETTLED)

    async def _booked(self, day: date, since: datetime, state: PaymentState) -> dict[BankDebit, str | None]:
        """What the bank notified (camt.054) as booked on the day in ``state`` (SETTLED: debits;
        RETURNED: money credited back), each payment once, with its workflow where finsync knows it."""
        rows = await asyncio.to_thread(self.store.bank_reports_received_since, since, states=[state.value])
        debits: dict[str, tuple[BankDebit, str | None]] = {}
        for row in rows:
            debit = _debit(row, state) if row.source == DEBIT_NOTIFICATION else None
            if debit is not None and debit.booking_date == day and debit.end_to_end_id not in debits:
                debits[debit.end_to_end_id] = (debit, row.workflow_id)
        unrouted = [e2e for e2e, (_, owner) in debits.items() if owner is None]
        routes = await asyncio.to_thread(self.store.workflows_for_payments, unrouted)
        return {debit: owner or routes.get(e2e) for e2e, (debit, owner) in debits.items()}

    async def _journal_owners(self, day_journals: list[LedgerJournal]) -> set[str]:
        """The workflows behind the day's journals under finsync external ids, where finsync knows them."""
        owners: set[str] = set()
        payments: set[str] = set()
        for journal in day_journals:
            if journal.external_id is None or not is_finsync_external_id(journal.external_id):
                continue
            workflow_id, e2e = owner_of(journal.external_id)
            if workflow_id:
                owners.add(workflow_id)
            elif e2e:
                payments.add(e2e)
            else:   # hashed: the feed names it (a posting or settlement), or its ERP id (a reversal)
                for value in (journal.external_id, journal.erp_id):
                    named = await asyncio.to_thread(self.store.events_naming, value, types=JOURNAL_EVENTS)
                    owners |= {event.workflow_id for event in named}
        routes = await asyncio.to_thread(self.store.workflows_for_payments, payments)
        return owners | set(routes.values())

    async def _trails(self, workflow_ids: set[str]) -> list[ReportTrail]:
        rows = await asyncio.to_thread(self.store.events_of_workflows, workflow_ids, types=MONEY_EVENTS)
        by_workflow: dict[str, list[FinanceEventRow]] = {}
        for row in rows:
            by_workflow.setdefault(row.workflow_id, []).append(row)
        return [ReportTrail(workflow_id=workflow_id, report_id=events[0].business_key,
                            entity=next((e.entity_code for e in events if e.entity_code), None),
                            events=[_entry(e) for e in events])
                for workflow_id, events in sorted(by_workflow.items())]

    async def _debits_of(self, trails: list[ReportTrail]) -> dict[str, BankDebit]:
        """The bank's debits for the trails' payments: from the camt.054s kept, else (for a settlement
        booked) the bank's answer to a status lookup."""
        sent = {e.data["end_to_end_id"]: str(e.data.get("message_id", "")) for t in trails
                for e in t.of(FinanceEventType.PAYMENT_SENT) if e.data.get("end_to_end_id")}
        booked = {str(e.data["end_to_end_id"]) for t in trails
                  for e in t.of(FinanceEventType.SETTLEMENT_BOOKED) if e.data.get("end_to_end_id")}
        rows = await asyncio.to_thread(self.store.bank_reports_of, sent.keys() | booked,
                                       states=[PaymentState.SETTLED.value])
        debits: dict[str, BankDebit] = {}
        for row in rows:
            debit = _debit(row) if row.source == DEBIT_NOTIFICATION else None
            if debit is not None:
                debits.setdefault(debit.end_to_end_id, debit)
        for e2e in sorted(booked - debits.keys()):
            if sent.get(e2e):
                debit = _as_debit(await self.bank.payment_status(sent[e2e], e2e))
                if debit is not None:
                    debits[e2e] = debit
        return debits

    @staticmethod
    def _self_reconciled(events: list[FinanceEventRow]) -> set[str]:
        """The workflows of processes that reconcile their own money: the payroll run reads its
        journals back and its net-pay files against the bank's camt.053, so it is no report here."""
        return {e.workflow_id for e in events if e.process in SELF_RECONCILED}

    def _payroll_files(self, entity: str, events: list[FinanceEventRow]) -> list[PayrollFileBooked]:
        """Net pay booked on the day against the entity's payroll account, where the entity's payroll
        posts to this ERP: the bank account's GL moves by it too."""
        if load_payroll_rulebook(self.settings.rules.payroll).ledger_for(entity) != RECONCILED_LEDGER:
            return []
        accounts = self.settings.bank.accounts_for(PaymentPurpose.PAYROLL).get(entity, {})
        files = []
        for event in events:
            data = json.loads(event.data or "{}")
            account = accounts.get(event.currency or "")
            if (event.process in SELF_RECONCILED and event.type == FinanceEventType.SETTLEMENT_BOOKED
                    and event.amount is not None and event.currency and account and data.get("message_id")):
                files.append(PayrollFileBooked(message_id=data["message_id"], gl_account=account.gl_account,
                                               paid=Money.of(event.amount, event.currency)))
        return files

    def _reimbursement_accounts(self) -> EntityAccounts:
        """The accounts the reconciled payments (reimbursements) leave from."""
        return self.settings.bank.accounts_for(PaymentPurpose.REIMBURSEMENTS)

    def _from_entity_account(self, entity: str, currency: str) -> bool:
        """A debit finsync cannot place left one of the entity's accounts if the entity has one in its
        currency, or if no entity has (then every entity's reconciliation shows it)."""
        accounts = self._reimbursement_accounts()
        return currency in accounts.get(entity, {}) or not any(currency in held for held in accounts.values())

    def _payable_account(self, entity: str) -> str:
        path = self.settings.rules.expense_accounts
        with open(path, "rb") as fh:
            mapping = AccountMapping.model_validate(tomllib.load(fh))
        if entity not in mapping.entities:
            raise BusinessRuleError("finsync", BusinessProblem(
                code=ProblemCode.ENTITY_UNKNOWN, system="finsync", subject=entity,
                reason=f"Entity {entity} has no accounts in {path}: its employee payable is not known."))
        return mapping.entities[entity].employee_payable


class ReconcileActivities:
    def __init__(self, reconciler: Reconciler) -> None:
        self.reconciler = reconciler

    @activity.defn(name="reconcile.day")
    async def reconcile_day(self, request: ReconcileRequest) -> ReconciliationSummary:
        async with vendor_call():
            return await self.reconciler.reconcile(request)


def _entry(row: FinanceEventRow) -> FeedEntry:
    amount = Money.of(row.amount, row.currency) if row.amount is not None and row.currency else None
    return FeedEntry(event_id=row.event_id, type=FinanceEventType(row.type), amount=amount,
                     data=json.loads(row.data or "{}"))


def _debit(row: BankReportRow, state: PaymentState = PaymentState.SETTLED) -> BankDebit | None:
    return _as_debit(PaymentStatusReport.model_validate_json(row.report), state)


def _as_debit(report: PaymentStatusReport, state: PaymentState = PaymentState.SETTLED) -> BankDebit | None:
    """A settled report as the debit it was: what left the account (before banks reported that, the
    instructed amount). With ``state`` RETURNED: a return, as what came back."""
    debited = report.debited or report.amount
    if report.state is not state or debited is None:
        return None
    return BankDebit(end_to_end_id=report.end_to_end_id, message_id=report.message_id, debited=debited,
                     booking_date=report.booking_date, bank_reference=report.bank_reference, source=report.source)


def _reconciled(request: ReconcileRequest, summary: ReconciliationSummary) -> FinanceEvent:
    workflow_id = request.workflow_id or COMMAND
    return FinanceEvent(
        event_id=f"{PROCESS}/{request.run_key}", type=FinanceEventType.RECONCILED, occurred_at=datetime.now(UTC),
        process=PROCESS, business_key=f"{request.entity}:{request.day.isoformat()}", workflow_id=workflow_id,
        correlation_id=correlation.current.get() or workflow_id, entity_code=request.entity, summary=summary.headline,
        data={"reconciliation_id": summary.id, "day": request.day.isoformat(), "differences": summary.differences,
              "by_kind": summary.by_kind, **summary.checked.model_dump()})
