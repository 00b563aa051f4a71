"""Requisition-to-pay: one workflow per requisition, from approval until the order is closed.

approved -> supplier checked (active, not on hold, bank details valid, known to the ERP) ->
budget checked (an overrun parks for the budget owner) -> commitment in the ERP -> purchase order
issued -> receipts and invoices arrive in any order, over weeks -> each invoice: three-way match
(a variance parks that invoice on AP hold while the rest goes on) -> vendor bill posted exactly
once -> paid on its due date (or its discount date) -> payment booked in the ERP and written back
to the platform -> order closed once fully received, invoiced and paid.

``cancel_requisition`` stops it at any step before money is with the bank and compensates in
reverse: posted bills are reversed, the order cancelled, the commitment released.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.bank import BankActivities, PaymentRef
    from activities.payment_runs import PaymentQueueActivities, QueuedPayment, QueuedState
    from activities.procurement_erp import CommitmentRef, ProcurementErpActivities, VendorRef
    from activities.procurement_platform import (
        CheckedSupplier,
        InvoicePaid,
        InvoiceVoid,
        OrderRef,
        ProcurementPlatformActivities,
        RequisitionRef,
        SupplierCheckRequest,
    )
    from activities.procurement_rules import ProcurementRules
    from canonical import (
        BankAccount,
        BusinessProblem,
        CreditTransfer,
        FinanceEventType,
        Money,
        PaymentOrder,
        PaymentState,
        PaymentStatusReport,
        ProblemCode,
    )
    from canonical.keys import iso20022_id, step_key
    from canonical.money import total
    from canonical.payment import reason_text
    from canonical.procurement import (
        BillLine,
        BillPayment,
        BillReversal,
        BudgetCheck,
        BudgetRequest,
        Commitment,
        CommitmentLine,
        Invoice,
        PostedBill,
        PostedCommitment,
        ProcurementChange,
        PurchaseOrder,
        Receipt,
        Requisition,
        Supplier,
        VendorBill,
    )
    from canonical.procurement_rules import ProcurementRulebook
    from finsync.config import PaymentPurpose
    from workflows.common import search
    from workflows.common.exceptions import DatedResolution, Resolution, ResolutionAction
    from workflows.common.payments import MONEY_LEFT, PaymentInbox
    from workflows.common.process import FINSYNC, WHOLE, BusinessFailure, CancelRequested, FinanceProcess
    from workflows.common.remedies import MoneyState, unsafe_reason
    from workflows.procurement.matching import hold_problem, match_invoice
    from workflows.procurement.model import (
        PROCESS,
        SIGNAL_CHANGE,
        UPDATE_CANCEL,
        WORKFLOW_NAME,
        CancelRequest,
        InvoiceProgress,
        InvoiceStage,
        ProcurementCarry,
        ProcurementInput,
        ProcurementOutcome,
        ProcurementResolution,
        ProcurementSnapshot,
        ProcurementStatus,
    )
    from workflows.procurement.terms import payment_plan

BANK_SILENCE = timedelta(days=5)
RETRY, CANCEL = ResolutionAction.RETRY, ResolutionAction.CANCEL
ACCEPT_VARIANCE, REJECT_INVOICE = ResolutionAction.ACCEPT_VARIANCE, ResolutionAction.REJECT_INVOICE
APPROVE_OVER_BUDGET = ResolutionAction.APPROVE_OVER_BUDGET
DONE = {InvoiceStage.PAID, InvoiceStage.REJECTED}
CARRIED_TIMELINE = 20   # timeline entries a continued run keeps
BILLED = {InvoiceStage.POSTED, InvoiceStage.SCHEDULED, InvoiceStage.PAYMENT_SENT, InvoiceStage.PAID}


@workflow.defn(name=WORKFLOW_NAME)
class RequisitionToPayWorkflow(FinanceProcess, PaymentInbox):
    PROCESS = PROCESS
    RESOLUTION = ProcurementResolution

    @workflow.init
    def __init__(self, input: ProcurementInput) -> None:
        self._begin_process(business_key=input.requisition_id, correlation_id=input.correlation_id,
                            status=ProcurementStatus.APPROVED)
        self._begin_payments()
        self.input = input
        self.queues = input.task_queues
        self.requisition: Requisition | None = input.requisition
        self.supplier: Supplier | None = None
        self.payee: BankAccount | None = None
        self.order: PurchaseOrder | None = None
        self.commitment_id: str | None = None          # its external id, fixed before it is created
        self.commitment: PostedCommitment | None = None
        self.issued = False
        self.seen_changes: set[str] = set()
        self.receipts: dict[str, Receipt] = {}
        self.receipt_versions: dict[str, datetime] = {}   # when the platform last changed each receipt
        self.receipt_changes = 0
        self.invoices: dict[str, Invoice] = {}
        self.progress: dict[str, InvoiceProgress] = {}
        self.accepted: dict[str, Invoice] = {}        # invoices past the match: what later invoices are matched after
        self.cancel: CancelRequest | None = None

    # --- messages -------------------------------------------------------------------------
    @workflow.signal(name=SIGNAL_CHANGE)
    def procurement_change(self, change: ProcurementChange) -> None:
        """From the poller or the gateway; the same change seen twice counts once."""
        if change.change_id in self.seen_changes or change.requisition_id != self.input.requisition_id:
            return
        self.seen_changes.add(change.change_id)
        receipt = change.receipt
        if receipt is not None and change.occurred_at >= self.receipt_versions.get(receipt.receipt_id, change.occurred_at):
            # A late copy of an older version (the poll behind a webhook) never undoes a void.
            self.receipts[receipt.receipt_id] = receipt
            self.receipt_versions[receipt.receipt_id] = change.occurred_at
            self.receipt_changes += 1   # an invoice on hold for want of it looks again
        if change.invoice is not None and change.invoice.invoice_id not in self.invoices:
            self.invoices[change.invoice.invoice_id] = change.invoice

    @workflow.update(name=UPDATE_CANCEL)
    async def cancel_requisition(self, request: CancelRequest) -> str:
        self.cancel = request
        if WHOLE in self.open_exceptions and CANCEL in self.open_exceptions[WHOLE].actions:
            self.resolutions[WHOLE] = ProcurementResolution(action=CANCEL, resolved_by=request.requested_by,
                                                            note=request.reason)
        return f"cancellation accepted: {request.reason}"

    @cancel_requisition.validator
    def _check_cancel(self, request: CancelRequest) -> None:
        if self.business_status in (ProcurementStatus.CLOSED, ProcurementStatus.CANCELLED) or self.cancel:
            raise ValueError(f"requisition {self.input.requisition_id} is {self.business_status.value}; nothing to cancel")
        why = unsafe_reason(CANCEL, self._money_state())
        if why:
            raise ValueError(why)

    @workflow.query
    def status(self) -> ProcurementSnapshot:
        return ProcurementSnapshot(
            requisition_id=self.input.requisition_id, status=ProcurementStatus(self.business_status.value),
            entity_code=self.entity_code, supplier=self.supplier.name if self.supplier else None,
            amount=self.requisition.total if self.requisition else None,
            order_id=self.order.order_id if self.order else None, commitment=self.commitment,
            invoices=list(self.progress.values()), open_exceptions=list(self.open_exceptions.values()),
            timeline=self.timeline)

    # --- the process ------------------------------------------------------------------------
    @workflow.run
    async def run(self, input: ProcurementInput) -> ProcurementOutcome:
        self.attributes.begin(
            search.PROCESS.value_set(PROCESS), search.SOURCE_SYSTEM.value_set(input.source_system),
            search.BUSINESS_KEY.value_set(input.requisition_id),
            search.BUSINESS_STATUS.value_set(self.business_status.value))
        self.rules: ProcurementRulebook = await self._local(ProcurementRules.load_rulebook)
        try:
            if input.carried is not None:
                order = self._resume(input.carried)
            else:
                requisition = await self._read_requisition()
                await self._check_supplier(requisition)
                await self._check_budget(requisition)
                order = await self._commit(requisition)
                await self._issue(order)
            await self._settle_invoices(order)
            await self._close(order)
        except CancelRequested:
            await self._compensate()
        await self._rest()
        return ProcurementOutcome(requisition_id=input.requisition_id,
                                  status=ProcurementStatus(self.business_status.value),
                                  invoices=list(self.progress.values()))

    async def _read_requisition(self) -> Requisition:
        if self.requisition is None:
            self.requisition = await self._vendor(ProcurementPlatformActivities.fetch_requisition,
                                                  RequisitionRef(requisition_id=self.input.requisition_id),
                                                  self.queues.procurement)
        requisition = self.requisition
        self._observe_entity(requisition.entity_code)
        self._emit(FinanceEventType.APPROVED, f"Requisition {requisition.requisition_id} '{requisition.title}' approved "
                   f"for {requisition.total}", amount=requisition.total)
        self._set(ProcurementStatus.APPROVED, f"Approved for {requisition.total}")
        return requisition

    async def _check_supplier(self, requisition: Requisition) -> None:
        """Active, not on hold, bank details that a bank will take, and known to the ERP."""
        while True:
            self._stop_if_cancelled()
            checked: CheckedSupplier = await self._vendor(ProcurementPlatformActivities.check_supplier, SupplierCheckRequest(
                supplier_id=requisition.supplier_id, currency=requisition.currency), self.queues.procurement)
            supplier = self.supplier = checked.supplier
            self.attributes.set(search.COUNTERPARTY.value_set(supplier.number))
            problem = _one_problem(checked.check.problems)
            if problem is None and not await self._vendor(ProcurementErpActivities.supplier_known, VendorRef(
                    supplier_number=supplier.number, entity_code=requisition.entity_code), self.queues.erp):
                problem = BusinessProblem(
                    code=ProblemCode.SUPPLIER_UNKNOWN_IN_ERP, system="erp", subject=supplier.number, reason=(
                        f"Supplier {supplier.name} ({supplier.number}) is not an active vendor of "
                        f"{requisition.entity_code} in the ERP: create or activate the vendor there, then retry."))
            if problem is None:
                self.payee = checked.check.account
                self._set(ProcurementStatus.SUPPLIER_CHECKED, f"Supplier {supplier.name} checked")
                return
            await self._park_or_cancel(problem, "supplier check")

    async def _check_budget(self, requisition: Requisition) -> None:
        """Each cost center and account must have the budget for its lines in this period; an
        overrun waits for the budget owner: approve over budget (with a reason) or reject."""
        by_coding: dict[tuple[str, str, str], list[Money]] = {}
        for line in requisition.lines:
            key = (line.coding.entity_code, line.coding.cost_center, line.coding.gl_account)
            by_coding.setdefault(key, []).append(line.amount)
        codings = {(ln.coding.entity_code, ln.coding.cost_center, ln.coding.gl_account): ln.coding
                   for ln in requisition.lines}
        request = BudgetRequest(entity_code=requisition.entity_code, on=workflow.now().date(), lines=[
            (codings[key], total(amounts, requisition.currency)) for key, amounts in sorted(by_coding.items())])
        while True:
            self._stop_if_cancelled()
            check: BudgetCheck = await self._vendor(ProcurementErpActivities.check_budget, request, self.queues.erp)
            if not check.short:
                self._set(ProcurementStatus.BUDGET_CHECKED, "Within budget")
                return
            overruns = "; ".join(f"{ln.coding.cost_center} / {ln.coding.gl_account}: {ln.requested} requested, "
                                 f"{ln.available} available (short {ln.shortfall})" for ln in check.short)
            resolution = await self._park_or_cancel(BusinessProblem(
                code=ProblemCode.BUDGET_INSUFFICIENT, system="erp", subject=check.short[0].coding.cost_center, reason=(
                    f"Requisition {requisition.requisition_id} exceeds the budget: {overruns}. The budget owner "
                    "approves it over budget with a reason, or rejects it (cancel).")),
                "budget check")
            if resolution.action is APPROVE_OVER_BUDGET:
                self._set(ProcurementStatus.BUDGET_CHECKED, f"Approved over budget by {resolution.resolved_by}: "
                          f"{resolution.note}")
                return

    async def _commit(self, requisition: Requisition) -> PurchaseOrder:
        """The order the platform made from the requisition, committed in the ERP exactly once."""
        ref = RequisitionRef(requisition_id=requisition.requisition_id)
        while True:
            self._stop_if_cancelled()
            order: PurchaseOrder | None = await self._vendor(ProcurementPlatformActivities.order_for_requisition, ref,
                                                             self.queues.procurement)
            if order is not None:
                break
            await self._park_or_cancel(BusinessProblem(
                code=ProblemCode.ORDER_MISSING, system="procurement", subject=requisition.requisition_id, reason=(
                    f"The procurement platform has no purchase order for approved requisition "
                    f"{requisition.requisition_id}. Have purchasing create it, then retry.")), "purchase order", [RETRY, CANCEL])
        self.order = order
        assert self.supplier is not None
        self.commitment_id = step_key(workflow.info().workflow_id, "commitment")
        posted = await self._vendor(ProcurementErpActivities.create_commitment, Commitment(
            external_id=self.commitment_id, supplier_number=self.supplier.number, entity_code=requisition.entity_code,
            order_number=order.order_number, order_date=workflow.now().date(), currency=order.currency,
            memo=f"PO {order.order_number} for requisition {requisition.requisition_id}",
            lines=[CommitmentLine(line_key=line.line_id, description=line.description, coding=line.coding,
                                  amount=line.amount) for line in order.lines]), self.queues.erp)
        self.commitment = posted
        self._emit(FinanceEventType.COMMITTED, f"Purchase order {order.order_number} committed in the ERP as "
                   f"{posted.document_number} for {order.total}", amount=order.total,
                   data={"external_id": posted.external_id, "erp_id": posted.erp_id})
        self._set(ProcurementStatus.COMMITTED, f"Committed as {posted.document_number}")
        return order

    async def _issue(self, order: PurchaseOrder) -> None:
        self._stop_if_cancelled()
        await self._vendor(ProcurementPlatformActivities.issue_order, OrderRef(order_id=order.order_id),
                           self.queues.procurement)
        self.issued = True
        self._emit(FinanceEventType.ORDERED, f"Purchase order {order.order_number} issued to "
                   f"{self.supplier.name if self.supplier else order.supplier_id}", amount=order.total)
        self._set(ProcurementStatus.ORDERED, f"Order {order.order_number} issued; waiting for receipts and invoices")

    # --- invoices --------------------------------------------------------------------------
    async def _settle_invoices(self, order: PurchaseOrder) -> None:
        """Each invoice goes its own way (one on AP hold does not hold the others) until the
        order is fully invoiced and every invoice paid or rejected."""
        tasks: dict[str, asyncio.Task[None]] = {
            invoice_id: asyncio.create_task(self._invoice_until_stopped(order, self.invoices[invoice_id]))
            for invoice_id, progress in self.progress.items() if progress.stage not in DONE}   # a continued run
        while True:
            await self._wait_forever(lambda: self.cancel is not None or self._new_invoices() != []
                                     or self._complete(order, tasks) or self._time_to_continue(tasks))
            if self.cancel is not None:
                # Each invoice stops at its next step (a parked one at once); then compensation
                # sees exactly what was done.
                await workflow.wait_condition(lambda: all(task.done() for task in tasks.values()))
                raise CancelRequested()
            if self._complete(order, tasks):
                for task in tasks.values():
                    task.result()   # a task's failure fails the run here, not silently
                return
            if self._time_to_continue(tasks):
                await self._continue_as_new(order)
            for invoice_id in self._new_invoices():
                invoice = self.invoices[invoice_id]
                self.progress[invoice_id] = InvoiceProgress(invoice_id=invoice_id, invoice_number=invoice.invoice_number,
                                                            amount=invoice.total)
                tasks[invoice_id] = asyncio.create_task(self._invoice_until_stopped(order, invoice))

    def _new_invoices(self) -> list[str]:
        return [invoice_id for invoice_id in self.invoices if invoice_id not in self.progress]

    def _complete(self, order: PurchaseOrder, tasks: dict[str, asyncio.Task[None]]) -> bool:
        """Fully invoiced (every ordered quantity billed by accepted invoices) and nothing left to pay."""
        if not all(task.done() for task in tasks.values()) or not self.progress:
            return False
        billed: dict[str, Decimal] = {}
        for invoice in self.accepted.values():
            for line in invoice.lines:
                if line.order_line_id:
                    billed[line.order_line_id] = billed.get(line.order_line_id, Decimal(0)) + line.quantity.value
        return all(billed.get(line.line_id, Decimal(0)) >= line.quantity.value for line in order.lines)

    async def _invoice_until_stopped(self, order: PurchaseOrder, invoice: Invoice) -> None:
        try:
            await self._settle_invoice(order, invoice)
        except CancelRequested:
            return   # the requisition is being cancelled: compensation takes it from here

    async def _settle_invoice(self, order: PurchaseOrder, invoice: Invoice) -> None:
        item = f"invoice {invoice.invoice_number}"
        progress = self.progress[invoice.invoice_id]
        if progress.bill is None:
            if not await self._matched(order, invoice, item, progress):
                return
            self.accepted[invoice.invoice_id] = invoice
            posted = await self._post_bill(order, invoice, item, progress)
            if posted is None:
                del self.accepted[invoice.invoice_id]
                return
            bill = posted
        else:
            bill = progress.bill                      # a continued run: matched and billed before
        plan = payment_plan(invoice, supplier_terms=self.supplier.payment_terms if self.supplier else None,
                            default=self.rules.default_terms, take_discounts=self.rules.take_discounts)
        pay_on = plan.pay_on(workflow.now().date())
        amount, discount = plan.amount_on(pay_on), plan.discount_on(pay_on)
        progress.pay_on, progress.discount = pay_on, discount
        progress.stage = InvoiceStage.SCHEDULED
        self._emit(FinanceEventType.PAYMENT_SCHEDULED, f"Invoice {invoice.invoice_number} to be paid {amount} on "
                   f"{pay_on}" + (f" (discount {discount} taken)" if not discount.is_zero else ""),
                   amount=amount, data={"invoice_id": invoice.invoice_id, "pay_on": pay_on.isoformat()})
        await self._until(pay_on)
        self._stop_if_cancelled()
        settled = await self._pay(invoice, amount, item, progress)
        await self._book_payment(invoice, bill, settled, discount, item, progress)

    async def _matched(self, order: PurchaseOrder, invoice: Invoice, item: str, progress: InvoiceProgress) -> bool:
        """Three-way match; a variance puts the invoice on AP hold until a clerk accepts it, rejects
        the invoice (voided in the platform) or retries, or until a receipt comes in: then it is
        matched again by itself (receipts and invoices arrive in any order)."""
        while True:
            result = match_invoice(invoice, order, list(self.receipts.values()), list(self.accepted.values()),
                                   self.rules.tolerance_for(self.entity_code or ""))
            if result.matched:
                self._emit(FinanceEventType.MATCHED, f"Invoice {invoice.invoice_number} matches order "
                           f"{order.order_number} and its receipts", amount=invoice.total)
                return True
            progress.stage = InvoiceStage.ON_HOLD
            resolution = await self._park(hold_problem(result), "three-way match", item=item,
                                          cleared=self._receipt_after(self.receipt_changes))
            progress.stage = InvoiceStage.RECEIVED
            if resolution.action is ACCEPT_VARIANCE:
                return True
            if resolution.action is REJECT_INVOICE:
                await self._reject(invoice, resolution, item, progress)
                return False
            if resolution.resolved_by != FINSYNC:   # a clerk's retry: read the receipts the platform has now
                fresh: list[Receipt] = await self._vendor(ProcurementPlatformActivities.fetch_receipts, OrderRef(
                    order_id=order.order_id), self.queues.procurement, item=item)
                self.receipts.update({receipt.receipt_id: receipt for receipt in fresh})

    async def _reject(self, invoice: Invoice, resolution: Resolution, item: str, progress: InvoiceProgress) -> None:
        """AP rejects the invoice: voided in the platform, never billed."""
        await self._vendor(ProcurementPlatformActivities.void_invoice, InvoiceVoid(
            invoice_id=invoice.invoice_id, reason=f"Rejected by {resolution.resolved_by}: {resolution.note}"),
            self.queues.procurement, item=item)
        progress.stage = InvoiceStage.REJECTED
        self._emit(FinanceEventType.REJECTED, f"Invoice {invoice.invoice_number} rejected and voided", amount=invoice.total)

    def _receipt_after(self, seen: int) -> Callable[[], bool]:
        """True once a receipt has changed since ``seen`` changes."""
        return lambda: self.receipt_changes != seen

    async def _post_bill(self, order: PurchaseOrder, invoice: Invoice, item: str,
                         progress: InvoiceProgress) -> PostedBill | None:
        """The vendor bill, exactly once; a refusal holds this invoice: retried, posted on another
        date (a closed period), or rejected (voided in the platform; None)."""
        assert self.supplier is not None and self.commitment_id is not None
        terms = invoice.payment_terms or self.supplier.payment_terms or self.rules.default_terms
        lines = []
        for line in invoice.lines:
            ordered = order.line(line.order_line_id or "")
            coding = ordered.coding if ordered else order.lines[0].coding
            lines.append(BillLine(line_key=line.line_id, order_line_key=line.order_line_id or order.lines[0].line_id,
                                  description=line.description, coding=coding, amount=line.amount))
        bill = VendorBill(
            external_id=step_key(workflow.info().workflow_id, f"bill-{invoice.invoice_id}"),
            supplier_number=self.supplier.number, entity_code=self.entity_code or "", invoice_number=invoice.invoice_number,
            invoice_date=invoice.invoice_date, posting_date=workflow.now().date(), due_date=terms.due_date(invoice.invoice_date),
            currency=invoice.currency, commitment_external_id=self.commitment_id,
            memo=f"Invoice {invoice.invoice_number} on PO {order.order_number}", lines=lines)
        while True:
            try:
                posted: PostedBill = await self._vendor_once(ProcurementErpActivities.post_bill, bill, self.queues.erp)
                break
            except BusinessFailure as failure:
                resolution = await self._park(failure.problem, "vendor bill", item=item)
                if resolution.action is REJECT_INVOICE:
                    await self._reject(invoice, resolution, item, progress)
                    return None
                if isinstance(resolution, DatedResolution) and resolution.posting_date:
                    bill = bill.model_copy(update={"posting_date": resolution.posting_date})
        progress.bill, progress.stage = posted, InvoiceStage.POSTED
        self._emit(FinanceEventType.POSTED, f"Vendor bill {posted.document_number} posted for invoice "
                   f"{invoice.invoice_number}: {posted.amount}", amount=posted.amount,
                   data={"external_id": posted.external_id, "erp_id": posted.erp_id, "invoice_id": invoice.invoice_id})
        return posted

    async def _until(self, day: date) -> None:
        """Wait (a durable timer) until the payment day, or until the requisition is cancelled."""
        start = workflow.now()
        due = start.replace(year=day.year, month=day.month, day=day.day, hour=0, minute=0, second=0, microsecond=0)
        if due > start:
            await self._wait(lambda: self.cancel is not None, due - start)

    async def _pay(self, invoice: Invoice, amount: Money, item: str, progress: InvoiceProgress) -> PaymentStatusReport:
        """Pay the invoice until the bank settles it; a rejection parks this invoice only."""
        attempt = 1
        while True:
            creditor = self.payee
            debtor = self.rules.payment_account(self.entity_code or "", amount.currency)
            if debtor is None or creditor is None:
                await self._park(BusinessProblem(
                    code=ProblemCode.PAYOUT_ACCOUNT_MISSING, system="finsync", subject=f"{self.entity_code} {amount.currency}",
                    reason=f"Entity {self.entity_code} has no account to pay suppliers in {amount.currency} from: add one "
                           f"under [bank] debtor_accounts, then retry."), "payment", [RETRY], item=item)
                self.rules = await self._local(ProcurementRules.load_rulebook)
                continue
            self._stop_if_cancelled()
            progress.stage = InvoiceStage.PAYMENT_SENT   # from here on the money may leave: cancel is refused
            queued = QueuedPayment(owner_workflow_id=workflow.info().workflow_id,
                                   purpose=PaymentPurpose.SUPPLIER_PAYMENTS, order=PaymentOrder(
                debtor_entity=self.entity_code or "", debtor_name=debtor.holder_name, debtor_account=debtor,
                requested_execution_date=workflow.now().date(), transfer=CreditTransfer(
                    end_to_end_id=iso20022_id("FSE", self.input.requisition_id, f"{invoice.invoice_id}P{attempt}"),
                    creditor=creditor, amount=amount, remittance_info=f"Invoice {invoice.invoice_number}"[:140])))
            await self._local(PaymentQueueActivities.enqueue_payment, queued)
            e2e = queued.order.transfer.end_to_end_id
            self._emit(FinanceEventType.PAYMENT_SENT, f"{amount} for invoice {invoice.invoice_number} queued for the "
                       f"next payment run ({e2e})", amount=amount, data={"end_to_end_id": e2e})
            outcome = await self._bank_outcome(queued, item)
            progress.payment = outcome
            if outcome.state in MONEY_LEFT:
                return outcome
            await self._park(BusinessProblem(
                code=ProblemCode.PAYMENT_REJECTED, system="bank", subject=creditor.account_id, vendor_code=outcome.reason_code,
                reason=(f"The bank rejected the payment of {amount} for invoice {invoice.invoice_number} to account "
                        f"{creditor.account_id}: {reason_text(outcome.reason_code)} ({outcome.reason_code}). Correct the "
                        "supplier's bank details in the procurement platform, then retry.")), "payment", [RETRY], item=item)
            attempt += 1
            assert self.supplier is not None
            refreshed: CheckedSupplier = await self._vendor(ProcurementPlatformActivities.check_supplier, SupplierCheckRequest(
                supplier_id=self.supplier.supplier_id, currency=amount.currency), self.queues.procurement, item=item)
            self.payee = refreshed.check.account or self.payee

    async def _bank_outcome(self, queued: QueuedPayment, item: str) -> PaymentStatusReport:
        """The bank's word on the payment, signalled by the gateway once a run sent its file; after
        days of silence, where the payment stands in the queue and, once in a file, at the bank."""
        e2e, amount = queued.order.transfer.end_to_end_id, queued.order.transfer.amount
        while not await self._wait(lambda: self._settled_or_refused(e2e), BANK_SILENCE):
            state: QueuedState = await self._local(PaymentQueueActivities.enqueue_payment, queued)
            where = f"it is {state.state.value} in the payment queue"
            if state.message_id is not None:
                lookup: PaymentStatusReport = await self._vendor(BankActivities.payment_status, PaymentRef(
                    message_id=state.message_id, end_to_end_id=e2e), self.queues.bank, item=item)
                self.payment_status(lookup)
                if self._settled_or_refused(e2e):
                    break
                where = f"the bank's last status is {lookup.bank_status_code or lookup.state.value}"
            await self._park(BusinessProblem(code=ProblemCode.BANK_SILENT, system="bank", subject=e2e, reason=(
                f"The bank has not confirmed payment {e2e} ({amount}) within {BANK_SILENCE.days} days; {where}. "
                "Check the payment runs (finsync exceptions list) and with the bank, then retry.")),
                "payment", [RETRY], item=item)
        return self.bank_reports[e2e]

    def _settled_or_refused(self, e2e: str) -> bool:
        report = self.bank_reports.get(e2e)
        return report is not None and report.state in (PaymentState.SETTLED, PaymentState.REJECTED, PaymentState.RETURNED)

    async def _book_payment(self, invoice: Invoice, bill: PostedBill, settled: PaymentStatusReport, discount: Money,
                            item: str, progress: InvoiceProgress) -> None:
        """The bill payment in the ERP (payable cleared, discount taken), then the platform is told."""
        debtor = self.rules.payment_account(self.entity_code or "", bill.amount.currency)
        assert debtor is not None
        paid_on = settled.booking_date or workflow.now().date()
        amount = settled.amount or bill.amount - discount
        booked = await self._vendor(ProcurementErpActivities.pay_bill, BillPayment(
            external_id=f"{settled.end_to_end_id}:bill-payment", bill_erp_id=bill.erp_id, bank_gl_account=debtor.gl_account,
            paid_on=paid_on, amount=amount, discount=discount), self.queues.erp, item=item)
        progress.booked_payment = booked
        await self._vendor(ProcurementPlatformActivities.record_invoice_payment, InvoicePaid(
            invoice_id=invoice.invoice_id, amount=amount, paid_on=paid_on, note=f"finsync {settled.end_to_end_id}"),
            self.queues.procurement, item=item)
        progress.stage = InvoiceStage.PAID
        self._emit(FinanceEventType.PAID, f"Invoice {invoice.invoice_number} paid {amount}"
                   + (f" after a discount of {discount}" if not discount.is_zero else "")
                   + f"; booked as {booked.document_number}", amount=amount,
                   data={"invoice_id": invoice.invoice_id, "end_to_end_id": settled.end_to_end_id, "erp_id": booked.erp_id})

    # --- a long run continues as new ------------------------------------------------------------
    def _time_to_continue(self, tasks: dict[str, asyncio.Task[None]]) -> bool:
        """History is long (the SDK says so, or past the input's limit) and every invoice is at a
        point a new run can take up from its progress alone: done, or waiting for its payment
        date. A parked or paying invoice waits; its wait adds almost nothing to the history."""
        info = workflow.info()
        limit = self.input.history_limit
        long = info.is_continue_as_new_suggested() or (limit is not None and info.get_current_history_length() >= limit)
        return long and all(task.done() or self.progress[invoice_id].stage is InvoiceStage.SCHEDULED
                            for invoice_id, task in tasks.items())

    async def _continue_as_new(self, order: PurchaseOrder) -> None:
        """Hand everything to a new run of this workflow id. The state is taken after the last
        await, once no message handler is mid-way: a signal that lands meanwhile is carried too."""
        self._emit(FinanceEventType.CONTINUED, f"Requisition {self.input.requisition_id} continues in a new run "
                   f"({workflow.info().get_current_history_length()} history events)")
        await self._rest()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.cancel is not None:
            return          # cancelled meanwhile: the main loop compensates in this run
        assert self.requisition and self.supplier and self.commitment and self.commitment_id and self.entity_code
        carried = ProcurementCarry(
            requisition=self.requisition, supplier=self.supplier, payee=self.payee, order=order,
            commitment_id=self.commitment_id, commitment=self.commitment, entity_code=self.entity_code,
            seen_changes=sorted(self.seen_changes), receipts=list(self.receipts.values()),
            receipt_versions=self.receipt_versions,
            invoices=list(self.invoices.values()), progress=list(self.progress.values()), accepted=list(self.accepted),
            bank_reports=list(self.bank_reports.values()), timeline=self.timeline[-CARRIED_TIMELINE:])
        workflow.continue_as_new(self.input.model_copy(update={"carried": carried, "requisition": None}))

    def _resume(self, carried: ProcurementCarry) -> PurchaseOrder:
        """Take up where the earlier run stopped (see ``_continue_as_new``)."""
        self.requisition, self.supplier, self.payee = carried.requisition, carried.supplier, carried.payee
        self.order, self.issued = carried.order, True
        self.commitment_id, self.commitment, self.entity_code = carried.commitment_id, carried.commitment, carried.entity_code
        self.seen_changes = set(carried.seen_changes)
        self.receipts = {receipt.receipt_id: receipt for receipt in carried.receipts}
        self.receipt_versions = dict(carried.receipt_versions)
        self.invoices = {invoice.invoice_id: invoice for invoice in carried.invoices}
        self.progress = {progress.invoice_id: progress for progress in carried.progress}
        self.accepted = {invoice_id: self.invoices[invoice_id] for invoice_id in carried.accepted}
        self.bank_reports = {report.end_to_end_id: report for report in carried.bank_reports}
        self.timeline = list(carried.timeline)
        self._set(ProcurementStatus.ORDERED, f"Continued from an earlier run: {len(self.progress)} invoices so far")
        return carried.order

    # --- the end ------------------------------------------------------------------------------
    async def _close(self, order: PurchaseOrder) -> None:
        """Fully received, invoiced and paid: close the order and release what is left of the commitment."""
        self._set(ProcurementStatus.PAYING, "Every invoice settled; closing the order")
        await self._vendor(ProcurementPlatformActivities.close_order, OrderRef(order_id=order.order_id),
                           self.queues.procurement)
        assert self.commitment_id is not None
        await self._vendor(ProcurementErpActivities.release_commitment, CommitmentRef(external_id=self.commitment_id),
                           self.queues.erp)
        self._emit(FinanceEventType.CLOSED, f"Purchase order {order.order_number} closed: received, invoiced and paid")
        self._set(ProcurementStatus.CLOSED, f"Order {order.order_number} closed")

    async def _compensate(self) -> None:
        """Undo in reverse order what was done: bills reversed, order cancelled, commitment released."""
        reason = self.cancel.reason if self.cancel else "cancelled by finance"
        for progress in reversed(list(self.progress.values())):
            if progress.bill is not None and progress.stage in (InvoiceStage.POSTED, InvoiceStage.SCHEDULED):
                reversal = await self._vendor_retrying(ProcurementErpActivities.reverse_bill, BillReversal(
                    external_id=f"{progress.bill.external_id}:reversal", bill_erp_id=progress.bill.erp_id,
                    on=workflow.now().date(), memo=f"Requisition cancelled: {reason}"), self.queues.erp)
                progress.reversal, progress.stage = reversal, InvoiceStage.REJECTED
                self._emit(FinanceEventType.REVERSED, f"Vendor bill {progress.bill.document_number} reversed by "
                           f"{reversal.document_number}", amount=progress.bill.amount)
        if self.order is not None and self.issued:
            await self._vendor_retrying(ProcurementPlatformActivities.cancel_order, OrderRef(order_id=self.order.order_id),
                                        self.queues.procurement)
        if self.commitment is not None and self.commitment_id is not None:
            await self._vendor_retrying(ProcurementErpActivities.release_commitment,
                                        CommitmentRef(external_id=self.commitment_id), self.queues.erp)
        self._emit(FinanceEventType.CANCELLED, f"Requisition cancelled: {reason}; nothing will be paid")
        self._set(ProcurementStatus.CANCELLED, f"Cancelled: {reason}")

    async def _vendor_retrying(self, activity: Callable[..., Awaitable[Any]], arg: Any, task_queue: str) -> Any:
        """A compensation step: a refusal parks with retry only (cancelling is what got us here)."""
        while True:
            try:
                return await self._vendor_once(activity, arg, task_queue)
            except BusinessFailure as failure:
                await self._park(failure.problem, "cancellation", [RETRY])

    # --- plumbing -------------------------------------------------------------------------------
    async def _park_or_cancel(self, problem: BusinessProblem, step: str,
                              actions: list[ResolutionAction] | None = None) -> Resolution:
        resolution = await self._park(problem, step, actions)
        if resolution.action is CANCEL:
            raise CancelRequested()
        return resolution

    def _interrupted(self) -> bool:
        return self.cancel is not None

    def _item_actions(self, actions: list[ResolutionAction]) -> list[ResolutionAction]:
        """One invoice's problem never stops the purchase: that is ``cancel_requisition``'s business."""
        return [action for action in actions if action is not CANCEL]

    def _stop_if_cancelled(self) -> None:
        if self.cancel is not None:
            raise CancelRequested()

    def _money_state(self, item: str = WHOLE) -> MoneyState:
        """Where the requisition's money is: per invoice for an invoice's exception, else over all."""
        progresses = [p for p in self.progress.values() if not item or f"invoice {p.invoice_number}" == item]
        states = [self.bank_reports[p.payment.end_to_end_id].state for p in progresses
                  if p.payment is not None and p.payment.end_to_end_id in self.bank_reports]
        sent = [p for p in progresses if p.stage is InvoiceStage.PAYMENT_SENT]
        if any(state in MONEY_LEFT for state in states) or any(p.stage is InvoiceStage.PAID for p in progresses):
            return MoneyState.PAID_OUT
        if sent:
            return MoneyState.PAYMENT_WITH_BANK
        if any(p.stage in BILLED for p in progresses):
            return MoneyState.BOOKED
        return MoneyState.NOTHING_BOOKED

    def _counterparty(self) -> str | None:
        return self.supplier.name if self.supplier else None

    def _amount(self) -> Money | None:
        return self.requisition.total if self.requisition else None

    def _headline(self) -> str:
        """Requisition, supplier, amount, entity: the line that identifies it in the Web UI."""
        parts = [f"Requisition {self.input.requisition_id}"]
        if self.supplier:
            parts.append(self.supplier.name)
        if self.requisition:
            parts.append(str(self.requisition.total))
        if self.entity_code:
            parts.append(self.entity_code)
        return " · ".join(parts)


def _one_problem(problems: list[BusinessProblem]) -> BusinessProblem | None:
    """Every reason a supplier cannot be paid, parked as one problem under the first one's code."""
    if not problems:
        return None
    first = problems[0]
    return first.model_copy(update={"reason": " ".join(problem.reason for problem in problems)})
