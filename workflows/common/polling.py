"""One poll, for every process that polls a platform: read the watermark, run the process's poll
activity (activities/sweep.py), keep where it began as the next watermark, and say what it did.

The activity pages through the platform and returns counts only, so a long list never enters a
history. The watermark moves only once a poll has completed: a poll that fails is repeated whole
by the next one. A poll that started runs says so in the feed (a ``recovered`` event); every
poll says what it did in one log line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.bookkeeping import BookkeepingActivities, EventBatch
    from activities.sweep import NewWatermark, SweepRequest, SweepResult, SweepWatermarks, Watermark
    from canonical import FinanceEvent, FinanceEventType
    from canonical.problems import BUSINESS_RULE_VIOLATION
    from workflows.common.retry import LOCAL_RETRY, LOCAL_TIMEOUT

# A first poll may read every change there is; the heartbeat tells a stuck one.
POLL_TIMEOUT = timedelta(minutes=30)
POLL_HEARTBEAT = timedelta(minutes=1)
# A platform that stays down fails the run after a few minutes; the next one starts afresh.
POLL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1),
                         maximum_attempts=5, non_retryable_error_types=[BUSINESS_RULE_VIOLATION])


@dataclass(frozen=True)
class PollPlan:
    """What is particular to one process's poll."""

    name: str             # how the log line starts: "expense sweep"
    watermark: str        # where it has read to, by this name in the store
    process: str          # the process whose runs it starts (the feed event's)
    summary: str          # the activity's summary in the Web UI
    recovered: str        # the feed event's summary: {started} and {named} filled in
    keys_field: str       # what the feed event's data calls the business keys it names


async def poll_once(activity: Callable[..., Awaitable[SweepResult]], task_queue: str, plan: PollPlan) -> SweepResult:
    stored: Watermark = await _local(SweepWatermarks.sweep_watermark, plan.watermark)
    result: SweepResult = await workflow.execute_activity_method(
        activity, SweepRequest(since=stored.at), task_queue=task_queue, start_to_close_timeout=POLL_TIMEOUT,
        heartbeat_timeout=POLL_HEARTBEAT, retry_policy=POLL_RETRY, summary=plan.summary)
    await _local(SweepWatermarks.set_sweep_watermark, NewWatermark(name=plan.watermark, at=result.watermark))
    if result.started:
        await _local(BookkeepingActivities.record_events, EventBatch(events=[_recovered(result, plan)]))
    workflow.logger.info(
        "%s: %d scanned, %d recovered (started), %d signalled, %d already closed; changes since %s",
        plan.name, result.scanned, result.started, result.signalled, result.already_closed,
        stored.at.isoformat() if stored.at else "ever (first sweep)")
    return result


def _recovered(result: SweepResult, plan: PollPlan) -> FinanceEvent:
    info = workflow.info()
    named = ", ".join(result.recovered) + (" and more" if result.started > len(result.recovered) else "")
    return FinanceEvent(
        event_id=f"{info.workflow_id}/{info.run_id}/recovered", type=FinanceEventType.RECOVERED,
        occurred_at=workflow.now(), process=plan.process, business_key=plan.watermark, workflow_id=info.workflow_id,
        correlation_id=info.workflow_id, summary=plan.recovered.format(started=result.started, named=named),
        data={"started": result.started, "scanned": result.scanned, "signalled": result.signalled,
              "already_closed": result.already_closed, plan.keys_field: result.recovered})


async def _local(activity: Callable[..., Awaitable[Any]], arg: Any) -> Any:
    return await workflow.execute_local_activity_method(activity, arg, start_to_close_timeout=LOCAL_TIMEOUT,
                                                        retry_policy=LOCAL_RETRY)
