"""The payroll run's activities: read the provider's results into the store, and post, read back
and reverse each legal entity's journal in its ERP.

The results never pass through workflow history: ``ingest_results`` reads them page by page into
the integration store (finsync/store/payroll.py) and hands the workflow totals, keys and hashes.
A retry resumes from the page the store stands at, the cursor each page is applied with, and the
activity heartbeats that cursor so the Web UI shows how far it got.
"""

from __future__ import annotations

import asyncio
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity

from activities.errors import business_error, is_retry, vendor_call
from canonical import BusinessProblem, PostedJournal, ProblemCode, Side
from canonical.journal import JournalEntry
from canonical.money import Money, from_minor_units
from canonical.payroll import EntityPayroll, PayComponentKind, PayrollIngest, PayrollRunRef, RegisterTotals, combined_hash
from canonical.payroll_journal import UnmappedPayComponents, aggregates_hash, entity_journal, net_pay_booking
from canonical.payroll_rules import PayrollRulebook
from connectors.errors import BusinessRuleError
from connectors.interfaces import JournalLedger, LedgerJournal, PayrollProvider
from finsync.config import EntityAccounts

if TYPE_CHECKING:
    from finsync.store import IntegrationStore  # handed in by worker.py: workflows import this module

UNBALANCED_EXAMPLES = 5


class IngestRequest(BaseModel):
    run: PayrollRunRef


class RunRequest(BaseModel):
    run: PayrollRunRef


class EntityJournalRequest(BaseModel):
    """Post (or read back) the entity's journal for the run, built from the aggregates as read."""

    run: PayrollRunRef
    entity: str
    posting_date: date
    content_hash: str               # the aggregates must still be what the workflow decided on


class NetPayBookingRequest(BaseModel):
    """Book what one net-pay file paid (the transfers the bank did not reject)."""

    run: PayrollRunRef
    entity: str
    currency: str
    message_id: str
    posting_date: date


class EntityReversalRequest(BaseModel):
    run: PayrollRunRef
    entity: str
    original_posting_date: date     # the original is rebuilt as it was posted, then reversed
    posting_date: date
    content_hash: str
    reason: str


class JournalCheck(BaseModel):
    """The posted journal read back from the ERP against what finsync built."""

    document_number: str
    differences: list[str] = []


def load_payroll_rulebook(rules_file: Path) -> PayrollRulebook:
    with open(rules_file, "rb") as fh:
        return PayrollRulebook.model_validate(tomllib.load(fh))


class PayrollRules:
    def __init__(self, rules_file: Path) -> None:
        self.rules_file = rules_file

    @activity.defn(name="payroll.load_rulebook")
    async def load_rulebook(self) -> PayrollRulebook:
        return load_payroll_rulebook(self.rules_file)


class PayrollIngestActivities:
    """On the payroll provider's task queue."""

    def __init__(self, provider: PayrollProvider, store: IntegrationStore, page_size: int = 5000) -> None:
        self.provider = provider
        self.store = store
        self.page_size = page_size

    @activity.defn(name="payroll.ingest_results")
    async def ingest_results(self, request: IngestRequest) -> PayrollIngest:
        run = request.run
        ingest = await asyncio.to_thread(self.store.begin_ingest, run)
        cursor, finished = ingest.cursor, ingest.finished
        while not finished:
            async with vendor_call():
                page = await self.provider.results_page(run, cursor, self.page_size)
            await asyncio.to_thread(self.store.add_page, run.key, cursor, page.rows, page.next_cursor)
            cursor, finished = page.next_cursor, page.next_cursor is None
            activity.heartbeat(cursor)
        return await asyncio.to_thread(self._ingested, run)

    def _ingested(self, run: PayrollRunRef) -> PayrollIngest:
        ingest = self.store.ingest(run.key)
        assert ingest is not None and ingest.finished
        entities = []
        for totals in self.store.register_totals(run.key):
            lines = [line for line in self.store.aggregate_lines(run.key, totals.entity)
                     if line.currency == totals.currency]
            entities.append(EntityPayroll(totals=totals, content_hash=aggregates_hash(lines),
                                          cost_centers=len({line.cost_center for line in lines})))
        count, examples = self.store.unbalanced_employees(run.key, UNBALANCED_EXAMPLES)
        return PayrollIngest(run=run, rows=ingest.rows, entities=entities,
                             content_hash=combined_hash(entity.content_hash for entity in entities),
                             unbalanced_employees=count, unbalanced_examples=examples)

    @activity.defn(name="payroll.control_totals")
    async def control_totals(self, request: RunRequest) -> list[RegisterTotals]:
        async with vendor_call():
            return await self.provider.control_totals(request.run)

    @activity.defn(name="payroll.previous_totals")
    async def previous_totals(self, request: RunRequest) -> list[RegisterTotals]:
        """The last earlier period's totals of the same pay group, as finsync read them (none for a first run)."""
        previous = await asyncio.to_thread(self.store.previous_run_key, request.run)
        return await asyncio.to_thread(self.store.register_totals, previous) if previous else []


