"""The sweep's activities: a poll of the platform's changes, each handed to the trigger of the
process it belongs to, and how far the poll has read.

A change no webhook brought (submitted before the gateway's subscription existed, or whose
webhook the platform gave up on) gets its workflow here; one whose workflow runs gets the
platform's state as a signal, which the workflow dedupes by event id. How a process starts or
takes a signal is its trigger's business: worker.py hands in the expense process's, the same
start path the gateway uses (``workflows/expense/start.py``), so no activity imports a workflow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.errors import vendor_call
from canonical import ExpenseReport, ReportStatusChanged
from connectors.interfaces import ExpensePlatform
from finsync import correlation

if TYPE_CHECKING:
    from finsync.store import IntegrationStore  # handed in by worker.py: workflows import this module

RECOVERED_SHOWN = 20          # report ids a result names; the counts cover the rest
FIRST_READ_TIMEOUT = 10.0     # seconds; the first read is a courtesy, the start is not

# "delivered": a run started with the change, or the running one signalled (the server does not say
# which); "not needed": nothing the process must hear (an echo of its own action); "closed": its
# run has ended.
HandOverOutcome = Literal["delivered", "not needed", "closed"]


class ProcessTrigger(Protocol):
    """Hands one change to the process it belongs to: starts the process's run with it, or signals
    the running one. ``first_read`` (the record as the platform has it now, when no run had it
    yet) spares the new run its own first read."""

    async def __call__(self, change: ReportStatusChanged, first_read: ExpenseReport | None) -> HandOverOutcome: ...


class SweepRequest(BaseModel):
    since: datetime | None = None   # the last sweep's watermark; None: never swept, read every waiting report


class SweepResult(BaseModel):
    """What one sweep did: counts only, whatever the length of the list it read."""

    watermark: datetime            # when this sweep began reading: the next reads from there, less the overlap
    scanned: int = 0               # reports the platform listed
    started: int = 0               # runs this sweep started: reports no webhook had brought
    signalled: int = 0             # reports whose running workflow got the platform's state
    already_closed: int = 0        # reports whose workflow had ended
    recovered: list[str] = []      # the first RECOVERED_SHOWN report ids it started


class Watermark(BaseModel):
    name: str
    at: datetime | None = None      # None: never swept


class NewWatermark(BaseModel):
    name: str
    at: datetime


class SweepActivities:
    """``trigger`` takes each change to its process; ``run_of`` names the workflow a change belongs
    to, so the sweep reads the record first only where no run has it yet, and can tell the runs
    it started from those it signalled."""

    def __init__(self, platform: ExpensePlatform, trigger: ProcessTrigger,
                 run_of: Callable[[ReportStatusChanged], str], overlap: timedelta) -> None:
        self.platform = platform
        self.trigger = trigger
        self.run_of = run_of
        self.overlap = overlap

    @activity.defn(name="expense.sweep_reports")
    async def sweep_reports(self, request: SweepRequest) -> SweepResult:
        """Page through the reports changed since the watermark (less the overlap) and hand each
        on. A retry starts over from the same watermark: every event is handed again under the
        same id, so nothing starts twice and each workflow ignores what it already had."""
        client = activity.client()
        result = SweepResult(watermark=datetime.now(UTC))
        since = request.since - self.overlap if request.since else None
        async with vendor_call():
            async for event in self.platform.changed_reports(since):
                result.scanned += 1
                await self._hand_over(client, event, result)
                activity.heartbeat(result.scanned)
        return result

    async def _hand_over(self, client: Client, event: ReportStatusChanged, result: SweepResult) -> None:
        had_run = await _has_run(client, self.run_of(event))
        report = None if had_run else await self._first_read(event)
        token = correlation.current.set(event.correlation_id)
        try:
            outcome = await self.trigger(event, report)
        finally:
            correlation.current.reset(token)
        if outcome == "closed":
            result.already_closed += 1
        elif outcome == "delivered" and had_run:
            result.signalled += 1
        elif outcome == "delivered":
            # Had the gateway started it between our look and our start, this counts one too many.
            result.started += 1
            if len(result.recovered) < RECOVERED_SHOWN:
                result.recovered.append(event.report_id)
            activity.logger.info("report %s (%s) had no workflow: started", event.report_id, event.approval_status.value)

    async def _first_read(self, event: ReportStatusChanged) -> ExpenseReport | None:
        """As the gateway does on a submission: the report, for the run's summary line and as
        its starting point. Without it the workflow reads the report itself."""
        try:
            return await asyncio.wait_for(self.platform.get_report(event.report_id, event.owner_ref), FIRST_READ_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - the read must never hold up the start
            activity.logger.info("no first read of report %s: %r", event.report_id, error)
            return None


class SweepWatermarks:
    """Local activities on the store: where the sweep has read to."""

    def __init__(self, store: IntegrationStore) -> None:
        self.store = store

    @activity.defn(name="finsync.sweep_watermark")
    async def sweep_watermark(self, name: str) -> Watermark:
        return Watermark(name=name, at=await asyncio.to_thread(self.store.sweep_watermark, name))

    @activity.defn(name="finsync.set_sweep_watermark")
    async def set_sweep_watermark(self, watermark: NewWatermark) -> None:
        await asyncio.to_thread(self.store.set_sweep_watermark, watermark.name, watermark.at)


async def _has_run(client: Client, wf_id: str) -> bool:
    """Whether the report has a workflow run, running or closed."""
    try:
        await client.get_workflow_handle(wf_id).describe()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True
