"""Polls: a platform's changes, each handed to the trigger of the process it belongs to, and how
far the poll has read. One mechanism for every process that polls: the expense sweep (a change
no webhook brought) and the procurement poller (Coupa's documented integration).

A change whose process has no run yet gets its run here, with the platform's first read of the
record; one whose run is going gets the change as a signal, which the workflow dedupes by its
id. How a process starts or takes a signal is its trigger's business: worker.py hands in each
process's, the same start path the gateway uses (``workflows/<process>/start.py``), so no
activity imports a workflow. A platform that wants changes acknowledged (Coupa's ``exported``
flag) hears of each only after its hand-over succeeded: a crash between the two hands the
change over again, under the same id.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

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

RECOVERED_SHOWN = 20          # business keys a result names; the counts cover the rest
FIRST_READ_TIMEOUT = 10.0     # seconds; the first read is a courtesy, the start is not

# "delivered": a run started with the change, or the running one signalled (the server does not say
# which); "not needed": nothing the process must hear (an echo of its own action); "closed": its
# run has ended.
HandOverOutcome = Literal["delivered", "not needed", "closed"]

Change = TypeVar("Change")
Document = TypeVar("Document")
ChangeIn = TypeVar("ChangeIn", contravariant=True)
DocumentIn = TypeVar("DocumentIn", contravariant=True)
DocumentOut = TypeVar("DocumentOut", covariant=True)


class ProcessTrigger(Protocol[ChangeIn, DocumentIn]):
    """Hands one change to the process it belongs to: starts the process's run with it, or signals
    the running one. ``first_read`` (the record as the platform has it now, when no run had it
    yet) spares the new run its own first read."""

    async def __call__(self, change: ChangeIn, first_read: DocumentIn | None) -> HandOverOutcome: ...


class ChangeFeed(Protocol[Change, DocumentOut]):
    """What a poll reads from one platform, in that platform's terms."""

    def changes(self, since: datetime | None) -> AsyncIterator[Change]:
        """Every change after ``since`` (all there are if None)."""
        ...

    def key(self, change: Change) -> str:
        """The business key (report id, requisition id) the change is about."""
        ...

    def correlation_id(self, change: Change) -> str: ...

    async def first_read(self, change: Change) -> DocumentOut:
        """The record a new run starts from."""
        ...

    async def handed_over(self, change: Change) -> None:
        """The change reached its process: acknowledge it to the platform, if it wants that."""
        ...


class SweepRequest(BaseModel):
    since: datetime | None = None   # the last poll's watermark; None: never polled, read every change there is


class SweepResult(BaseModel):
    """What one poll did: counts only, whatever the length of the list it read."""

    watermark: datetime            # when this poll began reading: the next reads from there, less the overlap
    scanned: int = 0               # changes the platform listed
    started: int = 0               # runs this poll started: changes no webhook had brought
    signalled: int = 0             # changes whose running workflow got them
    already_closed: int = 0        # changes whose workflow had ended
    recovered: list[str] = []      # the business keys of the first RECOVERED_SHOWN runs it started


class Watermark(BaseModel):
    name: str
    at: datetime | None = None      # None: never swept


class NewWatermark(BaseModel):
    name: str
    at: datetime


