"""Expense reports per second and webhook-to-paid latency through the full local stack, beside
the engine's ceiling (a no-op workflow with the same activity count) in the same run.

    .venv/bin/python bench/expense_throughput.py [--reports 500] [--in-flight 50]

It starts its own stack (the processes `finsync dev` runs) in a scratch folder, with no sandbox
latency or faults: nothing else may hold ports 7233, 8233, 8700-8704.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client  # noqa: E402

from bench.stack import (  # noqa: E402
    BenchStack,
    Counts,
    ProcessRun,
    activity_counts,
    beside_ceiling,
    cpu_by_service,
    result_once_started,
    scratch_stack,
    throughput,
)
from finsync.temporal import connect  # noqa: E402
from sandboxes.concur.driver import ConcurDriver, Expense  # noqa: E402
from workflows.expense.model import workflow_id  # noqa: E402
from workflows.expense.workflow import ExpenseReimbursementWorkflow  # noqa: E402

REPORT_TIMEOUT = 120

EMPLOYEES = {"E1001": ("E1000", "USD"), "E1002": ("E1000", "USD"), "E1003": ("E1000", "USD"),
             "E1004": ("E1000", "USD"), "E2001": ("E2000", "EUR"), "E2002": ("E2000", "EUR"),
             "E2003": ("E2000", "EUR")}


async def run_expense(client: Client, bench: BenchStack, reports: int, in_flight: int) -> ProcessRun:
    latencies: list[float] = []
    counts: Counter[Counts] = Counter()
    submitted: dict[str, float] = {}
    window = asyncio.Semaphore(in_flight)
    async with ConcurDriver(bench.settings.expense.base_url) as concur:
        stop_approving = asyncio.Event()

        async def approve_loop() -> None:   # the managers, approving as soon as a report reaches them
            while not stop_approving.is_set():
                for manager in ("E1000", "E2000"):
                    for header in await concur.manager_queue(manager):
                        if header["reportId"] in submitted:
                            await concur.approve_as_manager(manager, header["reportId"])
                await asyncio.sleep(0.2)

        async def draft(n: int) -> tuple[str, str]:
            async with window:
                employee = list(EMPLOYEES)[n % len(EMPLOYEES)]
                currency = EMPLOYEES[employee][1]
                amount = Decimal(20 + n % 50) + Decimal(n % 97) / 100
                expense = Expense("TAXIX", amount, currency, date.today(), f"Cab {n}",
                                  tax_code="DE19" if currency == "EUR" else None)
                return employee, await concur.create_report(employee, f"bench {n}", currency, [expense])

        async def one(employee: str, report_id: str) -> None:
            async with window:
                started = time.monotonic()
                submitted[report_id] = started
                await concur.submit(employee, report_id)
                handle = client.get_workflow_handle(workflow_id("concur", report_id))

                async def stuck() -> str:
                    snap = await handle.query(ExpenseReimbursementWorkflow.status)
                    return (f"report {report_id} not paid after {REPORT_TIMEOUT}s: {snap.status}, {snap.open_exception}, "
                            f"{snap.timeline[-2:]}")

                outcome = await result_once_started(handle, REPORT_TIMEOUT, stuck)
                latencies.append(time.monotonic() - started)
                assert outcome["status"] == "PAID", outcome
                counts[activity_counts(await handle.fetch_history())] += 1

        # The employees' drafts exist before the clock starts: filling in a report is not finsync's work.
        drafts = await asyncio.gather(*(draft(n) for n in range(reports)))
        approver = asyncio.create_task(approve_loop())
        cpu_before = cpu_by_service(bench.stack)
        begin = time.monotonic()
        await asyncio.gather(*(one(employee, report_id) for employee, report_id in drafts))
        elapsed = time.monotonic() - begin
        cpu = {name: seconds - cpu_before[name] for name, seconds in cpu_by_service(bench.stack).items()}
        stop_approving.set()
        await approver
    return ProcessRun(process="expense", unit="report", label="expense, webhook -> P_PAID", runs=reports,
                      in_flight=in_flight, figures=throughput(reports, latencies, elapsed), counts=counts, cpu=cpu)


async def measure(bench: BenchStack, reports: int, in_flight: int) -> None:
    client = await connect(bench.settings.temporal)
    await beside_ceiling(client, bench, await run_expense(client, bench, reports, in_flight))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--in-flight", type=int, default=50)
    args = parser.parse_args()
    # A sweep mid-run would signal every report in flight.
    with scratch_stack({"FINSYNC_SWEEP__ENABLED": "false"}) as bench:
        asyncio.run(measure(bench, args.reports, args.in_flight))


if __name__ == "__main__":
    main()
