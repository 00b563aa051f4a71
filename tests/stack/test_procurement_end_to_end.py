"""Requisition-to-pay through the whole stack on the real dev server: Coupa-shaped sandbox polled,
NetSuite-shaped ERP, the payment run's pain.001 to the bank, the bank's reports through the gateway."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal

from temporalio.client import WorkflowHandle

from activities.sweep import SweepResult
from canonical.procurement import InvoiceStatus
from connectors import registry
from finsync.exception_queue import ResolutionRefused, parked, resolve
from sandboxes.coupa.driver import InvoiceLine, RequisitionLine
from tests.stack.conftest import Stack
from workflows.payments.model import RunInput
from workflows.payments.run import PaymentRunWorkflow
from workflows.procurement.model import InvoiceStage, ProcurementSnapshot, ProcurementStatus, workflow_id
from workflows.procurement.poll import PollInput, ProcurementPollWorkflow
from workflows.procurement.workflow import RequisitionToPayWorkflow


async def poll(stack: Stack) -> SweepResult:
    """One tick of the poll schedule."""
    return await stack.client.execute_workflow(
        ProcurementPollWorkflow.run, PollInput(procurement_task_queue=stack.settings.procurement.task_queue),
        id=f"test-procurement-poll-{uuid.uuid4().hex[:8]}", task_queue=stack.settings.temporal.workflow_task_queue)


async def payment_run(stack: Stack) -> None:
    """One slot of the payment run schedule."""
    await stack.client.execute_workflow(
        PaymentRunWorkflow.run, RunInput(bank_task_queue=stack.settings.bank.task_queue),
        id=f"payment-run-test-{uuid.uuid4().hex[:8]}", task_queue=stack.settings.temporal.workflow_task_queue)


async def until(handle: WorkflowHandle, predicate, timeout: float = 60.0) -> ProcurementSnapshot:  # noqa: ANN001
    """Poll the status query until the predicate holds; the deadline only stops a test gone wrong."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            snap = await handle.query(RequisitionToPayWorkflow.status)
            if predicate(snap):
                return snap
        except Exception:   # not started yet  # noqa: BLE001
            snap = None
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out; last {snap.status if snap else 'not started'}: "
                                 f"{snap.timeline[-3:] if snap else ''}")
        await asyncio.sleep(0.2)


async def test_a_requisition_is_ordered_invoiced_paid_in_a_payment_run_and_closed(stack: Stack) -> None:
    coupa = stack.coupa
    created = await coupa.submit_requisition("E1001", "US01", "USD", [RequisitionLine(
        description="Office chair", quantity="4", unit_price="189.50", supplier="SUP-100", entity="US01",
        cost_center="CC-1000", gl_account="6300")], justification="stack test")
    requisition_id = str(created["id"])
    await coupa.approve(created["id"])
    assert (await poll(stack)).started >= 1
    handle = stack.client.get_workflow_handle(workflow_id("coupa", requisition_id))
    ordered = await until(handle, lambda s: s.status is ProcurementStatus.ORDERED)
    assert ordered.supplier == "Northwind Office Supply" and ordered.entity_code == "US01"
    assert (await (await handle.describe()).static_summary() or "").startswith(f"Requisition {requisition_id}")

    (order,) = await coupa.purchase_orders(created["id"])
    line = order["order-lines"][0]
    await coupa.receive(line["id"], "4")
    invoice = await coupa.send_invoice("SUP-100", f"NW-{requisition_id}", date.today() - timedelta(days=35), "USD",
                                       [InvoiceLine(order_line_id=line["id"], quantity="4", price="189.50")])
    # The sandbox's signed event reaches the gateway; the poller sees the same invoice twice more.
    await poll(stack)
    await poll(stack)
    queued = await until(handle, lambda s: bool(s.invoices) and s.invoices[0].stage is InvoiceStage.PAYMENT_SENT)
    assert len(queued.invoices) == 1 and queued.invoices[0].bill is not None

    await payment_run(stack)
    closed = await until(handle, lambda s: s.status is ProcurementStatus.CLOSED)
    (paid,) = closed.invoices
    assert paid.stage is InvoiceStage.PAID and paid.payment is not None
    assert paid.payment.amount is not None and paid.payment.amount.amount == Decimal("758.00")
    events = [row.type for row in stack.store.events(workflow_id=handle.id)]
    assert events.count("posted") == 1 and events.count("paid") == 1 and events.count("matched") == 1

    platform = registry.build(stack.settings.procurement)
    try:
        in_coupa = await platform.get_invoice(str(invoice["id"]))
    finally:
        await platform.aclose()
    assert in_coupa.status is InvoiceStatus.PAID


async def test_an_invoice_on_ap_hold_is_in_the_exception_queue_and_resolved_there(stack: Stack) -> None:
    coupa = stack.coupa
    created = await coupa.submit_requisition("E1002", "US01", "USD", [RequisitionLine(
        description="Monitor", quantity="2", unit_price="310.00", supplier="SUP-100", entity="US01",
        cost_center="CC-1000", gl_account="6310")], justification="stack test, AP hold")
    await coupa.approve(created["id"])
    await poll(stack)
    handle = stack.client.get_workflow_handle(workflow_id("coupa", str(created["id"])))
    await until(handle, lambda s: s.status is ProcurementStatus.ORDERED)
    (order,) = await coupa.purchase_orders(created["id"])
    line = order["order-lines"][0]
    await coupa.receive(line["id"], "2")
    await coupa.send_invoice("SUP-100", f"NW-{created['id']}", date.today() - timedelta(days=35), "USD",
                             [InvoiceLine(order_line_id=line["id"], quantity="2", price="340.00")])   # 9.7 % over
    await poll(stack)
    await until(handle, lambda s: any(e.problem.code == "INVOICE_MISMATCH" for e in s.open_exceptions))

    items = [item for item in await parked(stack.client, process="procurement") if item.workflow_id == handle.id]
    (item,) = items
    assert item.view is not None and item.view.counterparty == "Northwind Office Supply"
    (exception,) = item.view.open_exceptions
    assert exception.item == f"invoice NW-{created['id']}" and "USD 340.00" in exception.problem.reason
    refused = None
    try:
        await resolve(stack.client, handle.id, {"action": "cancel", "resolved_by": "ap.clerk"})
    except ResolutionRefused as error:
        refused = str(error)
    assert refused is not None and "cancel does not apply to INVOICE_MISMATCH" in refused
    await resolve(stack.client, handle.id, {"action": "accept_variance", "resolved_by": "ap.clerk",
                                            "note": "new list price agreed", "item": exception.item})
    queued = await until(handle, lambda s: s.invoices[0].stage is InvoiceStage.PAYMENT_SENT)
    assert not queued.open_exceptions and queued.status is ProcurementStatus.ORDERED
