"""The payroll sweep's activity: the payroll system's pay runs finalized, reopened or cancelled
since the last sweep, each handed to its run's workflow as the gateway hands an event (the
mechanism is the shared poll: activities/sweep.py). A webhook lost on the way is caught here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from temporalio import activity

from activities.sweep import Poll, ProcessTrigger, SweepRequest, SweepResult
from canonical.payroll import PayrollRunEvent
from connectors.interfaces import PayrollProvider


class PayRuns:
    """The payroll system's changed pay runs (the sweep's feed). A run's event carries all a
    workflow starts from: there is nothing to read first."""

    def __init__(self, provider: PayrollProvider) -> None:
        self.provider = provider

    def changes(self, since: datetime | None) -> AsyncIterator[PayrollRunEvent]:
        return self.provider.changed_runs(since)

    def key(self, change: PayrollRunEvent) -> str:
        return change.run.key

    def correlation_id(self, change: PayrollRunEvent) -> str:
        return change.event_id

    async def first_read(self, change: PayrollRunEvent) -> None:
        return None

    async def handed_over(self, change: PayrollRunEvent) -> None:
        """The payroll system keeps no flag for it: the watermark is the sweep's only memory."""


class PayrollSweepActivities(Poll[PayrollRunEvent, None]):
    def __init__(self, provider: PayrollProvider, trigger: ProcessTrigger[PayrollRunEvent, None],
                 run_of: Callable[[PayrollRunEvent], str], overlap: timedelta) -> None:
        super().__init__(PayRuns(provider), trigger, run_of, overlap)

    @activity.defn(name="payroll.sweep_runs")
    async def sweep_runs(self, request: SweepRequest) -> SweepResult:
        return await self.poll(request)