class PayrollLedgerActivities:
    """On each ERP's task queue: the same activities, that ERP's connector."""

    def __init__(self, erp: JournalLedger, store: IntegrationStore, rules_file: Path,
                 payroll_accounts: EntityAccounts | None = None) -> None:
        """``payroll_accounts``: the bank accounts net pay leaves from, with their GL accounts."""
        self.erp = erp
        self.store = store
        self.rules_file = rules_file
        self.payroll_accounts = payroll_accounts or {}

    def _journal(self, run: PayrollRunRef, entity: str, posting_date: date, content_hash: str) -> JournalEntry:
        """The entity's journal from the aggregates as the workflow saw them, or a business refusal."""
        lines = self.store.aggregate_lines(run.key, entity)
        if aggregates_hash(lines) != content_hash:
            raise business_error(BusinessRuleError("finsync", BusinessProblem(
                code=ProblemCode.JOURNAL_INVALID, system="finsync", subject=run.key,
                reason=f"The stored payroll results of {entity} changed after they were checked; "
                       "finsync will not post figures nobody checked.")))
        try:
            return entity_journal(run, entity, lines, load_payroll_rulebook(self.rules_file), posting_date)
        except UnmappedPayComponents as error:
            raise business_error(BusinessRuleError("finsync", BusinessProblem(
                code=ProblemCode.PAY_COMPONENT_UNMAPPED, system="finsync", subject=", ".join(error.components),
                reason=f"Payroll components {', '.join(error.components)} have no GL account in the payroll "
                       "rules (config/payroll.toml): add them, then retry."))) from error

    @activity.defn(name="payroll.book_net_pay")
    async def book_net_pay(self, request: NetPayBookingRequest) -> PostedJournal | None:
        """Once per file: Dr net pay payable, Cr the paying account's GL, for what the bank took;
        None if it took nothing."""
        paid_minor = await asyncio.to_thread(self.store.file_paid_minor, request.run.key, request.message_id)
        if not paid_minor:
            return None
        net_pay = next((c for c in load_payroll_rulebook(self.rules_file).components
                        if c.kind is PayComponentKind.NET_PAY), None)
        account = self.payroll_accounts.get(request.entity, {}).get(request.currency)
        if net_pay is None or account is None:
            missing = "a NET_PAY component in config/payroll.toml" if net_pay is None else (
                f"a payroll bank account for {request.entity} in {request.currency} ([bank.debtor_accounts.payroll])")
            raise business_error(BusinessRuleError("finsync", BusinessProblem(
                code=ProblemCode.JOURNAL_INVALID, system="finsync", subject=request.message_id,
                reason=f"Net pay file {request.message_id} left the bank, but finsync cannot book it without "
                       f"{missing}: add it, then retry.")))
        paid = Money(amount=from_minor_units(paid_minor, request.currency), currency=request.currency)
        entry = net_pay_booking(request.run, request.entity, request.message_id, paid, net_pay.account,
                                account.gl_account, request.posting_date)
        async with vendor_call():
            return await self.erp.post_journal(entry, lookup_first=is_retry())

    @activity.defn(name="payroll.post_journal")
    async def post_journal(self, request: EntityJournalRequest) -> PostedJournal:
        """Exactly once per run version and entity: a retry reads the journal back by its key first."""
        entry = await asyncio.to_thread(self._journal, request.run, request.entity, request.posting_date,
                                        request.content_hash)
        async with vendor_call():
            return await self.erp.post_journal(entry, lookup_first=is_retry())

    @activity.defn(name="payroll.read_back")
    async def read_back(self, request: EntityJournalRequest) -> JournalCheck:
        entry = await asyncio.to_thread(self._journal, request.run, request.entity, request.posting_date,
                                        request.content_hash)
        async with vendor_call():
            found = await self.erp.journals_by_external_id([entry.external_id])
        if not found:
            return JournalCheck(document_number="", differences=[f"the ERP has no journal {entry.external_id}"])
        return JournalCheck(document_number=found[0].document_number, differences=journal_differences(entry, found[0]))

    @activity.defn(name="payroll.reverse_journal")
    async def reverse_journal(self, request: EntityReversalRequest) -> PostedJournal:
        """The posted journal's reversal, once: keyed by the original's key, referencing it."""
        original = await asyncio.to_thread(self._journal, request.run, request.entity, request.original_posting_date,
                                           request.content_hash)
        reversal = original.reversal(f"{original.external_id}:rev", request.posting_date, request.reason)
        async with vendor_call():
            return await self.erp.post_journal(reversal, lookup_first=is_retry())


def journal_differences(built: JournalEntry, held: LedgerJournal) -> list[str]:
    """Accounts whose net the ERP holds otherwise than finsync built it, one phrase each."""
    accounts = sorted({line.account for line in built.lines} | {line.account for line in held.lines})
    found = []
    for account in accounts:
        ours = sum((line.amount.amount if line.side is Side.DEBIT else -line.amount.amount
                    for line in built.lines if line.account == account), start=Decimal(0))
        theirs = held.net(account).amount
        if ours != theirs:
            found.append(f"account {account}: finsync posted {ours}, the ERP holds {theirs} {held.currency}")
    return found
