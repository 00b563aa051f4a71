"""Run the expense workflow against the scripted World on the time-skipping server."""

from __future__ import annotations

import os
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
from activities.payroll_reimbursement import PayrollReimbursementActivities
from canonical import ApprovalStatus, ReportStatusChanged
from canonical.payroll_reimbursement import ReimbursementPaid
from connectors.interfaces import PayrollProvider
from finsync.config import Settings
from finsync.store import IntegrationStore
from tests.workflows.polling import until
from tests.workflows.world import OWNER_REF, World
from workflows.common.exceptions import ResolutionAction
from workflows.common.process import RESOLVE_EXCEPTION
from workflows.expense.model import BusinessStatus, ExpenseInput, ExpenseResolution, ExpenseSnapshot, TaskQueues
from workflows.expense.workflow import ExpenseReimbursementWorkflow


@dataclass
class Run:
    env: WorkflowEnvironment
    handle: WorkflowHandle
    world: World
    store: IntegrationStore

    async def snapshot(self) -> ExpenseSnapshot:
        return await self.handle.query(ExpenseReimbursementWorkflow.status)

    async def until(self, predicate: Callable[[ExpenseSnapshot], bool], timeout: float = 60.0) -> ExpenseSnapshot:
        return await until(self.snapshot, predicate, lambda s: f"last status {s.status}: {s.timeline[-3:]}", timeout)

    async def until_status(self, status: BusinessStatus) -> ExpenseSnapshot:
        return await self.until(lambda s: s.status is status)

    async def platform_says(self, status: ApprovalStatus, behind: timedelta = timedelta(0), *,
                            previous: ApprovalStatus | None = None, at: datetime | None = None) -> None:
        """The platform's event, stamped by the platform's clock (``behind`` the server's, or ``at``)."""
        now = at or (await self.env.get_current_time() - behind)
        await self.handle.signal(ExpenseReimbursementWorkflow.report_status_changed, ReportStatusChanged(
            event_id=f"evt-{uuid.uuid4().hex}", source_system="concur", report_id=self.world.report.report_id,
            approval_status=status, previous_approval_status=previous, occurred_at=now,
            correlation_id="test-correlation"))

    async def resolve(self, action: ResolutionAction, **fields: object) -> str:
        return await self.handle.execute_update(RESOLVE_EXCEPTION, ExpenseResolution(
            action=action, resolved_by=str(fields.pop("resolved_by", "ap.clerk")), **fields),  # type: ignore[arg-type]
            result_type=str)

    async def parked_on(self, code: str) -> ExpenseSnapshot:
        return await self.until(lambda s: s.open_exception is not None and s.open_exception.problem.code == code)

    def event_types(self) -> list[str]:
        return [row.type for row in self.store.events(workflow_id=self.handle.id)]


@asynccontextmanager
async def running(env: WorkflowEnvironment, world: World, tmp_path: Path, *, handed_over: bool = False,
                  settings: Settings | None = None, payroll: PayrollProvider | None = None) -> AsyncIterator[Run]:
    """``handed_over``: start as the gateway does, with the report it read and the owner's id.
    ``payroll``: the payroll system an entity that reimburses through payroll hands over to."""
    queue = f"q-{uuid.uuid4().hex[:8]}"
    store = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    books = BookkeepingActivities(store, settings or Settings())
    world.client = env.client
    handoff: list[Callable] = []
    if payroll is not None:
        acts = PayrollReimbursementActivities(payroll, store, _nobody)
        handoff = [acts.hand_to_payroll, acts.reimbursement_paid]
    async with Worker(env.client, task_queue=queue, workflows=[ExpenseReimbursementWorkflow],
                      activities=[*world.activities(), *books.all(), *handoff]):
        handle = await env.client.start_workflow(
            ExpenseReimbursementWorkflow.run,
            ExpenseInput(report_id=world.report.report_id, correlation_id="test-correlation",
                         task_queues=TaskQueues(expense=queue, erp=queue, bank=queue, payroll=queue),
                         owner_ref=OWNER_REF if handed_over else None, report=world.report if handed_over else None),
            id=f"expense-concur-{world.report.report_id}-{uuid.uuid4().hex[:6]}", task_queue=queue,
            execution_timeout=timedelta(days=365))
        run = Run(env, handle, world, store)
        yield run
        await record_history(handle, "expense")


async def _nobody(expense_workflow_id: str, paid: ReimbursementPaid) -> bool:
    raise AssertionError("the expense side never settles reimbursements")


HISTORY_DIR = Path(__file__).resolve().parent.parent / "histories" / "current"


async def record_history(handle: WorkflowHandle, process: str) -> None:
    """With FINSYNC_RECORD_HISTORIES=1, keep this run's history for the replay test.

    Only finished runs are recorded; the file is named after the test that produced it, and the
    workflow id is kept beside it (``.workflow-id``): a workflow may compare what it is told with
    keys made from its own id, so it must replay under that id.
    """
    if os.environ.get("FINSYNC_RECORD_HISTORIES") != "1":
        return
    description = await handle.describe()
    if description.status is None or description.status.name == "RUNNING":
        return
    test_name = os.environ.get("PYTEST_CURRENT_TEST", "run").split("::")[-1].split(" ")[0]
    HISTORY_DIR.mkdir(parents=True, exist_ok=True)
    history = await handle.fetch_history()
    path = HISTORY_DIR / f"{process}-{test_name.removeprefix('test_')}.json"
    path.write_text(history.to_json())
    path.with_suffix(".workflow-id").write_text(handle.id + "\n")
