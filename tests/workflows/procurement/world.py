"""A scripted outside world for the requisition-to-pay workflow on the time-skipping server.

The platform, ERP and bank activities are replaced by activities of the same names acting on
this in-memory world; the rulebook and bookkeeping activities are the real ones. The bank answers
through the workflow's ``payment_status`` signal, as the gateway would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.bank import PaymentRef
from activities.payment_runs import QueuedPayment, QueuedState
from activities.procurement_erp import CommitmentRef, VendorRef
from activities.procurement_platform import (
    CheckedSupplier,
    InvoicePaid,
    InvoiceVoid,
    OrderRef,
    RequisitionRef,
    SupplierCheckRequest,
)
from canonical import BusinessProblem, Money, PaymentState, PaymentStatusReport, PostedJournal
from canonical.payment import PaymentRequestState
from canonical.problems import BUSINESS_RULE_VIOLATION
from canonical.procurement import (
    BillPayment,
    BillReversal,
    BudgetCheck,
    BudgetLine,
    BudgetRequest,
    Coding,
    Commitment,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    OrderStatus,
    PaymentTerms,
    PostedBill,
    PostedBillPayment,
    PostedCommitment,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    RemitTo,
    Requisition,
    RequisitionLine,
    Supplier,
    SupplierStatus,
    VendorBill,
)
from canonical.quantity import Quantity, UnitPrice
from canonical.suppliers import check_supplier
from workflows.common.payments import SIGNAL_PAYMENT_STATUS

CODING = Coding(entity_code="US01", cost_center="CC-1000", gl_account="6310")
NORTHWIND = Supplier(
    supplier_id="7", number="SUP-100", name="Northwind Office Supply", status=SupplierStatus.ACTIVE, currency="USD",
    entity_code="US01", payment_terms=PaymentTerms.parse("2/10 net 30"),
    remit_to=RemitTo(holder_name="Northwind Office Supply", bic="CHASUS33XXX", account_number="4000123456",
                     routing_number="021000021"))
CLOSED_ACCOUNT = "4000999999"


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def _refuse(problem: BusinessProblem | None) -> None:
    """A vendor's business refusal, as an activity raises it (nothing if ``problem`` is None)."""
    if problem is not None:
        raise ApplicationError(problem.reason, problem, type=BUSINESS_RULE_VIOLATION, non_retryable=True)


