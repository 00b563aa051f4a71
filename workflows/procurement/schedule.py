"""The Temporal Schedule that runs the procurement poll, made to match the configuration.

``finsync setup`` and ``finsync dev`` call ``ensure_poll_schedule``; calling it again changes
nothing but what the configuration changed.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow

from finsync.config import Settings
from workflows.common.schedules import ensure_schedule, poll_every
from workflows.procurement.poll import PollInput, ProcurementPollWorkflow

SCHEDULE_ID = "finsync-procurement-poll"   # also the polls' workflow id, which the server suffixes with the time


def poll_schedule(settings: Settings) -> Schedule:
    procurement = settings.procurement
    every = timedelta(seconds=procurement.poll_interval_seconds)
    return poll_every(ScheduleActionStartWorkflow(
        ProcurementPollWorkflow.run, PollInput(procurement_task_queue=procurement.task_queue,
                                               source_system=procurement.kind),
        id=SCHEDULE_ID, task_queue=settings.temporal.workflow_task_queue,
        static_summary=f"Poll {procurement.kind}: hand its changes to the requisitions' workflows"), every, "procurement")


async def ensure_poll_schedule(client: Client, settings: Settings) -> str:
    """Create the schedule, or bring the existing one in line with ``settings``; with
    ``[procurement] poll_enabled = false``, pause it if it exists. Returns what was done, for one line."""
    return await ensure_schedule(client, SCHEDULE_ID, poll_schedule(settings), enabled=settings.procurement.poll_enabled,
                                 section="procurement", when=f"every {settings.procurement.poll_interval_seconds} s",
                                 switch="poll_enabled")
