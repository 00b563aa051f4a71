"""One legal entity's part of a payroll run: its journal posted once to its ERP and read back, its
net pay paid as one file from its payroll account (an employee the bank rejects parks alone, the
rest is paid), the day's bank statement read against that file; and, if the provider takes the run
back, the journal reversed once, unless net pay has left the bank.

A child of the run (workflows/payroll/run.py). One entity's trouble parks this child only: the
other entities go on, and the run waits for this one until finance resolves it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.payroll import (
        EntityJournalRequest,
        EntityReversalRequest,
        JournalCheck,
        NetPayBookingRequest,
        PayrollLedgerActivities,
    )
    from activities.payroll_pay import (
        EntityRun,
        FileRequest,
        NetPayFile,
        NetPayRequest,
        PayrollBankActivities,
        PayrollPayeeActivities,
        Rejections,
        StatementRequest,
        WorkerPayee,
    )
    from activities.payroll_reimbursement import PayrollReimbursementActivities, SettleRequest
    from canonical import BusinessProblem, FileAcknowledgement, FinanceEventType, Money, PostedJournal, ProblemCode
    from canonical.bank_reconciliation import StatementReconciliation
    from canonical.journal import JOURNAL_CONFIRMED_SIGNAL, JournalConfirmation
    from canonical.payment import reason_text
    from workflows.common.exceptions import ResolutionAction
    from workflows.common.process import WHOLE, BusinessFailure, CancelRequested, FinanceProcess
    from workflows.common.remedies import MoneyState
    from workflows.common.status import TimelineEntry
    from workflows.payroll.model import (
        PROCESS,
        SIGNAL_ENTITY_DECISION,
        SIGNAL_ENTITY_PROGRESS,
        EntityDecision,
        EntityInput,
        EntityProgress,
        EntitySnapshot,
        EntityStatus,
        NetPaySummary,
        PayrollResolution,
    )


SETTLE_REIMBURSEMENTS = "settle-reimbursements"   # patch: expenses paid with net pay are told so
BOOK_NET_PAY = "book-net-pay"                     # patch: net pay that left the bank is booked in the ERP
RECONCILE_RESENT = "reconcile-resent"             # patch: a file sent again is read against its statement
READ_ONE_PAYEE = "read-one-payee"                 # patch: paying one employee again reads their account alone
PARK_UNLISTED_REJECTIONS = "park-unlisted-rejections"   # patch: rejections beyond those listed park together
UNLISTED_REJECTIONS = "employees not listed"       # the item they park under


@workflow.defn(name="PayrollEntityJournal")
class PayrollEntityWorkflow(FinanceProcess):
    PROCESS = PROCESS
    RESOLUTION = PayrollResolution

    @workflow.init
    def __init__(self, request: EntityInput) -> None:
        self.input = request
        self._begin_process(business_key=f"{request.run.key}:{request.payroll.entity}",
                            correlation_id=request.correlation_id, status=EntityStatus.PENDING)
        self._observe_entity(request.payroll.entity)
        self.journal: PostedJournal | None = None
        self.reversal: PostedJournal | None = None
        self.posting_date = request.run.period_end
        self.read_back: list[str] = []
        self.decision: EntityDecision | None = None
        self.net_pay_out = False         # set once the bank accepted or settled any of the net-pay file
        self.payment: NetPaySummary | None = None
        self.attempt = 0                 # files sent again (a refused file, a rejected employee): each a new MsgId
        self.files: list[NetPayFile] = []   # the net-pay file the bank took, read against the statement
        self.reversing = False
        self.net_pay_bookings: list[PostedJournal] = []   # each net-pay file's booking: the payable cleared

    @workflow.run
    async def run(self, request: EntityInput) -> EntitySnapshot:
        try:
            await self._ledger_configured()
            await self._post()
            await self._check_read_back()
            self._set(EntityStatus.POSTED, f"journal {self._document()} posted and read back")
            await self._tell_run()
            if await self._until_pay_day():
                rejected = await self._pay_net()
                await self._reconcile()
                await self._pay_rejected_again(rejected, self.files[-1].without_bank_details)
        except CancelRequested:
            if self.journal is None:
                self._set(EntityStatus.CANCELLED, "stopped: nothing posted for this entity")
        await self._tell_run()
        await self._wait_forever(lambda: self.decision is not None)
        assert self.decision is not None
        if self.decision.reverse and self.journal is not None:
            await self._reverse(self.decision)
        elif self.business_status is EntityStatus.RECONCILED:
            self._set(EntityStatus.COMPLETED, "the run is settled")
        await self._tell_run()
        await self._rest()
        return self.status()

    # --- messages -------------------------------------------------------------------------------
    @workflow.signal(name=JOURNAL_CONFIRMED_SIGNAL)
    def journal_confirmed(self, confirmation: JournalConfirmation) -> None:
        """The ERP's asynchronous word on the journal: noted; the read-back stays what decides."""
        if confirmation.accepted:
            note = f"the ERP confirmed journal {confirmation.external_id} as {confirmation.document_number}"
        else:
            note = f"the ERP refused journal {confirmation.external_id}: {confirmation.reason}"
        self.timeline.append(TimelineEntry(at=workflow.now(), status=self.business_status.value, note=note[:500]))

    @workflow.signal(name=SIGNAL_ENTITY_DECISION)
    def decide(self, decision: EntityDecision) -> None:
        self.decision = self.decision or decision

    @workflow.query
    def status(self) -> EntitySnapshot:
        totals = self.input.payroll.totals
        return EntitySnapshot(entity=totals.entity, status=EntityStatus(self.business_status.value),
                              ledger=self.input.ledger, net_pay=totals.money(totals.net_pay), journal=self.journal,
                              reversal=self.reversal, read_back_differences=self.read_back, payment=self.payment,
                              net_pay_bookings=self.net_pay_bookings,
                              open_exceptions=list(self.open_exceptions.values()), timeline=self.timeline)

    # --- steps ----------------------------------------------------------------------------------
    def _request(self) -> EntityJournalRequest:
        return EntityJournalRequest(run=self.input.run, entity=self.input.payroll.entity,
                                    posting_date=self.posting_date, content_hash=self.input.payroll.content_hash)

    async def _ledger_configured(self) -> None:
        if not self.input.ledger_queue:
            await self._park(BusinessProblem(
                code=ProblemCode.PAYROLL_LEDGER_MISSING, system="finsync", subject=self.input.payroll.entity,
                reason=f"No ERP is configured for {self.input.payroll.entity}'s payroll journal (config/payroll.toml "
                       "[ledgers] and the ERP's section): stop this entity; the corrected run posts it."),
                "ledger", [ResolutionAction.CANCEL])
            raise CancelRequested()

    async def _post(self) -> None:
        """Once: a closed period parks, and finance names the open period's date to post in."""
        while self.journal is None:
            resolution = None
            try:
                self.journal = await self._vendor_once(PayrollLedgerActivities.post_journal, self._request(),
                                                       self.input.ledger_queue)
            except BusinessFailure as failure:
                resolution = await self._park(failure.problem, "payroll.post_journal")
            if resolution is None:
                break
            if resolution.action is ResolutionAction.CANCEL:
                raise CancelRequested()
            if isinstance(resolution, PayrollResolution) and resolution.posting_date:
                self.posting_date = resolution.posting_date
        assert self.journal is not None
        self._emit(FinanceEventType.POSTED, f"payroll journal {self.journal.document_number} posted to "
                   f"{self.input.ledger}", amount=self.journal.amount,
                   data={"external_id": self.journal.external_id, "erp_id": self.journal.erp_id,
                         "run": self.input.run.key})

    async def _check_read_back(self) -> None:
        """What the ERP holds is what finsync built; a difference parks until it is explained."""
        while True:
            check: JournalCheck = await self._vendor(PayrollLedgerActivities.read_back, self._request(),
                                                     self.input.ledger_queue)
            self.read_back = check.differences
            if not check.differences:
                return
            await self._park(BusinessProblem(
                code=ProblemCode.JOURNAL_READ_BACK_DIFFERS, system="erp", subject=self._document(),
                reason=f"Journal {self._document()} in the ERP differs from what finsync posted: "
                       + "; ".join(check.differences[:3])), "payroll.read_back")

    async def _reverse(self, decision: EntityDecision) -> None:
        """Once, referencing the original; refused once net pay has left the bank."""
        assert self.journal is not None
        self.reversing = True
        while self._money_state() is MoneyState.PAID_OUT:
            resolution = await self._park(BusinessProblem(
                code=ProblemCode.PAYROLL_REOPENED_AFTER_PAYMENT, system="payroll", subject=self.input.run.key,
                reason=f"The provider took back payroll {self.input.run.run_id} after net pay left the bank: "
                       f"journal {self._document()} is not reversed as if nobody had been paid."), "reverse")
            if resolution.action is ResolutionAction.CLOSE_AS_PAID:
                self._set(EntityStatus.KEPT, f"journal {self._document()} kept: net pay was paid")
                return
        reversal_date = max(decision.posting_date or self.journal.posting_date, self.journal.posting_date)
        self.reversal = await self._vendor(PayrollLedgerActivities.reverse_journal, EntityReversalRequest(
            run=self.input.run, entity=self.input.payroll.entity, original_posting_date=self.journal.posting_date,
            posting_date=reversal_date, content_hash=self.input.payroll.content_hash, reason=decision.reason),
            self.input.ledger_queue)
        assert self.reversal is not None
        self._emit(FinanceEventType.REVERSED, f"payroll journal {self._document()} reversed by "
                   f"{self.reversal.document_number}: {decision.reason}", amount=self.reversal.amount,
                   data={"external_id": self.reversal.external_id, "erp_id": self.reversal.erp_id,
                         "reverses": self.journal.external_id})
        self._set(EntityStatus.REVERSED, f"journal {self._document()} reversed by {self.reversal.document_number}")

    async def _until_pay_day(self) -> bool:
        """Wait for the day the file goes to the bank (the payment date less the bank's lead time);
        False if the run was taken back first: then no money moves."""
        pay_day = self.input.run.payment_date - timedelta(days=self.input.pay_days_before)
        send_at = datetime.combine(pay_day, time(6), tzinfo=UTC)
        if send_at > workflow.now():
            self._set(EntityStatus.POSTED, f"net pay goes to the bank on {pay_day} for {self.input.run.payment_date}")
            await self._wait(lambda: self.decision is not None, send_at - workflow.now())
        return self.decision is None

    async def _pay_net(self) -> Rejections | None:
        """One file for the entity's employees; the employees the bank rejected, if any."""
        totals = self.input.payroll.totals
        entity = EntityRun(run=self.input.run, entity=totals.entity, currency=totals.currency)
        await self._vendor(PayrollPayeeActivities.read_payees, entity, self.input.provider_queue, long_running=True)
        sent: NetPayFile = await self._vendor(PayrollBankActivities.send_net_pay, NetPayRequest(
            run=self.input.run, entity=totals.entity, currency=totals.currency), self.input.bank_queue, long_running=True)
        self.payment = NetPaySummary(message_id=sent.message_id, transfers=sent.count, total=sent.control_sum)
        self._set(EntityStatus.PAYING, f"net pay file {sent.message_id} with the bank: {sent.count} transfers, "
                                       f"{sent.control_sum}")
        self._emit(FinanceEventType.PAYMENT_SENT, f"net pay file {sent.message_id}: {sent.count} transfers",
                   amount=sent.control_sum, data={"message_id": sent.message_id, "transfers": sent.count})
        await self._tell_run()
        decided = await self._decided(sent.message_id)
        while decided.rejected.count == sent.count:     # the whole file refused (the debtor side: AC05, AM04)
            await self._park(BusinessProblem(
                code=ProblemCode.PAYMENT_REJECTED, system="bank", subject=sent.debtor_account,
                vendor_code=decided.reason_code,
                reason=f"The bank refused the whole net pay file {sent.message_id} ({sent.count} transfers, "
                       f"{sent.control_sum}): {reason_text(decided.reason_code)}. Fix it with the bank, then retry."),
                "net pay", [ResolutionAction.RETRY])
            self.attempt += 1
            sent = await self._vendor(PayrollBankActivities.send_net_pay, NetPayRequest(
                run=self.input.run, entity=totals.entity, currency=totals.currency, attempt=self.attempt),
                self.input.bank_queue, long_running=True)
            self.payment = NetPaySummary(message_id=sent.message_id, transfers=sent.count, total=sent.control_sum)
            decided = await self._decided(sent.message_id)
        self.files.append(sent)
        self.net_pay_out = decided.accepted.count + decided.settled.count > 0
        self.payment = self.payment.model_copy(update={
            "settled": decided.settled.count, "rejected": decided.rejected.count + len(sent.without_bank_details)})
        rejections: Rejections | None = None
        if decided.rejected.count:
            rejections = await self._vendor(PayrollBankActivities.take_rejections,
                                            FileRequest(message_id=sent.message_id), self.input.bank_queue)
        await self._after_file_paid(sent.message_id)
        self._set(EntityStatus.PAID, f"{decided.settled.count} of {sent.count} paid"
                  + (f"; {decided.rejected.count} rejected by the bank" if decided.rejected.count else ""))
        await self._tell_run()
        return rejections

    async def _pay_rejected_again(self, rejections: Rejections | None, without_bank_details: list[str]) -> None:
        """Each employee not paid (the bank rejected them, or the payroll system has no account for
        them) parked on their own, and paid alone once finance retries; rejections beyond those the
        bank's answer names one by one are parked together, never left unpaid in silence."""
        totals = self.input.payroll.totals
        entity = EntityRun(run=self.input.run, entity=totals.entity, currency=totals.currency)
        unpaid = [self._pay_again(entity, employee.worker_id, BusinessProblem(
            code=ProblemCode.PAYMENT_REJECTED, system="payroll", subject=employee.worker_id,
            vendor_code=employee.reason_code,
            reason=f"The bank rejected {employee.name}'s net pay of {employee.amount} "
                   f"({reason_text(employee.reason_code)}): correct the bank details in the payroll system, "
                   "then retry.")) for employee in (rejections.employees if rejections else [])]
        unpaid += [self._pay_again(entity, worker_id, BusinessProblem(
            code=ProblemCode.BANK_DETAILS_MISSING, system="payroll", subject=worker_id,
            reason=f"The payroll system has no bank account for employee {worker_id}: their net pay was not "
                   "paid. Add the payment election there, then retry.")) for worker_id in without_bank_details]
        if rejections and rejections.count > len(rejections.employees) and workflow.patched(PARK_UNLISTED_REJECTIONS):
            unpaid.append(self._pay_unlisted_again(entity, rejections))
        await asyncio.gather(*unpaid)

    async def _pay_unlisted_again(self, entity: EntityRun, rejections: Rejections) -> None:
        """The rejected employees not named one by one (more than the workflow carries): parked
        together, and paid again in one file once finance retries; whom the bank rejects again is
        dealt with as the first time."""
        listed = [employee.worker_id for employee in rejections.employees]
        unlisted = rejections.count - len(listed)
        reasons = sorted({employee.reason_code or "no reason" for employee in rejections.employees})
        await self._park(BusinessProblem(
            code=ProblemCode.PAYMENT_REJECTED, system="bank", subject=f"{unlisted} more employees", reason=(
                f"The bank rejected {rejections.count} net-pay transfers; {len(listed)} are parked by employee, and "
                f"{unlisted} more are parked here together (reasons among those listed: {', '.join(reasons)}). So many "
                "rejections usually have one cause: check with the bank and correct the bank details in the payroll "
                "system, then retry to pay them again in one file.")),
            "net pay", [ResolutionAction.RETRY], item=UNLISTED_REJECTIONS)
        self.attempt += 1
        attempt = self.attempt
        await self._vendor(PayrollPayeeActivities.read_payees, entity, self.input.provider_queue, long_running=True)
        again: NetPayFile = await self._vendor(PayrollBankActivities.send_net_pay, NetPayRequest(
            run=self.input.run, entity=entity.entity, currency=entity.currency, rejected_except=listed,
            attempt=attempt), self.input.bank_queue, long_running=True)
        decided = await self._decided(again.message_id)
        still: Rejections | None = None
        if decided.rejected.count:
            still = await self._vendor(PayrollBankActivities.take_rejections, FileRequest(message_id=again.message_id),
                                       self.input.bank_queue)
        await self._after_file_paid(again.message_id)
        await self._reconcile_resent(again)
        assert self.payment is not None
        paid = again.count - decided.rejected.count
        self.payment = self.payment.model_copy(update={"settled": self.payment.settled + paid,
                                                       "rejected": max(self.payment.rejected - paid, 0)})
        await self._tell_run()
        self._emit(FinanceEventType.PAID, f"net pay of {paid} of {again.count} employees paid again in "
                   f"{again.message_id}", data={"message_id": again.message_id, "transfers": again.count})
        await self._pay_rejected_again(still, again.without_bank_details)

    async def _decided(self, message_id: str) -> FileAcknowledgement:
        """Ask the bank until it decided every transfer of the file, waiting longer each time."""
        wait = timedelta(seconds=2)
        while True:
            status: FileAcknowledgement = await self._vendor(PayrollBankActivities.file_status,
                                                             FileRequest(message_id=message_id), self.input.bank_queue)
            if status.decided:
                return status
            await workflow.sleep(wait, summary=f"waiting for the bank's word on {message_id}")
            wait = min(wait * 2, timedelta(minutes=10))

    async def _pay_again(self, entity: EntityRun, worker_id: str, problem: BusinessProblem) -> None:
        """The employee's net pay, parked until their bank details are fixed in the payroll system,
        then paid alone; again and again until the bank takes it."""
        while True:
            await self._park(problem, "net pay", [ResolutionAction.RETRY], item=f"employee {worker_id}")
            self.attempt += 1
            attempt = self.attempt
            if workflow.patched(READ_ONE_PAYEE):
                found: bool = await self._vendor(PayrollPayeeActivities.read_payee, WorkerPayee(
                    run=self.input.run, entity=entity.entity, worker_id=worker_id), self.input.provider_queue,
                    item=f"employee {worker_id}")
                if not found:
                    problem = BusinessProblem(
                        code=ProblemCode.BANK_DETAILS_MISSING, system="payroll", subject=worker_id,
                        reason=f"The payroll system still has no bank account for employee {worker_id}: add the "
                               "payment election there, then retry.")
                    continue
            else:
                await self._vendor(PayrollPayeeActivities.read_payees, entity, self.input.provider_queue,
                                   long_running=True)
            try:
                again: NetPayFile = await self._vendor_once(PayrollBankActivities.send_net_pay, NetPayRequest(
                    run=self.input.run, entity=entity.entity, currency=entity.currency, only_worker=worker_id,
                    attempt=attempt), self.input.bank_queue)
            except BusinessFailure as still:       # still no bank account: park again, saying so
                problem = still.problem
                continue
            decided = await self._decided(again.message_id)
            if not decided.rejected.count:
                await self._after_file_paid(again.message_id)
                await self._reconcile_resent(again)
                assert self.payment is not None
                self.payment = self.payment.model_copy(update={"settled": self.payment.settled + 1,
                                                               "rejected": max(self.payment.rejected - 1, 0)})
                await self._tell_run()
                self._emit(FinanceEventType.PAID, f"net pay of {worker_id} paid again in {again.message_id}",
                           amount=again.control_sum, data={"message_id": again.message_id})
                return

    async def _after_file_paid(self, message_id: str) -> None:
        """The bank took (part of) a net-pay file: book what left, and tell the expenses it paid."""
        if workflow.patched(BOOK_NET_PAY):
            await self._book_net_pay(message_id)
        await self._settle_reimbursements(message_id)

    async def _book_net_pay(self, message_id: str) -> None:
        """Dr net pay payable, Cr the paying account's GL, once per file. The money is out: a
        closed period is answered with a posting date, never with a reversal."""
        totals, posting_date = self.input.payroll.totals, workflow.now().date()
        while True:
            try:
                booked: PostedJournal | None = await self._vendor_once(
                    PayrollLedgerActivities.book_net_pay, NetPayBookingRequest(
                        run=self.input.run, entity=totals.entity, currency=totals.currency, message_id=message_id,
                        posting_date=posting_date), self.input.ledger_queue)
                break
            except BusinessFailure as failure:
                resolution = await self._park(failure.problem, "net pay booking")
                if isinstance(resolution, PayrollResolution) and resolution.posting_date:
                    posting_date = resolution.posting_date
        if booked is None:
            return
        self.net_pay_bookings.append(booked)
        self._emit(FinanceEventType.SETTLEMENT_BOOKED, f"net pay of {message_id} booked as {booked.document_number}",
                   amount=booked.amount, data={"external_id": booked.external_id, "erp_id": booked.erp_id,
                                               "message_id": message_id, "run": self.input.run.key})

    async def _settle_reimbursements(self, message_id: str) -> None:
        """The expenses this file paid with net pay (the bank took the transfers not rejected)
        are recorded as paid and their reports told (canonical/payroll_reimbursement.py)."""
        if not self.input.payroll.totals.reimbursements or not workflow.patched(SETTLE_REIMBURSEMENTS):
            return
        paid: int = await self._vendor(PayrollReimbursementActivities.settle_reimbursements, SettleRequest(
            run=self.input.run, message_id=message_id, paid_on=workflow.now().date()), self.input.provider_queue)
        if paid:
            self.timeline.append(TimelineEntry(at=workflow.now(), status=self.business_status.value,
                                               note=f"{paid} expense reimbursements paid with net pay in {message_id}"))

    async def _reconcile(self) -> None:
        """The paying account's statement of the day against the files; what does not match is reported."""
        result: StatementReconciliation = await self._vendor(PayrollBankActivities.reconcile_statement, StatementRequest(
            files=self.files, run=self.input.run, entity=self.input.payroll.entity,
            booking_date=workflow.now().date()), self.input.bank_queue, long_running=True)
        assert self.payment is not None
        self.payment = self.payment.model_copy(update={"statement": result.summary()})
        self._emit(FinanceEventType.RECONCILED, result.summary(), data={
            "statement": result.statement_id, "reconciled": result.reconciled, "missing": len(result.missing),
            "unknown": len(result.unknown), "balance_ok": result.balance.ok})
        self._set(EntityStatus.RECONCILED, result.summary())
        await self._tell_run()

    async def _reconcile_resent(self, sent: NetPayFile) -> None:
        """A file sent after the first (an employee paid again, or those not listed): read against
        the statement of its day too, so no money leaves unreconciled."""
        if not workflow.patched(RECONCILE_RESENT):
            return
        result: StatementReconciliation = await self._vendor(PayrollBankActivities.reconcile_statement, StatementRequest(
            files=[sent], run=self.input.run, entity=self.input.payroll.entity, booking_date=workflow.now().date()),
            self.input.bank_queue, long_running=True)
        self._emit(FinanceEventType.RECONCILED, f"{sent.message_id}: {result.summary()}", data={
            "statement": result.statement_id, "reconciled": result.reconciled, "missing": len(result.missing),
            "unknown": len(result.unknown), "balance_ok": result.balance.ok, "message_id": sent.message_id})
        self.timeline.append(TimelineEntry(at=workflow.now(), status=self.business_status.value,
                                           note=f"{sent.message_id}: {result.summary()}"[:500]))

    async def _tell_run(self) -> None:
        parent = workflow.get_external_workflow_handle(self.input.parent_workflow_id)
        await parent.signal(SIGNAL_ENTITY_PROGRESS, EntityProgress(
            entity=self.input.payroll.entity, status=EntityStatus(self.business_status.value), journal=self.journal,
            reversal=self.reversal, payment=self.payment, note=self.timeline[-1].note if self.timeline else ""))

    # --- what the runtime asks of a process ----------------------------------------------------
    def _document(self) -> str:
        return self.journal.document_number if self.journal else "-"

    def _interrupted(self) -> bool:
        """The run was taken back: what waits to be resolved in posting or paying gives up (the
        reversal's own exception does not)."""
        return self.decision is not None and self.decision.reverse and not self.reversing

    def _money_state(self, item: str = WHOLE) -> MoneyState:
        if self.net_pay_out:
            return MoneyState.PAID_OUT
        return MoneyState.BOOKED if self.journal is not None else MoneyState.NOTHING_BOOKED

    def _amount(self) -> Money | None:
        totals = self.input.payroll.totals
        return totals.money(totals.earnings + totals.employer_contributions)

    def _headline(self) -> str:
        run, totals = self.input.run, self.input.payroll.totals
        return (f"Payroll {run.run_id} v{run.version} · {totals.entity} · {totals.headcount} employees · "
                f"net {totals.net_pay} {totals.currency} · {self.input.ledger}")
