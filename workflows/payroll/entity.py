"""One legal entity's part of a payroll run: its journal posted once to its ERP and read back, and,
if the provider takes the run back, reversed once.

A child of the run (workflows/payroll/run.py). One entity's trouble parks this child only: the
other entities go on, and the run waits for this one until finance resolves it.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.payroll import EntityJournalRequest, EntityReversalRequest, JournalCheck, PayrollLedgerActivities
    from canonical import BusinessProblem, FinanceEventType, Money, PostedJournal, ProblemCode
    from canonical.journal import JOURNAL_CONFIRMED_SIGNAL, JournalConfirmation
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
        PayrollResolution,
    )


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
        self.net_pay_out = False         # set once the net-pay batch left the bank

    @workflow.run
    async def run(self, request: EntityInput) -> EntitySnapshot:
        try:
            await self._ledger_configured()
            await self._post()
            await self._check_read_back()
            self._set(EntityStatus.POSTED, f"journal {self._document()} posted and read back")
        except CancelRequested:
            self._set(EntityStatus.CANCELLED, "stopped by finance: nothing posted for this entity")
        await self._tell_run()
        await self._wait_forever(lambda: self.decision is not None)
        assert self.decision is not None
        if self.decision.reverse and self.journal is not None:
            await self._reverse(self.decision)
        elif self.business_status is EntityStatus.POSTED:
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
                              reversal=self.reversal, read_back_differences=self.read_back,
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

    async def _tell_run(self) -> None:
        parent = workflow.get_external_workflow_handle(self.input.parent_workflow_id)
        await parent.signal(SIGNAL_ENTITY_PROGRESS, EntityProgress(
            entity=self.input.payroll.entity, status=EntityStatus(self.business_status.value), journal=self.journal,
            reversal=self.reversal, note=self.timeline[-1].note if self.timeline else ""))

    # --- what the runtime asks of a process ----------------------------------------------------
    def _document(self) -> str:
        return self.journal.document_number if self.journal else "-"

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
