"""The payroll sweep's Temporal Schedule on the real dev server (the time-skipping server has no
schedules): every [payroll_provider] sweep_interval_seconds, one sweep at a time, paused when disabled."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleOverlapPolicy

from finsync.config import PayrollVendorSettings, Settings
from workflows.payroll.schedule import SCHEDULE_ID, ensure_sweep_schedule
from workflows.payroll.sweep import WORKFLOW_NAME, SweepInput


async def test_the_sweep_schedule_follows_the_configuration(dev_server_client: Client) -> None:
    client = dev_server_client
    assert await ensure_sweep_schedule(client, Settings()) == "created (every 300 s)"
    described = await client.get_schedule_handle(SCHEDULE_ID).describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == WORKFLOW_NAME
    assert described.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    [given] = await client.data_converter.decode(action.args, [SweepInput])
    assert given == SweepInput(provider_task_queue="finsync-payroll", provider="workday")

    faster = Settings(payroll_provider=PayrollVendorSettings(sweep_interval_seconds=60))
    assert await ensure_sweep_schedule(client, faster) == "up to date (every 60 s)"
    described = await client.get_schedule_handle(SCHEDULE_ID).describe()
    assert [interval.every for interval in described.schedule.spec.intervals] == [timedelta(seconds=60)]

    off = Settings(payroll_provider=PayrollVendorSettings(sweep_enabled=False))
    assert await ensure_sweep_schedule(client, off) == "paused (disabled)"
    state = (await client.get_schedule_handle(SCHEDULE_ID).describe()).schedule.state
    assert state.paused and state.note == "[payroll_provider] sweep_enabled = false in finsync's configuration"
