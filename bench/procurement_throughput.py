"""Requisitions per second and approval-to-closed latency through the full local stack, beside the
engine's ceiling (a no-op workflow with the same activity count) in the same run.

    .venv/bin/python bench/procurement_throughput.py [--requisitions 200] [--in-flight 20]

It starts its own stack (the processes `finsync dev` runs) in a scratch folder, with no sandbox
latency or faults: nothing else may hold ports 7233, 8233, 8700-8704. The requesters' requisitions
are submitted before the clock starts; each is timed from its approval to its workflow's CLOSED
result. Meanwhile the bench triggers the procurement poll every second and the payment run every
two, and plays warehouse and supplier once an order is issued: the goods received in full, then
an invoice dated 35 days ago, so its payment is due at once. Coupa's limit of 25 API calls a
second per client is lifted in the sandbox (there the bench's people would share finsync's
client); the bound it sets is printed from finsync's own calls.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client, WorkflowHandle, WorkflowHistory  # noqa: E402

from bench.stack import (  # noqa: E402
    BenchStack,
    Counts,
    ProcessRun,
    activity_counts,
    beside_ceiling,
    cpu_by_service,
    percentile,
    result_once_started,
    scratch_stack,
    throughput,
)
from finsync.temporal import connect  # noqa: E402
from sandboxes.coupa.driver import CoupaDriver, InvoiceLine, RequisitionLine  # noqa: E402
from workflows.common.search import BUSINESS_STATUS  # noqa: E402
from workflows.payments.model import WORKFLOW_NAME as PAYMENT_RUN  # noqa: E402
from workflows.payments.schedule import SCHEDULE_ID as PAYMENT_RUN_SCHEDULE  # noqa: E402
from workflows.procurement.model import PROCESS, ProcurementStatus, workflow_id  # noqa: E402
from workflows.procurement.poll import WORKFLOW_NAME as POLL  # noqa: E402
from workflows.procurement.schedule import SCHEDULE_ID as POLL_SCHEDULE  # noqa: E402
from workflows.procurement.workflow import RequisitionToPayWorkflow  # noqa: E402

REQUISITION_TIMEOUT = 180
POLL_EVERY, PAYMENT_RUN_EVERY, WATCH_EVERY = 1.0, 2.0, 0.5    # seconds
INVOICE_AGE = timedelta(days=35)    # past net 30 and past 2/10: due today, no discount
# Coupa's API limit per client. The bench's people would share finsync's client in the sandbox
# (they do not in Coupa), so the sandbox's limit is lifted and the bound it sets is printed.
COUPA_RATE, LIFTED = 25.0, 1_000_000

# Who buys what where: each entity's requesters, its supplier, cost centers and accounts. The
# NetSuite sandbox budgets 25,000 per cost center, account and month; a requisition is at most
# 3 x 49.99, spread over 15 budgets, so 2,000 requisitions stay well within them.
ENTITIES = {
    "US01": (["E1001", "E1002", "E1003", "E1004"], "SUP-100", "USD", ["CC-1000", "CC-2000", "CC-3000"]),
    "DE01": (["E2001", "E2002", "E2003"], "SUP-200", "EUR", ["CC-4100", "CC-4200"]),
}
ACCOUNTS = ["6300", "6310", "6320"]


# What a requisition's history holds beyond its activities, on average (the no-op has none of it).
HISTORY_SHOWN = {"WORKFLOW_TASK_COMPLETED": "workflow tasks", "WORKFLOW_EXECUTION_SIGNALED": "signals",
                 "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES": "search-attribute upserts", "TIMER_STARTED": "timers"}


@dataclass(frozen=True)
class Purchase:
    requester: str
    entity: str
    currency: str
    supplier: str
    line: RequisitionLine


def purchase(n: int) -> Purchase:
    entity = list(ENTITIES)[n % len(ENTITIES)]
    requesters, supplier, currency, cost_centers = ENTITIES[entity]
    k = n // len(ENTITIES)
    price = Decimal(10 + k % 40) + Decimal(k % 97) / 100
    return Purchase(requesters[k % len(requesters)], entity, currency, supplier, RequisitionLine(
        description=f"bench item {n}", quantity=str(1 + k % 3), unit_price=str(price), supplier=supplier,
        entity=entity, cost_center=cost_centers[k % len(cost_centers)], gl_account=ACCOUNTS[k % len(ACCOUNTS)]))


class Warehouse:
    """Warehouse and supplier: once an order is issued, its goods arrive in full and the supplier
    invoices it. Watches the workflows' search attributes (no query, no vendor call per run); a
    requisition that parks ends the bench with the reason."""

    def __init__(self, client: Client, coupa: CoupaDriver, purchases: dict[str, Purchase], tag: str) -> None:
        self.client, self.coupa, self.purchases, self.tag = client, coupa, purchases, tag
        self.fulfilled: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.refused: BaseException | None = None    # what the platform refused the warehouse or the supplier

    async def watch(self, stop: asyncio.Event) -> None:
        query = (f"FinsyncProcess = '{PROCESS}' AND ExecutionStatus = 'Running' AND FinsyncBusinessStatus IN "
                 f"('{ProcurementStatus.ORDERED.value}', '{ProcurementStatus.EXCEPTION.value}')")
        while not stop.is_set():
            if self.refused is not None:
                raise SystemExit(f"warehouse or supplier refused: {self.refused}")
            async for execution in self.client.list_workflows(query):
                requisition_id = execution.id.rsplit("-", 1)[1]
                if execution.typed_search_attributes.get(BUSINESS_STATUS) == ProcurementStatus.EXCEPTION.value:
                    raise SystemExit(await _parked(self.client.get_workflow_handle(execution.id)))
                if requisition_id not in self.purchases or requisition_id in self.fulfilled:
                    continue
                self.fulfilled.add(requisition_id)
                task = asyncio.create_task(self.fulfil(self.client.get_workflow_handle(execution.id), requisition_id))
                self.tasks.add(task)
                task.add_done_callback(self._done)
            await asyncio.sleep(WATCH_EVERY)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.refused = task.exception()

    async def fulfil(self, handle: WorkflowHandle, requisition_id: str) -> None:
        (order,) = await self.coupa.purchase_orders(int(requisition_id))
        waiting = (await handle.describe()).history_length    # an ordered requisition waits for signals only
        lines = []
        for line in order["order-lines"]:
            await self.coupa.receive(line["id"], line["quantity"])
            lines.append(InvoiceLine(order_line_id=line["id"], quantity=line["quantity"], price=line["price"]))
        # The invoice goes once the workflow has the receipt (the bench buys one line each): an
        # invoice that arrives first is not matched again when its receipt comes in, it waits on
        # AP hold for a clerk.
        while (await handle.describe()).history_length == waiting:   # noqa: ASYNC110 - the server, not this loop, moves it
            await asyncio.sleep(0.1)
        await self.coupa.send_invoice(self.purchases[requisition_id].supplier, f"INV-{self.tag}-{requisition_id}",
                                      date.today() - INVOICE_AGE, order["currency"]["code"], lines)


async def tick(client: Client, schedule_id: str, every: float, stop: asyncio.Event) -> None:
    """Trigger a schedule as if it ticked every ``every`` seconds (skipped while one still runs)."""
    schedule = client.get_schedule_handle(schedule_id)
    while not stop.is_set():
        await schedule.trigger()
        await asyncio.sleep(every)


@dataclass
class Observed:
    """What each requisition's history shows beyond its latency."""

    counts: Counter[Counts] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)    # of every requisition, by type
    picked_up: list[float] = field(default_factory=list)     # seconds from approval until a poll started it

    def record(self, history: WorkflowHistory, approved_at: datetime) -> None:
        self.counts[activity_counts(history)] += 1
        self.events.update(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events)
        self.picked_up.append((history.events[0].event_time.ToDatetime(UTC) - approved_at).total_seconds())

    def lines(self) -> list[str]:
        runs = len(self.picked_up)
        return [f"a requisition's history: {self.events.total() / runs:.0f} events, "
                + ", ".join(f"{self.events[kind] / runs:.1f} {what}" for kind, what in HISTORY_SHOWN.items()),
                f"approval -> workflow started by a poll: p50 {percentile(self.picked_up, 0.5):.1f} s, "
                f"p95 {percentile(self.picked_up, 0.95):.1f} s (the poll is triggered every {POLL_EVERY:.0f} s, "
                "one at a time)"]


