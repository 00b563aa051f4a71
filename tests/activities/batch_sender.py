"""A process that sends one payment file, as a payment run will: for the activity tests."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.bank import BankActivities
    from canonical import BatchAcknowledgement, BatchSubmission


@workflow.defn
class BatchSender:
    @workflow.run
    async def run(self, submission: BatchSubmission) -> BatchAcknowledgement:
        return await workflow.execute_activity_method(
            BankActivities.send_batch, submission, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3))
