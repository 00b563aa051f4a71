"""The procurement poller's activity: Coupa's changes (approved requisitions, receipts, approved or
voided invoices) handed to the requisition-to-pay process, each marked exported in Coupa once
its process has it. The mechanism is the sweep's (activities/sweep.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import activity

from activities.sweep import Poll, ProcessTrigger, SweepRequest, SweepResult
from canonical.procurement import ProcurementChange, Requisition
from connectors.interfaces import ProcurementPlatform


class RequisitionRead(BaseModel):
    """What a new run starts from: the requisition, and its supplier's name for the summary line."""

    requisition: Requisition
    supplier_name: str


class ProcurementChanges:
    """The procurement platform's changes not yet exported (the poller's feed)."""

    def __init__(self, platform: ProcurementPlatform) -> None:
        self.platform = platform

    def changes(self, since: datetime | None) -> AsyncIterator[ProcurementChange]:
        return self.platform.changes(since)

    def key(self, change: ProcurementChange) -> str:
        return change.requisition_id

    def correlation_id(self, change: ProcurementChange) -> str:
        return change.change_id

    async def first_read(self, change: ProcurementChange) -> RequisitionRead:
        requisition = await self.platform.get_requisition(change.requisition_id)
        supplier = await self.platform.get_supplier(requisition.supplier_id)
        return RequisitionRead(requisition=requisition, supplier_name=supplier.name)

    async def handed_over(self, change: ProcurementChange) -> None:
        """Coupa's ``exported`` flag: the next poll reads this version no more."""
        await self.platform.mark_exported(change)


class ProcurementPollActivities(Poll[ProcurementChange, RequisitionRead]):
    def __init__(self, platform: ProcurementPlatform, trigger: ProcessTrigger[ProcurementChange, RequisitionRead],
                 run_of: Callable[[ProcurementChange], str], overlap: timedelta) -> None:
        super().__init__(ProcurementChanges(platform), trigger, run_of, overlap)

    @activity.defn(name="procurement.poll_changes")
    async def poll_changes(self, request: SweepRequest) -> SweepResult:
        return await self.poll(request)
