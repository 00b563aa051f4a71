"""What goes in and out of the payment run, and which run it is."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from activities.payment_runs import RunFile

WORKFLOW_NAME = "PaymentRun"
PROCESS = "payment_run"
# Set by the server on every run a schedule starts: the slot's time, the same however often it is run.
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


class RunInput(BaseModel):
    bank_task_queue: str = "finsync-bank"
    as_of: date | None = None       # send what is due by this day; None: the scheduled day (else today, UTC)


class RunStatus(StrEnum):
    COLLECTING = "COLLECTING"       # claiming the due payments
    SENDING = "SENDING"             # sending the files
    DONE = "DONE"                   # every file sent or withdrawn
    EXCEPTION = "EXCEPTION"         # a file the bank refused waits for finance: see FinsyncExceptionReason


class FileOutcome(StrEnum):
    SENT = "sent"
    WITHDRAWN = "withdrawn"         # refused by the bank, then withdrawn by finance: its processes were told


class RunFileOutcome(BaseModel):
    file: RunFile
    outcome: FileOutcome


class RunOutcome(BaseModel):
    run_key: str
    as_of: date
    files: list[RunFileOutcome] = []


def run_key(workflow_id: str, scheduled_at: datetime | None) -> str:
    """The run's key, from which its files' ids derive: the schedule's slot, or else (a run started
    by hand) the workflow id. Running the same slot again is the same run: it claims nothing new
    and sends the same files, which the bank knows already."""
    if scheduled_at is None:
        return workflow_id
    return f"payment-run-{scheduled_at:%Y-%m-%dT%H:%M:%S}Z"
