"""Activities on the procurement platform (Coupa shape); they run on its task queue, whose
server-side rate limit keeps every worker together under the platform's limit."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from temporalio import activity

from activities.errors import vendor_call
from canonical import Money
from canonical.procurement import PurchaseOrder, Receipt, Requisition, Supplier
from canonical.suppliers import SupplierCheck, check_supplier
from connectors.interfaces import ProcurementPlatform


class RequisitionRef(BaseModel):
    requisition_id: str


class SupplierCheckRequest(BaseModel):
    supplier_id: str
    currency: str              # what the supplier is to be paid in


class CheckedSupplier(BaseModel):
    supplier: Supplier
    check: SupplierCheck       # the account to pay on, or every reason it cannot be paid


class OrderRef(BaseModel):
    order_id: str


class InvoiceVoid(BaseModel):
    invoice_id: str
    reason: str


class InvoicePaid(BaseModel):
    invoice_id: str
    amount: Money
    paid_on: date
    note: str                  # names the payment (EndToEndId): a repeat records it once


class ProcurementPlatformActivities:
    def __init__(self, platform: ProcurementPlatform) -> None:
        self.platform = platform

    @activity.defn(name="procurement.fetch_requisition")
    async def fetch_requisition(self, ref: RequisitionRef) -> Requisition:
        async with vendor_call():
            return await self.platform.get_requisition(ref.requisition_id)

    @activity.defn(name="procurement.check_supplier")
    async def check_supplier(self, request: SupplierCheckRequest) -> CheckedSupplier:
        """The supplier as the platform has it, checked here: IBAN and BIC validation reads data
        files the workflow sandbox refuses, and its registry changes with the package version."""
        async with vendor_call():
            supplier = await self.platform.get_supplier(request.supplier_id)
        return CheckedSupplier(supplier=supplier, check=check_supplier(supplier, request.currency))

    @activity.defn(name="procurement.order_for_requisition")
    async def order_for_requisition(self, ref: RequisitionRef) -> PurchaseOrder | None:
        async with vendor_call():
            return await self.platform.order_for_requisition(ref.requisition_id)

    @activity.defn(name="procurement.issue_order")
    async def issue_order(self, ref: OrderRef) -> PurchaseOrder:
        async with vendor_call():
            return await self.platform.issue_order(ref.order_id)

    @activity.defn(name="procurement.cancel_order")
    async def cancel_order(self, ref: OrderRef) -> None:
        async with vendor_call():
            await self.platform.cancel_order(ref.order_id)

    @activity.defn(name="procurement.close_order")
    async def close_order(self, ref: OrderRef) -> None:
        async with vendor_call():
            await self.platform.close_order(ref.order_id)

    @activity.defn(name="procurement.fetch_receipts")
    async def fetch_receipts(self, ref: OrderRef) -> list[Receipt]:
        async with vendor_call():
            return await self.platform.receipts(ref.order_id)

    @activity.defn(name="procurement.void_invoice")
    async def void_invoice(self, void: InvoiceVoid) -> None:
        async with vendor_call():
            await self.platform.void_invoice(void.invoice_id, void.reason)

    @activity.defn(name="procurement.record_invoice_payment")
    async def record_invoice_payment(self, paid: InvoicePaid) -> None:
        async with vendor_call():
            await self.platform.record_payment(paid.invoice_id, paid.amount, paid.paid_on, paid.note)
