"""A finalized payroll run, from the provider's event to every entity's journal.

1. Read the results page by page into the store (an activity); the workflow holds totals and hashes.
2. Every employee adds up, and the totals tie to the provider's register, or the run parks.
3. Net pay moving against the previous period beyond the threshold parks for a payroll
   controller, who may not be the person who finalized the run.
4. One child per legal entity posts its journal to its ERP, pays its net pay as one file and reads
   the bank statement against it (workflows/payroll/entity.py); one entity's trouble never holds
   back or undoes the others.
5. If the provider reopens or cancels the run, every posted journal is reversed once (refused,
   with money-safe choices, where net pay has left the bank).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.payroll import IngestRequest, PayrollIngestActivities, PayrollRules, RunRequest
    from canonical import BusinessProblem, Money, ProblemCode
    from canonical.payroll import PayrollIngest, PayrollRunEvent, PayrollRunState, RegisterTotals
    from canonical.payroll_rules import PayrollRulebook
    from workflows.common import search
    from workflows.common.exceptions import Resolution, ResolutionAction
    from workflows.common.process import WHOLE, CancelRequested, FinanceProcess
    from workflows.common.remedies import MoneyState
    from workflows.payroll.entity import PayrollEntityWorkflow
    from workflows.payroll.model import (
        PROCESS,
        SIGNAL_ENTITY_DECISION,
        SIGNAL_ENTITY_PROGRESS,
        SIGNAL_RUN_CHANGED,
        EntityDecision,
        EntityInput,
        EntityProgress,
        EntitySnapshot,
        EntityStatus,
        PayrollInput,
        PayrollResolution,
        PayrollSnapshot,
        PayrollStatus,
        entity_workflow_id,
    )

# How long after the payment date the run still answers a reopen by reversing its journals.
REOPEN_WINDOW = timedelta(days=35)
POSTED = {EntityStatus.POSTED, EntityStatus.PAYING, EntityStatus.PAID, EntityStatus.RECONCILED, EntityStatus.CANCELLED}
SETTLED = {EntityStatus.RECONCILED, EntityStatus.CANCELLED}


@workflow.defn(name="PayrollRun")
class PayrollRunWorkflow(FinanceProcess):
    PROCESS = PROCESS
    RESOLUTION = PayrollResolution

    @workflow.init
    def __init__(self, request: PayrollInput) -> None:
        self.input = request
        self.run_ref = request.event.run
        self._begin_process(business_key=self.run_ref.key, correlation_id=request.correlation_id,
                            status=PayrollStatus.FINALIZED)
        self.ingest: PayrollIngest | None = None
        self.entities: dict[str, EntityProgress] = {}
        self.change: PayrollRunEvent | None = None

    @workflow.run
    async def run(self, request: PayrollInput) -> PayrollSnapshot:
        self._set(PayrollStatus.FINALIZED, f"finalized by {request.event.actor}")
        try:
            rules: PayrollRulebook = await self._local(PayrollRules.load_rulebook)
            ingest = await self._read()
            await self._tie(ingest)
            await self._check_variance(ingest, rules)
        except CancelRequested:
            if self.change is not None:
                self._set(PayrollStatus.SUPERSEDED, f"{self.change.state.value.lower()} by {self.change.actor} before "
                          "anything was posted: nothing to undo")
            else:
                self._set(PayrollStatus.CANCELLED, "stopped by finance: nothing posted")
            await self._rest()
            return self.status()
        children = await self._start_entities(ingest, rules)
        if await self._until_all(POSTED):
            self._set(PayrollStatus.POSTED, self._posted_summary())
        if await self._until_all(SETTLED):
            self._set(PayrollStatus.RECONCILED, self._posted_summary())
            await self._wait(lambda: self.change is not None, self._reopen_window())
        decision = (EntityDecision(reverse=True, reason=f"payroll run {self.run_ref.run_id} "
                                   f"{self.change.state.value.lower()} by {self.change.actor}")
                    if self.change is not None else EntityDecision(reverse=False))
        for child in children:
            await child.signal(SIGNAL_ENTITY_DECISION, decision)
        for child in children:
            await child
        if decision.reverse:
            self._set(PayrollStatus.REVERSED, decision.reason)
        else:
            self._set(PayrollStatus.COMPLETED, self._posted_summary())
        await self._rest()
        return self.status()

    # --- messages -------------------------------------------------------------------------------
    @workflow.signal(name=SIGNAL_RUN_CHANGED)
    def run_changed(self, event: PayrollRunEvent) -> None:
        """The provider reopened or cancelled this run; anything else is dropped with a line."""
        if event.run.run_id != self.run_ref.run_id or event.state is PayrollRunState.FINALIZED:
            workflow.logger.warning("payroll run %s ignores event %s (%s of run %s)", self.run_ref.key,
                                    event.event_id, event.state.value, event.run.run_id)
            return
        self.change = self.change or event

    @workflow.signal(name=SIGNAL_ENTITY_PROGRESS)
    def entity_progress(self, progress: EntityProgress) -> None:
        if progress.entity in self.entities:
            self.entities[progress.entity] = progress

    @workflow.query
    def status(self) -> PayrollSnapshot:
        return PayrollSnapshot(run=self.run_ref, status=PayrollStatus(self.business_status.value),
                               rows=self.ingest.rows if self.ingest else 0, entities=dict(self.entities),
                               totals=[entity.totals for entity in self.ingest.entities] if self.ingest else [],
                               open_exceptions=list(self.open_exceptions.values()), timeline=self.timeline)

    # --- steps ----------------------------------------------------------------------------------
    async def _read(self) -> PayrollIngest:
        """Results into the store; every employee's net pay must add up."""
        while True:
            ingest: PayrollIngest = await self._vendor(
                PayrollIngestActivities.ingest_results, IngestRequest(run=self.run_ref), self.input.queues.provider,
                long_running=True)
            self.ingest = ingest
            if not ingest.unbalanced_employees:
                self._set(PayrollStatus.READ, f"{ingest.rows} result rows of {len(ingest.entities)} entities read")
                return ingest
            await self._park_unless_changed(BusinessProblem(
                code=ProblemCode.PAYROLL_EMPLOYEES_UNBALANCED, system="payroll", subject=self.run_ref.key,
                reason=f"{ingest.unbalanced_employees} employees' net pay is not earnings less deductions plus "
                       f"reimbursements (e.g. {', '.join(ingest.unbalanced_examples)}): correct the run at the "
                       "provider, or retry."), "payroll.ingest_results")

    async def _tie(self, ingest: PayrollIngest) -> None:
        while True:
            stated: list[RegisterTotals] = await self._vendor(
                PayrollIngestActivities.control_totals, RunRequest(run=self.run_ref), self.input.queues.provider)
            differences = _register_differences([entity.totals for entity in ingest.entities], stated)
            if not differences:
                self._set(PayrollStatus.TIED, "totals tie to the provider's payroll register")
                return
            await self._park_unless_changed(BusinessProblem(
                code=ProblemCode.PAYROLL_CONTROL_TOTALS_DIFFER, system="payroll", subject=self.run_ref.key,
                reason="The results do not tie to the payroll register: " + "; ".join(differences[:4])),
                "payroll.control_totals")

    async def _check_variance(self, ingest: PayrollIngest, rules: PayrollRulebook) -> None:
        previous: list[RegisterTotals] = await self._vendor(
            PayrollIngestActivities.previous_totals, RunRequest(run=self.run_ref), self.input.queues.provider)
        moved = _variances([entity.totals for entity in ingest.entities], previous, rules)
        if moved:
            resolution = await self._park_unless_changed(BusinessProblem(
                code=ProblemCode.PAYROLL_VARIANCE, system="payroll", subject=self.run_ref.key,
                reason="Net pay moved against the previous period beyond the threshold: " + "; ".join(moved)
                       + f". A payroll controller other than {self.run_ref.finalized_by} may accept it."),
                "payroll.variance")
            self._set(PayrollStatus.APPROVED, f"variance accepted by {resolution.resolved_by}: {resolution.note}")
        else:
            self._set(PayrollStatus.APPROVED, "no variance beyond the threshold" if previous
                      else "no previous period to compare with")

    async def _start_entities(self, ingest: PayrollIngest,
                              rules: PayrollRulebook) -> list[ChildWorkflowHandle[PayrollEntityWorkflow, EntitySnapshot]]:
        self._set(PayrollStatus.POSTING, f"posting the journals of {', '.join(e.entity for e in ingest.entities)}")
        children = []
        for entity in ingest.entities:
            ledger = rules.ledger_for(entity.entity) or ""
            queue = self.input.queues.ledgers.get(ledger, "")   # none: the entity parks, not the run
            self.entities[entity.entity] = EntityProgress(entity=entity.entity, status=EntityStatus.PENDING)
            children.append(await workflow.start_child_workflow(
                PayrollEntityWorkflow.run, EntityInput(
                    run=self.run_ref, payroll=entity, ledger=ledger, ledger_queue=queue,
                    provider_queue=self.input.queues.provider, bank_queue=self.input.queues.bank,
                    pay_days_before=rules.pay_days_before,
                    parent_workflow_id=workflow.info().workflow_id, correlation_id=self.correlation_id),
                id=entity_workflow_id(self.run_ref, entity.entity), parent_close_policy=ParentClosePolicy.ABANDON,
                search_attributes=TypedSearchAttributes([
                    SearchAttributePair(search.PROCESS, PROCESS),
                    SearchAttributePair(search.BUSINESS_KEY, f"{self.run_ref.key}:{entity.entity}"),
                    SearchAttributePair(search.LEGAL_ENTITY, entity.entity),
                    SearchAttributePair(search.BUSINESS_STATUS, EntityStatus.PENDING.value)]),
                static_summary=f"Payroll {self.run_ref.run_id} v{self.run_ref.version} · {entity.entity} · "
                               f"{entity.totals.headcount} employees → {ledger or 'no ledger'}"))
        return children

    async def _until_all(self, statuses: set[EntityStatus]) -> bool:
        """Wait until every entity stands in ``statuses``; False if the provider took the run back first."""
        await self._wait_forever(lambda: self.change is not None
                                 or all(p.status in statuses for p in self.entities.values()))
        return self.change is None

    async def _park_unless_changed(self, problem: BusinessProblem, step: str) -> Resolution:
        """Park the run; a reopen or cancel at the provider ends the wait (nothing was posted yet)."""
        resolution = await self._park(problem, step)
        if resolution.action is ResolutionAction.CANCEL:
            raise CancelRequested()
        return resolution

    # --- what the runtime asks of a process ----------------------------------------------------
    def _interrupted(self) -> bool:
        return self.change is not None

    def _refusal(self, resolution: Resolution, item: str) -> str | None:
        if (resolution.action is ResolutionAction.ACCEPT_VARIANCE
                and resolution.resolved_by.strip().casefold() == self.run_ref.finalized_by.casefold()):
            return (f"{resolution.resolved_by} finalized this run and may not approve its variance: "
                    "another payroll controller must")
        return None

    def _money_state(self, item: str = WHOLE) -> MoneyState:
        posted = any(progress.journal is not None for progress in self.entities.values())
        return MoneyState.BOOKED if posted else MoneyState.NOTHING_BOOKED

    def _amount(self) -> Money | None:
        if self.ingest is None or len({e.totals.currency for e in self.ingest.entities}) != 1:
            return None
        first = self.ingest.entities[0].totals
        return first.money(sum((e.totals.net_pay for e in self.ingest.entities), Decimal(0)))

    def _headline(self) -> str:
        run = self.run_ref
        parts = [f"Payroll {run.run_id} v{run.version}", f"{run.pay_group} {run.period_start} to {run.period_end}"]
        if self.ingest is not None:
            parts.append(f"{sum(e.totals.headcount for e in self.ingest.entities)} employees in "
                         f"{len(self.ingest.entities)} entities")
        return " · ".join(parts)

    def _posted_summary(self) -> str:
        return ", ".join(f"{entity} {progress.status.value.lower()}"
                         + (f" ({progress.journal.document_number})" if progress.journal else "")
                         + (f", {progress.payment.settled} of {progress.payment.transfers} paid" if progress.payment
                            and progress.status in SETTLED else "")
                         for entity, progress in sorted(self.entities.items()))

    def _reopen_window(self) -> timedelta:
        payment = datetime.combine(self.run_ref.payment_date, time(), tzinfo=UTC)
        return max(payment + REOPEN_WINDOW - workflow.now(), timedelta(seconds=1))


