"""The Temporal Schedule that runs the payroll sweep, made to match the configuration.

``finsync setup`` and ``finsync dev`` call ``ensure_sweep_schedule``; calling it again changes
nothing but what the configuration changed.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow

from finsync.config import Settings
from workflows.common.schedules import ensure_schedule, poll_every
from workflows.payroll.sweep import PayrollSweepWorkflow, SweepInput

SCHEDULE_ID = "finsync-payroll-sweep"


def sweep_schedule(settings: Settings) -> Schedule:
    provider = settings.payroll_provider
    return poll_every(ScheduleActionStartWorkflow(
        PayrollSweepWorkflow.run, SweepInput(provider_task_queue=provider.task_queue, provider=provider.kind),
        id=SCHEDULE_ID, task_queue=settings.temporal.workflow_task_queue,
        static_summary=f"Sweep {provider.kind}: pay runs no event brought"),
        timedelta(seconds=provider.sweep_interval_seconds), "payroll_provider")


async def ensure_sweep_schedule(client: Client, settings: Settings) -> str:
    """Create the schedule, or bring it in line with ``settings``; with ``[payroll_provider]
    sweep_enabled = false``, pause it if it exists. Returns what was done, for one line."""
    provider = settings.payroll_provider
    return await ensure_schedule(client, SCHEDULE_ID, sweep_schedule(settings), enabled=provider.sweep_enabled,
                                 section="payroll_provider", when=f"every {provider.sweep_interval_seconds} s",
                                 switch="sweep_enabled")
