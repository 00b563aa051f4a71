"""The Temporal Schedule that runs the sweep, made to match the configuration.

``finsync setup`` (a real cluster) and ``finsync dev`` (before it reports ready) call
``ensure_sweep_schedule``; calling it again changes nothing but what the configuration changed.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow

from finsync.config import Settings
from workflows.common.schedules import ensure_schedule, poll_every
from workflows.sweep.workflow import ExpenseSweepWorkflow, SweepInput

SCHEDULE_ID = "finsync-expense-sweep"   # also the sweep runs' workflow id, which the server suffixes with the time


def sweep_schedule(settings: Settings) -> Schedule:
    every = timedelta(seconds=settings.sweep.interval_seconds)
    return poll_every(ScheduleActionStartWorkflow(
        ExpenseSweepWorkflow.run, SweepInput(expense_task_queue=settings.expense.task_queue),
        id=SCHEDULE_ID, task_queue=settings.temporal.workflow_task_queue,
        static_summary="Sweep: start the expense reports no webhook brought"), every, "sweep")


async def ensure_sweep_schedule(client: Client, settings: Settings) -> str:
    """Create the schedule, or bring the existing one in line with ``settings``; with
    ``[sweep] enabled = false``, pause it if it exists. Returns what was done, for one line."""
    return await ensure_schedule(client, SCHEDULE_ID, sweep_schedule(settings), enabled=settings.sweep.enabled,
                                 section="sweep", when=f"every {settings.sweep.interval_seconds} s")
