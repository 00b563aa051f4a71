"""The Temporal Schedule that runs the sweep, made to match the configuration.

``finsync setup`` (a real cluster) and ``finsync dev`` (before it reports ready) call
``ensure_sweep_schedule``; calling it again changes nothing but what the configuration changed.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)

from finsync.config import Settings
from workflows.common.schedules import ensure_schedule
from workflows.sweep.workflow import ExpenseSweepWorkflow, SweepInput

SCHEDULE_ID = "finsync-expense-sweep"   # also the sweep runs' workflow id, which the server suffixes with the time


def sweep_schedule(settings: Settings) -> Schedule:
    every = timedelta(seconds=settings.sweep.interval_seconds)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ExpenseSweepWorkflow.run, SweepInput(expense_task_queue=settings.expense.task_queue),
            id=SCHEDULE_ID, task_queue=settings.temporal.workflow_task_queue,
            static_summary="Sweep: start the expense reports no webhook brought"),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        # One sweep at a time; ticks missed while Temporal was down are not made up one by one:
        # the next sweep reads everything since the watermark anyway.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=every),
        state=ScheduleState(note="created by finsync from [sweep] in its configuration"))


async def ensure_sweep_schedule(client: Client, settings: Settings) -> str:
    """Create the schedule, or bring the existing one in line with ``settings``; with
    ``[sweep] enabled = false``, pause it if it exists. Returns what was done, for one line."""
    return await ensure_schedule(client, SCHEDULE_ID, sweep_schedule(settings), enabled=settings.sweep.enabled,
                                 section="sweep", when=f"every {settings.sweep.interval_seconds} s")
