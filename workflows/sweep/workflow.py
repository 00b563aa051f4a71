"""One expense sweep: the platform's waiting reports no webhook brought, handed to their
workflows the way the gateway does (the shared poll: workflows/common/polling.py)."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.sweep import SweepActivities, SweepResult
    from workflows.common.polling import PollPlan, poll_once
    from workflows.expense.model import PROCESS

WORKFLOW_NAME = "ExpenseSweep"
WATERMARK = "expense-sweep"
PLAN = PollPlan(name="expense sweep", watermark=WATERMARK, process=PROCESS,
                summary="read the platform's waiting reports",
                recovered="The sweep started {started} expense report workflow(s) no webhook had started: {named}",
                keys_field="report_ids")


class SweepInput(BaseModel):
    expense_task_queue: str = "finsync-expense"   # where the platform's activities run


@workflow.defn(name=WORKFLOW_NAME)
class ExpenseSweepWorkflow:
    @workflow.run
    async def run(self, input: SweepInput) -> SweepResult:
        return await poll_once(SweepActivities.sweep_reports, input.expense_task_queue, PLAN)
