"""Expense-to-reimbursement: one workflow per report, from submission until the employee is paid.

received -> policy check (breach: send back, wait for resubmission) -> approval (remind after 2
days, escalate after 5) -> coding against ERP master data -> journal posted exactly once ->
posting confirmed to the platform -> reimbursement paid through the bank exactly once -> bank
confirms -> payment confirmed to the platform -> PAID. An entity that reimburses through payroll
hands the payable to the payroll system instead, once, and waits for the payroll process's word
that the employee's net pay carrying it left the bank (canonical/payroll_reimbursement.py).

A business problem parks the report (status EXCEPTION) until finance resolves it with the
``resolve_exception`` update; only remedies safe where the money is are offered
(workflows/common/remedies.py). A recall after posting, or a cancellation, reverses the journal
while no payment is with the bank; once the money has left, the report finishes as paid.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.bank import BankActivities, PaymentRef
    from activities.bookkeeping import BookkeepingActivities, EarlierBooking, PaidEarlier, ReportClaims
    from activities.erp import ErpActivities
    from activities.expense_platform import (
        ExpensePlatformActivities,
        PaymentConfirmation,
        PostingConfirmation,
        ReportRef,
        SendBack,
    )
    from activities.payroll_reimbursement import PayrollReimbursementActivities
    from canonical import (
        ApprovalStatus,
        BankAccount,
        BusinessProblem,
        ClaimedReport,
        CodingContext,
        CompanyBankAccount,
        ExpenseReport,
        FinanceEventType,
        JournalEntry,
        Money,
        PaymentInstruction,
        PaymentState,
        PaymentStatusReport,
        PostedJournal,
        ProblemCode,
        ReportStatusChanged,
        Side,
    )
    from canonical.expense_rules import DuplicateHit, ExpenseRulebook
    from canonical.keys import iso20022_id, step_key
    from canonical.money import total
    from canonical.payment import reason_text
    from canonical.payroll_reimbursement import (
        REIMBURSEMENT_PAID_SIGNAL,
        PayrollReimbursement,
        PayrollRoute,
        ReimbursementPaid,
        ReimbursementRef,
    )
    from canonical.settlement import Settlement, SettlementProblem, exchange_difference, settlement_entry
    from workflows.common import search
    from workflows.common.exceptions import Resolution, ResolutionAction
    from workflows.common.payments import MONEY_LEFT, PaymentInbox
    from workflows.common.process import WHOLE, BusinessFailure, CancelRequested, FinanceProcess
    from workflows.common.remedies import MoneyState, remedies
    from workflows.expense.coding import CodingOverrides, CodingProblem, build_journal, coding_request
    from workflows.expense.model import (
        PROCESS,
        SIGNAL_STATUS_CHANGED,
        WORKFLOW_NAME,
        BusinessStatus,
        ExpenseInput,
        ExpenseOutcome,
        ExpenseResolution,
        ExpenseSnapshot,
    )
    from workflows.expense.rules import check_policy, send_back_reason

REMIND_AFTER = timedelta(days=2)
ESCALATE_AFTER = timedelta(days=5)
RESUBMIT_WINDOW = timedelta(days=90)
BANK_SILENCE = timedelta(days=5)
# Handed to payroll: the store is read this often in case the payroll process's word was lost, and
# finance is asked to look after a monthly cycle and a half without a run paying it.
PAYROLL_POLL = timedelta(days=1)
PAYROLL_SILENCE = timedelta(days=45)
EXPENSE_LEDGER = "erp"   # the ERP section expense journals post to (config/payroll.toml names the same sections)

WAITING_FOR_APPROVER = {ApprovalStatus.PENDING_APPROVAL, ApprovalStatus.PENDING_VALIDATION}
BACK_WITH_EMPLOYEE = {ApprovalStatus.RETURNED, ApprovalStatus.RECALLED, ApprovalStatus.DRAFT}
# The platform's refusal to hand over an approved report, read as where the report went.
MOVED_AWAY: dict[str, ApprovalStatus] = {
    ProblemCode.REPORT_RECALLED: ApprovalStatus.RECALLED, ProblemCode.REPORT_SENT_BACK: ApprovalStatus.RETURNED,
    ProblemCode.REPORT_NOT_SUBMITTED: ApprovalStatus.DRAFT, ProblemCode.REPORT_CANCELLED: ApprovalStatus.CANCELLED}
SETTLEMENT_DATED = {ProblemCode.PERIOD_CLOSED, ProblemCode.PERIOD_MISSING}   # a posting date can fix these
RELEASE_FINGERPRINTS = "release-fingerprints"   # patch: a cancelled or expired report frees its claims
BOOK_SETTLEMENT = "book-settlement"             # patch: a settled payment is booked in the ERP


class _Recalled(Exception):
    """The report went back to the employee after approval: unwind to the resubmission wait."""


@workflow.defn(name=WORKFLOW_NAME)
class ExpenseReimbursementWorkflow(FinanceProcess, PaymentInbox):
    PROCESS = PROCESS
    RESOLUTION = ExpenseResolution

    @workflow.init
    def __init__(self, input: ExpenseInput) -> None:
        self._begin_process(business_key=input.report_id, correlation_id=input.correlation_id,
                            status=BusinessStatus.RECEIVED)
        self._begin_payments()
        self.input = input
        self.platform_status: ApprovalStatus | None = None
        self.platform_status_at: datetime | None = None
        self.seen_events: set[str] = set()
        self.journals: list[PostedJournal] = []
        self.reversals: list[PostedJournal] = []
        self.settlements: list[PostedJournal] = []
        self.payments: list[PaymentStatusReport] = []
        self.employee_id: str | None = None
        self.reimbursement: Money | None = None
        self.functional: Money | None = None
        self.generation = 1          # +1 after each reversal: a resubmitted report posts anew
        self.queues = input.task_queues
        self.returned_for: list[str] = []
        self.unreversed_entry: JournalEntry | None = None   # posted and not (yet) reversed
        self.first_read: ExpenseReport | None = input.report
        self.owner_ref = input.owner_ref or (input.report.owner_ref if input.report else None)
        self.payroll_reference: str | None = None          # handed to payroll as this pay input
        self.payroll_paid: ReimbursementPaid | None = None

    # --- messages -------------------------------------------------------------------------
    @workflow.signal(name=SIGNAL_STATUS_CHANGED)
    def report_status_changed(self, event: ReportStatusChanged) -> None:
        """From the gateway; duplicates and out-of-order deliveries are harmless."""
        if event.event_id in self.seen_events:
            return
        self.seen_events.add(event.event_id)
        if self._supersedes(event):
            self.platform_status, self.platform_status_at = event.approval_status, event.occurred_at

    def _supersedes(self, event: ReportStatusChanged) -> bool:
        """Only the vendor's clock orders the vendor's events: an older one arriving late loses.
        Its clock ticks in milliseconds, so on a tie the event that leaves the current state wins."""
        if self.platform_status_at is None or event.occurred_at > self.platform_status_at:
            return True
        return event.occurred_at == self.platform_status_at and event.previous_approval_status == self.platform_status

    @workflow.signal(name=REIMBURSEMENT_PAID_SIGNAL)
    def reimbursement_paid(self, paid: ReimbursementPaid) -> None:
        """From the payroll process: the net pay carrying the reimbursement left the bank. Taken
        once, and only for the reference this report handed over."""
        if paid.reference != self.payroll_reference:
            workflow.logger.warning("payroll's word on %s ignored: this report handed over %s", paid.reference,
                                    self.payroll_reference or "nothing")
            return
        self.payroll_paid = self.payroll_paid or paid

    @workflow.query
    def status(self) -> ExpenseSnapshot:
        return ExpenseSnapshot(
            report_id=self.input.report_id, status=self.business_status, entity_code=self.entity_code,
            employee_id=self.employee_id,
            reimbursement=self.reimbursement, functional_amount=self.functional, open_exception=self.open_exceptions.get(WHOLE),
            returned_for=self.returned_for, journals=self.journals, reversals=self.reversals, settlements=self.settlements,
            payments=self.payments, payroll_reference=self.payroll_reference,
            timeline=self.timeline)

    # --- the process ------------------------------------------------------------------------
    @workflow.run
    async def run(self, input: ExpenseInput) -> ExpenseOutcome:
        self.attributes.begin(
            search.PROCESS.value_set(PROCESS), search.SOURCE_SYSTEM.value_set(input.source_system),
            search.BUSINESS_KEY.value_set(input.report_id), search.BUSINESS_STATUS.value_set(self.business_status.value))
        self.rules: ExpenseRulebook = await self._local(BookkeepingActivities.load_expense_rulebook)
        outcome = await (self._after_return(input.returned) if input.returned else self._process())
        await self._rest()
        return outcome

    async def _process(self) -> ExpenseOutcome:
        try:
            report = await self._fetch_report()
            self._emit(FinanceEventType.SUBMITTED, f"Report {report.report_id} '{report.name}' received "
                       f"from {report.employee_id} for {report.reimbursement_total}")
            while True:
                if not await self._until_approved(report):
                    await self._release_fingerprints()
                    return self._outcome()
                try:
                    return await self._post_and_pay()
                except _Recalled as recalled:
                    self._set(BusinessStatus.RETURNED, str(recalled))
                    report = await self._fetch_report()
        except CancelRequested:
            return await self._cancel()

    async def _cancel(self) -> ExpenseOutcome:
        """Finance cancelled: reverse whatever journal stands, pay nothing."""
        if self.unreversed_entry is not None:
            await self._reverse(self.unreversed_entry, "cancelled by finance")
        self._emit(FinanceEventType.CANCELLED, "Cancelled by finance; nothing will be paid")
        self._set(BusinessStatus.CANCELLED, "Cancelled by finance")
        await self._release_fingerprints()
        return self._outcome()

    async def _until_approved(self, report: ExpenseReport) -> bool:
        """Policy check and approval; False if the report ended before approval."""
        validated = False
        while True:
            state = self.platform_status
            if state is ApprovalStatus.APPROVED:
                return True
            if state is ApprovalStatus.CANCELLED:
                self._set(BusinessStatus.CANCELLED, "Cancelled in the expense platform")
                return False
            if state in BACK_WITH_EMPLOYEE:
                if not await self._await_resubmission():
                    return False
                report, validated = await self._fetch_report(), False
                continue
            if not validated:
                breaches = check_policy(report, self.rules.policy, await self._duplicates(report))
                if breaches:
                    reason = send_back_reason(breaches)
                    self.returned_for = sorted({b.rule for b in breaches})
                    await self._vendor(ExpensePlatformActivities.send_back, SendBack(report_id=report.report_id, reason=reason,
                                                                     owner_ref=self.owner_ref), self.queues.expense)
                    self._observe_platform(state, ApprovalStatus.RETURNED)
                    self._emit(FinanceEventType.RETURNED, reason)
                    self._set(BusinessStatus.RETURNED, reason)
                    continue
                if state is ApprovalStatus.PENDING_VALIDATION:
                    await self._vendor(ExpensePlatformActivities.pass_validation, self._ref(), self.queues.expense)
                    self._observe_platform(state, ApprovalStatus.PENDING_APPROVAL)
                validated = True
                self._emit(FinanceEventType.VALIDATED, "Passed the policy check; waiting for the approver")
            await self._await_approval(report)

    async def _await_resubmission(self) -> bool:
        self._set(BusinessStatus.RETURNED, "With the employee; waiting for resubmission")
        if await self._wait(lambda: self.platform_status not in BACK_WITH_EMPLOYEE, RESUBMIT_WINDOW):
            return True
        self._set(BusinessStatus.EXPIRED, f"Not resubmitted within {RESUBMIT_WINDOW.days} days")
        return False

    async def _await_approval(self, report: ExpenseReport) -> None:
        decided = lambda: self.platform_status not in WAITING_FOR_APPROVER  # noqa: E731
        approver = report.approver_id or "the approver"
        self._set(BusinessStatus.AWAITING_APPROVAL, f"Waiting for {approver}")
        if await self._wait(decided, REMIND_AFTER):
            return
        self._emit(FinanceEventType.APPROVAL_REMINDED, f"Reminder sent: {approver} has not approved "
                         f"report {report.report_id} for {REMIND_AFTER.days} days", data={"approver": approver})
        if await self._wait(decided, ESCALATE_AFTER - REMIND_AFTER):
            return
        self._emit(FinanceEventType.APPROVAL_ESCALATED, f"Escalated: {approver} has not approved report "
                         f"{report.report_id} for {ESCALATE_AFTER.days} days", data={"approver": approver})
        self._set(BusinessStatus.APPROVAL_OVERDUE, f"Escalated after {ESCALATE_AFTER.days} days without approval")
        await self._wait_forever(decided)

    async def _post_and_pay(self) -> ExpenseOutcome:
        claim = await self._claim()
        report = claim.report
        self.reimbursement = report.reimbursement_total
        self._emit(FinanceEventType.APPROVED, f"Approved for {report.reimbursement_total}")
        entry, posted, ctx = await self._post_journal(report)
        if self._recalled():
            await self._reverse(entry, "report recalled by the employee")
            raise _Recalled("Recalled by the employee after approval")
        await self._vendor(ExpensePlatformActivities.confirm_posting, PostingConfirmation(claim=claim, posted=posted),
                           self.queues.expense)
        settled = await self._reimburse(report, entry, ctx)
        platform_told = await self._confirm_paid(claim, settled)
        # Through payroll, the payroll journal clears the payable: the daily reconciliation reads how much here.
        through_payroll = {"channel": "payroll", "reference": self.payroll_reference, "run": self.payroll_paid.run,
                           "message_id": settled.message_id, "cleared": str(self.payroll_paid.amount.amount),
                           "cleared_currency": self.payroll_paid.amount.currency} if self.payroll_paid else {}
        self._emit(FinanceEventType.PAID, f"Paid {settled.amount or report.reimbursement_total} to {report.employee_id}"
                   + (f" with their net pay of payroll run {self.payroll_paid.run}" if self.payroll_paid else ""),
                   amount=report.reimbursement_total, data={"platform_told": platform_told} | through_payroll)
        reference = settled.bank_reference or settled.end_to_end_id
        paid_how = f"with net pay of payroll run {self.payroll_paid.run}, transfer" if self.payroll_paid else "bank reference"
        self._set(BusinessStatus.PAID, f"Paid; {paid_how} {reference}" + (
            "" if platform_told else "; the expense platform does not show it paid (closed as paid by finance)"))
        return self._outcome()

    async def _reimburse(self, report: ExpenseReport, entry: JournalEntry, ctx: CodingContext) -> PaymentStatusReport:
        """Pay the reimbursement: through the bank, or, where the entity reimburses through payroll,
        with the employee's next net pay."""
        while (route := self.rules.through_payroll.get(ctx.entity.code)) is not None:
            mismatch = self._payroll_mismatch(route, ctx.entity.code)
            if mismatch is None:
                return await self._pay_through_payroll(report, entry, route)
            if (await self._park(mismatch, "payment")).action is ResolutionAction.CANCEL:
                raise CancelRequested()
            self.rules = await self._local(BookkeepingActivities.load_expense_rulebook)
        settled, paid_from = await self._pay(report, entry, ctx)
        if workflow.patched(BOOK_SETTLEMENT):
            await self._book_settlement(report, entry, ctx, settled, paid_from)
        return settled

    async def _claim(self) -> ClaimedReport:
        """Take the approved report for posting. If it went back to the employee (or was
        cancelled) meanwhile, nothing is posted yet: wait for it where it went, do not park."""
        while True:
            try:
                claim: ClaimedReport = await self._vendor_once(ExpensePlatformActivities.claim_for_posting, self._ref(),
                                                               self.queues.expense)
                return claim
            except BusinessFailure as failure:
                moved_to = MOVED_AWAY.get(failure.problem.code)
                if moved_to is not None:
                    self._observe_platform(ApprovalStatus.APPROVED, moved_to)
                    raise _Recalled(f"Back with the employee before posting: {failure.problem.reason}") from failure
                if (await self._park(failure.problem, "claim for posting")).action is ResolutionAction.CANCEL:
                    raise CancelRequested() from failure

    async def _confirm_paid(self, claim: ClaimedReport, settled: PaymentStatusReport) -> bool:
        """Tell the platform the report is paid; False if finance closed it as paid without that.
        The money has left: whatever the platform did to the report meanwhile, nothing is reversed."""
        while True:
            try:
                await self._vendor_once(ExpensePlatformActivities.confirm_payment,
                                        PaymentConfirmation(claim=claim, payment=settled), self.queues.expense)
                return True
            except BusinessFailure as failure:
                problem = failure.problem
                if problem.code in MOVED_AWAY:
                    problem = self._paid_but_moved(claim.report, settled, problem)
                if (await self._park(problem, "payment confirmation")).action is ResolutionAction.CLOSE_AS_PAID:
                    return False

    def _paid_but_moved(self, report: ExpenseReport, settled: PaymentStatusReport,
                        refusal: BusinessProblem) -> BusinessProblem:
        amount = settled.amount or report.reimbursement_total
        when = f" on {settled.booking_date}" if settled.booking_date else ""
        return BusinessProblem(
            code=ProblemCode.PAID_BUT_RECALLED, system="expense", subject=settled.end_to_end_id,
            vendor_code=refusal.vendor_code, reason=(
                f"The reimbursement of {amount} left the bank{when} (payment {settled.end_to_end_id}), but report "
                f"{report.report_id} is no longer approved in the expense platform ({refusal.reason}), so the platform "
                "cannot record the payment. The journal and the payment stand. Have the report resubmitted and "
                "approved, then retry; or close it as paid. Money to recover from the employee is a new journal, "
                "never a reversal of this one."))

    # --- coding and posting -------------------------------------------------------------------
    async def _post_journal(self, report: ExpenseReport) -> tuple[JournalEntry, PostedJournal, CodingContext]:
        overrides = CodingOverrides()
        while True:
            self._set(BusinessStatus.CODING, "Coding against ERP master data")
            posting_date = overrides.posting_date or report.report_date or workflow.now().date()
            ctx: CodingContext = await self._vendor(
                ErpActivities.load_coding_context, coding_request(report, self.rules.accounts, overrides, posting_date),
                self.queues.erp)
            self._observe_entity(ctx.entity.code)
            try:
                entry = build_journal(report, ctx, self.rules.accounts, overrides=overrides, posting_date=posting_date,
                                      external_id=step_key(workflow.info().workflow_id, f"journal-{self.generation}"))
            except CodingProblem as problem:
                overrides = self._apply(await self._park(problem.problem, "coding"), overrides)
                continue
            self.functional = entry.total()
            self.attributes.set(search.FUNCTIONAL_AMOUNT.value_set(float(self.functional.amount)))
            try:
                posted: PostedJournal = await self._vendor_once(ErpActivities.post_journal, entry, self.queues.erp)
            except BusinessFailure as failure:
                overrides = self._apply(await self._park(failure.problem, "posting"), overrides)
                continue
            self.journals.append(posted)
            self.unreversed_entry = entry
            self._emit(FinanceEventType.POSTED, f"Journal {posted.document_number} posted in {posted.entity} "
                             f"for {posted.amount}", amount=posted.amount,
                             data={"external_id": posted.external_id, "erp_id": posted.erp_id,
                                   "entry": entry.model_dump(mode="json")})
            self._set(BusinessStatus.POSTED, f"Journal {posted.document_number} posted")
            return entry, posted, ctx

    def _apply(self, resolution: Resolution, overrides: CodingOverrides) -> CodingOverrides:
        """A coding correction from finance, applied to what the journal is built from."""
        if resolution.action is ResolutionAction.CANCEL:
            raise CancelRequested()
        assert isinstance(resolution, ExpenseResolution)   # this process decodes nothing else
        if resolution.action is ResolutionAction.CORRECT_COST_CENTER and resolution.cost_center:
            wrong = self.last_problem.subject if self.last_problem else None
            return overrides.correct_cost_center(wrong, resolution.cost_center.strip())
        if resolution.action is ResolutionAction.SET_POSTING_DATE and resolution.posting_date:
            return overrides.model_copy(update={"posting_date": resolution.posting_date})
        return overrides

    async def _reverse(self, entry: JournalEntry, reason: str) -> None:
        reversal = entry.reversal(step_key(workflow.info().workflow_id, f"journal-{self.generation}-reversal"),
                                  workflow.now().date(), reason)
        while True:
            try:
                posted: PostedJournal = await self._vendor_once(ErpActivities.post_journal, reversal, self.queues.erp)
                break
            except BusinessFailure as failure:
                await self._park(failure.problem, "reversal", [ResolutionAction.RETRY])   # cancelling is what got us here
        self.reversals.append(posted)
        self.unreversed_entry = None
        self.generation += 1
        self._emit(FinanceEventType.REVERSED, f"Journal {entry.external_id} reversed by {posted.document_number}: "
                         f"{reason}", amount=posted.amount, data={"reverses": entry.external_id, "erp_id": posted.erp_id})
        self._set(BusinessStatus.REVERSED, f"Reversed by {posted.document_number}: {reason}")

    # --- a return after settlement ------------------------------------------------------------
    async def _after_return(self, returned: PaymentStatusReport) -> ExpenseOutcome:
        """A new run of a paid report whose payment the bank sent back (the gateway starts it).
        The settlement is reversed at what came back, so the payable is open again, and the report
        parks with the bank's reason until finance pays again (retry) or cancels."""
        report = await self._fetch_report()
        self.reimbursement = report.reimbursement_total
        self.payment_status(returned)
        self.payments.append(returned)
        e2e = returned.end_to_end_id
        booking: EarlierBooking = await self._local(BookkeepingActivities.earlier_booking, PaidEarlier(
            workflow_id=workflow.info().workflow_id, end_to_end_id=e2e))
        try:
            while booking.expense_entry is None or booking.settlement is None:
                await self._park(BusinessProblem(
                    code=ProblemCode.RETURN_NOT_BOOKED, system="finsync", subject=e2e, reason=(
                        f"The bank returned payment {e2e} of report {report.report_id}, but finsync has no record of its "
                        "journal or settlement to reverse (paid before finsync recorded them). Book the return by hand, "
                        "then cancel here.")), "payment return", [ResolutionAction.CANCEL])
            entry, settlement = booking.expense_entry, booking.settlement
            self.unreversed_entry, self.entity_code = entry, settlement.entity
            self.generation = _generation(entry.external_id)
            await self._reverse_settlement(settlement, returned)
            code = returned.reason_code
            reason = f"{reason_text(code)} ({code})" if code else "no reason given"
            await self._park(BusinessProblem(
                code=ProblemCode.PAYMENT_RETURNED, system="bank", subject=e2e, vendor_code=returned.reason_code, reason=(
                    f"The bank returned the reimbursement of {settlement.debited} to {report.employee_id} (payment {e2e}): "
                    f"{reason}. The settlement was reversed, so the employee is owed it again in the ERP. Correct the "
                    "employee's bank details in the ERP, then retry to pay again; or cancel.")), "payment return")
            ctx: CodingContext = await self._vendor(ErpActivities.load_coding_context, coding_request(
                report, self.rules.accounts, CodingOverrides(), workflow.now().date()), self.queues.erp)
            settled, paid_from = await self._pay(report, entry, ctx, first_attempt=booking.payments_sent + 1)
            await self._book_settlement(report, entry, ctx, settled, paid_from)
        except CancelRequested:
            return await self._cancel()
        # The platform shows the report paid since the first payment: it is not told again.
        self._emit(FinanceEventType.PAID, f"Paid again {settled.amount or report.reimbursement_total} to "
                   f"{report.employee_id} after the bank returned {e2e}", amount=report.reimbursement_total)
        self._set(BusinessStatus.PAID, f"Paid again; bank reference {settled.bank_reference or settled.end_to_end_id}")
        return self._outcome()

    async def _reverse_settlement(self, settlement: Settlement, returned: PaymentStatusReport) -> None:
        """Undo the settlement at what the bank credited back (an exchange difference on the way
        back is realized FX too): the payable is open again, the bank account back where it was."""
        back = settlement.model_copy(update={"debited": returned.debited or settlement.debited,
                                             "booking_date": returned.booking_date or workflow.now().date()})
        reversal = settlement_entry(back).reversal(f"{returned.end_to_end_id}:settlement-return", back.booking_date,
                                                   f"returned by the bank ({returned.reason_code or 'no reason'})")
        while True:
            try:
                posted: PostedJournal = await self._vendor_once(ErpActivities.post_journal, reversal, self.queues.erp)
                break
            except BusinessFailure as failure:
                await self._park(failure.problem, "payment return", [ResolutionAction.RETRY])
        self.reversals.append(posted)
        self._emit(FinanceEventType.PAYMENT_RETURNED, f"The bank returned payment {returned.end_to_end_id}; settlement "
                   f"reversed by {posted.document_number}", amount=back.payable,
                   data={"end_to_end_id": returned.end_to_end_id, "reason_code": returned.reason_code,
                         "external_id": posted.external_id, "erp_id": posted.erp_id,
                         "reverses": reversal.reverses_external_id,
                         "credited": str(back.debited.amount), "credited_currency": back.debited.currency})

    # --- settlement -----------------------------------------------------------------------------
    async def _book_settlement(self, report: ExpenseReport, entry: JournalEntry, ctx: CodingContext,
                               settled: PaymentStatusReport, paid_from: BankAccount) -> None:
        """Clear the payable against the bank account the money left, exactly once (the entry's
        external id comes from the EndToEndId). The money is out: only retry and a posting date
        are offered if the ERP refuses."""
        accounts = self.rules.accounts.entities.get(ctx.entity.code)
        if not isinstance(paid_from, CompanyBankAccount) or accounts is None:
            return   # a run whose rulebook predates GL accounts for bank accounts: nothing to book against
        debited = await self._debited(report, settled, paid_from)
        booking_date = settled.booking_date or workflow.now().date()
        while True:
            rate = await self._rate(report, debited.currency, ctx.entity.functional_currency, booking_date)
            settlement = Settlement(
                end_to_end_id=settled.end_to_end_id, entity=ctx.entity.code, functional_currency=ctx.entity.functional_currency,
                payable_account=accounts.employee_payable, payable=_credited(entry, accounts.employee_payable),
                bank_account=paid_from, debited=debited, debited_rate=rate, fx_account=accounts.fx_gain_loss,
                booking_date=booking_date, memo=f"Settlement of expense report {report.report_id} ({settled.end_to_end_id})",
                source_ref=entry.source_ref)
            try:
                posted: PostedJournal = await self._vendor_once(
                    ErpActivities.post_journal, settlement_entry(settlement), self.queues.erp)
                break
            except (SettlementProblem, BusinessFailure) as failure:
                resolution = await self._park(failure.problem, "settlement", remedies(
                    failure.problem.code, MoneyState.PAID_OUT) if failure.problem.code in SETTLEMENT_DATED else [
                    ResolutionAction.RETRY])
                assert isinstance(resolution, ExpenseResolution)
                booking_date = resolution.posting_date or booking_date
        self.settlements.append(posted)
        self._emit(FinanceEventType.SETTLEMENT_BOOKED, f"Payment {settled.end_to_end_id} booked as {posted.document_number}: "
                   f"{settlement.payable} payable cleared against {paid_from.gl_account}", amount=settlement.payable,
                   data={"external_id": posted.external_id, "erp_id": posted.erp_id, "end_to_end_id": settled.end_to_end_id,
                         "debited": str(debited.amount), "debited_currency": debited.currency,
                         "payable": str(settlement.payable.amount),
                         "fx_difference": str(exchange_difference(settlement).amount),
                         "settlement": settlement.model_dump(mode="json")})

    async def _debited(self, report: ExpenseReport, settled: PaymentStatusReport, paid_from: CompanyBankAccount) -> Money:
        """What left the account: the instructed amount when no conversion took place, else the
        bank's word (its status lookup carries the debit when a status report did not)."""
        instructed = settled.amount or report.reimbursement_total
        while True:
            if settled.debited is not None:
                return settled.debited
            if instructed.currency == paid_from.currency:
                return instructed
            settled = await self._vendor(BankActivities.payment_status, PaymentRef(
                message_id=settled.message_id, end_to_end_id=settled.end_to_end_id), self.queues.bank)
            if settled.debited is None:
                await self._park(BusinessProblem(
                    code=ProblemCode.SETTLEMENT_AMOUNT_UNKNOWN, system="bank", subject=settled.end_to_end_id, reason=(
                        f"The bank settled payment {settled.end_to_end_id} ({instructed}) from the {paid_from.currency} "
                        f"account {paid_from.account_id} but has not said how much it debited, so the settlement cannot "
                        "be booked. Ask the bank, then retry.")), "settlement")

    async def _rate(self, report: ExpenseReport, currency: str, functional: str, on: date) -> Decimal | None:
        """The ERP's rate for a debit in a foreign-currency bank account (None: no conversion)."""
        if currency == functional:
            return None
        request = coding_request(report, self.rules.accounts, CodingOverrides(), on).model_copy(
            update={"fx_pairs": [(currency, on)]})
        ctx: CodingContext = await self._vendor(ErpActivities.load_coding_context, request, self.queues.erp)
        rate = ctx.rate(currency, on)
        return rate.rate if rate else None

    # --- payment through payroll ------------------------------------------------------------------
    async def _pay_through_payroll(self, report: ExpenseReport, entry: JournalEntry,
                                   route: PayrollRoute) -> PaymentStatusReport:
        """Hand the employee payable to the payroll system once, then wait until the net pay that
        carries it has left the bank. From the hand-over on, payroll pays it: nothing is reversed,
        and only waiting on is offered (the payroll journal clears the payable, so no settlement is
        booked here)."""
        if self._recalled():
            await self._reverse(entry, "report recalled by the employee before payment")
            raise _Recalled("Recalled by the employee before payment")
        wid = workflow.info().workflow_id
        handoff = PayrollReimbursement(
            reference=step_key(wid, f"payroll-{self.generation}"), expense_workflow_id=wid, report_id=report.report_id,
            entity=self.entity_code or "", worker_id=report.employee_id, component=route.component,
            amount=_credited(entry, route.clears_account))
        await self._vendor(PayrollReimbursementActivities.hand_to_payroll, handoff, self.queues.payroll)
        self.payroll_reference = handoff.reference
        self._emit(FinanceEventType.PAYMENT_SENT, f"{handoff.amount} handed to payroll for {report.employee_id}'s next "
                   f"net pay (pay input {handoff.reference})", amount=handoff.amount,
                   data={"channel": "payroll", "reference": handoff.reference, "component": route.component})
        self._set(BusinessStatus.WITH_PAYROLL, f"With payroll as pay input {handoff.reference}: paid with "
                  f"{report.employee_id}'s next net pay")
        waiting_since = workflow.now()
        while self.payroll_paid is None:
            if await self._wait(lambda: self.payroll_paid is not None, PAYROLL_POLL):
                break
            found: ReimbursementPaid | None = await self._vendor(
                PayrollReimbursementActivities.reimbursement_paid, ReimbursementRef(reference=handoff.reference),
                self.queues.payroll)
            self.payroll_paid = self.payroll_paid or found
            if self.payroll_paid is None and workflow.now() - waiting_since >= PAYROLL_SILENCE:
                await self._park(BusinessProblem(
                    code=ProblemCode.PAYROLL_SILENT, system="payroll", subject=handoff.reference, reason=(
                        f"The reimbursement of {handoff.amount} was handed to payroll on {waiting_since.date()} (pay "
                        f"input {handoff.reference}), and no payroll run has paid it in {PAYROLL_SILENCE.days} days. "
                        f"Check that employee {report.employee_id} is in a pay run of the payroll system, then retry "
                        "to wait on; it is not reversed, as payroll may still pay it.")), "payment", [ResolutionAction.RETRY],
                    cleared=lambda: self.payroll_paid is not None)
                waiting_since = workflow.now()
        assert self.payroll_paid is not None
        paid = self.payroll_paid.payment_report()
        self.payments.append(paid)
        return paid

    def _payroll_mismatch(self, route: PayrollRoute, entity: str) -> BusinessProblem | None:
        """Payroll must clear the very payable the expense journal booked, in the same ledger, or
        it stays open for ever."""
        accounts = self.rules.accounts.entities.get(entity)
        if route.ledger != EXPENSE_LEDGER:
            why = (f"{entity}'s payroll journal posts to the '{route.ledger or 'no'}' ledger, while its expense "
                   f"journals post to the '{EXPENSE_LEDGER}' one")
        elif accounts is not None and accounts.employee_payable != route.clears_account:
            why = (f"the payroll journal debits {route.clears_account} for {route.component}, while the expense "
                   f"journal owes the employee on {accounts.employee_payable}")
        else:
            return None
        return BusinessProblem(
            code=ProblemCode.PAYROLL_ACCOUNT_MISMATCH, system="finsync", subject=entity, reason=(
                f"{entity} reimburses through payroll, but {why}: the payable would never clear. Align "
                "config/payroll.toml with config/expense-accounts.toml, then retry; or cancel."))

    # --- payment --------------------------------------------------------------------------------
    async def _pay(self, report: ExpenseReport, entry: JournalEntry, ctx: CodingContext,
                   first_attempt: int = 1) -> tuple[PaymentStatusReport, BankAccount]:
        """Pay the reimbursement until the bank settles it; the settlement and the account it left."""
        attempt, creditor, rejected_account = first_attempt, ctx.employee.bank_account, None
        while True:
            if self._recalled():
                await self._reverse(entry, "report recalled by the employee before payment")
                raise _Recalled("Recalled by the employee before payment")
            debtor = self._payout_account(report.reimbursement_total.currency, ctx.entity.functional_currency)
            problem = None
            if creditor is None:
                problem = BusinessProblem(code=ProblemCode.BANK_DETAILS_MISSING, system="erp", subject=report.employee_id,
                                          reason=f"Employee {report.employee_id} has no bank details in the ERP; "
                                                 "add them, then retry.")
            elif rejected_account and creditor.account_id == rejected_account:
                problem = BusinessProblem(code=ProblemCode.BANK_DETAILS_UNCHANGED, system="erp", subject=creditor.account_id,
                                          reason=f"The employee's bank account {creditor.account_id} was rejected by the "
                                                 "bank and has not been corrected in the ERP yet.")
            elif debtor is None:
                currency = report.reimbursement_total.currency
                problem = BusinessProblem(
                    code=ProblemCode.PAYOUT_ACCOUNT_MISSING, system="finsync", subject=f"{self.entity_code} {currency}",
                    reason=f"Entity {self.entity_code} has no bank account to pay {currency} from"
                           + ("" if currency == ctx.entity.functional_currency else
                              f" (nor may it pay from its {ctx.entity.functional_currency} account)")
                           + f": add one under [bank] debtor_accounts.reimbursements.{self.entity_code}.{currency}, then retry.")
            else:
                outcome = await self._send_and_wait(report, creditor, debtor, attempt)
                if outcome.state is PaymentState.SETTLED:
                    return outcome, debtor
                rejected_account = creditor.account_id
                problem = BusinessProblem(
                    code=ProblemCode.PAYMENT_REJECTED, system="bank", subject=creditor.account_id,
                    vendor_code=outcome.reason_code, reason=(
                        f"The bank rejected the reimbursement of {report.reimbursement_total} to account "
                        f"{creditor.account_id}: {reason_text(outcome.reason_code)} ({outcome.reason_code}). "
                        "Correct the employee's bank details in the ERP, then retry."))
            resolution = await self._park(problem, "payment")
            if resolution.action is ResolutionAction.CANCEL:
                raise CancelRequested()
            if problem.code == ProblemCode.PAYOUT_ACCOUNT_MISSING:
                self.rules = await self._local(BookkeepingActivities.load_expense_rulebook)
                continue
            attempt += 1
            fresh: CodingContext = await self._vendor(
                ErpActivities.load_coding_context,
                coding_request(report, self.rules.accounts, CodingOverrides(), workflow.now().date()), self.queues.erp)
            creditor = fresh.employee.bank_account

    async def _send_and_wait(self, report: ExpenseReport, creditor: BankAccount, debtor: BankAccount,
                             attempt: int) -> PaymentStatusReport:
        key = f"G{self.generation}P{attempt}"
        instruction = PaymentInstruction(
            message_id=iso20022_id("FSM", report.report_id, key), end_to_end_id=iso20022_id("FSE", report.report_id, key),
            debtor_entity=self.entity_code or "", debtor_name=debtor.holder_name, debtor_account=debtor,
            creditor=creditor, amount=report.reimbursement_total, requested_execution_date=workflow.now().date(),
            remittance_info=f"Expense report {report.report_id} {report.name}"[:140])
        ack: PaymentStatusReport = await self._vendor(BankActivities.send_payment, instruction, self.queues.bank)
        self.payment_status(ack)
        self._emit(FinanceEventType.PAYMENT_SENT, f"{instruction.amount} sent to the bank for "
                         f"{creditor.holder_name} ({instruction.end_to_end_id})", amount=instruction.amount,
                         data={"end_to_end_id": instruction.end_to_end_id, "message_id": instruction.message_id})
        self._set(BusinessStatus.PAYMENT_SENT, f"Payment {instruction.end_to_end_id} with the bank")
        e2e = instruction.end_to_end_id
        decided = lambda: e2e in self.bank_reports and self.bank_reports[e2e].state.decided  # noqa: E731
        while not await self._wait(decided, BANK_SILENCE):
            lookup: PaymentStatusReport = await self._vendor(
                BankActivities.payment_status, PaymentRef(message_id=instruction.message_id, end_to_end_id=e2e),
                self.queues.bank)
            self.payment_status(lookup)
            if decided():
                break
            await self._park(BusinessProblem(code=ProblemCode.BANK_SILENT, system="bank", reason=(
                f"The bank has not confirmed payment {e2e} ({instruction.amount}) within {BANK_SILENCE.days} days; "
                f"its last status is {lookup.bank_status_code or lookup.state.value}. Check with the bank, then retry."),
                subject=e2e), "payment")
        outcome = self.bank_reports[e2e]
        self.payments.append(outcome)
        return outcome

    # --- plumbing -------------------------------------------------------------------------------
    def _recalled(self) -> bool:
        return self.platform_status in BACK_WITH_EMPLOYEE

    def _payout_account(self, currency: str, functional: str) -> BankAccount | None:
        """By currency; a rulebook recorded before accounts had currencies names one per entity.
        (Decided by the recorded data, so it needs no patch, and no patch marker costs an upsert.)"""
        if self.rules.company_accounts:
            return self.rules.payout_account(self.entity_code or "", currency, functional)
        return self.rules.payout_accounts.get(self.entity_code or "")

    def _money_state(self, item: str = WHOLE) -> MoneyState:
        """Where the reimbursement's money is, from what the bank and the ERP told this process."""
        states = [report.state for report in self.bank_reports.values()]
        if any(state in MONEY_LEFT for state in states) or self.payroll_paid is not None:
            return MoneyState.PAID_OUT
        if self.payroll_reference is not None:
            return MoneyState.WITH_PAYROLL
        if any(not state.decided for state in states):
            return MoneyState.PAYMENT_WITH_BANK
        return MoneyState.NOTHING_BOOKED if self.unreversed_entry is None else MoneyState.BOOKED

    async def _release_fingerprints(self) -> None:
        """A report that ends unpaid no longer makes its claims duplicates of anything."""
        if self.rules.policy.duplicate_detection and workflow.patched(RELEASE_FINGERPRINTS):
            await self._local(BookkeepingActivities.release_expense_lines, ReportClaims(report_id=self.input.report_id))

    def _ref(self) -> ReportRef:
        return ReportRef(report_id=self.input.report_id, owner_ref=self.owner_ref)

    async def _fetch_report(self) -> ExpenseReport:
        """The report as the platform has it now; the gateway's read on submission serves once."""
        report: ExpenseReport
        if self.first_read is not None:
            report, self.first_read = self.first_read, None
        else:
            report = await self._vendor(ExpensePlatformActivities.fetch_report, self._ref(), self.queues.expense)
        self.owner_ref = report.owner_ref or self.owner_ref
        if self.platform_status is None:
            self._observe_platform(None, report.approval_status)
        self.reimbursement, self.employee_id = report.reimbursement_total, report.employee_id
        return report

    async def _duplicates(self, report: ExpenseReport) -> list[DuplicateHit]:
        if not self.rules.policy.duplicate_detection:
            return []
        return await self._local(BookkeepingActivities.register_expense_lines, report)

    def _observe_platform(self, acted_on: ApprovalStatus | None, state: ApprovalStatus) -> None:
        """Record what finsync's own call just did to the report, unless a vendor event arrived
        meanwhile (the approver may act before our call returns). Not stamped: workflow time
        and the vendor's clock are not comparable, and the vendor's next event must win."""
        if self.platform_status == acted_on:
            self.platform_status = state

    def _counterparty(self) -> str | None:
        return self.employee_id

    def _amount(self) -> Money | None:
        return self.reimbursement

    def _headline(self) -> str:
        """Report, employee, amount, entity: the line that identifies this report in the Web UI."""
        parts = [f"Expense report {self.input.report_id}"]
        if self.employee_id:
            parts.append(f"employee {self.employee_id}")
        if self.reimbursement:
            parts.append(str(self.reimbursement))
        if self.entity_code:
            parts.append(self.entity_code)
        return " · ".join(parts)

    def _outcome(self) -> ExpenseOutcome:
        return ExpenseOutcome(report_id=self.input.report_id, status=self.business_status,
                              journal=self.journals[-1] if self.journals else None,
                              payment=self.payments[-1] if self.payments else None)


def _generation(external_id: str) -> int:
    """``<workflow id>:journal-<n>`` -> n (a hashed id says nothing: a fresh generation far past any used)."""
    tail = external_id.rsplit(":journal-", 1)[-1]
    return int(tail) if tail.isdigit() else 100


def _credited(entry: JournalEntry, account: str) -> Money:
    """What ``entry`` booked on ``account`` (credits less debits): the payable a settlement clears."""
    credits = [ln.amount for ln in entry.lines if ln.account == account and ln.side is Side.CREDIT]
    debits = [ln.amount for ln in entry.lines if ln.account == account and ln.side is Side.DEBIT]
    currency = entry.lines[0].amount.currency
    return total(credits, currency) - total(debits, currency)
