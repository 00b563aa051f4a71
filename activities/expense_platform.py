"""Activities on the expense platform (SAP Concur shape); they run on its task queue."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import activity

from activities.errors import is_retry, vendor_call
from canonical import ClaimedReport, ExpenseReport, PaymentStatusReport, PostedJournal
from connectors.interfaces import ExpensePlatform


class ReportRef(BaseModel):
    report_id: str
    owner_ref: str | None = None   # the platform's id for the owner, when known: one lookup fewer


class SendBack(BaseModel):
    report_id: str
    reason: str
    owner_ref: str | None = None


class PostingConfirmation(BaseModel):
    claim: ClaimedReport
    posted: PostedJournal


class PaymentConfirmation(BaseModel):
    claim: ClaimedReport
    payment: PaymentStatusReport


class ExpensePlatformActivities:
    def __init__(self, platform: ExpensePlatform) -> None:
        self.platform = platform

    @activity.defn(name="expense.fetch_report")
    async def fetch_report(self, ref: ReportRef) -> ExpenseReport:
        async with vendor_call():
            return await self.platform.get_report(ref.report_id, ref.owner_ref)

    @activity.defn(name="expense.pass_validation")
    async def pass_validation(self, ref: ReportRef) -> None:
        """A retry reads the report first: the lost answer's release may have gone through."""
        async with vendor_call():
            await self.platform.pass_validation(ref.report_id, "Passed finsync policy check", owner_ref=ref.owner_ref,
                                                lookup_first=is_retry())

    @activity.defn(name="expense.send_back")
    async def send_back(self, request: SendBack) -> None:
        async with vendor_call():
            await self.platform.send_back(request.report_id, request.reason, owner_ref=request.owner_ref)

    @activity.defn(name="expense.claim_for_posting")
    async def claim_for_posting(self, ref: ReportRef) -> ClaimedReport:
        async with vendor_call():
            return await self.platform.claim_for_posting(ref.report_id, ref.owner_ref)

    @activity.defn(name="expense.confirm_posting")
    async def confirm_posting(self, request: PostingConfirmation) -> None:
        async with vendor_call():
            await self.platform.confirm_posting(request.claim, request.posted)

    @activity.defn(name="expense.confirm_payment")
    async def confirm_payment(self, request: PaymentConfirmation) -> None:
        async with vendor_call():
            await self.platform.confirm_payment(request.claim, request.payment)
