"""A payroll provider and two ledgers in memory, behind the real payroll activities and a real
store: the workflow logic runs on the time-skipping server against them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from canonical import BusinessProblem, JournalEntry, Money, PostedJournal, ProblemCode, Side
from canonical.payroll import (
    PayComponentKind,
    Payee,
    PayResultRow,
    PayrollRunEvent,
    PayrollRunRef,
    PayrollRunState,
    RegisterTotals,
    ResultPage,
)
from connectors.errors import BusinessRuleError
from connectors.interfaces import LedgerJournal, LedgerLine

K = PayComponentKind
END = date(2026, 11, 30)


def run_ref(version: int = 1, run_id: str = "PR-2026-11", period_end: date = END) -> PayrollRunRef:
    return PayrollRunRef(provider="workday", run_id=run_id, version=version, pay_group="MONTHLY",
                         period_start=period_end.replace(day=1), period_end=period_end, payment_date=period_end,
                         finalized_by="pat.payroll")


def finalized(run: PayrollRunRef) -> PayrollRunEvent:
    return PayrollRunEvent(event_id=f"evt-{run.key}-final", state=PayrollRunState.FINALIZED, run=run,
                           actor=run.finalized_by, occurred_at=datetime(2026, 11, 28, tzinfo=UTC))


def employee_rows(worker: str, entity: str, currency: str, cost_center: str, salary: str,
                  period_end: date = END) -> list[PayResultRow]:
    gross = Decimal(salary)
    tax = (gross * Decimal("0.2")).quantize(Decimal("0.01"))
    employer = (gross * Decimal("0.1")).quantize(Decimal("0.01"))
    return [PayResultRow(worker, entity, cost_center, "SALARY", K.EARNING, gross, currency, period_end),
            PayResultRow(worker, entity, cost_center, "WAGE_TAX", K.EMPLOYEE_DEDUCTION, tax, currency, period_end),
            PayResultRow(worker, entity, cost_center, "SOCIAL_ER", K.EMPLOYER_CONTRIBUTION, employer, currency,
                         period_end),
            PayResultRow(worker, entity, cost_center, "NET_PAY", K.NET_PAY, gross - tax, currency, period_end)]


def company(salary_scale: str = "1") -> list[PayResultRow]:
    scale = Decimal(salary_scale)
    rows: list[PayResultRow] = []
    for i in range(6):
        rows += employee_rows(f"W{i:03}", "US01", "USD", "CC-1000" if i % 2 else "CC-2000", str(5000 * scale + i))
    for i in range(6, 10):
        rows += employee_rows(f"W{i:03}", "DE01", "EUR", "CC-4100", str(4000 * scale + i))
    return rows


@dataclass
class Provider:
    """The payroll provider: pages of three rows, so a run takes several pages."""

    rows: dict[str, list[PayResultRow]] = field(default_factory=dict)     # by run key
    register_off: dict[str, Decimal] = field(default_factory=dict)        # entity -> amount the register differs by
    page_size: int = 7
    pages_served: int = 0
    runs: list[PayrollRunEvent] = field(default_factory=list)            # the runs as they stand, for the sweep

    async def run(self, run_id: str) -> PayrollRunEvent:
        raise NotImplementedError

    async def changed_runs(self, since: datetime | None) -> AsyncIterator[PayrollRunEvent]:
        for event in self.runs:
            yield event

    async def results_page(self, run: PayrollRunRef, cursor: str | None, page_size: int) -> ResultPage:
        rows = self.rows[run.key]
        start = int(cursor or 0)
        end = start + self.page_size
        self.pages_served += 1
        return ResultPage(rows=rows[start:end], next_cursor=str(end) if end < len(rows) else None, total_rows=len(rows))

    async def control_totals(self, run: PayrollRunRef) -> list[RegisterTotals]:
        totals: dict[tuple[str, str], dict] = {}
        workers: dict[tuple[str, str], set[str]] = {}
        names = {K.EARNING: "earnings", K.EMPLOYEE_DEDUCTION: "employee_deductions",
                 K.EMPLOYER_CONTRIBUTION: "employer_contributions", K.REIMBURSEMENT: "reimbursements",
                 K.NET_PAY: "net_pay"}
        for row in self.rows[run.key]:
            key = (row.entity, row.currency)
            sums = totals.setdefault(key, dict.fromkeys(names.values(), Decimal(0)))
            sums[names[row.kind]] += row.amount
            workers.setdefault(key, set()).add(row.worker_id)
        return [RegisterTotals(entity=entity, currency=currency, headcount=len(workers[(entity, currency)]),
                               **(sums | {"net_pay": sums["net_pay"] + self.register_off.get(entity, Decimal(0))}))
                for (entity, currency), sums in sorted(totals.items())]

    async def payees_page(self, entity: str, cursor: str | None, page_size: int) -> tuple[list[Payee], str | None]:
        raise NotImplementedError

    async def add_pay_input(self, worker_id: str, component: str, amount: Money, reference: str) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


@dataclass
class Ledger:
    """An ERP: journals by external id, a set of closed months, and a refusal on demand."""

    name: str
    journals: dict[str, JournalEntry] = field(default_factory=dict)
    closed_months: set[tuple[int, int]] = field(default_factory=set)
    posts: int = 0

    async def post_journal(self, entry: JournalEntry, *, lookup_first: bool = False) -> PostedJournal:
        if entry.external_id not in self.journals:
            if (entry.posting_date.year, entry.posting_date.month) in self.closed_months:
                raise BusinessRuleError(self.name, BusinessProblem(
                    code=ProblemCode.PERIOD_CLOSED, system="erp", subject=entry.posting_date.isoformat(),
                    reason=f"The period of {entry.posting_date} is closed in {self.name}"))
            self.posts += 1
            self.journals[entry.external_id] = entry
        return self._posted(self.journals[entry.external_id])

    def _posted(self, entry: JournalEntry) -> PostedJournal:
        return PostedJournal(external_id=entry.external_id, erp_id=entry.external_id,
                             document_number=f"{self.name.upper()}-{list(self.journals).index(entry.external_id) + 1}",
                             entity=entry.entity, posting_date=entry.posting_date, amount=entry.total())

    async def find_journal(self, external_id: str) -> PostedJournal | None:
        entry = self.journals.get(external_id)
        return self._posted(entry) if entry else None

    async def journals_by_external_id(self, external_ids: Collection[str]) -> list[LedgerJournal]:
        found = []
        for external_id in external_ids:
            entry = self.journals.get(external_id)
            if entry:
                found.append(LedgerJournal(
                    erp_id=external_id, document_number=self._posted(entry).document_number, external_id=external_id,
                    entity=entry.entity, posting_date=entry.posting_date, currency=entry.lines[0].amount.currency,
                    lines=[LedgerLine(account=line.account, side=line.side, amount=line.amount)
                           for line in entry.lines]))
        return found

    async def aclose(self) -> None:
        return None

    def reversals(self) -> list[JournalEntry]:
        return [entry for entry in self.journals.values() if entry.reverses_external_id]

    def credit(self, account: str) -> Decimal:
        return sum((line.amount.amount for entry in self.journals.values() if not entry.reverses_external_id
                    for line in entry.lines if line.account == account and line.side is Side.CREDIT), Decimal(0))
