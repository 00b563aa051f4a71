"""Activities on the ERP (NetSuite or SAP shape); they run on its task queue."""

from __future__ import annotations

from temporalio import activity

from activities.errors import business_error, is_retry, vendor_call
from canonical import (
    BusinessProblem,
    CodingContext,
    CodingRequest,
    JournalEntry,
    PostedJournal,
    ProblemCode,
    UnbalancedJournalError,
)
from connectors.errors import BusinessRuleError
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
        """Exactly once per external id: a retry first reads the entry back by that id. An entry
        that does not balance (only ``model_construct`` can make one) never reaches the ERP."""
        try:
            entry.check_balanced()
        except UnbalancedJournalError as error:
            raise business_error(BusinessRuleError("finsync", BusinessProblem(
                code=ProblemCode.JOURNAL_UNBALANCED, system="finsync", subject=entry.external_id, reason=str(error)))) from error
        async with vendor_call():
            return await self.erp.post_journal(entry, lookup_first=is_retry())
