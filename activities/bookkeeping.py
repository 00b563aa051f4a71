"""Local activities on finsync's own state: the event feed, duplicate detection, the rulebook.

Local: they touch only finsync's store and files, are quick, and need no task-queue round-trip.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from temporalio import activity

from activities.payroll import load_payroll_rulebook
from canonical import BankAccount, CompanyBankAccount, ExpenseReport, FinanceEvent, FinanceEventType, JournalEntry
from canonical.expense_rules import AccountMapping, DuplicateHit, ExpensePolicy, ExpenseRulebook
from canonical.settlement import Settlement
from finsync.config import EntityAccounts, PaymentPurpose, Settings

if TYPE_CHECKING:
    from finsync.store import IntegrationStore  # handed in by worker.py: workflows import this module


class EventBatch(BaseModel):
    events: list[FinanceEvent]


class PaidEarlier(BaseModel):
    """Which payment of a report's earlier run the bank returned."""

    workflow_id: str
    end_to_end_id: str


class EarlierBooking(BaseModel):
    """What the earlier run booked for that payment, as it recorded it in the feed (None: not found)."""

    expense_entry: JournalEntry | None = None
    settlement: Settlement | None = None
    payments_sent: int = 0        # by every run of the report: a new payment's ids must not repeat one


class ReportClaims(BaseModel):
    """A report whose expense lines (its claims) the duplicate check should forget."""

    report_id: str


def load_rulebook(policy_file: Path, accounts_file: Path, debtor_accounts: EntityAccounts,
                  pay_cross_currency: bool = True, payroll_file: Path | None = None) -> ExpenseRulebook:
    """``payroll_file``: the payroll rules, which say which entities reimburse through payroll."""
    with open(policy_file, "rb") as fh:
        policy = ExpensePolicy.model_validate(tomllib.load(fh))
    with open(accounts_file, "rb") as fh:
        accounts = AccountMapping.model_validate(tomllib.load(fh))
    company = {entity: {currency: CompanyBankAccount(holder_name=acct.name, bic=acct.bic, iban=acct.iban,
                                                     account_number=acct.account_number, currency=currency,
                                                     gl_account=acct.gl_account)
                        for currency, acct in by_currency.items()}
               for entity, by_currency in debtor_accounts.items()}
    legacy = {entity: BankAccount(**next(iter(by_currency.values())).model_dump(include=set(BankAccount.model_fields)))
              for entity, by_currency in company.items() if by_currency}
    through_payroll = load_payroll_rulebook(payroll_file).reimbursement_routes() if payroll_file else {}
    return ExpenseRulebook(policy=policy, accounts=accounts, payout_accounts=legacy, company_accounts=company,
                           pay_cross_currency=pay_cross_currency, through_payroll=through_payroll)


class BookkeepingActivities:
    def __init__(self, store: IntegrationStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._rulebook: tuple[tuple[int, int, int, str], ExpenseRulebook] | None = None

    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        """Every bookkeeping activity, for a worker to register."""
        return [self.record_events, self.register_expense_lines, self.release_expense_lines, self.load_expense_rulebook,
                self.earlier_booking]

    @activity.defn(name="finsync.record_events")
    async def record_events(self, batch: EventBatch) -> int:
        return await asyncio.to_thread(self.store.append_events, batch.events)

    @activity.defn(name="finsync.register_expense_lines")
    async def register_expense_lines(self, report: ExpenseReport) -> list[DuplicateHit]:
        hits = await asyncio.to_thread(self.store.register_expense_lines, report)
        return [DuplicateHit(line_id=line_id, other_report_id=other) for line_id, other in hits]

    @activity.defn(name="finsync.release_expense_lines")
    async def release_expense_lines(self, claims: ReportClaims) -> int:
        return await asyncio.to_thread(self.store.release_expense_lines, claims.report_id)

    @activity.defn(name="finsync.earlier_booking")
    async def earlier_booking(self, paid: PaidEarlier) -> EarlierBooking:
        """The expense journal still standing and the payment's settlement, from the feed."""
        rows = await asyncio.to_thread(self.store.events, workflow_id=paid.workflow_id, limit=10_000)
        booking = EarlierBooking()
        reversed_ids = {json.loads(row.data).get("reverses") for row in rows if row.type == FinanceEventType.REVERSED}
        booking.payments_sent = sum(1 for row in rows if row.type == FinanceEventType.PAYMENT_SENT)
        for row in rows:
            data = json.loads(row.data)
            if row.type == FinanceEventType.POSTED and "entry" in data and data["external_id"] not in reversed_ids:
                booking.expense_entry = JournalEntry.model_validate(data["entry"])
            if (row.type == FinanceEventType.SETTLEMENT_BOOKED and data.get("end_to_end_id") == paid.end_to_end_id
                    and "settlement" in data):
                booking.settlement = Settlement.model_validate(data["settlement"])
        return booking

    @activity.defn(name="finsync.load_expense_rulebook")
    async def load_expense_rulebook(self) -> ExpenseRulebook:
        """The rule files and the reimbursement accounts as they are now; re-read only when one changed."""
        rules = self.settings.rules
        stamp = (rules.expense_policy.stat().st_mtime_ns, rules.expense_accounts.stat().st_mtime_ns,
                 rules.payroll.stat().st_mtime_ns,
                 self.settings.bank.model_dump_json(include={"debtor_accounts", "pay_cross_currency"}))
        if self._rulebook is None or self._rulebook[0] != stamp:
            book = await asyncio.to_thread(load_rulebook, rules.expense_policy, rules.expense_accounts,
                                           self.settings.bank.accounts_for(PaymentPurpose.REIMBURSEMENTS),
                                           self.settings.bank.pay_cross_currency, rules.payroll)
            self._rulebook = (stamp, book)
        return self._rulebook[1]