@dataclass
class World:
    requisition: Requisition = field(default_factory=lambda: Requisition(
        requisition_id="4711", source_system="coupa", title="Laptops for the new team", requested_by="maya.patel",
        currency="USD", lines=[RequisitionLine(line_id="r1", description="Laptop", quantity=Quantity.of("4"),
                                               unit_price=UnitPrice.of("1250.00", "USD"), coding=CODING,
                                               supplier_id="7")]))
    supplier: Supplier = NORTHWIND
    budget: Money = field(default_factory=lambda: usd("100000.00"))
    erp_knows_supplier: bool = True
    # While set, the vendor refuses on business grounds with this problem (None: it accepts).
    issue_refusal: BusinessProblem | None = None        # the platform, issuing the order
    bill_refusal: BusinessProblem | None = None         # the ERP, posting any vendor bill...
    open_dates: list[date] = field(default_factory=list)   # ...except one dated on one of these
    write_back_refusal: BusinessProblem | None = None   # the platform, recording an invoice's payment
    client: Client | None = None
    commitments: dict[str, Commitment] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)
    bills: dict[str, VendorBill] = field(default_factory=dict)
    reversals: dict[str, BillReversal] = field(default_factory=dict)
    bill_payments: dict[str, BillPayment] = field(default_factory=dict)
    payments: dict[str, QueuedPayment] = field(default_factory=dict)
    payment_days: dict[str, date] = field(default_factory=dict)
    order_status: OrderStatus = OrderStatus.DRAFT
    voided: list[str] = field(default_factory=list)
    written_back: dict[str, InvoicePaid] = field(default_factory=dict)
    receipts: list[Receipt] = field(default_factory=list)
    today: date = date(2026, 12, 2)

    @property
    def order(self) -> PurchaseOrder:
        line = self.requisition.lines[0]
        return PurchaseOrder(order_id="900", order_number="PO-900", requisition_id=self.requisition.requisition_id,
                             supplier_id=self.supplier.supplier_id, currency="USD", status=self.order_status,
                             lines=[PurchaseOrderLine(line_id="55", line_number=1, description=line.description,
                                                      quantity=line.quantity, unit_price=line.unit_price,
                                                      coding=line.coding)])

    def receipt(self, receipt_id: str, quantity: str) -> Receipt:
        return Receipt(receipt_id=receipt_id, order_id="900", order_line_id="55", quantity=Quantity.of(quantity),
                       received_on=self.today)

    def invoice(self, invoice_id: str, quantity: str, price: str = "1250.00", *, number: str | None = None,
                invoice_date: date | None = None) -> Invoice:
        return Invoice(invoice_id=invoice_id, invoice_number=number or f"INV-{invoice_id}", supplier_id="7",
                       order_id="900", currency="USD", invoice_date=invoice_date or self.today,
                       status=InvoiceStatus.APPROVED,
                       lines=[InvoiceLine(line_id=f"{invoice_id}-1", order_line_id="55", description="Laptop",
                                          quantity=Quantity.of(quantity), unit_price=UnitPrice.of(price, "USD"))])

    # --- the procurement platform -------------------------------------------------------------
    @activity.defn(name="procurement.fetch_requisition")
    async def fetch_requisition(self, ref: RequisitionRef) -> Requisition:
        return self.requisition

    @activity.defn(name="procurement.check_supplier")
    async def check_supplier(self, request: SupplierCheckRequest) -> CheckedSupplier:
        return CheckedSupplier(supplier=self.supplier, check=check_supplier(self.supplier, request.currency))

    @activity.defn(name="procurement.order_for_requisition")
    async def order_for_requisition(self, ref: RequisitionRef) -> PurchaseOrder | None:
        return self.order

    @activity.defn(name="procurement.issue_order")
    async def issue_order(self, ref: OrderRef) -> PurchaseOrder:
        _refuse(self.issue_refusal)
        self.order_status = OrderStatus.ISSUED
        return self.order

    @activity.defn(name="procurement.cancel_order")
    async def cancel_order(self, ref: OrderRef) -> None:
        self.order_status = OrderStatus.CANCELLED

    @activity.defn(name="procurement.close_order")
    async def close_order(self, ref: OrderRef) -> None:
        self.order_status = OrderStatus.CLOSED

    @activity.defn(name="procurement.fetch_receipts")
    async def fetch_receipts(self, ref: OrderRef) -> list[Receipt]:
        return list(self.receipts)

    @activity.defn(name="procurement.void_invoice")
    async def void_invoice(self, void: InvoiceVoid) -> None:
        self.voided.append(void.invoice_id)

    @activity.defn(name="procurement.record_invoice_payment")
    async def record_invoice_payment(self, paid: InvoicePaid) -> None:
        _refuse(self.write_back_refusal)
        self.written_back[paid.invoice_id] = paid

    # --- the ERP ---------------------------------------------------------------------------
    @activity.defn(name="erp.check_budget")
    async def check_budget(self, request: BudgetRequest) -> BudgetCheck:
        return BudgetCheck(lines=[BudgetLine(coding=coding, budget=self.budget, committed=usd("0"), actual=usd("0"),
                                             requested=amount) for coding, amount in request.lines])

    @activity.defn(name="erp.supplier_known")
    async def supplier_known(self, ref: VendorRef) -> bool:
        return self.erp_knows_supplier

    @activity.defn(name="erp.create_commitment")
    async def create_commitment(self, commitment: Commitment) -> PostedCommitment:
        self.commitments[commitment.external_id] = commitment
        return PostedCommitment(external_id=commitment.external_id, erp_id="PO-ERP-1", document_number="PO100")

    @activity.defn(name="erp.release_commitment")
    async def release_commitment(self, ref: CommitmentRef) -> None:
        self.released.append(ref.external_id)

    @activity.defn(name="erp.post_bill")
    async def post_bill(self, bill: VendorBill) -> PostedBill:
        if bill.posting_date not in self.open_dates:
            _refuse(self.bill_refusal)
        self.bills.setdefault(bill.external_id, bill)
        number = list(self.bills).index(bill.external_id) + 1
        return PostedBill(external_id=bill.external_id, erp_id=f"B{number}", document_number=f"BILL{number}",
                          amount=bill.total)

    @activity.defn(name="erp.reverse_bill")
    async def reverse_bill(self, reversal: BillReversal) -> PostedJournal:
        self.reversals[reversal.external_id] = reversal
        bill = next(b for i, b in enumerate(self.bills.values(), 1) if f"B{i}" == reversal.bill_erp_id)
        return PostedJournal(external_id=reversal.external_id, erp_id=f"VC-{reversal.bill_erp_id}",
                             document_number=f"VCRED-{reversal.bill_erp_id}", entity="US01", amount=bill.total,
                             posting_date=reversal.on)

    @activity.defn(name="erp.pay_bill")
    async def pay_bill(self, payment: BillPayment) -> PostedBillPayment:
        self.bill_payments[payment.external_id] = payment
        return PostedBillPayment(external_id=payment.external_id, erp_id=f"P-{payment.bill_erp_id}",
                                 document_number=f"BILLPMT-{payment.bill_erp_id}")

    # --- the bank --------------------------------------------------------------------------------
    @activity.defn(name="payments.enqueue")
    async def enqueue_payment(self, queued: QueuedPayment) -> QueuedState:
        """The queue and the day's payment run at once: the bank decides as soon as it is queued and
        tells the owner (as the gateway would), before the enqueue returns, so that time skipping
        cannot jump past it."""
        transfer = queued.order.transfer
        if transfer.end_to_end_id not in self.payments:
            self.payments[transfer.end_to_end_id] = queued
            self.payment_days[transfer.end_to_end_id] = queued.order.requested_execution_date
            rejected = transfer.creditor.account_id == CLOSED_ACCOUNT
            assert self.client
            await self.client.get_workflow_handle(queued.owner_workflow_id).signal(
                SIGNAL_PAYMENT_STATUS, PaymentStatusReport(
                    message_id="RUN-1", end_to_end_id=transfer.end_to_end_id,
                    state=PaymentState.REJECTED if rejected else PaymentState.SETTLED,
                    bank_status_code="RJCT" if rejected else "ACSC", reason_code="AC04" if rejected else None,
                    amount=transfer.amount, source="pain.002"))
        return QueuedState(end_to_end_id=transfer.end_to_end_id, state=PaymentRequestState.SENT, message_id="RUN-1")

    @activity.defn(name="bank.payment_status")
    async def payment_status(self, ref: PaymentRef) -> PaymentStatusReport:
        return PaymentStatusReport(message_id=ref.message_id, end_to_end_id=ref.end_to_end_id,
                                   state=PaymentState.PENDING, bank_status_code="PDNG")

    def activities(self) -> list:
        return [self.fetch_requisition, self.check_supplier, self.order_for_requisition, self.issue_order,
                self.cancel_order, self.close_order, self.fetch_receipts, self.void_invoice,
                self.record_invoice_payment, self.check_budget, self.supplier_known, self.create_commitment,
                self.release_commitment, self.post_bill, self.reverse_bill, self.pay_bill, self.enqueue_payment,
                self.payment_status]

