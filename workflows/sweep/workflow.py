"""One sweep: read the watermark, hand the platform's waiting reports on, advance the watermark.

The activity pages through the platform and returns counts only, so a long list never enters
this history. The watermark moves only once a sweep has completed: a sweep that fails is
repeated whole by the next one. A sweep that started runs (recovered reports) says so in the
feed; every sweep says what it did in one log line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.bookkeeping import BookkeepingActivities, EventBatch
    from activities.sweep import NewWatermark, SweepActivities, SweepRequest, SweepResult, SweepWatermarks, Watermark
    from canonical import FinanceEvent, FinanceEventType
    from canonical.problems import BUSINESS_RULE_VIOLATION
    from workflows.common.retry import LOCAL_RETRY, LOCAL_TIMEOUT
    from workflows.expense.model import PROCESS

WORKFLOW_NAME = "ExpenseSweep"
WATERMARK = "expense-sweep"

# A first sweep may read every waiting report there is; the heartbeat tells a stuck one.
SWEEP_TIMEOUT = timedelta(minutes=30)
SWEEP_HEARTBEAT = timedelta(minutes=1)
# A platform that stays down fails the run after a few minutes; the next one starts afresh.
SWEEP_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1),
                          maximum_attempts=5, non_retryable_error_types=[BUSINESS_RULE_VIOLATION])


class SweepInput(BaseModel):
    expense_task_queue: str = "finsync-expense"   # where the platform's activities run


@workflow.defn(name=WORKFLOW_NAME)
class ExpenseSweepWorkflow:
    @workflow.run
    async def run(self, input: SweepInput) -> SweepResult:
        stored: Watermark = await self._local(SweepWatermarks.sweep_watermark, WATERMARK)
        result: SweepResult = await workflow.execute_activity_method(
            SweepActivities.sweep_reports, SweepRequest(since=stored.at), task_queue=input.expense_task_queue,
            start_to_close_timeout=SWEEP_TIMEOUT, heartbeat_timeout=SWEEP_HEARTBEAT, retry_policy=SWEEP_RETRY,
            summary="read the platform's waiting reports")
        await self._local(SweepWatermarks.set_sweep_watermark, NewWatermark(name=WATERMARK, at=result.watermark))
        if result.started:
            await self._local(BookkeepingActivities.record_events, EventBatch(events=[self._recovered(result)]))
        workflow.logger.info(
            "expense sweep: %d scanned, %d recovered (started), %d signalled, %d already closed; changes since %s",
            result.scanned, result.started, result.signalled, result.already_closed,
            stored.at.isoformat() if stored.at else "ever (first sweep)")
        return result

    @staticmethod
    def _recovered(result: SweepResult) -> FinanceEvent:
        info = workflow.info()
        named = ", ".join(result.recovered) + (" and more" if result.started > len(result.recovered) else "")
        return FinanceEvent(
            event_id=f"{info.workflow_id}/{info.run_id}/recovered", type=FinanceEventType.RECOVERED,
            occurred_at=workflow.now(), process=PROCESS, business_key=WATERMARK, workflow_id=info.workflow_id,
            correlation_id=info.workflow_id,
            summary=f"The sweep started {result.started} expense report workflow(s) no webhook had started: {named}",
            data={"started": result.started, "scanned": result.scanned, "signalled": result.signalled,
                  "already_closed": result.already_closed, "report_ids": result.recovered})

    @staticmethod
    async def _local(activity: Callable[..., Awaitable[Any]], arg: Any) -> Any:
        return await workflow.execute_local_activity_method(activity, arg, start_to_close_timeout=LOCAL_TIMEOUT,
                                                     retry_policy=LOCAL_RETRY)
