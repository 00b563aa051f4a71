"""finsync's Temporal Schedules on the real dev server (the time-skipping server has no schedules)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleOverlapPolicy, ScheduleRange
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.conftest import _binary

Input = TypeVar("Input")


@asynccontextmanager
async def dev_server() -> AsyncIterator[Client]:
    async with await WorkflowEnvironment.start_local(data_converter=pydantic_data_converter,
                                                     dev_server_existing_path=_binary("temporal"),
                                                     dev_server_log_level="error") as env:
        yield env.client


async def scheduled(client: Client, schedule_id: str,
                    input_type: type[Input]) -> tuple[list[ScheduleRange], ScheduleActionStartWorkflow, Input, bool]:
    """The schedule's hours, its action, the input it starts runs with, and whether it is paused;
    it runs one at a time (overlap SKIP)."""
    described = await client.get_schedule_handle(schedule_id).describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert described.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    [calendar] = described.schedule.spec.calendars
    [run_input] = await client.data_converter.decode(action.args, [input_type])
    return list(calendar.hour), action, run_input, described.schedule.state.paused