def _register_differences(ours: list[RegisterTotals], stated: list[RegisterTotals]) -> list[str]:
    found = []
    theirs = {(t.entity, t.currency): t for t in stated}
    mine = {(t.entity, t.currency): t for t in ours}
    for key in sorted(mine.keys() | theirs.keys()):
        if key not in theirs:
            found.append(f"{key[0]} {key[1]}: not in the provider's register")
        elif key not in mine:
            found.append(f"{key[0]} {key[1]}: in the register, but no results were read")
        else:
            found += [f"{key[0]} {difference}" for difference in mine[key].differences(theirs[key])]
    return found


def _variances(current: list[RegisterTotals], previous: list[RegisterTotals], rules: PayrollRulebook) -> list[str]:
    """Entities whose net pay moved beyond BOTH the percentage and the amount of their threshold."""
    before = {(t.entity, t.currency): t.net_pay for t in previous}
    moved = []
    for totals in current:
        last = before.get((totals.entity, totals.currency))
        if last is None or last == 0:
            continue
        change = totals.net_pay - last
        percent = abs(change) * 100 / last
        limit = rules.variance_for(totals.entity)
        if percent > limit.percent and abs(change) > limit.amount:
            moved.append(f"{totals.entity} net pay {totals.net_pay} {totals.currency} against {last} "
                         f"({'+' if change > 0 else ''}{change}, {percent:.1f} %)")
    return moved
