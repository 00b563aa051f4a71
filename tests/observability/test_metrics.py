"""The worker serves the Temporal SDK's metrics for Prometheus where [telemetry] says."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from finsync.config import (
    BankVendorSettings,
    ErpVendorSettings,
    ExpenseVendorSettings,
    Settings,
    TelemetrySettings,
    TemporalSettings,
)
from finsync.telemetry import TelemetryError, worker_runtime
from tests.observability.conftest import TelemetryStack, eventually
from tests.support.servers import free_port
from worker import run_worker


async def test_a_worker_with_prometheus_bind_serves_temporal_metrics(telemetry_stack: TelemetryStack, tmp_path: Path):
    bind = f"127.0.0.1:{free_port()}"
    # Task queues of its own, so this worker takes none of the shared stack's work.
    settings = Settings(
        data_dir=tmp_path, store_url=f"sqlite:///{tmp_path / 'finsync.db'}",
        temporal=TemporalSettings(address=telemetry_stack.temporal_address, workflow_task_queue="metrics-workflows"),
        expense=ExpenseVendorSettings(task_queue="metrics-expense"), erp=ErpVendorSettings(task_queue="metrics-erp"),
        bank=BankVendorSettings(task_queue="metrics-bank"), telemetry=TelemetrySettings(prometheus_bind=bind))
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop=stop))
    try:
        async def scrape() -> str | None:
            if worker.done():
                worker.result()   # the worker failed: say why
            try:
                async with httpx.AsyncClient() as http:
                    response = await http.get(f"http://{bind}/metrics")
            except httpx.TransportError:
                return None
            return response.text if 'task_queue="metrics-expense"' in response.text else None

        metrics = await eventually(scrape, "metrics for the worker's task queues")
    finally:
        stop.set()
        await worker
    lines = [line for line in metrics.splitlines() if line and not line.startswith("#")]
    assert lines and all(line.startswith("temporal_") for line in lines), lines[:5]


def test_a_prometheus_bind_that_cannot_be_served_says_which_setting_and_why():
    with pytest.raises(TelemetryError, match=r"\[telemetry\] prometheus_bind 'localhost': .*address"):
        worker_runtime(TelemetrySettings(prometheus_bind="localhost"))
