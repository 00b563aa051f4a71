"""Run a payroll run on the time-skipping server: real activities and store, the world in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.bookkeeping import BookkeepingActivities
from activities.payroll import PayrollIngestActivities, PayrollLedgerActivities, PayrollRules
from activities.payroll_pay import PayrollBankActivities, PayrollPayeeActivities
from activities.payroll_reimbursement import PayrollReimbursementActivities
from activities.payroll_sweep import PayrollSweepActivities
from activities.sweep import HandOverOutcome, SweepWatermarks
from canonical.payroll import PayrollRunEvent, PayrollRunRef
from canonical.payroll_reimbursement import REIMBURSEMENT_PAID_SIGNAL, ReimbursementPaid
from finsync.config import PaymentPurpose, Settings
from finsync.store import IntegrationStore
from tests.workflows.harness import record_history
from tests.workflows.payroll.world import Bank, Ledger, Provider, finalized
from tests.workflows.polling import until
from workflows.common.exceptions import ResolutionAction
from workflows.common.process import RESOLVE_EXCEPTION
from workflows.payroll import start as payroll_start
from workflows.payroll.entity import PayrollEntityWorkflow
from workflows.payroll.model import (
    EntitySnapshot,
    PayrollInput,
    PayrollQueues,
    PayrollResolution,
    PayrollSnapshot,
    PayrollStatus,
    entity_workflow_id,
    workflow_id,
)
from workflows.payroll.run import PayrollRunWorkflow
from workflows.payroll.sweep import PayrollSweepWorkflow

RULES = Path("config/payroll.toml")
QUEUES = PayrollQueues(provider="t-payroll", bank="t-bank", ledgers={"erp": "t-netsuite", "s4hana": "t-sap"})


@dataclass
class PayrollRun:
    env: WorkflowEnvironment
    handle: WorkflowHandle
    run: PayrollRunRef

    async def snapshot(self) -> PayrollSnapshot:
        return await self.handle.query(PayrollRunWorkflow.status)

    async def until(self, predicate: Callable[[PayrollSnapshot], bool]) -> PayrollSnapshot:
        return await until(self.snapshot, predicate, lambda s: f"status {s.status}: {s.timeline[-3:]}", 60.0)

    async def parked_on(self, code: str) -> PayrollSnapshot:
        return await self.until(lambda s: any(e.problem.code == code for e in s.open_exceptions))

    async def resolve(self, action: ResolutionAction, by: str = "casey.controller", note: str = "",
                      handle: WorkflowHandle | None = None, **fields: object) -> str:
        return await (handle or self.handle).execute_update(
            RESOLVE_EXCEPTION, PayrollResolution(action=action, resolved_by=by, note=note, **fields),  # type: ignore[arg-type]
            result_type=str)

    def entity(self, entity: str) -> WorkflowHandle:
        return self.env.client.get_workflow_handle(entity_workflow_id(self.run, entity))

    async def entity_until(self, entity: str, predicate: Callable[[EntitySnapshot], bool]) -> EntitySnapshot:
        """The entity's child once it has started and ``predicate`` holds."""
        await self.until(lambda s: entity in s.entities)
        child = self.entity(entity)
        return await until(lambda: child.query(PayrollEntityWorkflow.status), predicate,
                           lambda s: f"status {s.status}, open {[e.item or e.problem.code for e in s.open_exceptions]}", 60.0)

    async def employee_parked(self, entity: str, worker: str) -> EntitySnapshot:
        return await self.entity_until(entity, lambda s: any(e.item == f"employee {worker}" for e in s.open_exceptions))

    async def outcome(self) -> PayrollSnapshot:
        """The run's end, its history and its children's kept for the replay test when recording."""
        outcome = PayrollSnapshot.model_validate(await self.handle.result())
        await record_history(self.handle, "payroll")
        for entity in outcome.entities:
            await record_history(self.entity(entity), f"payroll_entity-{entity}")
        return outcome


@asynccontextmanager
async def payroll_world(env: WorkflowEnvironment, tmp_path: Path, provider: Provider, netsuite: Ledger,
                        sap: Ledger, bank: Bank | None = None, *, tell_expenses: bool = True,
                        ) -> AsyncIterator[Callable[[PayrollRunRef], Awaitable[PayrollRun]]]:
    """``tell_expenses``: False loses payroll's word to the expense reports it paid (they must
    find out by themselves)."""
    store = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    books = BookkeepingActivities(store, Settings())
    ingest = PayrollIngestActivities(provider, store)
    payees = PayrollPayeeActivities(provider, store)
    paying = PayrollBankActivities(bank or Bank(), store, Settings().bank.accounts_for(PaymentPurpose.PAYROLL),
                                   tmp_path / "spool")
    watermarks = SweepWatermarks(store)

    async def tell(expense_workflow_id: str, paid: ReimbursementPaid) -> bool:
        if tell_expenses:
            await env.client.get_workflow_handle(expense_workflow_id).signal(REIMBURSEMENT_PAID_SIGNAL, paid)
        return tell_expenses

    reimbursements = PayrollReimbursementActivities(provider, store, tell)

    async def hand_over_to(change: PayrollRunEvent, first_read: None) -> HandOverOutcome:
        return await payroll_start.hand_over(env.client, change, workflow_task_queue="t-workflows", queues=QUEUES)

    sweep = PayrollSweepActivities(provider, hand_over_to, lambda event: workflow_id(event.run), timedelta(0))
    accounts = Settings().bank.accounts_for(PaymentPurpose.PAYROLL)
    on_netsuite = PayrollLedgerActivities(netsuite, store, RULES, accounts)
    on_sap = PayrollLedgerActivities(sap, store, RULES, accounts)
    workers = [
        Worker(env.client, task_queue="t-workflows",
               workflows=[PayrollRunWorkflow, PayrollEntityWorkflow, PayrollSweepWorkflow],
               activities=[*books.all(), PayrollRules(RULES).load_rulebook, watermarks.sweep_watermark,
                           watermarks.set_sweep_watermark]),
        Worker(env.client, task_queue=QUEUES.provider,
               activities=[ingest.ingest_results, ingest.control_totals, ingest.previous_totals, sweep.sweep_runs,
                           payees.read_payees, payees.read_payee, reimbursements.settle_reimbursements]),
        Worker(env.client, task_queue=QUEUES.bank,
               activities=[paying.send_net_pay, paying.file_status, paying.take_rejections, paying.reconcile_statement]),
        Worker(env.client, task_queue="t-netsuite",
               activities=[on_netsuite.post_journal, on_netsuite.read_back, on_netsuite.reverse_journal,
                           on_netsuite.book_net_pay]),
        Worker(env.client, task_queue="t-sap", activities=[on_sap.post_journal, on_sap.read_back, on_sap.reverse_journal,
                                                            on_sap.book_net_pay]),
    ]

    async def start(run: PayrollRunRef) -> PayrollRun:
        handle = await env.client.start_workflow(
            PayrollRunWorkflow.run, PayrollInput(event=finalized(run), queues=QUEUES, correlation_id="test"),
            id=workflow_id(run), task_queue="t-workflows")
        return PayrollRun(env, handle, run)

    async with workers[0], workers[1], workers[2], workers[3], workers[4]:
        yield start


def settled(snapshot: PayrollSnapshot) -> bool:
    """Every entity paid and reconciled (or the run taken back)."""
    return snapshot.status in {PayrollStatus.RECONCILED, PayrollStatus.COMPLETED, PayrollStatus.REVERSED}