def coupa_share(finsync_calls: int, people_calls: int, requisitions: int) -> str:
    per_requisition = finsync_calls / requisitions
    return (f"Coupa API calls per requisition: finsync {per_requisition:.1f} (its activities, the polls, the gateway's "
            f"reads), the bench's approver, warehouse and supplier {people_calls / requisitions:.1f}. At Coupa's "
            f"{COUPA_RATE:.0f} a second per client, finsync's alone allow at most {COUPA_RATE / per_requisition:.2f} "
            "requisitions/s (this run lifts the sandbox's limit: in Coupa the bench's people are not finsync's client)")


async def run_procurement(client: Client, bench: BenchStack, requisitions: int,
                          in_flight: int) -> tuple[ProcessRun, list[str]]:
    """The timed run, and lines that say what it shared with other work: the polls, the payment
    runs, Coupa's limit per client."""
    latencies: list[float] = []
    observed = Observed()
    window = asyncio.Semaphore(in_flight)
    procurement = bench.settings.procurement
    tag = f"{datetime.now(UTC):%H%M%S}"
    async with CoupaDriver(procurement.base_url, procurement.client_id,
                           procurement.client_secret.get_secret_value()) as coupa:

        async def submit(n: int) -> tuple[str, Purchase]:
            async with window:
                p = purchase(n)
                created = await coupa.submit_requisition(p.requester, p.entity, p.currency, [p.line],
                                                         justification=f"bench {tag} {n}")
                return str(created["id"]), p

        async def one(requisition_id: str) -> None:
            async with window:
                started, approved_at = time.monotonic(), datetime.now(UTC)
                await coupa.approve(int(requisition_id))
                handle = client.get_workflow_handle(workflow_id(procurement.kind, requisition_id))

                async def stuck() -> str:
                    return f"not closed after {REQUISITION_TIMEOUT}s: " + await _parked(handle)

                outcome = await result_once_started(handle, REQUISITION_TIMEOUT, stuck)
                latencies.append(time.monotonic() - started)
                assert outcome["status"] == ProcurementStatus.CLOSED.value, outcome
                observed.record(await handle.fetch_history(), approved_at)

        # The requesters' requisitions exist before the clock starts: asking to buy is not finsync's work.
        purchases = dict(await asyncio.gather(*(submit(n) for n in range(requisitions))))
        warehouse, stop = Warehouse(client, coupa, purchases, tag), asyncio.Event()
        coupa_before, people_before = await coupa_requests(procurement.base_url), coupa.requests
        cpu_before = cpu_by_service(bench.stack)
        clock_started = datetime.now(UTC)
        begin = time.monotonic()
        helpers = [asyncio.create_task(warehouse.watch(stop)),
                   asyncio.create_task(tick(client, POLL_SCHEDULE, POLL_EVERY, stop)),
                   asyncio.create_task(tick(client, PAYMENT_RUN_SCHEDULE, PAYMENT_RUN_EVERY, stop))]
        await asyncio.gather(*(one(requisition_id) for requisition_id in purchases))
        elapsed = time.monotonic() - begin
        cpu = {name: seconds - cpu_before[name] for name, seconds in cpu_by_service(bench.stack).items()}
        clock_stopped = datetime.now(UTC)
        stop.set()
        await asyncio.gather(*helpers)
        client_key = f"client:{procurement.client_id}"
        people_calls = coupa.requests - people_before
        finsync_calls = ((await coupa_requests(procurement.base_url)).get(client_key, 0) - coupa_before.get(client_key, 0)
                         - people_calls)
    run = ProcessRun(process="procurement", unit="requisition", label="requisition, approval -> CLOSED",
                     runs=requisitions, in_flight=in_flight, figures=throughput(requisitions, latencies, elapsed),
                     counts=observed.counts, cpu=cpu)
    return run, [*observed.lines(), *await shared_work(client, (clock_started, clock_stopped), requisitions),
                 coupa_share(finsync_calls, people_calls, requisitions)]


