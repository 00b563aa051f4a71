"""Expense reports per second and webhook-to-paid latency through the full local stack, beside
the engine's ceiling (a no-op workflow with the same activity count) in the same run.

    .venv/bin/python bench/expense_throughput.py [--reports 500] [--in-flight 50]

It starts its own stack (the processes `finsync dev` runs) in a scratch folder, with no sandbox
latency or faults: nothing else may hold ports 7233, 8233, 8700-8704.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.service import RPCError  # noqa: E402

from bench.noop import TASK_QUEUE, NoopWorkflow  # noqa: E402
from finsync import devstack  # noqa: E402
from finsync.config import Settings  # noqa: E402
from finsync.temporal import connect  # noqa: E402
from sandboxes.concur.driver import ConcurDriver, Expense  # noqa: E402
from workflows.expense.model import workflow_id  # noqa: E402
from workflows.expense.workflow import ExpenseReimbursementWorkflow  # noqa: E402

REPORT_TIMEOUT = 120

EMPLOYEES = {"E1001": ("E1000", "USD"), "E1002": ("E1000", "USD"), "E1003": ("E1000", "USD"),
             "E1004": ("E1000", "USD"), "E2001": ("E2000", "EUR"), "E2002": ("E2000", "EUR"),
             "E2003": ("E2000", "EUR")}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def run_expense(client: Client, settings: Settings, stack: devstack.LocalStack, reports: int,
                      in_flight: int) -> dict:
    latencies: list[float] = []
    activity_counts: Counter[tuple[int, int]] = Counter()
    submitted: dict[str, float] = {}
    window = asyncio.Semaphore(in_flight)
    async with ConcurDriver(settings.expense.base_url) as concur:
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
                while True:
                    try:
                        outcome = await asyncio.wait_for(handle.result(), REPORT_TIMEOUT)
                        break
                    except RPCError:     # the webhook has not started it yet; polling harder costs the server
                        await asyncio.sleep(0.25)
                    except TimeoutError:
                        snap = await handle.query(ExpenseReimbursementWorkflow.status)
                        raise SystemExit(f"report {report_id} not paid after {REPORT_TIMEOUT}s: {snap.status}, "
                                         f"{snap.open_exception}, {snap.timeline[-2:]}") from None
                latencies.append(time.monotonic() - started)
                assert outcome["status"] == "PAID", outcome
                history = await handle.fetch_history()
                activity_counts[(
                    sum(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED for e in history.events),
                    sum(e.marker_recorded_event_attributes.marker_name == "core_local_activity"
                        for e in history.events))] += 1

        # The employees' drafts exist before the clock starts: filling in a report is not finsync's work.
        drafts = await asyncio.gather(*(draft(n) for n in range(reports)))
        approver = asyncio.create_task(approve_loop())
        cpu_before = cpu_by_service(stack)
        begin = time.monotonic()
        await asyncio.gather(*(one(employee, report_id) for employee, report_id in drafts))
        elapsed = time.monotonic() - begin
        cpu = {name: seconds - cpu_before[name] for name, seconds in cpu_by_service(stack).items()}
        stop_approving.set()
        await approver
    return {"per_second": reports / elapsed, "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
            "elapsed": elapsed, "activities": activity_counts, "cpu": cpu}


async def run_noop(client: Client, runs: int, in_flight: int, activities: int, local_activities: int) -> dict:
    latencies: list[float] = []
    window = asyncio.Semaphore(in_flight)
    tag = os.urandom(3).hex()

    async def one(n: int) -> None:
        async with window:
            started = time.monotonic()
            await client.execute_workflow(NoopWorkflow.run, [activities, local_activities], id=f"bench-noop-{tag}-{n}",
                                          task_queue=TASK_QUEUE)
            latencies.append(time.monotonic() - started)

    begin = time.monotonic()
    await asyncio.gather(*(one(n) for n in range(runs)))
    elapsed = time.monotonic() - begin
    return {"per_second": runs / elapsed, "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
            "elapsed": elapsed}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children that exited (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def cpu_by_service(stack: devstack.LocalStack) -> dict[str, float]:
    return {s.name: cpu_seconds(s.process.pid) for s in stack.services if s.process}


async def measure(settings: Settings, stack: devstack.LocalStack, reports: int, in_flight: int, data_dir: Path) -> None:
    client = await connect(settings.temporal)
    expense = await run_expense(client, settings, stack, reports, in_flight)
    expense_cpu = expense["cpu"]
    activities, local_activities = max(expense["activities"], key=expense["activities"].get)
    # Started once, before the clock: blocking here costs the measurement nothing.
    noop_worker = subprocess.Popen([sys.executable, str(ROOT / "bench" / "noop.py")], cwd=ROOT,  # noqa: ASYNC220
                                   env={**os.environ, "FINSYNC_CONFIG": str(data_dir / "finsync.toml")})
    try:
        await asyncio.sleep(2)
        before = {**cpu_by_service(stack), "noop worker": cpu_seconds(noop_worker.pid)}
        ceiling = await run_noop(client, reports, in_flight, activities, local_activities)
        noop_cpu = {name: seconds - before[name] for name, seconds in
                    {**cpu_by_service(stack), "noop worker": cpu_seconds(noop_worker.pid)}.items()}
    finally:
        noop_worker.terminate()
        noop_worker.wait()
    print(f"\nmachine: {os.cpu_count()} cores · {reports} runs each, {in_flight} in flight · sandbox latency 0, no faults")
    print("(activities, local activities) per report, fault-free: "
          + ", ".join(f"{k} x{v}" for k, v in expense["activities"].items())
          + f"; the ceiling workflow runs {activities} + {local_activities}")
    print(f"{'':32}{'per s':>8}{'p50 s':>8}{'p95 s':>8}{'total s':>9}")
    for name, figures in (("expense, webhook -> P_PAID", expense), ("engine ceiling (no-op)", ceiling)):
        print(f"{name:32}{figures['per_second']:8.2f}{figures['p50']:8.2f}{figures['p95']:8.2f}{figures['elapsed']:9.1f}")
    print(f"ratio expense / ceiling: {expense['per_second'] / ceiling['per_second']:.2f}  (target >= 0.8)")
    print("CPU milliseconds per run, by process (the machine's budget is "
          f"{1000 * (os.cpu_count() or 1) / ceiling['per_second']:.0f} ms per no-op run at the ceiling's rate):")
    for run, cpu in (("expense", expense_cpu), ("no-op", noop_cpu)):
        busy = sorted(((name, 1000 * seconds / reports) for name, seconds in cpu.items()), key=lambda kv: -kv[1])
        print(f"  {run:8} total {sum(ms for _, ms in busy):4.0f}: "
              + ", ".join(f"{name} {ms:.0f}" for name, ms in busy if ms >= 0.5))
    # Where the vendors are simulated on the same cores, they cap the ratio whatever finsync does.
    engine = sum(noop_cpu.values())
    vendors = sum(seconds for name, seconds in expense_cpu.items() if name.startswith("sandbox:"))
    own = sum(expense_cpu.values()) - vendors
    print(f"at most {engine / (engine + vendors):.2f} with the vendor sandboxes on these cores, even if a report cost "
          "the engine no more than a no-op run")
    print(f"finsync's own CPU per report (Temporal, worker, gateway) / CPU per no-op run: {own / engine:.2f}x "
          "(target <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--in-flight", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="finsync-bench-") as scratch:
        data_dir = Path(scratch) / ".finsync"
        config = devstack.write_local_config(data_dir)
        os.environ["FINSYNC_CONFIG"] = str(config)
        os.environ["FINSYNC_SANDBOX_BANK_SETTLE_SECONDS"] = "0"   # sandbox latency 0
        os.environ["FINSYNC_SWEEP__ENABLED"] = "false"   # a sweep mid-run would signal every report in flight
        # As deployed (pip compiles bytecode on install): without it the workflow sandbox compiles
        # the workflow's module from source for every run it starts. Cached in the scratch folder.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        signal.signal(signal.SIGTERM, signal.default_int_handler)   # a killed bench still stops its stack
        settings = Settings()
        stack = devstack.LocalStack(settings, cwd=Path(scratch))
        taken = stack.ports_taken()
        if taken:
            sys.exit(f"ports in use: {', '.join(f'{s.name}:{s.port}' for s in taken)}; stop finsync dev first")
        with stack:
            asyncio.run(measure(settings, stack, args.reports, args.in_flight, data_dir))


if __name__ == "__main__":
    main()
