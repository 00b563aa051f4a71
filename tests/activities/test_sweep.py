"""The sweep activity with the trigger it is given (activities/sweep.py): every change the platform
lists reaches the process's trigger once, a change with no run yet goes with the platform's first
read, and the result counts what the trigger did. The Temporal server is real (the sweep asks it
which runs exist); the platform's listing and the process's trigger are scripted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.sweep import HandOverOutcome, SweepActivities, SweepRequest
from canonical import ApprovalStatus, ExpenseReport, ReportStatusChanged
from tests.workflows.world import report

LAST_SWEEP = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
OVERLAP = timedelta(minutes=2)


def change(report_id: str) -> ReportStatusChanged:
    return ReportStatusChanged(
        event_id=f"list:{report_id}", source_system="concur", report_id=report_id, owner_ref=f"owner-{report_id}",
        approval_status=ApprovalStatus.PENDING_APPROVAL, previous_approval_status=ApprovalStatus.PENDING_VALIDATION,
        occurred_at=LAST_SWEEP, correlation_id=f"corr-{report_id}")


class ListingPlatform:
    """The platform's changed reports, and the first reads asked of it."""

    def __init__(self, changes: list[ReportStatusChanged]) -> None:
        self.changes = changes
        self.asked_since: list[datetime | None] = []
        self.read: list[tuple[str, str | None]] = []

    async def changed_reports(self, since: datetime | None) -> AsyncIterator[ReportStatusChanged]:
        self.asked_since.append(since)
        for listed in self.changes:
            yield listed

    async def get_report(self, report_id: str, owner_ref: str | None = None) -> ExpenseReport:
        self.read.append((report_id, owner_ref))
        return report(report_id)


class ScriptedTrigger:
    """A process's trigger that answers each report as scripted and keeps what it was handed."""

    def __init__(self, outcomes: dict[str, HandOverOutcome]) -> None:
        self.outcomes = outcomes
        self.handed: list[tuple[str, str | None]] = []   # (report id, report id of the first read)

    async def __call__(self, change: ReportStatusChanged, first_read: ExpenseReport | None) -> HandOverOutcome:
        self.handed.append((change.report_id, first_read.report_id if first_read else None))
        return self.outcomes[change.report_id]


async def test_each_change_reaches_the_trigger_once_and_the_result_counts_what_it_did(
        time_skipping_env: WorkflowEnvironment) -> None:
    prefix = f"sweep-{uuid.uuid4().hex[:8]}"

    def run_of(listed: ReportStatusChanged) -> str:
        return f"{prefix}-{listed.report_id}"

    # R2's report has a run (nobody polls its queue: it only has to exist); the others have none.
    await time_skipping_env.client.start_workflow("AnyProcess", id=f"{prefix}-R2", task_queue=f"{prefix}-idle")
    platform = ListingPlatform([change("R1"), change("R2"), change("R3"), change("R4")])
    trigger = ScriptedTrigger({"R1": "delivered", "R2": "delivered", "R3": "closed", "R4": "not needed"})
    sweep = SweepActivities(platform, trigger, run_of, overlap=OVERLAP)  # type: ignore[arg-type]

    result = await ActivityEnvironment(client=time_skipping_env.client).run(
        sweep.sweep_reports, SweepRequest(since=LAST_SWEEP))

    assert platform.asked_since == [LAST_SWEEP - OVERLAP]
    assert trigger.handed == [("R1", "R1"), ("R2", None), ("R3", "R3"), ("R4", "R4")]
    assert platform.read == [("R1", "owner-R1"), ("R3", "owner-R3"), ("R4", "owner-R4")]
    assert (result.scanned, result.started, result.signalled, result.already_closed) == (4, 1, 1, 1)
    assert result.recovered == ["R1"]
