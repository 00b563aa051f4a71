"""A scripted outside world for workflow tests on the time-skipping server.

The workflow's vendor activities are replaced by activities of the same names that act on this
in-memory world; the bookkeeping activities are the real ones on a real SQLite store. The fake
bank answers through the workflow's ``payment_status`` signal, as the gateway would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.bank import PaymentRef
from activities.expense_platform import PaymentConfirmation, PostingConfirmation, ReportRef, SendBack
from canonical import (
    AccountingPeriod,
    ApprovalStatus,
    BankAccount,
    BusinessProblem,
    ClaimedReport,
    CodingContext,
    CodingRequest,
    CostCenter,
    Employee,
    ExpenseLine,
    ExpenseReport,
    FxRate,
    GLAccount,
    JournalEntry,
    LegalEntity,
    Money,
    PaymentInstruction,
    PaymentState,
    PaymentStatusReport,
    PostedJournal,
    ReportStatusChanged,
)
from canonical.problems import BUSINESS_RULE_VIOLATION
from workflows.expense.workflow import ExpenseReimbursementWorkflow

GOOD_ACCOUNT = BankAccount(holder_name="Jordan Lee", bic="CHASUS33XXX", account_number="100000000011")
CLOSED_ACCOUNT = BankAccount(holder_name="Jordan Lee", bic="CHASUS33XXX", account_number="999999999999")
ACCOUNTS = ["6100", "6110", "6120", "6130", "6140", "6150", "6160", "1410", "2150", "7990"]


def refuse(code: str, reason: str, *, system: str = "erp", subject: str | None = None, field: str | None = None) -> None:
    """A vendor's business refusal, as an activity raises it."""
    problem = BusinessProblem(code=code, reason=reason, system=system, subject=subject, field=field)
    raise ApplicationError(problem.reason, problem, type=BUSINESS_RULE_VIOLATION, non_retryable=True)


def expense_line(line_id: str, category: str, amount: str, currency: str = "USD", *, receipt: bool = True,
                 day: date = date(2026, 11, 3), merchant: str = "Blue Bottle", cost_center: str | None = None,
                 tax: str | None = None, posted: str | None = None) -> ExpenseLine:
    return ExpenseLine(line_id=line_id, category=category, transaction_date=day, merchant=merchant,
                       amount=Money.of(amount, currency), receipt_present=receipt, cost_center=cost_center,
                       reclaimable_tax=Money.of(tax, currency) if tax else None,
                       posted_amount=Money.of(posted, "USD") if posted else None)


def report(report_id: str = "R1", *lines: ExpenseLine, cost_center: str = "CC-1000", currency: str = "USD") -> ExpenseReport:
    return ExpenseReport(
        report_id=report_id, source_system="concur", name="November travel", employee_id="E1001",
        cost_center=cost_center, currency=currency, approval_status=ApprovalStatus.PENDING_VALIDATION,
        report_date=date(2026, 11, 10), approver_id="E1000",
        lines=list(lines) or [expense_line("L1", "MEALS", "42.50"), expense_line("L2", "LODGING", "180.00")])


OWNER_REF = "concur-user-7"   # the platform's id for the report's owner


