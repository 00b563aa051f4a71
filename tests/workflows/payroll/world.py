"""A payroll provider and two ledgers in memory, behind the real payroll activities and a real
store: the workflow logic runs on the time-skipping server against them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from lxml import etree

from canonical import (
    BusinessProblem,
    FileAcknowledgement,
    JournalEntry,
    Money,
    PaymentFileTotals,
    PostedJournal,
    ProblemCode,
    RejectionPage,
    Side,
    StatusCount,
    TransactionRejection,
)
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
from canonical.statement import BankStatement, BatchReference, CreditDebit, StatementEntry, StatementTransaction
from connectors.errors import BusinessRuleError
from connectors.interfaces import LedgerJournal, LedgerLine
from connectors.workday.problems import not_found, other_entity

K = PayComponentKind
END = date(2026, 11, 30)


def run_ref(version: int = 1, run_id: str = "PR-2026-11", period_end: date = END,
            payment_date: date | None = None) -> PayrollRunRef:
    """A run paid on ``payment_date`` (default its period's end: already past, so net pay goes at once)."""
    return PayrollRunRef(provider="workday", run_id=run_id, version=version, pay_group="MONTHLY",
                         period_start=period_end.replace(day=1), period_end=period_end,
                         payment_date=payment_date or period_end, finalized_by="pat.payroll")


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
    without_account: set[str] = field(default_factory=set)              # workers with no payment election
    pay_inputs: dict[str, tuple[str, str, Money]] = field(default_factory=dict)   # reference -> worker, component, amount
    unknown_workers: set[str] = field(default_factory=set)              # pay inputs for them are refused
    corrected: dict[str, Payee] = field(default_factory=dict)           # payment elections changed in payroll

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
        workers = sorted({(row.worker_id, row.currency) for rows in self.rows.values() for row in rows
                          if row.entity == entity})
        return [self.corrected.get(worker) or payee(worker, entity) for worker, _ in workers
                if worker not in self.without_account], None

    async def payee(self, entity: str, worker_id: str) -> Payee | None:
        """The worker as ``payees_page`` lists it; refused as Workday refuses one it does not know,
        or one of another entity."""
        employers = {row.entity for rows in self.rows.values() for row in rows if row.worker_id == worker_id}
        if not employers or worker_id in self.unknown_workers:
            raise not_found(f"worker {worker_id}")
        if entity not in employers:
            raise other_entity(worker_id, min(employers), entity)
        if worker_id in self.without_account:
            return None
        return self.corrected.get(worker_id) or payee(worker_id, entity)

    async def add_pay_input(self, worker_id: str, component: str, amount: Money, reference: str) -> None:
        if worker_id in self.unknown_workers:
            raise BusinessRuleError("workday", BusinessProblem(
                code="VENDOR_REFUSED", system="payroll", subject=worker_id, vendor_code="400",
                reason=f"Workday refused to add pay input {reference}: no worker with Employee ID {worker_id!r}."))
        self.pay_inputs.setdefault(reference, (worker_id, component, amount))

    def pay_with_reimbursements(self, run: PayrollRunRef, rows: list[PayResultRow]) -> None:
        """The run's results: ``rows``, and each waiting pay input as its worker's reimbursement
        (net pay raised by it), as the provider calculates a run."""
        rows = list(rows)
        for reference, (worker, component, amount) in self.pay_inputs.items():
            mine = [row for row in rows if row.worker_id == worker]
            net = next(row for row in mine if row.kind is K.NET_PAY)
            rows[rows.index(net)] = replace(net, amount=net.amount + amount.amount)
            rows.append(replace(net, component=component, kind=K.REIMBURSEMENT,
                                amount=amount.amount, reference=reference))
        self.rows[run.key] = rows

    async def aclose(self) -> None:
        return None


def payee(worker: str, entity: str) -> Payee:
    """A made-up employee's bank details: a valid German IBAN, or a US account number."""
    number = int(worker[1:])
    if entity == "DE01":
        return Payee(worker, f"Mitarbeiter {number}", entity, "COBADEFFXXX", iban=german_iban(f"{number:010d}"))
    return Payee(worker, f"Employee {number}", entity, "CHASUS33XXX", account_number=f"{100000000000 + number}")


def german_iban(account: str, bank_code: str = "37040044") -> str:
    check = 98 - int(f"{bank_code}{account}131400") % 97
    return f"DE{check:02d}{bank_code}{account}"


@dataclass
class Bank:
    """A bank taking net-pay files: it reads their transfers, rejects those to ``closed`` accounts
    (AC04), settles the rest at once, and books the file as one batch on the day's statement."""

    closed: set[str] = field(default_factory=set)                    # creditor account ids
    refuse_files: int = 0                                            # the next N files rejected whole (AC05)
    files: dict[str, dict] = field(default_factory=dict)             # MsgId -> what the bank made of it
    today: date = date(2026, 12, 2)

    async def send_batch_file(self, totals: PaymentFileTotals, path: str | os.PathLike[str], *,
                              lookup_first: bool = False) -> FileAcknowledgement:
        if totals.message_id not in self.files:
            tree = etree.parse(os.fspath(path))
            ns = {"p": tree.getroot().nsmap[None]}
            block = tree.find(".//p:PmtInf", ns)
            transfers = [(tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns),
                          tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=ns)
                          or tx.findtext("p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=ns),
                          Decimal(tx.findtext("p:Amt/p:InstdAmt", namespaces=ns)),
                          tx.find("p:Amt/p:InstdAmt", ns).get("Ccy"))
                         for tx in block.iterfind("p:CdtTrfTxInf", ns)]
            whole = self.refuse_files > 0
            self.refuse_files -= 1 if whole else 0
            self.files[totals.message_id] = {
                "totals": totals, "pmtinf": block.findtext("p:PmtInfId", namespaces=ns),
                "account": block.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=ns)
                or block.findtext("p:DbtrAcct/p:Id/p:Othr/p:Id", namespaces=ns),
                "rejected": {e2e: ("AC05" if whole else "AC04") for e2e, account, _, _ in transfers
                             if whole or account in self.closed},
                "transfers": transfers, "whole": whole}
        status = await self.file_status(totals.message_id)
        assert status is not None
        return status

    async def file_status(self, message_id: str) -> FileAcknowledgement | None:
        sent = self.files.get(message_id)
        if sent is None:
            return None
        rejected = [t for t in sent["transfers"] if t[0] in sent["rejected"]]
        settled = [t for t in sent["transfers"] if t[0] not in sent["rejected"]]
        count = lambda ts: StatusCount(count=len(ts), control_sum=sum((t[2] for t in ts), Decimal(0)))  # noqa: E731
        return FileAcknowledgement(message_id=message_id, group_status="RJCT" if sent["whole"] else
                                   "PART" if rejected else "ACSC", count=len(sent["transfers"]),
                                   control_sum=sent["totals"].control_sum, settled=count(settled),
                                   rejected=count(rejected), reason_code="AC05" if sent["whole"] else None)

    async def rejections(self, message_id: str, cursor: str | None = None) -> RejectionPage:
        sent = self.files[message_id]
        return RejectionPage(message_id=message_id, next_cursor=None, rejections=[
            TransactionRejection(end_to_end_id=e2e, reason_code=sent["rejected"][e2e], amount=Money.of(amount, currency))
            for e2e, _, amount, currency in sent["transfers"] if e2e in sent["rejected"]])

    async def statement(self, account: str, day: date) -> BankStatement:
        entries = []
        for message_id, sent in self.files.items():
            if sent["account"] != account:
                continue
            settled = [t for t in sent["transfers"] if t[0] not in sent["rejected"]]
            if not settled:
                continue
            currency = settled[0][3]
            total = Money.of(sum((t[2] for t in settled), Decimal(0)), currency)
            entries.append(StatementEntry(
                amount=total, direction=CreditDebit.DEBIT, booking_date=day, bank_reference=f"B-{message_id}",
                batch=BatchReference(message_id=message_id, payment_info_id=sent["pmtinf"], count=len(settled),
                                     total=total, direction=CreditDebit.DEBIT),
                transactions=[StatementTransaction(end_to_end_id=e2e, message_id=message_id,
                                                   payment_info_id=sent["pmtinf"], amount=Money.of(amount, currency))
                              for e2e, _, amount, _ in settled]))
        currency = entries[0].amount.currency if entries else "EUR"
        opening = Money.of("1000000.00", currency)
        debits = sum((entry.amount.amount for entry in entries), Decimal(0))
        return BankStatement(statement_id=f"STMT-{account}-{day}", account_id=account, currency=currency,
                             opening_balance=opening, closing_balance=Money.of(opening.amount - debits, currency),
                             entries=entries)

    def rejected_workers(self) -> int:
        return sum(len(sent["rejected"]) for sent in self.files.values())

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

    def net(self, account: str) -> Decimal:
        """Debits less credits on ``account`` over every journal, reversals and bookings included."""
        return sum((line.amount.amount if line.side is Side.DEBIT else -line.amount.amount
                    for entry in self.journals.values() for line in entry.lines if line.account == account),
                   Decimal(0))

    def net_pay_bookings(self) -> list[JournalEntry]:
        return [entry for entry in self.journals.values() if entry.external_id.endswith(":net-pay")]

    def payroll_journals(self) -> list[JournalEntry]:
        """The runs' journals (and their reversals), not the net pay booked."""
        return [entry for entry in self.journals.values() if not entry.external_id.endswith(":net-pay")]

    def credit(self, account: str) -> Decimal:
        return sum((line.amount.amount for entry in self.journals.values() if not entry.reverses_external_id
                    for line in entry.lines if line.account == account and line.side is Side.CREDIT), Decimal(0))
