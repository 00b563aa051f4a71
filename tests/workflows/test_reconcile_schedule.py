"""The daily reconciliation's Temporal Schedule on the real dev server (the time-skipping server has
no schedules): made from the configuration, brought in line with it when it changes, paused when
disabled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleOverlapPolicy, ScheduleRange
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from finsync.config import BankVendorSettings, PaymentPurpose, ReconciliationSettings, Settings
from tests.conftest import _binary
from tests.deploy.helpers import finsync
from workflows.reconcile.schedule import SCHEDULE_ID, ensure_reconciliation_schedule
from workflows.reconcile.workflow import WORKFLOW_NAME, ReconcileInput


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with await WorkflowEnvironment.start_local(data_converter=pydantic_data_converter,
                                                     dev_server_existing_path=_binary("temporal"),
                                                     dev_server_log_level="error") as env:
        yield env.client


async def scheduled(client: Client) -> tuple[list[ScheduleRange], ScheduleActionStartWorkflow, ReconcileInput, bool]:
    """The schedule's hours, its action, the input it starts runs with, and whether it is paused."""
    described = await client.get_schedule_handle(SCHEDULE_ID).describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert described.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    [calendar] = described.schedule.spec.calendars
    [run_input] = await client.data_converter.decode(action.args, [ReconcileInput])
    return list(calendar.hour), action, run_input, described.schedule.state.paused


async def test_the_schedule_follows_the_configuration(client):
    settings = Settings()
    assert await ensure_reconciliation_schedule(client, settings) == "created (daily at 06:00 UTC)"
    assert await ensure_reconciliation_schedule(client, settings) == "up to date (daily at 06:00 UTC)"
    hours, action, run_input, paused = await scheduled(client)
    assert (hours, action.workflow, action.task_queue, paused) == ([ScheduleRange(6)], WORKFLOW_NAME,
                                                                  "finsync-workflows", False)
    assert run_input == ReconcileInput(entities=["DE01", "US01"], day=None, erp_task_queue="finsync-erp")
    # Described, the summary comes back as the payload it was stored as.
    assert await client.data_converter.decode([action.static_summary], [str]) == [
        "Daily reconciliation of feed, ERP and bank: DE01, US01"]

    us_accounts = BankVendorSettings().accounts_for(PaymentPurpose.REIMBURSEMENTS)["US01"]
    only_us = Settings(reconciliation=ReconciliationSettings(hour=7),
                       bank=BankVendorSettings(debtor_accounts={PaymentPurpose.PAYROLL: {"US01": us_accounts}}))
    assert await ensure_reconciliation_schedule(client, only_us) == "up to date (daily at 07:00 UTC)"
    hours, _, run_input, _ = await scheduled(client)
    assert (hours, run_input.entities) == ([ScheduleRange(7)], ["US01"])

    disabled = Settings(reconciliation=ReconciliationSettings(enabled=False))
    assert await ensure_reconciliation_schedule(client, disabled) == "paused (disabled)"
    assert (await scheduled(client))[3] is True
    await client.get_schedule_handle(SCHEDULE_ID).delete()
    assert await ensure_reconciliation_schedule(client, disabled) == "not created (disabled)"


async def test_finsync_setup_creates_it_and_says_so(client, tmp_path):
    address = client.service_client.config.target_host
    environment = {"FINSYNC_TEMPORAL__ADDRESS": address, "FINSYNC_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}",
                   "FINSYNC_RECONCILIATION__HOUR": "5"}
    result = await asyncio.to_thread(finsync, tmp_path, "setup", **environment)
    assert result.returncode == 0, result.stderr
    assert f"reconciliation schedule {SCHEDULE_ID}: created (daily at 05:00 UTC)" in result.stdout.splitlines()
    assert (await scheduled(client))[0] == [ScheduleRange(5)]
