"""The sweep on the whole stack: reports whose webhooks never reached the gateway still get their
workflow and are paid; a report both paths saw has one run; a sweep with nothing new is quiet.

The schedule is made as ``finsync setup`` makes it, then paused so that only the tests' own
triggers run a sweep: no test waits on the clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import ScheduleActionExecutionStartWorkflow, ScheduleHandle, ScheduleOverlapPolicy

from activities.sweep import SweepResult
from connectors import registry
from finsync.config import SweepSettings
from finsync.store import FinanceEventRow
from tests.stack.conftest import Stack
from tests.stack.helpers import approve_when_queued, outcome, submit
from tests.stack.test_gateway import signed, status_changed, workflow_exists
from tests.support.servers import free_port
from workflows.expense.model import BusinessStatus, workflow_id
from workflows.sweep.schedule import SCHEDULE_ID, ensure_sweep_schedule
from workflows.sweep.workflow import WATERMARK, ExpenseSweepWorkflow

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
async def schedule(stack: Stack) -> AsyncIterator[ScheduleHandle]:
    """Made as `finsync setup` makes it, twice (the second finds it in place)."""
    outcomes = [await ensure_sweep_schedule(stack.client, stack.settings) for _ in range(2)]
    assert outcomes == ["created (every 300 s)", "up to date (every 300 s)"]
    handle = stack.client.get_schedule_handle(SCHEDULE_ID)
    await handle.pause(note="tests trigger each sweep themselves")
    yield handle
    await handle.delete()


async def sweep(stack: Stack, schedule: ScheduleHandle, timeout: float = 60) -> tuple[SweepResult, list[FinanceEventRow]]:
    """Trigger the schedule once; that sweep's result and what it wrote to the feed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (info := (await schedule.describe()).info).running_actions:   # SKIP would drop our trigger
        assert asyncio.get_running_loop().time() < deadline, "a sweep is still running"
        await asyncio.sleep(0.1)
    before = info.num_actions
    await schedule.trigger()
    while (info := (await schedule.describe()).info).num_actions <= before:
        assert asyncio.get_running_loop().time() < deadline, "the triggered sweep never started"
        await asyncio.sleep(0.1)
    started = info.recent_actions[-1].action
    assert isinstance(started, ScheduleActionExecutionStartWorkflow)
    handle = stack.client.get_workflow_handle_for(ExpenseSweepWorkflow.run, started.workflow_id,
                                                  run_id=started.first_execution_run_id)
    result = await asyncio.wait_for(handle.result(), timeout)
    # Sweeps triggered within one second share a workflow id: tell them apart by run.
    run = f"{started.workflow_id}/{started.first_execution_run_id}/"
    return result, [e for e in stack.store.events(workflow_id=started.workflow_id) if e.event_id.startswith(run)]


@asynccontextmanager
async def webhooks_lost(stack: Stack) -> AsyncIterator[None]:
    """Concur's report webhooks go to an address nobody listens on (the gateway is down for
    good, as far as Concur can tell), then to the gateway again."""
    concur = registry.build(stack.settings.expense)
    try:
        await concur.subscribe_webhook(f"http://127.0.0.1:{free_port()}/webhooks/expense")
        yield
    finally:
        await concur.subscribe_webhook(stack.gateway_url + "/webhooks/expense")
        await concur.aclose()


async def until_workflow_exists(stack: Stack, report_id: str, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await workflow_exists(stack, report_id):
        assert asyncio.get_running_loop().time() < deadline, f"no workflow for {report_id}"
        await asyncio.sleep(0.1)


async def history_of(stack: Stack, report_id: str) -> tuple[int, list[bytes]]:
    """How many runs the report's workflow id started, and the payloads of its signals."""
    history = await stack.client.get_workflow_handle(workflow_id("concur", report_id)).fetch_history()
    starts = sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED for e in history.events)
    signals = [e.workflow_execution_signaled_event_attributes.input.payloads[0].data for e in history.events
               if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    return starts, signals


async def test_the_schedule_sweeps_every_five_minutes_one_at_a_time_and_pauses_when_disabled(
        stack: Stack, schedule: ScheduleHandle):
    description = await schedule.describe()
    assert [i.every.total_seconds() for i in description.schedule.spec.intervals] == [300]
    assert description.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    disabled = stack.settings.model_copy(update={"sweep": SweepSettings(enabled=False)})
    assert await ensure_sweep_schedule(stack.client, disabled) == "paused (disabled)"
    assert (await schedule.describe()).schedule.state.paused


async def test_a_report_whose_webhooks_never_arrive_is_started_by_a_sweep_and_paid(stack: Stack, schedule: ScheduleHandle):
    async with webhooks_lost(stack):
        report_id = await submit(stack, "E1001", "112.00")
        assert not await workflow_exists(stack, report_id)

        recovered, feed = await sweep(stack, schedule)
        assert report_id in recovered.recovered and recovered.started >= 1
        assert await workflow_exists(stack, report_id)
        assert [e.type for e in feed] == ["recovered"] and report_id in feed[0].summary

        # The approval's webhook is lost too: the next sweep brings it to the running workflow.
        await approve_when_queued(stack, "E1001", report_id)
        approved, _ = await sweep(stack, schedule)
        assert approved.signalled >= 1 and report_id not in approved.recovered
        result = await outcome(stack, report_id)
    assert result.status is BusinessStatus.PAID
    starts, _ = await history_of(stack, report_id)
    assert starts == 1


async def test_a_report_the_webhook_brought_gets_the_sweep_s_word_as_a_signal_not_a_second_run(
        stack: Stack, schedule: ScheduleHandle):
    report_id = await submit(stack, "E1002", "48.00")
    await until_workflow_exists(stack, report_id)   # started by the webhook
    result, feed = await sweep(stack, schedule)
    assert report_id not in result.recovered and result.signalled >= 1
    starts, signals = await history_of(stack, report_id)
    assert starts == 1
    assert any(b"concur-list:" + report_id.encode() in s for s in signals)   # the sweep's signal reached that run
    assert all(report_id not in e.summary for e in feed)


async def test_a_report_the_sweep_started_gets_its_late_webhook_as_a_signal_not_a_second_run(
        stack: Stack, schedule: ScheduleHandle):
    async with webhooks_lost(stack):
        report_id = await submit(stack, "E2001", "64.00", "EUR")
        result, _ = await sweep(stack, schedule)
    assert report_id in result.recovered
    body = status_changed(report_id, "A_EXTV", "A_NOTF")   # the submission's webhook, arriving late
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{stack.gateway_url}/webhooks/expense", content=body, headers=signed(stack, body))
    assert response.status_code == 202 and response.json()["routed"][0]["outcome"] == "delivered"
    starts, signals = await history_of(stack, report_id)
    assert starts == 1 and len(signals) >= 2   # the sweep's start signal, then the gateway's


async def test_the_watermark_advances_and_a_sweep_with_nothing_new_recovers_nothing(stack: Stack, schedule: ScheduleHandle):
    await sweep(stack, schedule)
    first = stack.store.sweep_watermark(WATERMARK)
    result, feed = await sweep(stack, schedule)
    second = stack.store.sweep_watermark(WATERMARK)
    assert first is not None and second is not None and second > first
    assert result.started == 0 and result.recovered == []
    assert feed == []   # nothing recovered: nothing in the feed
