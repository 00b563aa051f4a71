"""The payment run's Temporal Schedule on the real dev server (the time-skipping server has no
schedules): made from the configuration, brought in line with it when it changes, paused when
disabled; a run it starts is keyed by its slot."""

from __future__ import annotations

import asyncio
from datetime import UTC
from pathlib import Path

import pytest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    ScheduleRange,
)
from temporalio.worker import Worker

from activities.payment_runs import PaymentRunActivities
from connectors.bank import BankClient
from finsync.config import BankVendorSettings, PaymentsSettings, Settings
from finsync.store import IntegrationStore
from tests.deploy.helpers import finsync
from tests.workflows.polling import until
from worker import payment_owners
from workflows.payments.model import WORKFLOW_NAME, RunInput, RunOutcome
from workflows.payments.run import PaymentRunWorkflow
from workflows.payments.schedule import SCHEDULE_ID, ensure_payment_run_schedule


@pytest.fixture
def client(dev_server_client: Client) -> Client:
    return dev_server_client


async def scheduled(client: Client) -> tuple[list[ScheduleRange], ScheduleActionStartWorkflow, RunInput, bool]:
    """The schedule's hours, its action, the input it starts runs with, and whether it is paused."""
    described = await client.get_schedule_handle(SCHEDULE_ID).describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert described.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    [calendar] = described.schedule.spec.calendars
    [run_input] = await client.data_converter.decode(action.args, [RunInput])
    return list(calendar.hour), action, run_input, described.schedule.state.paused


async def test_the_schedule_follows_the_configuration(client: Client) -> None:
    settings = Settings()
    assert await ensure_payment_run_schedule(client, settings) == "created (daily at 10:00, 15:00 UTC)"
    assert await ensure_payment_run_schedule(client, settings) == "up to date (daily at 10:00, 15:00 UTC)"
    hours, action, run_input, paused = await scheduled(client)
    assert (hours, action.workflow, action.task_queue, paused) == ([ScheduleRange(10), ScheduleRange(15)], WORKFLOW_NAME,
                                                                  "finsync-workflows", False)
    assert run_input == RunInput(bank_task_queue="finsync-bank", as_of=None)

    earlier = Settings(payments=PaymentsSettings(run_hours=[14, 7, 14]))
    assert await ensure_payment_run_schedule(client, earlier) == "up to date (daily at 07:00, 14:00 UTC)"
    assert (await scheduled(client))[0] == [ScheduleRange(7), ScheduleRange(14)]

    disabled = Settings(payments=PaymentsSettings(enabled=False))
    assert await ensure_payment_run_schedule(client, disabled) == "paused (disabled)"
    assert (await scheduled(client))[3] is True
    await client.get_schedule_handle(SCHEDULE_ID).delete()
    assert await ensure_payment_run_schedule(client, disabled) == "not created (disabled)"


async def test_a_run_the_schedule_starts_is_keyed_by_its_slot(client: Client, tmp_path: Path) -> None:
    settings = Settings()
    store = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    bank = BankClient.from_settings(BankVendorSettings(base_url="http://127.0.0.1:9", timeout_seconds=1))  # never called
    runs = PaymentRunActivities(bank, store, payment_owners(client))
    await ensure_payment_run_schedule(client, settings)
    schedule = client.get_schedule_handle(SCHEDULE_ID)
    try:
        async with Worker(client, task_queue=settings.temporal.workflow_task_queue, workflows=[PaymentRunWorkflow],
                          activities=[runs.collect_due]):
            await schedule.trigger()
            described = await until(schedule.describe, lambda d: bool(d.info.recent_actions), lambda d: f"{d.info}")
            [action] = described.info.recent_actions
            assert isinstance(action.action, ScheduleActionExecutionStartWorkflow)
            workflow_id = action.action.workflow_id
            outcome = await client.get_workflow_handle(workflow_id, result_type=RunOutcome).result()
    finally:
        await bank.aclose()
    slot = action.scheduled_at.astimezone(UTC).replace(microsecond=0)
    assert workflow_id == f"{SCHEDULE_ID}-{slot:%Y-%m-%dT%H:%M:%S}Z"
    assert outcome == RunOutcome(run_key=f"payment-run-{slot:%Y-%m-%dT%H:%M:%S}Z", as_of=slot.date())


async def test_finsync_setup_creates_it_and_says_so(client: Client, tmp_path: Path) -> None:
    address = client.service_client.config.target_host
    environment = {"FINSYNC_TEMPORAL__ADDRESS": address, "FINSYNC_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}",
                   "FINSYNC_PAYMENTS__RUN_HOURS": "[9, 14]"}
    result = await asyncio.to_thread(finsync, tmp_path, "setup", **environment)
    assert result.returncode == 0, result.stderr
    assert f"payment run schedule {SCHEDULE_ID}: created (daily at 09:00, 14:00 UTC)" in result.stdout.splitlines()
    assert (await scheduled(client))[0] == [ScheduleRange(9), ScheduleRange(14)]
