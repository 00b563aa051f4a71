"""The engine's ceiling on this machine: a workflow that does nothing but run as many activities
(and local activities) as the expense workflow's fault-free path. Run as a worker process with
``python bench/noop.py`` so it competes for the machine as the finsync worker does."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.worker import Worker

TASK_QUEUE = "bench-noop"


@activity.defn(name="bench.noop")
async def noop(step: int) -> int:
    return step


@workflow.defn(name="BenchNoop")
class NoopWorkflow:
    @workflow.run
    async def run(self, counts: list[int]) -> int:
        activities, local_activities = counts
        for step in range(max(activities, local_activities)):
            if step < local_activities:
                await workflow.execute_local_activity(noop, step, start_to_close_timeout=timedelta(seconds=10))
            if step < activities:
                await workflow.execute_activity(noop, step, start_to_close_timeout=timedelta(seconds=30))
        return activities


async def main() -> None:
    sys.path.insert(0, ".")
    from finsync.config import settings
    from finsync.temporal import connect

    client = await connect(settings().temporal)
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[NoopWorkflow], activities=[noop]):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
