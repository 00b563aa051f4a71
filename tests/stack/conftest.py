"""The whole local stack for end-to-end tests: the real Temporal dev server, the vendor sandboxes
(the S/4HANA one's confirmations pointed at the gateway) and the gateway on loopback ports, and a
worker, wired by configuration only."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from connectors import registry
from finsync import launch
from finsync.config import (
    BankVendorSettings,
    ErpVendorSettings,
    ExpenseVendorSettings,
    PayrollVendorSettings,
    ProcurementVendorSettings,
    RulesSettings,
    S4HanaVendorSettings,
    ServiceAddress,
    Settings,
)
from finsync.interceptors import CorrelationInterceptor
from finsync.store import IntegrationStore
from finsync.temporal import data_converter
from gateway.app import S4HANA_CONFIRMATIONS
from gateway.app import create_app as create_gateway
from sandboxes.bank.app import create_app as create_bank
from sandboxes.concur.app import create_app as create_concur
from sandboxes.concur.driver import ConcurDriver
from sandboxes.coupa.app import create_app as create_coupa
from sandboxes.coupa.driver import CoupaDriver
from sandboxes.netsuite.app import create_app as create_netsuite
from sandboxes.s4hana.app import create_app as create_s4hana
from sandboxes.workday.app import create_app as create_workday
from sandboxes.workday.driver import WorkdayDriver
from tests.support.servers import free_ports, serve
from worker import run_worker
from workflows.common import search


@dataclass
class Stack:
    settings: Settings
    client: Client
    store: IntegrationStore
    concur: ConcurDriver
    gateway_url: str
    coupa: CoupaDriver
    workday: WorkdayDriver         # the payroll team (its tenant has STACK_EMPLOYEES workers to start with)

    async def set_faults(self, base_url: str, **faults: object) -> dict:
        async with httpx.AsyncClient() as http:
            response = await http.put(f"{base_url}/_sandbox/faults", json=faults)
            response.raise_for_status()
            return response.json()

    async def faults_injected(self, base_url: str) -> dict:
        async with httpx.AsyncClient() as http:
            return (await http.get(f"{base_url}/_sandbox/faults")).json()["injected"]


STACK_EMPLOYEES = 50


def _temporal() -> str:
    return shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal") or "temporal"


@pytest.fixture(scope="module")
def stack_rules() -> RulesSettings:
    """The rule files the stack runs with: the repository's; a test module may override it."""
    return RulesSettings()


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, stack_rules: RulesSettings) -> AsyncIterator[Stack]:
    data = tmp_path_factory.mktemp("stack")
    ports = dict(zip(("concur", "netsuite", "bank", "gateway", "coupa", "s4hana", "workday"), free_ports(7), strict=True))
    settings = Settings(
        data_dir=data, store_url=f"sqlite:///{data / 'finsync.db'}",
        expense=ExpenseVendorSettings(base_url=f"http://127.0.0.1:{ports['concur']}", timeout_seconds=3),
        erp=ErpVendorSettings(base_url=f"http://127.0.0.1:{ports['netsuite']}", timeout_seconds=3),
        bank=BankVendorSettings(base_url=f"http://127.0.0.1:{ports['bank']}", timeout_seconds=3),
        procurement=ProcurementVendorSettings(base_url=f"http://127.0.0.1:{ports['coupa']}", timeout_seconds=3),
        s4hana=S4HanaVendorSettings(base_url=f"http://127.0.0.1:{ports['s4hana']}", timeout_seconds=3),
        payroll_provider=PayrollVendorSettings(base_url=f"http://127.0.0.1:{ports['workday']}"),
        gateway=ServiceAddress(port=ports["gateway"]), rules=stack_rules)
    secrets = settings.webhooks
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(settings.temporal), interceptors=[CorrelationInterceptor()],
        search_attributes=search.ALL, dev_server_existing_path=_temporal(), dev_server_log_level="error")
    async with AsyncExitStack() as exits:
        await exits.enter_async_context(env)
        store = IntegrationStore(settings.database_url)
        platform = registry.build(settings.expense)
        exits.push_async_callback(platform.aclose)
        await exits.enter_async_context(serve(create_concur(
            data / "concur.db", webhook_secrets=[s.get_secret_value() for s in secrets.expense_secrets]),
            ports["concur"]))
        await exits.enter_async_context(serve(create_netsuite(data / "netsuite.db", concurrency_limit=15),
                                              ports["netsuite"]))
        await exits.enter_async_context(serve(create_bank(
            data / "bank.db", webhook_secrets=[s.get_secret_value() for s in secrets.bank_secrets],
            settle_after_seconds=0.2), ports["bank"]))
        await exits.enter_async_context(serve(create_coupa(
            data / "coupa.db", webhook_secrets=[s.get_secret_value() for s in secrets.procurement_secrets]),
            ports["coupa"]))
        await exits.enter_async_context(serve(create_s4hana(
            data / "s4hana.db", webhook_secrets=[s.get_secret_value() for s in secrets.s4hana_secrets],
            confirmation_delay_seconds=0.2), ports["s4hana"]))
        await exits.enter_async_context(serve(create_workday(
            data / "workday.db", employees=STACK_EMPLOYEES,
            webhook_secrets=[s.get_secret_value() for s in secrets.payroll_secrets]), ports["workday"]))
        procurement = registry.build(settings.procurement)
        exits.push_async_callback(procurement.aclose)
        gateway_url = await exits.enter_async_context(serve(
            create_gateway(settings, env.client, store, platform, procurement), ports["gateway"]))
        for vendor, path in ((settings.expense, "/webhooks/expense"), (settings.bank, "/webhooks/bank"),
                             (settings.procurement, "/webhooks/procurement"),
                             (settings.payroll_provider, "/webhooks/payroll")):
            client = registry.build(vendor)
            await client.subscribe_webhook(gateway_url + path)
            await client.aclose()
        await launch.register_s4hana_confirmations(settings.s4hana.base_url, gateway_url + S4HANA_CONFIRMATIONS)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(settings, env.client, stop))
        concur = ConcurDriver(settings.expense.base_url)
        exits.push_async_callback(concur.aclose)
        coupa = CoupaDriver(settings.procurement.base_url)
        exits.push_async_callback(coupa.aclose)
        workday = WorkdayDriver(settings.payroll_provider.base_url)
        exits.push_async_callback(workday.aclose)
        try:
            yield Stack(settings, env.client, store, concur, gateway_url, coupa, workday)
        finally:
            stop.set()
            await worker
