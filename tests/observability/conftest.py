"""A small real stack for telemetry: spans recorded in memory, the real dev server, the Concur
sandbox behind a tap that notes each request's ``traceparent``, the gateway and a worker.

Only the expense platform is served: these tests stop at finsync's policy check, before the ERP
or the bank is called. Every client comes from ``finsync.temporal.connect``, as in production.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from connectors import registry
from finsync.config import ExpenseVendorSettings, ServiceAddress, Settings, TemporalSettings
from finsync.store import IntegrationStore
from finsync.temporal import connect, data_converter
from gateway.app import create_app as create_gateway
from sandboxes.concur.app import create_app as create_concur
from sandboxes.concur.driver import ConcurDriver, Expense
from tests.support.servers import free_ports, serve
from worker import run_worker
from workflows.common import search


@pytest.fixture(scope="package")
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span ended while these tests run, kept in memory. The global provider can be set
    once per process: later tests still make SDK spans, but none is kept."""
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider), "a tracer provider is set already"
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    yield exporter
    provider.shutdown()


@dataclass
class Seen:
    method: str
    path: str
    traceparent: str | None
    correlation_id: str | None   # the id finsync sent (Concur's header)


@dataclass
class VendorTap:
    """In front of a sandbox: notes every request, and can answer one chosen request with 429."""

    app: ASGIApp
    seen: list[Seen] = field(default_factory=list)
    throttled: list[Seen] = field(default_factory=list)
    _throttle: tuple[str, re.Pattern[str]] | None = None

    def throttle_once(self, method: str, path_pattern: str) -> None:
        """The next ``method`` request whose path matches gets 429 with Retry-After: 1."""
        self._throttle = (method, re.compile(path_pattern))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {name.decode(): value.decode() for name, value in scope["headers"]}
            request = Seen(scope["method"], scope["path"], headers.get("traceparent"), headers.get("concur-correlationid"))
            self.seen.append(request)
            if self._throttle and self._throttle[0] == request.method and self._throttle[1].search(request.path):
                self._throttle = None
                self.throttled.append(request)
                await send({"type": "http.response.start", "status": 429,
                            "headers": [(b"retry-after", b"1"), (b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": b'{"message": "Too many requests"}'})
                return
        await self.app(scope, receive, send)


@dataclass
class TelemetryStack:
    settings: Settings
    client: Client
    concur: ConcurDriver
    concur_tap: VendorTap
    temporal_address: str

    async def draft(self, employee: str) -> str:
        """An employee's one-line report, not yet submitted."""
        expense = Expense("DINNR", Decimal("86.40"), "USD", date.today(), "Nopa")
        return await self.concur.create_report(employee, "Client dinner", "USD", [expense], report_date=date.today())

    async def submit(self, employee: str, report_id: str) -> None:
        """The employee submits the report: its webhook starts the workflow."""
        await self.concur.submit(employee, report_id)


async def eventually(probe: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Poll ``probe`` (plain or async) until it returns something truthy, and return that; fail
    saying ``what`` never happened."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = probe()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(0.1)


def _temporal() -> str:
    return shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal") or "temporal"


@pytest.fixture(scope="package")
async def telemetry_stack(tmp_path_factory: pytest.TempPathFactory, spans: InMemorySpanExporter
                          ) -> AsyncIterator[TelemetryStack]:
    data = tmp_path_factory.mktemp("telemetry")
    concur_port, gateway_port = free_ports(2)
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(TemporalSettings()),
        search_attributes=search.ALL,
        dev_server_existing_path=_temporal(), dev_server_log_level="error")
    async with AsyncExitStack() as exits:
        await exits.enter_async_context(env)
        address = env.client.service_client.config.target_host
        settings = Settings(
            data_dir=data, store_url=f"sqlite:///{data / 'finsync.db'}", temporal=TemporalSettings(address=address),
            expense=ExpenseVendorSettings(base_url=f"http://127.0.0.1:{concur_port}", timeout_seconds=3),
            gateway=ServiceAddress(port=gateway_port))
        client = await connect(settings.temporal)
        store = IntegrationStore(settings.database_url)
        platform = registry.build(settings.expense)
        exits.push_async_callback(platform.aclose)
        tap = VendorTap(create_concur(
            data / "concur.db", webhook_secrets=[s.get_secret_value() for s in settings.webhooks.expense_secrets]))
        await exits.enter_async_context(serve(tap, concur_port))
        gateway_url = await exits.enter_async_context(serve(create_gateway(settings, client, store, platform),
                                                            gateway_port))
        subscriber = registry.build(settings.expense)
        await subscriber.subscribe_webhook(gateway_url + "/webhooks/expense")
        await subscriber.aclose()
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(settings, client, stop))
        concur = ConcurDriver(settings.expense.base_url)
        exits.push_async_callback(concur.aclose)
        try:
            yield TelemetryStack(settings, client, concur, tap, address)
        finally:
            stop.set()
            await worker
