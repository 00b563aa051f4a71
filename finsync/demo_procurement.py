"""``finsync demo procurement``: requisitions of mixed cases through the local stack.

Requesters submit requisitions in the procurement sandbox and their managers approve them; the
poller (a Temporal Schedule, triggered here so the demo need not wait for its next tick) starts
one workflow per requisition. Due payments wait for the payment run, whose schedule the demo
triggers too (by default it runs twice a day). Once the purchase order is issued, the demo plays the warehouse
(receipts) and the supplier (invoices), and follows every workflow to a resting state: paid and
closed, paid early for a discount or scheduled for its due date, an invoice on AP hold, over
budget awaiting the budget owner, a supplier finance must fix, or cancelled.

Invoices are dated in the past where the case needs its payment due today, so a demo on the real
clock shows payments leave the bank; one case is dated today and stays scheduled.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from rich.progress import Progress, TaskID
from rich.table import Table
from rich.text import Text
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from finsync.config import Settings
from finsync.demo import console, progress_bar, ready_client, run_tag
from finsync.terminal import text
from sandboxes.coupa.driver import CoupaDriver, InvoiceLine, RequisitionLine
from workflows.payments.schedule import SCHEDULE_ID as PAYMENT_RUN_SCHEDULE
from workflows.procurement.model import (
    UPDATE_CANCEL,
    WORKFLOW_NAME,
    CancelRequest,
    InvoiceStage,
    ProcurementSnapshot,
    ProcurementStatus,
    workflow_id,
)
from workflows.procurement.schedule import SCHEDULE_ID as POLL_SCHEDULE

SETTLED = {InvoiceStage.PAID, InvoiceStage.REJECTED}


@dataclass(frozen=True)
class Case:
    label: str
    requester: str
    entity: str
    currency: str
    supplier: str
    lines: list[RequisitionLine]
    invoice_age_days: int | None = 35     # None: the supplier sends no invoice
    received_share: Decimal = Decimal(1)  # of each ordered quantity
    price_uplift: Decimal = Decimal(0)    # the invoice's price over the order's
    cancel: bool = False                  # the requester cancels once the order is issued


def _line(description: str, quantity: str, price: str, supplier: str, entity: str, cost_center: str,
          gl: str) -> RequisitionLine:
    return RequisitionLine(description=description, quantity=quantity, unit_price=price, supplier=supplier,
                           entity=entity, cost_center=cost_center, gl_account=gl)


def cases(n: int) -> list[Case]:
    """One of each kind of purchase a finance team sees, varied by ``n``."""
    vary = lambda price: str((Decimal(price) + Decimal(n % 7)).quantize(Decimal("0.01")))  # noqa: E731
    us = lambda what, qty, price, supplier="SUP-100", cc="CC-1000", gl="6300": _line(  # noqa: E731
        what, qty, vary(price), supplier, "US01", cc, gl)
    de = lambda what, qty, price, supplier="SUP-200", cc="CC-4100", gl="6310": _line(  # noqa: E731
        what, qty, vary(price), supplier, "DE01", cc, gl)
    return [
        Case("office chairs", "E1001", "US01", "USD", "SUP-100", [us("Office chair", "6", "189.50")]),
        Case("laptops, paid early for 2 %", "E1002", "US01", "USD", "SUP-100",
             [us("Laptop", "3", "1249.00", gl="6310")], invoice_age_days=10),
        Case("Ersatzteile", "E2001", "DE01", "EUR", "SUP-200", [de("Hydraulikpumpe", "2", "840.00")]),
        Case("monitors, invoiced 8 % over the order", "E1003", "US01", "USD", "SUP-100",
             [us("Monitor", "4", "310.00", gl="6310")], price_uplift=Decimal("0.08")),
        Case("desks, invoiced before they all arrived", "E1004", "US01", "USD", "SUP-100",
             [us("Standing desk", "4", "560.00")], received_share=Decimal("0.5")),
        Case("server room build-out, over budget", "E1001", "US01", "USD", "SUP-100",
             [us("Rack server", "12", "4200.00", gl="6310")], invoice_age_days=None),
        Case("freight from a supplier on payment hold", "E1002", "US01", "USD", "SUP-300",
             [us("Freight", "1", "950.00", supplier="SUP-300", gl="6320")], invoice_age_days=None),
        Case("parts from a supplier with a wrong IBAN", "E2002", "DE01", "EUR", "SUP-400",
             [de("Dichtungssatz", "10", "42.00", supplier="SUP-400")], invoice_age_days=None),
        Case("conference booth, cancelled", "E1003", "US01", "USD", "SUP-100",
             [us("Booth materials", "1", "2300.00", gl="6320")], invoice_age_days=None, cancel=True),
        Case("Werkzeug, due in 30 days", "E2003", "DE01", "EUR", "SUP-200", [de("Werkzeugsatz", "5", "129.00")],
             invoice_age_days=0),
    ]


WEIGHTS = [4, 2, 3, 2, 2, 1, 1, 1, 1, 2]


def plan(count: int) -> list[Case]:
    slots = [i for _, i in sorted((k / weight, i) for i, weight in enumerate(WEIGHTS) for k in range(weight))]
    return [cases(n)[slots[n % len(slots)]] for n in range(count)]


@dataclass
class Tracked:
    case: Case
    requisition_id: str
    fulfilled: bool = False
    snapshot: ProcurementSnapshot | None = None
    invoices: list[str] = field(default_factory=list)


async def run_procurement_demo(settings: Settings, count: int, run: str | None = None) -> int:
    client = await ready_client(settings)
    if client is None:
        return 1
    run = run or run_tag()
    today = date.today()
    async with CoupaDriver(settings.procurement.base_url, settings.procurement.client_id,
                           settings.procurement.client_secret.get_secret_value()) as coupa:
        tracked: dict[str, Tracked] = {}
        with progress_bar() as progress:
            creating = progress.add_task("requisitions approved", total=count)
            for n, case in enumerate(plan(count), 1):
                created = await coupa.submit_requisition(case.requester, case.entity, case.currency, case.lines,
                                                         justification=f"{case.label} #{run}-{n}")
                await coupa.approve(created["id"])
                tracked[str(created["id"])] = Tracked(case, str(created["id"]))
                progress.advance(creating)
            following = progress.add_task("following workflows", total=count)
            await _follow(client, coupa, tracked, today, f"{run}-", progress, following)
    _summary(tracked, settings)
    return 0 if all(t.snapshot is not None and _resting(t) for t in tracked.values()) else 1


async def _follow(client: Client, coupa: CoupaDriver, tracked: dict[str, Tracked], today: date, tag: str,
                  progress: Progress, task: TaskID, timeout: float = 600.0) -> None:
    """Play warehouse, supplier and requester as each order is issued; poll until all rest. The
    poll and the payment run are triggered each round, as if their schedules ticked faster."""
    poll, payment_run = client.get_schedule_handle(POLL_SCHEDULE), client.get_schedule_handle(PAYMENT_RUN_SCHEDULE)
    deadline = asyncio.get_running_loop().time() + timeout
    rounds = 0
    while asyncio.get_running_loop().time() < deadline:
        await poll.trigger()
        if rounds % 3 == 2:
            await payment_run.trigger()
        rounds += 1
        pending = [t for t in tracked.values() if t.snapshot is None or not _resting(t)]
        for item, snap in zip(pending, await asyncio.gather(*(_snapshot(client, t) for t in pending)), strict=True):
            item.snapshot = snap or item.snapshot
            if snap is not None and snap.status is ProcurementStatus.ORDERED and not item.fulfilled:
                await _fulfil(client, coupa, item, today, tag)
        done = sum(1 for t in tracked.values() if t.snapshot is not None and _resting(t))
        progress.update(task, completed=done)
        if done == len(tracked):
            return
        await asyncio.sleep(1.0)


async def _fulfil(client: Client, coupa: CoupaDriver, item: Tracked, today: date, tag: str) -> None:
    """What happens once the order is issued: goods arrive, the supplier invoices, or it is cancelled."""
    item.fulfilled = True
    case = item.case
    if case.cancel:
        await client.get_workflow_handle(workflow_id("coupa", item.requisition_id)).execute_update(
            UPDATE_CANCEL, CancelRequest(requested_by=case.requester, reason="event cancelled"), result_type=str)
        return
    if case.invoice_age_days is None:
        return
    (order,) = await coupa.purchase_orders(int(item.requisition_id))
    lines = []
    for line in order["order-lines"]:
        ordered = Decimal(line["quantity"])
        await coupa.receive(line["id"], (ordered * case.received_share).quantize(Decimal("0.0001")))
        price = (Decimal(line["price"]) * (1 + case.price_uplift)).quantize(Decimal("0.01"))
        lines.append(InvoiceLine(order_line_id=line["id"], quantity=ordered, price=price))
    invoice = await coupa.send_invoice(case.supplier, f"INV-{tag}{item.requisition_id}",
                                       today - timedelta(days=case.invoice_age_days), order["currency"]["code"], lines)
    item.invoices.append(str(invoice["id"]))


def _resting(item: Tracked) -> bool:
    snap = item.snapshot
    if snap is None:
        return False
    if snap.status in (ProcurementStatus.CLOSED, ProcurementStatus.CANCELLED, ProcurementStatus.EXCEPTION):
        return True
    # Otherwise at rest only while something waits for its payment date and nothing else moves.
    stages = {p.stage for p in snap.invoices}
    return InvoiceStage.SCHEDULED in stages and stages <= SETTLED | {InvoiceStage.SCHEDULED}


async def _snapshot(client: Client, item: Tracked) -> ProcurementSnapshot | None:
    try:   # None until the poller has started it
        return await client.get_workflow_handle(workflow_id("coupa", item.requisition_id)).query(
            "status", result_type=ProcurementSnapshot)
    except (RPCError, WorkflowQueryFailedError):
        return None


def _summary(tracked: dict[str, Tracked], settings: Settings) -> None:
    table = Table(title=f"{len(tracked)} requisitions ({WORKFLOW_NAME} workflows)")
    table.add_column("outcome")
    table.add_column("requisitions", justify="right")
    table.add_column("why")
    snaps = [t.snapshot for t in tracked.values() if t.snapshot is not None]
    by_status = Counter(s.status for s in snaps)
    scheduled = [p for s in snaps if s.status is not ProcurementStatus.EXCEPTION for p in s.invoices
                 if p.stage is InvoiceStage.SCHEDULED]
    held = Counter(e.problem.code for s in snaps for e in s.open_exceptions if e.item)
    parked = Counter(e.problem.code for s in snaps for e in s.open_exceptions if not e.item)
    discounts = [p for s in snaps for p in s.invoices if p.discount is not None and not p.discount.is_zero]
    table.add_row("paid and closed", str(by_status[ProcurementStatus.CLOSED]),
                  f"{len(discounts)} paid early for a discount" if discounts else "")
    table.add_row("scheduled for payment", str(len(scheduled)),
                  ", ".join(sorted({f"on {p.pay_on}" for p in scheduled if p.pay_on})))
    table.add_row("invoice on AP hold", str(sum(held.values())), ", ".join(f"{k} ×{v}" for k, v in held.items()))
    table.add_row("waiting for a decision", str(sum(parked.values())),
                  ", ".join(f"{k} ×{v}" for k, v in parked.most_common()))
    table.add_row("cancelled", str(by_status[ProcurementStatus.CANCELLED]), "order cancelled, commitment released")
    missing = sum(1 for t in tracked.values() if not _resting(t))
    if missing:
        table.add_row(text("not at rest in time", style="red"), str(missing), "see the Temporal Web UI")
    console.print(table)
    host = settings.temporal.address.rsplit(":", 1)[0]
    console.print(Text.assemble(f"Find them in the Web UI (http://{host}:{settings.temporal.ui_port}), e.g. ",
                                ("FinsyncProcess = 'procurement' AND FinsyncExceptionReason = 'INVOICE_MISMATCH'", "bold"),
                                "; or: finsync exceptions list --process procurement"))
