"""Requisition-to-pay on the time-skipping server: payment dates, AP hold, budget, cancellation."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from canonical.procurement import OrderStatus, PaymentTerms
from tests.workflows.procurement.harness import Run, running
from tests.workflows.procurement.world import NORTHWIND, World, usd
from workflows.common import search
from workflows.common.exceptions import ResolutionAction
from workflows.procurement.model import InvoiceStage, ProcurementStatus


async def _today(run: Run) -> date:
    return (await run.env.get_current_time()).date()


async def _refused(update: Awaitable[str]) -> str:
    """Why the workflow's validator refused an update (nothing was written)."""
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await update
    return str(error.value.cause)


async def _paid(run: Run) -> None:
    await run.result()
    assert (await run.snapshot()).status is ProcurementStatus.CLOSED


async def test_an_invoice_with_a_discount_is_paid_on_its_discount_date_net_of_the_discount(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World()
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        invoiced_on = await _today(run)
        await run.received(world.receipt("r1", "4"))
        await run.invoiced(world.invoice("i1", "4", invoice_date=invoiced_on))
        await _paid(run)

    (payment,) = world.payments.values()
    assert payment.order.transfer.amount == usd("4900.00")                         # 5,000.00 less 2 %
    assert world.payment_days[payment.order.transfer.end_to_end_id] == invoiced_on + timedelta(days=10)
    (booked,) = world.bill_payments.values()
    assert (booked.amount, booked.discount) == (usd("4900.00"), usd("100.00"))
    assert world.written_back["i1"].amount == usd("4900.00")
    assert world.order_status is OrderStatus.CLOSED and world.released == list(world.commitments)
    assert {"committed", "ordered", "matched", "posted", "payment_scheduled", "paid", "closed"} <= set(run.event_types())


async def test_without_a_discount_the_invoice_is_paid_on_its_due_date_30_days_out(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World(supplier=NORTHWIND.model_copy(update={"payment_terms": PaymentTerms.parse("net 30")}))
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        invoiced_on = await _today(run)
        await run.received(world.receipt("r1", "4"))
        await run.invoiced(world.invoice("i1", "4", invoice_date=invoiced_on))
        scheduled = await run.until(lambda s: bool(s.invoices) and s.invoices[0].stage is InvoiceStage.SCHEDULED)
        assert scheduled.invoices[0].pay_on == invoiced_on + timedelta(days=30)
        assert world.payments == {}                                  # not a day early
        await _paid(run)
    (payment,) = world.payments.values()
    assert payment.order.transfer.amount == usd("5000.00")
    assert world.payment_days[payment.order.transfer.end_to_end_id] == invoiced_on + timedelta(days=30)


async def test_a_price_variance_holds_only_that_invoice_until_ap_accepts_it_with_a_reason(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World()
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        await run.received(world.receipt("r1", "4"))
        await run.invoiced(world.invoice("i1", "2"))
        await run.invoiced(world.invoice("i2", "2", price="1290.00"))   # 3.2 % and USD 40 a unit over the order
        held = await run.parked_on("INVOICE_MISMATCH")
        (exception,) = held.open_exceptions
        assert exception.item == "invoice INV-i2"
        assert "USD 1,290.00" in exception.problem.reason and "USD 1,250.00" in exception.problem.reason, \
            exception.problem.reason
        others = {p.invoice_id: p.stage for p in held.invoices}
        assert others["i2"] is InvoiceStage.ON_HOLD and others["i1"] is not InvoiceStage.ON_HOLD

        assert "accept_variance needs a reason" in await _refused(run.resolve(ResolutionAction.ACCEPT_VARIANCE))
        await run.resolve(ResolutionAction.ACCEPT_VARIANCE, note="price increase agreed by purchasing")
        await _paid(run)
    assert sorted(str(b.total) for b in world.bills.values()) == ["USD 2,500.00", "USD 2,580.00"]


async def test_an_invoice_ahead_of_its_receipt_matches_once_the_goods_are_in_and_ap_retries(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World()
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        await run.received(world.receipt("r1", "2"))
        await run.invoiced(world.invoice("i1", "4"))
        await run.parked_on("INVOICE_MISMATCH")
        assert world.bills == {}
        world.receipts = [world.receipt("r1", "2"), world.receipt("r2", "2")]
        await run.resolve(ResolutionAction.RETRY)
        await _paid(run)
    assert len(world.bills) == 1


async def test_a_rejected_invoice_is_voided_and_never_billed(time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World()
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        await run.received(world.receipt("r1", "4"))
        await run.invoiced(world.invoice("i1", "4", price="1400.00"))
        await run.parked_on("INVOICE_MISMATCH")
        await run.resolve(ResolutionAction.REJECT_INVOICE, note="wrong price")
        rejected = await run.until(lambda s: s.invoices[0].stage is InvoiceStage.REJECTED)
        assert rejected.status is ProcurementStatus.ORDERED and not rejected.open_exceptions
        await run.invoiced(world.invoice("i2", "4", number="INV-i1-corrected"))
        await _paid(run)
    assert world.voided == ["i1"] and len(world.bills) == 1


async def test_the_same_invoice_seen_twice_is_matched_billed_and_paid_once(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World()
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        await run.received(world.receipt("r1", "4"))
        invoice = world.invoice("i1", "4")
        await run.invoiced(invoice)
        await run.invoiced(invoice)                  # the poller again
        await run.invoiced(invoice, version="2")     # a webhook about the same invoice
        await _paid(run)
    assert len(world.bills) == 1 and len(world.payments) == 1


async def test_over_budget_waits_for_the_budget_owner_who_must_give_a_reason(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World(budget=usd("3000.00"))
    async with running(time_skipping_env, world, tmp_path) as run:
        parked = await run.parked_on("BUDGET_INSUFFICIENT")
        assert parked.status is ProcurementStatus.EXCEPTION
        assert "short USD 2,000.00" in parked.open_exceptions[0].problem.reason
        assert world.commitments == {}
        assert "approve_over_budget needs a reason" in await _refused(
            run.resolve(ResolutionAction.APPROVE_OVER_BUDGET, resolved_by="cfo"))
        await run.resolve(ResolutionAction.APPROVE_OVER_BUDGET, resolved_by="cfo", note="urgent hires")
        await run.until_status(ProcurementStatus.ORDERED)
        assert len(world.commitments) == 1


async def test_cancelled_over_budget_nothing_to_undo(time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World(budget=usd("3000.00"))
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.parked_on("BUDGET_INSUFFICIENT")
        await run.cancel("rejected by the budget owner")
        await run.result()
        assert (await run.snapshot()).status is ProcurementStatus.CANCELLED
    assert world.commitments == {} and world.released == [] and world.order_status is OrderStatus.DRAFT


async def test_cancelled_once_ordered_the_order_is_cancelled_and_the_commitment_released(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World()
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        await run.cancel()
        await run.result()
    assert world.order_status is OrderStatus.CANCELLED and world.released == list(world.commitments)
    assert world.reversals == {}


async def test_cancelled_with_a_bill_waiting_for_its_due_date_the_bill_is_reversed(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World(supplier=NORTHWIND.model_copy(update={"payment_terms": PaymentTerms.parse("net 30")}))
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        await run.received(world.receipt("r1", "4"))
        await run.invoiced(world.invoice("i1", "4"))
        await run.until(lambda s: bool(s.invoices) and s.invoices[0].stage is InvoiceStage.SCHEDULED)
        await run.cancel()
        await run.result()
        final = await run.snapshot()
    (reversal,) = world.reversals.values()
    assert reversal.bill_erp_id == "B1" and final.invoices[0].stage is InvoiceStage.REJECTED
    assert world.payments == {} and world.order_status is OrderStatus.CANCELLED
    assert world.released == list(world.commitments)


async def test_after_payment_cancellation_is_refused_with_the_reason(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World()
    world.requisition = world.requisition.model_copy(update={"lines": [
        world.requisition.lines[0].model_copy(update={"quantity": world.requisition.lines[0].quantity.model_copy(
            update={"value": 8})})]})
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        await run.received(world.receipt("r1", "4"))
        await run.invoiced(world.invoice("i1", "4"))            # half the order: paid, the order stays open
        await run.until(lambda s: bool(s.invoices) and s.invoices[0].stage is InvoiceStage.SCHEDULED)
        await run.env.sleep(timedelta(days=11))                  # past its discount date
        await run.until(lambda s: s.invoices[0].stage is InvoiceStage.PAID)
        assert "the money has left the bank" in await _refused(run.cancel())
        assert world.reversals == {} and world.order_status is OrderStatus.ISSUED
        await run.handle.terminate()



async def test_a_long_run_continues_as_new_and_loses_nothing(time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World(supplier=NORTHWIND.model_copy(update={"payment_terms": PaymentTerms.parse("net 30")}))
    async with running(time_skipping_env, world, tmp_path, history_limit=60) as run:
        first_run = (await run.handle.describe()).run_id
        await run.until_status(ProcurementStatus.ORDERED)
        await run.received(world.receipt("r1", "4"))
        for number in range(1, 5):                              # four invoices of one laptop each
            await run.invoiced(world.invoice(f"i{number}", "1"))
        await run.until(lambda s: len(s.invoices) == 4 and all(p.stage is InvoiceStage.SCHEDULED for p in s.invoices))
        continued = await run.until(lambda s: any("Continued from an earlier run" in e.note for e in s.timeline))
        assert (await run.handle.describe()).run_id != first_run
        assert len(continued.invoices) == 4
        await run.invoiced(world.invoice("i1", "1"))            # seen before the new run began: still counts once
        await run.env.sleep(timedelta(days=31))                # past the invoices' due date
        final = await run.until_status(ProcurementStatus.CLOSED)
    assert final.status is ProcurementStatus.CLOSED
    assert len(world.bills) == 4 and len(world.payments) == 4
    assert sorted(str(p.order.transfer.amount) for p in world.payments.values()) == ["USD 1,250.00"] * 4
    assert "continued" in run.event_types()


async def test_a_late_copy_of_a_receipt_does_not_undo_its_void(time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World()
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        now = await run.env.get_current_time()
        received = world.receipt("r1", "4")
        await run.received(received.model_copy(update={"voided": True}), version="2", at=now)
        await run.received(received, version="1", at=now - timedelta(minutes=5))   # the poll's older copy
        await run.invoiced(world.invoice("i1", "4"))
        held = await run.parked_on("INVOICE_MISMATCH")
    assert "0 EA received" in held.open_exceptions[0].problem.reason


async def test_an_invoice_held_for_want_of_goods_is_matched_again_when_they_arrive(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World()
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        await run.invoiced(world.invoice("i1", "4"))
        await run.parked_on("INVOICE_MISMATCH")
        await run.received(world.receipt("r1", "4"))         # no clerk: the goods arrive
        await run.result()
    assert len(world.bills) == 1 and len(world.payments) == 1
    resolved = [row for row in run.store.events(workflow_id=run.handle.id) if row.type == "exception_resolved"]
    assert len(resolved) == 1 and "resolved by finsync" in resolved[0].summary


async def test_cancelled_with_an_invoice_on_hold_ends_cancelled_with_no_exception_left(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path):
    world = World()
    async with running(time_skipping_env, world, tmp_path) as run:
        await run.until_status(ProcurementStatus.ORDERED)
        await run.received(world.receipt("r1", "4"))
        await run.invoiced(world.invoice("i1", "4", price="1400.00"))
        await run.parked_on("INVOICE_MISMATCH")
        await run.cancel("supplier overcharges")
        await run.result()
        final = await run.snapshot()
        attrs = (await run.handle.describe()).typed_search_attributes
    assert final.status is ProcurementStatus.CANCELLED and not final.open_exceptions
    assert attrs.get(search.BUSINESS_STATUS) == "CANCELLED" and attrs.get(search.EXCEPTION_REASON) is None
    assert world.bills == {} and world.order_status is OrderStatus.CANCELLED and world.released == list(world.commitments)
