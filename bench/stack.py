"""What every throughput bench shares: its own local stack in a scratch folder, the engine's ceiling
(a no-op workflow with the same activity count) measured on the same server in the same run, CPU
time by process, and the table the figures are printed in."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError

from bench.noop import TASK_QUEUE, NoopWorkflow
from finsync import devstack
from finsync.config import Settings

ROOT = Path(__file__).resolve().parent.parent

Counts = tuple[int, int]     # (activities, local activities) of one run


@dataclass(frozen=True)
class Throughput:
    per_second: float
    p50: float
    p95: float
    elapsed: float           # seconds, first start to last end


@dataclass(frozen=True)
class BenchStack:
    settings: Settings
    stack: devstack.LocalStack
    data_dir: Path


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def throughput(runs: int, latencies: list[float], elapsed: float) -> Throughput:
    return Throughput(runs / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.95), elapsed)


def activity_counts(history: WorkflowHistory) -> Counts:
    """Activities scheduled and local activities recorded in one run's history."""
    return (sum(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED for e in history.events),
            sum(e.marker_recorded_event_attributes.marker_name == "core_local_activity" for e in history.events))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children that exited (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def cpu_by_service(stack: devstack.LocalStack) -> dict[str, float]:
    return {s.name: cpu_seconds(s.process.pid) for s in stack.services if s.process}


@contextmanager
def scratch_stack(environment: dict[str, str]) -> Iterator[BenchStack]:
    """The processes `finsync dev` runs, in a scratch folder, with no sandbox latency and compiled
    bytecode, as deployed. ``environment``: FINSYNC_* settings of this bench, for every process.
    Exits with one line if a port the stack needs is taken."""
    with tempfile.TemporaryDirectory(prefix="finsync-bench-") as scratch:
        data_dir = Path(scratch) / ".finsync"
        config = devstack.write_local_config(data_dir)
        os.environ["FINSYNC_CONFIG"] = str(config)
        os.environ["FINSYNC_SANDBOX_BANK_SETTLE_SECONDS"] = "0"   # sandbox latency 0
        # The services run this tree's code, whichever tree the environment has installed.
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        os.environ.update(environment)
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
            yield BenchStack(settings, stack, data_dir)


async def result_once_started(handle: WorkflowHandle, timeout: float, stuck: Callable[[], Awaitable[str]]) -> Any:
    """The run's result, once a webhook or a poll has started it; after ``timeout`` seconds the
    bench ends with the line ``stuck`` says."""
    while True:
        try:
            return await asyncio.wait_for(handle.result(), timeout)
        except RPCError:     # not started yet; polling harder costs the server
            await asyncio.sleep(0.25)
        except TimeoutError:
            raise SystemExit(await stuck()) from None


async def timed(runs: int, in_flight: int, one: Callable[[int], Awaitable[float]]) -> Throughput:
    """``runs`` calls of ``one`` (which returns its latency), ``in_flight`` at a time."""
    latencies: list[float] = []
    window = asyncio.Semaphore(in_flight)

    async def each(n: int) -> None:
        async with window:
            latencies.append(await one(n))

    begin = time.monotonic()
    await asyncio.gather(*(each(n) for n in range(runs)))
    return throughput(runs, latencies, time.monotonic() - begin)


async def run_noop(client: Client, runs: int, in_flight: int, counts: Counts) -> Throughput:
    tag = os.urandom(3).hex()

    async def one(n: int) -> float:
        started = time.monotonic()
        await client.execute_workflow(NoopWorkflow.run, list(counts), id=f"bench-noop-{tag}-{n}", task_queue=TASK_QUEUE)
        return time.monotonic() - started

    return await timed(runs, in_flight, one)


async def measure_ceiling(client: Client, bench: BenchStack, runs: int, in_flight: int,
                          counts: Counts) -> tuple[Throughput, dict[str, float]]:
    """The no-op workflow with ``counts`` activities, on a worker process of its own: its throughput,
    and the CPU seconds each process spent on it."""
    # Started once, before the clock: blocking here costs the measurement nothing.
    noop_worker = subprocess.Popen([sys.executable, str(ROOT / "bench" / "noop.py")], cwd=ROOT,  # noqa: ASYNC220
                                   env={**os.environ, "FINSYNC_CONFIG": str(bench.data_dir / "finsync.toml")})

    def cpu() -> dict[str, float]:
        return {**cpu_by_service(bench.stack), "noop worker": cpu_seconds(noop_worker.pid)}

    try:
        await asyncio.sleep(2)
        before = cpu()
        ceiling = await run_noop(client, runs, in_flight, counts)
        return ceiling, {name: seconds - before[name] for name, seconds in cpu().items()}
    finally:
        noop_worker.terminate()
        noop_worker.wait()


@dataclass(frozen=True)
class ProcessRun:
    """One process's timed runs through the stack."""

    process: str                     # "expense"
    unit: str                        # what one run is: "report"
    label: str                       # what was timed: "expense, webhook -> P_PAID"
    runs: int
    in_flight: int
    figures: Throughput
    counts: Counter[Counts]          # (activities, local activities) per run -> runs
    cpu: dict[str, float]            # CPU seconds by process over the timed runs

    @property
    def ceiling_counts(self) -> Counts:
        """The commonest counts: what the ceiling workflow runs."""
        return max(self.counts, key=lambda counts: self.counts[counts])


async def beside_ceiling(client: Client, bench: BenchStack, run: ProcessRun) -> None:
    """Measure the ceiling with the run's activity counts, runs and window, and print both."""
    ceiling, noop_cpu = await measure_ceiling(client, bench, run.runs, run.in_flight, run.ceiling_counts)
    print_table(run, ceiling, noop_cpu)


def print_table(m: ProcessRun, ceiling: Throughput, noop_cpu: dict[str, float]) -> None:
    activities, local_activities = m.ceiling_counts
    print(f"\nmachine: {os.cpu_count()} cores · {m.runs} runs each, {m.in_flight} in flight · sandbox latency 0, no faults")
    print(f"(activities, local activities) per {m.unit}, fault-free: "
          + ", ".join(f"{k} x{v}" for k, v in m.counts.items())
          + f"; the ceiling workflow runs {activities} + {local_activities}")
    width = max(32, len(m.label) + 2)
    print(f"{'':{width}}{'per s':>8}{'p50 s':>8}{'p95 s':>8}{'total s':>9}")
    for name, figures in ((m.label, m.figures), ("engine ceiling (no-op)", ceiling)):
        print(f"{name:{width}}{figures.per_second:8.2f}{figures.p50:8.2f}{figures.p95:8.2f}{figures.elapsed:9.1f}")
    print(f"ratio {m.process} / ceiling: {m.figures.per_second / ceiling.per_second:.2f}  (target >= 0.8)")
    print("CPU milliseconds per run, by process (the machine's budget is "
          f"{1000 * (os.cpu_count() or 1) / ceiling.per_second:.0f} ms per no-op run at the ceiling's rate):")
    column = max(8, len(m.process))
    for run, cpu in ((m.process, m.cpu), ("no-op", noop_cpu)):
        busy = sorted(((name, 1000 * seconds / m.runs) for name, seconds in cpu.items()), key=lambda kv: -kv[1])
        print(f"  {run:{column}} total {sum(ms for _, ms in busy):4.0f}: "
              + ", ".join(f"{name} {ms:.0f}" for name, ms in busy if ms >= 0.5))
    # Where the vendors are simulated on the same cores, they cap the ratio whatever finsync does.
    engine = sum(noop_cpu.values())
    vendors = sum(seconds for name, seconds in m.cpu.items() if name.startswith("sandbox:"))
    own = sum(m.cpu.values()) - vendors
    print(f"at most {engine / (engine + vendors):.2f} with the vendor sandboxes on these cores, even if a {m.unit} cost "
          "the engine no more than a no-op run")
    print(f"finsync's own CPU per {m.unit} (Temporal, worker, gateway) / CPU per no-op run: {own / engine:.2f}x "
          "(target <= 1.5x)")
