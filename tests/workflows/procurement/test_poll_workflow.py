"""The procurement poll workflow on the time-skipping server: its own watermark per source, and a
``recovered`` event in the procurement feed only when it started runs. The platform-reading
activity is scripted; the store is real. (The mechanism is the sweep's: test_sweep_workflow.py.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.bookkeeping import BookkeepingActivities
from activities.sweep import SweepRequest, SweepResult, SweepWatermarks
from finsync.config import Settings
from finsync.store import IntegrationStore
from workflows.procurement.poll import PollInput, ProcurementPollWorkflow, watermark
from workflows.sweep.workflow import WATERMARK as EXPENSE_WATERMARK

LAST_POLL = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
THIS_POLL = LAST_POLL + timedelta(minutes=1)


async def poll(env: WorkflowEnvironment, store: IntegrationStore, answer: SweepResult) -> tuple[list[SweepRequest], str]:
    seen: list[SweepRequest] = []

    @activity.defn(name="procurement.poll_changes")
    async def poll_changes(request: SweepRequest) -> SweepResult:
        seen.append(request)
        return answer

    queue = f"poll-{uuid.uuid4().hex[:8]}"
    books, watermarks = BookkeepingActivities(store, Settings()), SweepWatermarks(store)
    async with Worker(env.client, task_queue=queue, workflows=[ProcurementPollWorkflow],
                      activities=[poll_changes, books.record_events, watermarks.sweep_watermark,
                                  watermarks.set_sweep_watermark]):
        handle = await env.client.start_workflow(ProcurementPollWorkflow.run, PollInput(procurement_task_queue=queue),
                                                 id=f"poll-{uuid.uuid4().hex[:8]}", task_queue=queue)
        await handle.result()
    return seen, handle.id


async def test_the_poll_keeps_its_own_watermark_and_says_when_it_started_runs(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    store = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    store.set_sweep_watermark(watermark("coupa"), LAST_POLL)
    store.set_sweep_watermark(EXPENSE_WATERMARK, LAST_POLL - timedelta(days=1))

    seen, quiet = await poll(time_skipping_env, store, SweepResult(watermark=THIS_POLL, scanned=3, signalled=3))
    assert [r.since for r in seen] == [LAST_POLL]
    assert store.sweep_watermark(watermark("coupa")) == THIS_POLL
    assert store.sweep_watermark(EXPENSE_WATERMARK) == LAST_POLL - timedelta(days=1)   # the sweep's is its own
    assert store.events(workflow_id=quiet) == []

    _, busy = await poll(time_skipping_env, store, SweepResult(watermark=THIS_POLL, scanned=2, started=1,
                                                               recovered=["12"]))
    (event,) = store.events(workflow_id=busy)
    assert (event.type, event.process) == ("recovered", "procurement")
    assert event.summary == "The procurement poll started 1 requisition workflow(s): 12"
    assert '"requisition_ids": ["12"]' in event.data
