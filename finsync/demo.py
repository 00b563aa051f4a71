"""``finsync demo expense``: realistic expense reports of mixed cases through the local stack.

Employees create and submit reports in the expense sandbox; the sandbox's signed webhooks reach
the gateway, which starts the workflows. The demo then plays the managers (approving what lands
in their queue) and follows every workflow to a resting state: paid, returned to the employee,
or parked on an exception for finance.

Claims differ from run to run (every merchant carries the run's tag, as card feeds carry a
store or trip number), so a second demo on the same day is not refused as a duplicate of the
first; within a run one claim is deliberately made twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from temporalio.client import Client

from finsync import readiness
from finsync.config import Settings
from finsync.temporal import connect
from finsync.terminal import console as make_console
from finsync.terminal import text
from finsync.workflow_calls import status_or_none
from sandboxes.concur.driver import ConcurDriver, Expense
from workflows.expense.model import BusinessStatus, ExpenseSnapshot, workflow_id

console = make_console()
RESTING = {BusinessStatus.PAID, BusinessStatus.RETURNED, BusinessStatus.EXCEPTION, BusinessStatus.CANCELLED,
           BusinessStatus.EXPIRED}
MANAGERS = ["E1000", "E2000"]


@dataclass(frozen=True)
class Case:
    label: str
    employee: str
    currency: str
    expenses: list[Expense]
    cost_center: str | None = None
    report_date: date | None = None


def run_tag(now: float | None = None) -> str:
    """Five base-36 characters from the clock's second: distinct for every run for two years."""
    seconds = int(time.time() if now is None else now) % 36**5
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(digits[seconds // 36**i % 36] for i in reversed(range(5)))


def cases(today: date, n: int, run: str) -> list[Case]:
    """One of each kind of report a finance team sees, varied by ``n`` as real claims vary."""
    month_start = today.replace(day=1)
    day = max(month_start, today - timedelta(days=n % 5))
    last_month = month_start - timedelta(days=10)
    # n cents on top: no two claims of one case are ever the same (only the deliberate duplicate is).
    vary = lambda amount: (Decimal(amount) * (1 + Decimal(n % 9) / 40) + Decimal(n) / 100).quantize(Decimal("0.01"))  # noqa: E731
    us = lambda code, amount, vendor, **kw: Expense(code, vary(amount), "USD", day, f"{vendor} #{run}", **kw)  # noqa: E731
    eu = lambda code, amount, vendor, **kw: Expense(code, vary(amount), "EUR", day, f"{vendor} #{run}", **kw)  # noqa: E731
    return [
        Case("client dinner and hotel", "E1001", "USD", [us("DINNR", "86.40", "Nopa"), us("LODNG", "229.00", "Hotel Zetta")]),
        Case("taxi and lunch", "E1002", "USD", [us("TAXIX", "38.75", "Yellow Cab"), us("LUNCH", "24.10", "Sweetgreen")]),
        Case("flight to Berlin", "E1003", "USD", [us("AIRFR", "812.60", "United Airlines")]),
        Case("London trip, pounds", "E1004", "USD", [Expense("TAXIX", vary("42.00"), "GBP", day, f"Addison Lee #{run}"),
                                                      us("DINNR", "61.00", "Dishoom")]),
        Case("Kundentermin Hamburg", "E2001", "EUR", [eu("LODNG", "189.00", "Hotel Atlantic", tax_code="DE19"),
                                                      eu("TAXIX", "31.50", "Taxi Hamburg", tax_code="DE19")]),
        Case("Büromaterial", "E2002", "EUR", [eu("OFCSP", "64.90", "McPaper", tax_code="DE19")]),
        # A US employee reimbursed in euros: paid from the USD account, the bank converting.
        Case("Paris client visit, in euros", "E1004", "EUR", [eu("TAXIX", "51.32", "G7 Taxi"),
                                                             Expense("LUNCH", vary("19.80"), "GBP", day, f"Pret #{run}")]),
        Case("dinner over the limit", "E1002", "USD", [us("DINNR", "312.00", "The French Laundry")]),
        Case("hotel without receipt", "E1003", "USD", [us("LODNG", "219.00", "Hotel Nikko", receipt=False)]),
        Case("inactive cost center", "E1005", "USD", [us("LUNCH", "18.20", "Chipotle")]),
        Case("expense dated in a closed period", "E1001", "USD", [us("TAXIX", "27.30", "Lyft")], report_date=last_month),
        Case("employee's bank account closed", "E2004", "EUR", [eu("TAXIX", "22.80", "FreeNow", tax_code="DE19")]),
        Case("the same taxi claimed twice", "E2003", "EUR",
             [Expense("TAXIX", Decimal("27.40"), "EUR", month_start, f"Taxi Berlin #{run}", tax_code="DE19")]),
    ]


# How often each case occurs; the duplicate needs two claims to be one.
WEIGHTS = [5, 4, 2, 2, 4, 2, 2, 1, 1, 1, 1, 1, 2]


def plan(today: date, count: int, run: str) -> list[Case]:
    # Each case's occurrences spread evenly, so even a short demo shows every kind of outcome.
    slots = [i for _, i in sorted((k / weight, i) for i, weight in enumerate(WEIGHTS) for k in range(weight))]
    return [cases(today, n, run)[slots[n % len(slots)]] for n in range(count)]


async def ready_client(settings: Settings) -> Client | None:
    """A client of the stack's Temporal once the whole stack is ready; None, with the one line saying
    what is missing, before it is."""
    client = await connect(settings.temporal)
    try:
        await readiness.check(settings, client)
    except readiness.NotReady as error:
        make_console(stderr=True).print(text(str(error)))
        return None
    return client


async def run_expense_demo(settings: Settings, count: int, run: str | None = None) -> int:
    """Create ``count`` reports and follow them; 1 (with one line) if the stack is not ready."""
    client = await ready_client(settings)
    if client is None:
        return 1
    today = date.today()
    run = run or run_tag()
    reports_plan = plan(today, count, run)
    async with ConcurDriver(settings.expense.base_url, settings.expense.client_id,
                            settings.expense.client_secret.get_secret_value()) as concur:
        reports: dict[str, Case] = {}
        with progress_bar() as progress:
            creating = progress.add_task("creating reports", total=count)
            for n, case in enumerate(reports_plan, 1):
                report_id = await concur.create_report(case.employee, f"{case.label} #{n}", case.currency,
                                                       case.expenses, cost_center=case.cost_center,
                                                       report_date=case.report_date or today)
                await concur.submit(case.employee, report_id)
                reports[report_id] = case
                progress.advance(creating)
            following = progress.add_task("following workflows", total=count)
            snapshots = await _follow(client, concur, reports, progress, following)
    _summary(snapshots, reports, settings)
    return 0 if len(snapshots) == count else 1


async def _follow(client: Client, concur: ConcurDriver, reports: Mapping[str, object], progress: Progress,
                  task: TaskID, timeout: float = 600.0) -> dict[str, ExpenseSnapshot]:
    """Approve what reaches the managers and poll every workflow until it rests."""
    resting: dict[str, ExpenseSnapshot] = {}
    deadline = asyncio.get_running_loop().time() + timeout
    while len(resting) < len(reports) and asyncio.get_running_loop().time() < deadline:
        for manager in MANAGERS:
            for header in await concur.manager_queue(manager):
                if header["reportId"] in reports:
                    await concur.approve_as_manager(manager, header["reportId"])
        pending = [r for r in reports if r not in resting]
        for report_id, snap in zip(pending, await asyncio.gather(*(_snapshot(client, r) for r in pending)), strict=True):
            if snap is not None and snap.status in RESTING:
                resting[report_id] = snap
        progress.update(task, completed=len(resting))
        await asyncio.sleep(0.5)
    return resting


async def _snapshot(client: Client, report_id: str) -> ExpenseSnapshot | None:
    # None until the webhook has started it
    return await status_or_none(client.get_workflow_handle(workflow_id("concur", report_id)))


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


def _summary(snapshots: dict[str, ExpenseSnapshot], reports: Mapping[str, object], settings: Settings) -> None:
    table = Table(title=f"{len(reports)} expense reports")
    table.add_column("outcome")
    table.add_column("reports", justify="right")
    table.add_column("why")
    by_status = Counter(s.status for s in snapshots.values())
    reasons = Counter(s.open_exception.problem.code for s in snapshots.values() if s.open_exception)
    returned = Counter(rule for s in snapshots.values() if s.status is BusinessStatus.RETURNED for rule in s.returned_for)
    table.add_row("posted and paid", str(by_status[BusinessStatus.PAID]), "")
    table.add_row("returned to the employee", str(by_status[BusinessStatus.RETURNED]),
                  ", ".join(f"{k} ×{v}" for k, v in returned.items() if k))
    table.add_row("parked for finance", str(by_status[BusinessStatus.EXCEPTION]),
                  ", ".join(f"{k} ×{v}" for k, v in reasons.most_common()))
    missing = len(reports) - len(snapshots)
    if missing:
        table.add_row(text("not at rest in time", style="red"), str(missing), "see the Temporal Web UI")
    console.print(table)
    host = settings.temporal.address.rsplit(":", 1)[0]
    console.print(Text.assemble(f"Find them in the Web UI (http://{host}:{settings.temporal.ui_port}), e.g. ",
                                ("FinsyncBusinessStatus = 'EXCEPTION' AND FinsyncLegalEntity = 'DE01'", "bold"),
                                "; or: finsync exceptions list"))
