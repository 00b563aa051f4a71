"""The shared runtime's contract (tests/workflows/common/runtime_contract.py), met by requisition-to-pay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from canonical import BusinessProblem
from tests.workflows.common.runtime_contract import Parked, RuntimeContract
from tests.workflows.procurement.harness import Run, running
from tests.workflows.procurement.world import World
from workflows.common.exceptions import ResolutionAction
from workflows.procurement.model import InvoiceStage, ProcurementStatus

SUPPLIER_ON_HOLD = BusinessProblem(
    code="SUPPLIER_ON_HOLD", system="procurement", subject="SUP-100",
    reason="Coupa will not issue purchase order PO-900: supplier Northwind Office Supply (SUP-100) is on hold.")
INVOICE_DISPUTED = BusinessProblem(
    code="INVOICE_DISPUTED", system="procurement", subject="INV-i1",
    reason="Coupa cannot record a payment on invoice INV-i1: the supplier disputes the invoice.")
PERIOD_CLOSED = BusinessProblem(code="PERIOD_CLOSED", system="erp", subject="Dec 2026",
                                reason="The accounting period Dec 2026 is closed.")


def parked(run: Run, code: str, **more: Any) -> Parked:
    async def business_status() -> str:
        return (await run.snapshot()).status.value
    return Parked(handle=run.handle, store=run.store, code=code, business_status=business_status, **more)


async def invoiced(run: Run, *invoice: tuple[str, str]) -> None:
    """The order issued, all four laptops received, then each (invoice id, unit price) for two or four of them."""
    world = run.world
    await run.until_status(ProcurementStatus.ORDERED)
    await run.received(world.receipt("r1", "4"))
    for invoice_id, price in invoice:
        await run.invoiced(world.invoice(invoice_id, "4" if len(invoice) == 1 else "2", price))


class TestProcurementRuntimeContract(RuntimeContract):
    PROCESS = "procurement"
    NOT_OFFERED = {"action": "approve_over_budget", "note": "urgent"}   # the supplier's hold is no budget question
    RESUMED = frozenset({ProcurementStatus.ORDERED.value})
    ONE_ITEM = {"action": "accept_variance", "note": "price increase agreed by purchasing"}

    @asynccontextmanager
    async def parked_on_a_refusal(self, env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Parked]:
        """The platform refuses to issue the committed order: the supplier is on hold."""
        world = World(issue_refusal=SUPPLIER_ON_HOLD)

        def release_the_hold() -> None:
            world.issue_refusal = None

        async with running(env, world, tmp_path) as run:
            yield parked(run, SUPPLIER_ON_HOLD.code, fix=release_the_hold)

    @asynccontextmanager
    async def parked_after_payment(self, env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Parked]:
        """The invoice is paid on its discount date; the platform then refuses to record the payment.
        The runtime's guarantee is the ``resolve_exception`` validator judging that invoice's money
        (``cancel_requisition`` is this process's own update, tested with the process)."""
        world = World(write_back_refusal=INVOICE_DISPUTED)
        async with running(env, world, tmp_path) as run:
            await invoiced(run, ("i1", "1250.00"))
            await run.until(lambda s: bool(s.invoices) and s.invoices[0].stage is InvoiceStage.SCHEDULED)
            await env.sleep(timedelta(days=11))
            yield parked(run, INVOICE_DISPUTED.code, items=("invoice INV-i1",))

    @asynccontextmanager
    async def parked_on_two_items(self, env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Parked]:
        """Two invoices priced over the order: both on AP hold while the order goes on."""
        async with running(env, World(), tmp_path) as run:
            await invoiced(run, ("i1", "1290.00"), ("i2", "1300.00"))
            yield parked(run, "INVOICE_MISMATCH", items=("invoice INV-i1", "invoice INV-i2"))

    async def test_an_invoices_refusal_never_offers_cancel_and_a_posting_date_bills_it(
            self, time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
        """One invoice's problem does not stop the purchase (that is cancel_requisition's business);
        a closed period is fixed by posting the bill on another date."""
        world = World(bill_refusal=PERIOD_CLOSED, open_dates=[date(2027, 1, 4)])
        async with running(time_skipping_env, world, tmp_path) as run:
            await invoiced(run, ("i1", "1250.00"))
            held = await run.parked_on(PERIOD_CLOSED.code)
            (exception,) = held.open_exceptions
            assert exception.item == "invoice INV-i1"
            assert ResolutionAction.CANCEL not in exception.actions
            assert ResolutionAction.SET_POSTING_DATE in exception.actions
            await run.resolve(ResolutionAction.SET_POSTING_DATE, posting_date=date(2027, 1, 4), item=exception.item)
            await run.result()
        (bill,) = world.bills.values()
        assert bill.posting_date == date(2027, 1, 4) and len(world.payments) == 1
