"""The Temporal Schedule that runs the daily reconciliation, made to match the configuration.

``finsync setup`` (a real cluster) and ``finsync dev`` (before it reports ready) call
``ensure_reconciliation_schedule``, as they do the sweep's; calling it again changes nothing but
what the configuration changed (the hour, the entities ``[bank] debtor_accounts`` pays from).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)

from finsync.config import Settings
from workflows.common.schedules import ensure_schedule
from workflows.reconcile.workflow import DailyReconciliationWorkflow, ReconcileInput

SCHEDULE_ID = "finsync-daily-reconciliation"   # also its runs' workflow id, which the server suffixes with the time


def reconciliation_schedule(settings: Settings) -> Schedule:
    entities = settings.bank.entities
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DailyReconciliationWorkflow.run,
            ReconcileInput(entities=entities, erp_task_queue=settings.erp.task_queue),
            id=SCHEDULE_ID, task_queue=settings.temporal.workflow_task_queue,
            static_summary=f"Daily reconciliation of feed, ERP and bank: {', '.join(entities)}"),
        spec=ScheduleSpec(calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(settings.reconciliation.hour)])]),
        # One run at a time; a day missed while Temporal was down is caught up within the day
        # (`finsync reconcile --date` does an older one).
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
        state=ScheduleState(note="created by finsync from [reconciliation] in its configuration"))


async def ensure_reconciliation_schedule(client: Client, settings: Settings) -> str:
    """Create the schedule, or bring the existing one in line with ``settings``; with
    ``[reconciliation] enabled = false``, pause it if it exists. Returns what was done, for one line."""
    return await ensure_schedule(client, SCHEDULE_ID, reconciliation_schedule(settings),
                                 enabled=settings.reconciliation.enabled, section="reconciliation",
                                 when=f"daily at {settings.reconciliation.hour:02d}:00 UTC")