@dataclass
class World:
    report: ExpenseReport
    client: Client | None = None
    closed_periods: set[str] = field(default_factory=set)       # period names, e.g. "Nov 2026"
    inactive_cost_centers: set[str] = field(default_factory=lambda: {"CC-1900"})
    unknown_cost_centers: set[str] = field(default_factory=set)
    erp_refused_cost_centers: set[str] = field(default_factory=set)   # pass coding, refused when posted
    employee_cost_center: str | None = "CC-1000"
    bank_account: BankAccount | None = GOOD_ACCOUNT
    closed_bank_accounts: set[str] = field(default_factory=set)
    recall_on_post: bool = False
    recall_on_posting_confirmation: bool = False
    recall_on_settlement: bool = False     # the employee recalls once the money has left
    claim_refusal: str | None = None       # the platform refuses the next claim with this problem code
    bank_silent: bool = False
    recalled: bool = False                 # the employee has the report back (the platform's truth)
    refuse_reversals: bool = False
    erp_down: bool = False
    erp_calls: int = 0
    report_missing: bool = False
    approve_during_validation: bool = False
    send_backs: list[str] = field(default_factory=list)
    reads: int = 0
    owner_refs: set[str | None] = field(default_factory=set)   # as the workflow passed them
    validations: int = 0
    journals: dict[str, JournalEntry] = field(default_factory=dict)     # by external id: exactly once
    settlements: dict[str, JournalEntry] = field(default_factory=dict)  # likewise, the payments booked
    settlement_answer_lost_once: bool = False   # the ERP posts the settlement, the answer is lost
    debit_currency: str | None = None           # the bank converts into this currency ...
    bank_rate: Decimal = Decimal("1")           # ... at this rate
    settled: dict[str, PaymentStatusReport] = field(default_factory=dict)   # by MsgId, as the bank knows it
    post_calls: int = 0
    payments: dict[str, PaymentInstruction] = field(default_factory=dict)
    posting_confirmations: list[str] = field(default_factory=list)
    payment_confirmations: list[str] = field(default_factory=list)

    # --- expense platform ---------------------------------------------------------------
    @activity.defn(name="expense.fetch_report")
    async def fetch_report(self, ref: ReportRef) -> ExpenseReport:
        self.reads += 1
        self.owner_refs.add(ref.owner_ref)
        if self.report_missing:
            refuse("REPORT_NOT_FOUND", f"Report {ref.report_id} not found.", system="expense")
        return self.report

    @activity.defn(name="expense.pass_validation")
    async def pass_validation(self, ref: ReportRef) -> None:
        self.owner_refs.add(ref.owner_ref)
        self.validations += 1
        self.report = self.report.model_copy(update={"approval_status": ApprovalStatus.PENDING_APPROVAL})
        if self.approve_during_validation:   # the manager is quicker than our call's answer
            await self._signal_status(ApprovalStatus.APPROVED, previous=ApprovalStatus.PENDING_APPROVAL)

    @activity.defn(name="expense.send_back")
    async def send_back(self, request: SendBack) -> None:
        self.send_backs.append(request.reason)
        self.report = self.report.model_copy(update={"approval_status": ApprovalStatus.RETURNED})

    @activity.defn(name="expense.claim_for_posting")
    async def claim_for_posting(self, ref: ReportRef) -> ClaimedReport:
        self.owner_refs.add(ref.owner_ref)
        if self.claim_refusal:
            code, self.claim_refusal = self.claim_refusal, None
            refuse(code, f"Expense report {ref.report_id} cannot be posted: the employee recalled it.", system="expense")
        return ClaimedReport(report=self.report, posting_ref=f"doc-{ref.report_id}")

    @activity.defn(name="expense.confirm_posting")
    async def confirm_posting(self, request: PostingConfirmation) -> None:
        self.posting_confirmations.append(request.posted.document_number)
        if self.recall_on_posting_confirmation:
            self.recall_on_posting_confirmation = False
            await self._signal_recall()

    @activity.defn(name="expense.confirm_payment")
    async def confirm_payment(self, request: PaymentConfirmation) -> None:
        if self.recalled:
            refuse("REPORT_RECALLED", "Concur could not record the payment: the employee recalled the report.",
                   system="expense")
        self.payment_confirmations.append(request.payment.end_to_end_id)

    # --- ERP --------------------------------------------------------------------------------
    @activity.defn(name="erp.load_coding_context")
    async def load_coding_context(self, request: CodingRequest) -> CodingContext:
        self.erp_calls += 1
        if self.erp_down:
            raise ApplicationError("ERP answered 503", type="TransientVendorError")   # retried by Temporal
        month = request.posting_date.strftime("%b %Y")
        start = request.posting_date.replace(day=1)
        return CodingContext(
            entity=LegalEntity(code="US01", name="Finsync Demo Inc.", functional_currency="USD", country="US"),
            employee=Employee(employee_id="E1001", name="Jordan Lee", entity_code="US01",
                              cost_center=self.employee_cost_center, bank_account=self.bank_account),
            cost_centers={code: CostCenter(code=code, name=code, entity_code="US01",
                                           active=code not in self.inactive_cost_centers)
                          for code in request.cost_centers if code not in self.unknown_cost_centers},
            accounts={n: GLAccount(number=n, name=f"Account {n}") for n in ACCOUNTS},
            period=AccountingPeriod(name=month, start=start, end=start.replace(day=28), closed=month in self.closed_periods),
            fx_rates=[FxRate(from_currency="EUR", to_currency="USD", rate=Decimal("1.0920"), rate_date=date(2026, 11, 1))])

    @activity.defn(name="erp.post_journal")
    async def post_journal(self, entry: JournalEntry) -> PostedJournal:
        self.post_calls += 1
        month = entry.posting_date.strftime("%b %Y")
        if month in self.closed_periods:
            refuse("PERIOD_CLOSED", f"The accounting period {month} is closed.")
        if entry.reverses_external_id and self.refuse_reversals:
            refuse("PERIOD_CLOSED", f"The accounting period {month} is closed.")
        for index, line in enumerate(entry.lines):   # as NetSuite refuses a department on a line
            if line.cost_center in self.erp_refused_cost_centers:
                refuse("COST_CENTER_INACTIVE", f"Cost center {line.cost_center} is inactive in NetSuite.",
                       subject=line.cost_center, field=f"line.items[{index}].department")
        if entry.external_id.endswith(":settlement"):
            return self._post_settlement(entry)
        self.journals.setdefault(entry.external_id, entry)
        if self.recall_on_post and entry.reverses_external_id is None:
            await self._signal_recall()
        number = f"JE{list(self.journals).index(entry.external_id) + 1:05d}"
        return PostedJournal(external_id=entry.external_id, erp_id=number, document_number=number,
                             entity=entry.entity, posting_date=entry.posting_date, amount=entry.total())

    def _post_settlement(self, entry: JournalEntry) -> PostedJournal:
        """Idempotent by external id, as the real ERP activity is (it looks the entry up first)."""
        first = entry.external_id not in self.settlements
        self.settlements.setdefault(entry.external_id, entry)
        if first and self.settlement_answer_lost_once:
            self.settlement_answer_lost_once = False
            raise ApplicationError("ERP timed out after writing", type="AmbiguousVendorWrite")   # retried
        number = f"JS{list(self.settlements).index(entry.external_id) + 1:05d}"
        return PostedJournal(external_id=entry.external_id, erp_id=number, document_number=number,
                             entity=entry.entity, posting_date=entry.posting_date, amount=entry.total())

    async def _signal_recall(self) -> None:
        self.recalled = True
        await self._signal_status(ApprovalStatus.RECALLED, previous=ApprovalStatus.APPROVED)

    async def _signal_status(self, status: ApprovalStatus, previous: ApprovalStatus) -> None:
        """The platform's webhook for a change made while an activity runs."""
        assert self.client and activity.info().workflow_id
        handle = self.client.get_workflow_handle(activity.info().workflow_id or "")
        await handle.signal(ExpenseReimbursementWorkflow.report_status_changed, ReportStatusChanged(
            event_id=f"{status.value}-{activity.info().activity_id}", source_system="concur",
            report_id=self.report.report_id, approval_status=status, previous_approval_status=previous,
            occurred_at=activity.info().current_attempt_scheduled_time, correlation_id="test"))

    # --- bank -------------------------------------------------------------------------------
    @activity.defn(name="bank.send_payment")
    async def send_payment(self, instruction: PaymentInstruction) -> PaymentStatusReport:
        first = instruction.message_id not in self.payments
        self.payments.setdefault(instruction.message_id, instruction)
        if first and not self.bank_silent:
            await self._answer(activity.info().workflow_id or "", instruction)
        return PaymentStatusReport(message_id=instruction.message_id, end_to_end_id=instruction.end_to_end_id,
                                   state=PaymentState.PENDING, bank_status_code="ACTC", source="ack")

    async def _answer(self, workflow_id: str, instruction: PaymentInstruction) -> None:
        """The bank decides and tells the workflow (as the gateway would). It answers before the
        send returns so that time skipping cannot jump past it; the workflow must not mind that
        the decision arrives before the acknowledgement."""
        rejected = instruction.creditor.account_id in self.closed_bank_accounts
        assert self.client
        status = PaymentStatusReport(
            message_id=instruction.message_id, end_to_end_id=instruction.end_to_end_id,
            state=PaymentState.REJECTED if rejected else PaymentState.SETTLED,
            bank_status_code="RJCT" if rejected else "ACSC", reason_code="AC04" if rejected else None,
            amount=instruction.amount, source="pain.002")
        if not rejected:   # what the bank's lookup says afterwards: the debit, converted if it was
            debited = (instruction.amount.convert(self.bank_rate, self.debit_currency) if self.debit_currency
                       else instruction.amount)
            self.settled[instruction.message_id] = status.model_copy(update={
                "source": "lookup", "debited": debited, "exchange_rate": self.bank_rate if self.debit_currency else None})
        await self.client.get_workflow_handle(workflow_id).signal(ExpenseReimbursementWorkflow.payment_status, status)
        if self.recall_on_settlement and not rejected:
            self.recalled = True
            await self.client.get_workflow_handle(workflow_id).signal(
                ExpenseReimbursementWorkflow.report_status_changed, ReportStatusChanged(
                    event_id=f"recall-{instruction.message_id}", source_system="concur", report_id=self.report.report_id,
                    approval_status=ApprovalStatus.RECALLED, previous_approval_status=ApprovalStatus.APPROVED,
                    occurred_at=activity.info().current_attempt_scheduled_time, correlation_id="test"))

    async def settle(self, workflow_id: str) -> None:
        """The silent bank finally answers for every payment it holds."""
        self.bank_silent = False
        for instruction in self.payments.values():
            await self._answer(workflow_id, instruction)

    @activity.defn(name="bank.payment_status")
    async def payment_status(self, ref: PaymentRef) -> PaymentStatusReport:
        if ref.message_id in self.settled:
            return self.settled[ref.message_id]
        state = PaymentState.PENDING if ref.message_id in self.payments else PaymentState.UNKNOWN
        return PaymentStatusReport(message_id=ref.message_id, end_to_end_id=ref.end_to_end_id, state=state,
                                   bank_status_code="PDNG" if state is PaymentState.PENDING else "")

    def activities(self) -> list:
        return [self.fetch_report, self.pass_validation, self.send_back, self.claim_for_posting,
                self.confirm_posting, self.confirm_payment, self.load_coding_context, self.post_journal,
                self.send_payment, self.payment_status]
