"""Activities on the ERP's side of requisition-to-pay (NetSuite shape); they run on the ERP's
task queue. Writes are upserts by external id: a retry reads back before writing again."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import activity

from activities.errors import is_retry, vendor_call
from canonical import PostedJournal
from canonical.procurement import (
    BillPayment,
    BillReversal,
    BudgetCheck,
    BudgetRequest,
    Commitment,
    PostedBill,
    PostedBillPayment,
    PostedCommitment,
    VendorBill,
)
from connectors.interfaces import ProcurementErp


class VendorRef(BaseModel):
    supplier_number: str
    entity_code: str


class CommitmentRef(BaseModel):
    external_id: str


class ProcurementErpActivities:
    def __init__(self, erp: ProcurementErp) -> None:
        self.erp = erp

    @activity.defn(name="erp.check_budget")
    async def check_budget(self, request: BudgetRequest) -> BudgetCheck:
        async with vendor_call():
            return await self.erp.check_budget(request)

    @activity.defn(name="erp.supplier_known")
    async def supplier_known(self, ref: VendorRef) -> bool:
        async with vendor_call():
            return await self.erp.supplier_known(ref.supplier_number, ref.entity_code)

    @activity.defn(name="erp.create_commitment")
    async def create_commitment(self, commitment: Commitment) -> PostedCommitment:
        async with vendor_call():
            return await self.erp.create_commitment(commitment)

    @activity.defn(name="erp.release_commitment")
    async def release_commitment(self, ref: CommitmentRef) -> None:
        async with vendor_call():
            await self.erp.release_commitment(ref.external_id)

    @activity.defn(name="erp.post_bill")
    async def post_bill(self, bill: VendorBill) -> PostedBill:
        async with vendor_call():
            return await self.erp.post_bill(bill, lookup_first=is_retry())

    @activity.defn(name="erp.reverse_bill")
    async def reverse_bill(self, reversal: BillReversal) -> PostedJournal:
        async with vendor_call():
            return await self.erp.reverse_bill(reversal, lookup_first=is_retry())

    @activity.defn(name="erp.pay_bill")
    async def pay_bill(self, payment: BillPayment) -> PostedBillPayment:
        async with vendor_call():
            return await self.erp.pay_bill(payment, lookup_first=is_retry())
