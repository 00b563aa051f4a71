"""One procurement poll: the platform's changes not yet exported (approved requisitions, receipts,
invoices) handed to their requisitions' workflows, each marked exported once its workflow has it
(the shared poll: workflows/common/polling.py). A Temporal Schedule runs it (schedule.py)."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.procurement_poll import ProcurementPollActivities
    from activities.sweep import SweepResult
    from workflows.common.polling import PollPlan, poll_once
    from workflows.procurement.model import PROCESS

WORKFLOW_NAME = "ProcurementPoll"


def watermark(source_system: str) -> str:
    """Where the poll of one procurement platform has read to (one watermark per source)."""
    return f"procurement-poll-{source_system}"


class PollInput(BaseModel):
    procurement_task_queue: str = "finsync-procurement"   # where the platform's activities run
    source_system: str = "coupa"


@workflow.defn(name=WORKFLOW_NAME)
class ProcurementPollWorkflow:
    @workflow.run
    async def run(self, input: PollInput) -> SweepResult:
        return await poll_once(ProcurementPollActivities.poll_changes, input.procurement_task_queue, PollPlan(
            name=f"procurement poll ({input.source_system})", watermark=watermark(input.source_system),
            process=PROCESS, summary="read the platform's changes not yet exported",
            recovered="The procurement poll started {started} requisition workflow(s): {named}",
            keys_field="requisition_ids"))
