"""The sweep workflow on the time-skipping server: the watermark it reads and keeps, and what it
says in the feed. The platform-reading activity is scripted; the store is real."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.bookkeeping import BookkeepingActivities
from activities.sweep import SweepRequest, SweepResult, SweepWatermarks
from finsync.config import Settings
from finsync.store import IntegrationStore
from tests.workflows.harness import record_history
from workflows.sweep.workflow import WATERMARK, ExpenseSweepWorkflow, SweepInput

LAST_SWEEP = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
THIS_SWEEP = LAST_SWEEP + timedelta(minutes=5)


def scripted_platform(answer: Callable[[SweepRequest], SweepResult], seen: list[SweepRequest]):  # noqa: ANN201
    @activity.defn(name="expense.sweep_reports")
    async def sweep_reports(request: SweepRequest) -> SweepResult:
        seen.append(request)
        return answer(request)
    return sweep_reports


async def sweep(env: WorkflowEnvironment, store: IntegrationStore, answer: Callable[[SweepRequest], SweepResult],
                seen: list[SweepRequest] | None = None) -> tuple[SweepResult, str]:
    queue = f"sweep-{uuid.uuid4().hex[:8]}"
    books, watermarks = BookkeepingActivities(store, Settings()), SweepWatermarks(store)
    async with Worker(env.client, task_queue=queue, workflows=[ExpenseSweepWorkflow],
                      activities=[scripted_platform(answer, seen if seen is not None else []), books.record_events,
                                  watermarks.sweep_watermark, watermarks.set_sweep_watermark]):
        handle = await env.client.start_workflow(ExpenseSweepWorkflow.run, SweepInput(expense_task_queue=queue),
                                                 id=f"sweep-{uuid.uuid4().hex[:8]}", task_queue=queue)
        try:
            return await handle.result(), handle.id
        finally:
            await record_history(handle, "sweep")


@pytest.fixture
def store(tmp_path: Path) -> IntegrationStore:
    return IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")


async def test_the_sweep_reads_from_the_stored_watermark_and_keeps_where_it_began(time_skipping_env, store):
    store.set_sweep_watermark(WATERMARK, LAST_SWEEP)
    seen: list[SweepRequest] = []
    await sweep(time_skipping_env, store, lambda _: SweepResult(watermark=THIS_SWEEP, scanned=4, signalled=4), seen)
    assert [r.since for r in seen] == [LAST_SWEEP]
    assert store.sweep_watermark(WATERMARK) == THIS_SWEEP


async def test_a_first_sweep_reads_every_waiting_report(time_skipping_env, store):
    seen: list[SweepRequest] = []
    await sweep(time_skipping_env, store, lambda _: SweepResult(watermark=THIS_SWEEP), seen)
    assert [r.since for r in seen] == [None]
    assert store.sweep_watermark(WATERMARK) == THIS_SWEEP


async def test_a_sweep_that_started_runs_says_how_many_in_one_feed_event(time_skipping_env, store):
    result, sweep_id = await sweep(time_skipping_env, store, lambda _: SweepResult(
        watermark=THIS_SWEEP, scanned=5, started=2, signalled=2, already_closed=1, recovered=["R1", "R2"]))
    assert result.started == 2
    events = store.events(workflow_id=sweep_id)
    assert [(e.type, e.process) for e in events] == [("recovered", "expense")]
    assert "started 2 expense report" in events[0].summary and "R1, R2" in events[0].summary
    assert '"started": 2' in events[0].data


async def test_a_sweep_that_recovers_nothing_keeps_the_feed_quiet(time_skipping_env, store):
    _, sweep_id = await sweep(time_skipping_env, store, lambda _: SweepResult(
        watermark=THIS_SWEEP, scanned=3, signalled=2, already_closed=1))
    assert store.events(workflow_id=sweep_id) == []
    assert store.events() == []


async def test_a_failed_sweep_leaves_the_watermark_where_it_was(time_skipping_env, store):
    store.set_sweep_watermark(WATERMARK, LAST_SWEEP)

    def platform_down(_: SweepRequest) -> SweepResult:
        raise ApplicationError("Concur unreachable", non_retryable=True)

    with pytest.raises(WorkflowFailureError):
        await sweep(time_skipping_env, store, platform_down)
    assert store.sweep_watermark(WATERMARK) == LAST_SWEEP
    assert store.events() == []