class Poll(Generic[Change, Document]):
    """One poll of ``feed``: ``trigger`` takes each change to its process; ``run_of`` names the
    workflow a change belongs to, so the poll reads the record first only where no run has it
    yet, and can tell the runs it started from those it signalled. Each process's activity (its
    own name, on its platform's task queue) runs ``poll``."""

    def __init__(self, feed: ChangeFeed[Change, Document], trigger: ProcessTrigger[Change, Document],
                 run_of: Callable[[Change], str], overlap: timedelta) -> None:
        self.feed = feed
        self.trigger = trigger
        self.run_of = run_of
        self.overlap = overlap

    async def poll(self, request: SweepRequest) -> SweepResult:
        """Page through the changes since the watermark (less the overlap) and hand each on. A
        retry starts over from the same watermark: every change is handed again under the same
        id, so nothing starts twice and each workflow ignores what it already had."""
        client = activity.client()
        result = SweepResult(watermark=datetime.now(UTC))
        since = request.since - self.overlap if request.since else None
        async with vendor_call():
            async for change in self.feed.changes(since):
                result.scanned += 1
                await self._hand_over(client, change, result)
                activity.heartbeat(result.scanned)
        return result

    async def _hand_over(self, client: Client, change: Change, result: SweepResult) -> None:
        had_run = await _has_run(client, self.run_of(change))
        document = None if had_run else await self._first_read(change)
        token = correlation.current.set(self.feed.correlation_id(change))
        try:
            outcome = await self.trigger(change, document)
        finally:
            correlation.current.reset(token)
        await self.feed.handed_over(change)
        key = self.feed.key(change)
        if outcome == "closed":
            result.already_closed += 1
        elif outcome == "delivered" and had_run:
            result.signalled += 1
        elif outcome == "delivered":
            # Had the gateway started it between our look and our start, this counts one too many.
            result.started += 1
            if len(result.recovered) < RECOVERED_SHOWN:
                result.recovered.append(key)
            activity.logger.info("%s had no workflow: started", key)

    async def _first_read(self, change: Change) -> Document | None:
        """As the gateway does on a first event: the record, for the run's summary line and as
        its starting point. Without it the workflow reads the record itself."""
        try:
            return await asyncio.wait_for(self.feed.first_read(change), FIRST_READ_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - the read must never hold up the start
            activity.logger.info("no first read of %s: %r", self.feed.key(change), error)
            return None


class ExpenseReports:
    """The expense platform's reports waiting for a decision or for payment (the sweep's feed)."""

    def __init__(self, platform: ExpensePlatform) -> None:
        self.platform = platform

    def changes(self, since: datetime | None) -> AsyncIterator[ReportStatusChanged]:
        return self.platform.changed_reports(since)

    def key(self, change: ReportStatusChanged) -> str:
        return change.report_id

    def correlation_id(self, change: ReportStatusChanged) -> str:
        return change.correlation_id

    async def first_read(self, change: ReportStatusChanged) -> ExpenseReport:
        return await self.platform.get_report(change.report_id, change.owner_ref)

    async def handed_over(self, change: ReportStatusChanged) -> None:
        """Concur keeps no flag for it: the watermark is the sweep's only memory."""


class SweepActivities(Poll[ReportStatusChanged, ExpenseReport]):
    """The expense sweep: reports no webhook brought."""

    def __init__(self, platform: ExpensePlatform, trigger: ProcessTrigger[ReportStatusChanged, ExpenseReport],
                 run_of: Callable[[ReportStatusChanged], str], overlap: timedelta) -> None:
        super().__init__(ExpenseReports(platform), trigger, run_of, overlap)

    @activity.defn(name="expense.sweep_reports")
    async def sweep_reports(self, request: SweepRequest) -> SweepResult:
        return await self.poll(request)


class SweepWatermarks:
    """Local activities on the store: where each poll has read to."""

    def __init__(self, store: IntegrationStore) -> None:
        self.store = store

    @activity.defn(name="finsync.sweep_watermark")
    async def sweep_watermark(self, name: str) -> Watermark:
        return Watermark(name=name, at=await asyncio.to_thread(self.store.sweep_watermark, name))

    @activity.defn(name="finsync.set_sweep_watermark")
    async def set_sweep_watermark(self, watermark: NewWatermark) -> None:
        await asyncio.to_thread(self.store.set_sweep_watermark, watermark.name, watermark.at)


async def _has_run(client: Client, wf_id: str) -> bool:
    """Whether the workflow has a run, running or closed."""
    try:
        await client.get_workflow_handle(wf_id).describe()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True
