"""The procurement poll's Temporal Schedule on the real dev server (the time-skipping server has no
schedules): every [procurement] poll_interval_seconds, one poll at a time, brought in line with the
configuration when called again, paused when disabled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleOverlapPolicy

from finsync.config import ProcurementVendorSettings, Settings
from workflows.procurement.poll import WORKFLOW_NAME, PollInput
from workflows.procurement.schedule import SCHEDULE_ID, ensure_poll_schedule


@pytest.fixture
def client(dev_server_client: Client) -> Client:
    return dev_server_client


async def test_the_poll_schedule_follows_the_configuration(client: Client) -> None:
    assert await ensure_poll_schedule(client, Settings()) == "created (every 60 s)"
    described = await client.get_schedule_handle(SCHEDULE_ID).describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == WORKFLOW_NAME
    assert described.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    assert [interval.every for interval in described.schedule.spec.intervals] == [timedelta(seconds=60)]
    [given] = await client.data_converter.decode(action.args, [PollInput])
    assert given == PollInput(procurement_task_queue="finsync-procurement", source_system="coupa")

    faster = Settings(procurement=ProcurementVendorSettings(poll_interval_seconds=15, task_queue="procure-eu"))
    assert await ensure_poll_schedule(client, faster) == "up to date (every 15 s)"
    described = await client.get_schedule_handle(SCHEDULE_ID).describe()
    assert [interval.every for interval in described.schedule.spec.intervals] == [timedelta(seconds=15)]

    off = Settings(procurement=ProcurementVendorSettings(poll_enabled=False))
    assert await ensure_poll_schedule(client, off) == "paused (disabled)"
    state = (await client.get_schedule_handle(SCHEDULE_ID).describe()).schedule.state
    assert state.paused and state.note == "[procurement] poll_enabled = false in finsync's configuration"
