"""Activities on the ERP (NetSuite or SAP shape); they run on its task queue."""

from __future__ import annotations

from temporalio import activity

from activities.errors import is_retry, vendor_call
from canonical import CodingContext, CodingRequest, JournalEntry, PostedJournal
from connectors.interfaces import Erp


class ErpActivities:
    def __init__(self, erp: Erp) -> None:
        self.erp = erp

    @activity.defn(name="erp.load_coding_context")
    async def load_coding_context(self, request: CodingRequest) -> CodingContext:
        async with vendor_call():
            return await self.erp.coding_context(request)

    @activity.defn(name="erp.post_journal")
    async def post_journal(self, entry: JournalEntry) -> PostedJournal:
        """Exactly once per external id: a retry first reads the entry back by that id."""
        async with vendor_call():
            return await self.erp.post_journal(entry, lookup_first=is_retry())