async def coupa_requests(base_url: str) -> dict[str, int]:
    """The API calls each client has made to the Coupa sandbox so far."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        return (await http.get("/_sandbox/rate-limit")).json()["requests"]


async def shared_work(client: Client, window: tuple[datetime, datetime], requisitions: int) -> list[str]:
    """What the polls and payment runs started while the clock ran did, shared out over the requisitions:
    finsync's work too (in the CPU figures), but not in a requisition's history nor the ceiling's."""
    lines = []
    for name, what in ((POLL, "procurement polls"), (PAYMENT_RUN, "payment runs")):
        runs: Counter[Counts] = Counter()
        durations: list[float] = []
        changes = 0     # what the polls read and handed on
        query = f"WorkflowType = '{name}' AND StartTime BETWEEN '{window[0].isoformat()}' AND '{window[1].isoformat()}'"
        async for execution in client.list_workflows(query):
            handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
            runs[activity_counts(await handle.fetch_history())] += 1
            if execution.close_time:
                durations.append((execution.close_time - execution.start_time).total_seconds())
                changes += (await handle.result()).get("scanned", 0) if name == POLL else 0
        activities = sum(a * n for (a, _), n in runs.items())
        local_activities = sum(la * n for (_, la), n in runs.items())
        lines.append(f"{what}: {sum(runs.values())} while the clock ran, p50 {percentile(durations, 0.5):.1f} s each"
                     + (f", {changes / requisitions:.1f} changes read per requisition" if name == POLL else "")
                     + f"; {activities} activities + {local_activities} local activities, per requisition "
                     f"{activities / requisitions:.2f} + {local_activities / requisitions:.2f}")
    return lines


async def _parked(handle: WorkflowHandle) -> str:
    """Where a requisition stands, and why, for the one line the bench ends with."""
    snap = await handle.query(RequisitionToPayWorkflow.status)
    reasons = "; ".join(f"{e.problem.code}: {e.problem.reason}" for e in snap.open_exceptions)
    return f"requisition {snap.requisition_id} is {snap.status.value}: {reasons or snap.timeline[-2:]}"


async def measure(bench: BenchStack, requisitions: int, in_flight: int) -> None:
    client = await connect(bench.settings.temporal)
    run, notes = await run_procurement(client, bench, requisitions, in_flight)
    await beside_ceiling(client, bench, run)
    print("\n".join(notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requisitions", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=20)
    args = parser.parse_args()
    # The poll's own schedule ticks as often as it may (the bench triggers it between ticks); the
    # expense sweep would only add load.
    with scratch_stack({"FINSYNC_PROCUREMENT__POLL_INTERVAL_SECONDS": "10", "FINSYNC_SWEEP__ENABLED": "false",
                        "FINSYNC_SANDBOX_COUPA_RATE_PER_SECOND": str(LIFTED)}) as bench:
        asyncio.run(measure(bench, args.requisitions, args.in_flight))


if __name__ == "__main__":
    main()
