"""One payroll sweep: the pay runs changed since the last one handed to their workflows, so a
lost "finalized", "reopened" or "cancelled" event is caught (the shared poll:
workflows/common/polling.py). A Temporal Schedule runs it (schedule.py)."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.payroll_sweep import PayrollSweepActivities
    from activities.sweep import SweepResult
    from workflows.common.polling import PollPlan, poll_once
    from workflows.payroll.model import PROCESS

WORKFLOW_NAME = "PayrollSweep"


def watermark(provider: str) -> str:
    return f"payroll-sweep-{provider}"


class SweepInput(BaseModel):
    provider_task_queue: str = "finsync-payroll"
    provider: str = "workday"


@workflow.defn(name=WORKFLOW_NAME)
class PayrollSweepWorkflow:
    @workflow.run
    async def run(self, input: SweepInput) -> SweepResult:
        return await poll_once(PayrollSweepActivities.sweep_runs, input.provider_task_queue, PollPlan(
            name=f"payroll sweep ({input.provider})", watermark=watermark(input.provider), process=PROCESS,
            summary="read the pay runs changed since the last sweep",
            recovered="The payroll sweep started {started} payroll run workflow(s) no event had started: {named}",
            keys_field="runs"))
