"""Run the requisition-to-pay workflow against the scripted World on the time-skipping server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.bookkeeping import BookkeepingActivities
from activities.procurement_rules import ProcurementRules
from canonical.procurement import Invoice, ProcurementChange, ProcurementChangeKind, Receipt
from finsync.config import PaymentPurpose, Settings
from finsync.store import IntegrationStore
from tests.workflows.harness import record_history
from tests.workflows.polling import until
from tests.workflows.procurement.world import World
from workflows.common.exceptions import ResolutionAction
from workflows.common.process import RESOLVE_EXCEPTION
from workflows.procurement.model import (
    UPDATE_CANCEL,
    CancelRequest,
    ProcurementInput,
    ProcurementQueues,
    ProcurementResolution,
    ProcurementSnapshot,
    ProcurementStatus,
)
from workflows.procurement.workflow import RequisitionToPayWorkflow

RULES = Path(__file__).resolve().parents[3] / "config" / "procurement.toml"


@dataclass
class Run:
    env: WorkflowEnvironment
    handle: WorkflowHandle
    world: World
    store: IntegrationStore
    started: WorkflowHandle      # the first run's handle: its result follows every continued run

    async def result(self) -> object:
        return await self.started.result()

    async def snapshot(self) -> ProcurementSnapshot:
        return await self.handle.query(RequisitionToPayWorkflow.status)

    async def until(self, predicate: Callable[[ProcurementSnapshot], bool], timeout: float = 60.0) -> ProcurementSnapshot:
        return await until(self.snapshot, predicate, lambda s: f"last status {s.status}: {s.timeline[-3:]}", timeout)

    async def until_status(self, status: ProcurementStatus) -> ProcurementSnapshot:
        return await self.until(lambda s: s.status is status)

    async def parked_on(self, code: str) -> ProcurementSnapshot:
        return await self.until(lambda s: any(e.problem.code == code for e in s.open_exceptions))

    async def received(self, receipt: Receipt, version: str = "1", at: datetime | None = None) -> None:
        await self._change(ProcurementChangeKind.RECEIPT, receipt.receipt_id, version, at, receipt=receipt)

    async def invoiced(self, invoice: Invoice, version: str = "1") -> None:
        await self._change(ProcurementChangeKind.INVOICE, invoice.invoice_id, version, None, invoice=invoice)

    async def _change(self, kind: ProcurementChangeKind, document_id: str, version: str, at: datetime | None,
                      **documents: object) -> None:
        now: datetime = at or await self.env.get_current_time()
        await self.handle.signal(RequisitionToPayWorkflow.procurement_change, ProcurementChange(
            change_id=f"{kind.value}:{document_id}:{version}", kind=kind, source_system="coupa",
            requisition_id=self.world.requisition.requisition_id, document_id=document_id, occurred_at=now,
            **documents))  # type: ignore[arg-type]

    async def resolve(self, action: ResolutionAction, **fields: object) -> str:
        return await self.handle.execute_update(RESOLVE_EXCEPTION, ProcurementResolution(
            action=action, resolved_by=str(fields.pop("resolved_by", "ap.clerk")), **fields),  # type: ignore[arg-type]
            result_type=str)

    async def cancel(self, reason: str = "no longer needed", by: str = "maya.patel") -> str:
        return await self.handle.execute_update(UPDATE_CANCEL, CancelRequest(requested_by=by, reason=reason),
                                                result_type=str)

    def event_types(self) -> list[str]:
        return [row.type for row in self.store.events(workflow_id=self.handle.id)]


@asynccontextmanager
async def running(env: WorkflowEnvironment, world: World, tmp_path: Path,
                  settings: Settings | None = None, history_limit: int | None = None) -> AsyncIterator[Run]:
    queue = f"q-{uuid.uuid4().hex[:8]}"
    settings = settings or Settings()
    store = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    books = BookkeepingActivities(store, settings)
    rules = ProcurementRules(RULES, settings.bank.accounts_for(PaymentPurpose.SUPPLIER_PAYMENTS))
    world.client = env.client
    async with Worker(env.client, task_queue=queue, workflows=[RequisitionToPayWorkflow],
                      activities=[*world.activities(), *books.all(), rules.load_rulebook]):
        handle = await env.client.start_workflow(
            RequisitionToPayWorkflow.run,
            ProcurementInput(requisition_id=world.requisition.requisition_id, correlation_id="test-correlation",
                             task_queues=ProcurementQueues(procurement=queue, erp=queue, bank=queue),
                             history_limit=history_limit),
            id=f"procurement-coupa-{world.requisition.requisition_id}-{uuid.uuid4().hex[:6]}", task_queue=queue,
            execution_timeout=timedelta(days=365))
        # Not pinned to the first run: a run that continued as new is followed by queries and signals.
        yield Run(env, env.client.get_workflow_handle(handle.id), world, store, handle)
        await record_history(handle, "procurement")
