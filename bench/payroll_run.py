"""Payroll runs of 5,000 and 50,000 employees through the local stack (its own, in a scratch folder).

For each headcount: a run is finalized in the Workday-shaped sandbox and its signed event starts
the workflow through the gateway; the clock stops when every entity's net pay is decided and its
bank statement read (an employee of a closed account parks alone: that is at rest too). Printed
beside the targets: wall time from the event to the last reconciliation, the worker's peak RSS,
and the largest event any of the run's workflows wrote to history (an upper bound of its largest
payload).

    .venv/bin/python bench/payroll_run.py [--employees 5000 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client  # noqa: E402

from bench.stack import BenchStack, scratch_stack  # noqa: E402
from finsync.demo import run_tag  # noqa: E402
from finsync.demo_payroll import at_rest  # noqa: E402
from finsync.temporal import connect  # noqa: E402
from sandboxes.workday.driver import WorkdayDriver  # noqa: E402
from workflows.payroll.model import PayrollSnapshot  # noqa: E402

TARGET_SECONDS, TARGET_RSS_MB, PAYLOAD_LIMIT = 60, 400, 512 * 1024


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def largest_event(client: Client, workflow_ids: list[str]) -> int:
    largest = 0
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        largest = max([largest, *(event.ByteSize() for event in history.events)])
    return largest


async def one_run(client: Client, bench: BenchStack, employees: int) -> tuple[float, PayrollSnapshot]:
    today = date.today()
    async with WorkdayDriver(bench.settings.payroll_provider.base_url) as workday:
        await workday.set_workforce(employees)
        run = await workday.create_run(today.replace(day=1), employees=employees, payment_date=today,
                                       pay_group=f"BENCH-{run_tag()}")
        started = time.monotonic()
        await workday.finalize(run["id"], by="pat.payroll")
    handle = client.get_workflow_handle(f"payroll-workday-{run['id']}-v1")
    while True:
        try:
            snapshot = await handle.query("status", result_type=PayrollSnapshot)
            if at_rest(snapshot):
                return time.monotonic() - started, snapshot
        except Exception:   # not started yet  # noqa: BLE001
            pass
        if time.monotonic() - started > 900:
            raise SystemExit(f"payroll run {run['id']} not at rest after 900 s")
        await asyncio.sleep(0.25)


async def measure(bench: BenchStack, headcounts: list[int]) -> None:
    client = await connect(bench.settings.temporal)
    worker = next(s for s in bench.stack.services if s.name == "worker")
    assert worker.process is not None
    print(f"targets: event to reconciled <= {TARGET_SECONDS} s at 50,000 · worker RSS <= {TARGET_RSS_MB} MB · "
          f"no payload over {PAYLOAD_LIMIT // 1024} KiB")
    print(f"{'employees':>10}{'rows':>10}{'wall s':>8}{'worker peak MB':>16}{'largest event KiB':>19}  outcome")
    for employees in headcounts:
        elapsed, snapshot = await one_run(client, bench, employees)
        children = [f"payroll-journal:{p.journal.external_id}" for p in snapshot.entities.values() if p.journal]
        largest = await largest_event(client, [f"payroll-workday-{snapshot.run.run_id}-v1", *children])
        outcome = ", ".join(f"{e}: {p.payment.settled}/{p.payment.transfers} paid, {p.payment.statement or '-'}"
                            for e, p in sorted(snapshot.entities.items()) if p.payment)
        print(f"{employees:>10,}{snapshot.rows:>10,}{elapsed:>8.1f}{peak_rss_mb(worker.process.pid):>16.0f}"
              f"{largest / 1024:>19.1f}  {outcome}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, nargs="+", default=[5000, 50000])
    with scratch_stack({}) as stack:   # started outside the event loop: it runs its own
        asyncio.run(measure(stack, parser.parse_args().employees))
