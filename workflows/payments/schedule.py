"""The Temporal Schedule that starts the payment runs, made to match the configuration.

``finsync setup`` (a real cluster) and ``finsync dev`` (before it reports ready) call
``ensure_payment_run_schedule``, as they do the sweep's and the reconciliation's; calling it again
changes nothing but what the configuration changed (the hours).
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
from workflows.payments.model import RunInput
from workflows.payments.run import PaymentRunWorkflow

SCHEDULE_ID = "finsync-payment-run"   # also its runs' workflow id, which the server suffixes with the slot's time


def payment_run_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PaymentRunWorkflow.run, RunInput(bank_task_queue=settings.bank.task_queue),
            id=SCHEDULE_ID, task_queue=settings.temporal.workflow_task_queue,
            static_summary="Payment run: every queued payment that is due, one file per debtor account"),
        spec=ScheduleSpec(calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(hour) for hour in settings.payments.run_hours])]),
        # One run at a time: a run whose refused file waits for finance holds the next slots back
        # (their payments stay queued, none is lost). A slot missed while Temporal was down is made
        # up within the day.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
        state=ScheduleState(note="created by finsync from [payments] in its configuration"))


async def ensure_payment_run_schedule(client: Client, settings: Settings) -> str:
    """Create the schedule, or bring the existing one in line with ``settings``; with
    ``[payments] enabled = false``, pause it if it exists. Returns what was done, for one line."""
    hours = ", ".join(f"{hour:02d}:00" for hour in settings.payments.run_hours)
    return await ensure_schedule(client, SCHEDULE_ID, payment_run_schedule(settings), enabled=settings.payments.enabled,
                                 section="payments", when=f"daily at {hours} UTC")
