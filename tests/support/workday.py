"""A Workday sandbox for tests: served on a loopback port, its clock pinned, with a client holding
a bearer token, the payroll team's driver, and an endpoint that records its signed events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from connectors import registry
from connectors.workday import WorkdayClient
from finsync.config import PayrollVendorSettings, WebhookSettings
from sandboxes.workday import create_app
from sandboxes.workday.driver import WorkdayDriver
from tests.support.coupa import Clock
from tests.support.servers import serve
from tests.support.webhooks import Receiver

TENANT = "finsync_demo"
OWNER = "ISU_Finsync"
PAYROLL_SECRET = WebhookSettings().payroll_secrets[0].get_secret_value()
FAST_RETRIES = [0.2] * 10
START = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)


@dataclass
class Tenant:
    url: str
    api: httpx.AsyncClient             # holds a bearer token
    driver: WorkdayDriver
    hooks: Receiver
    clock: Clock

    async def report(self, name: str, **prompts: Any) -> httpx.Response:
        return await self.api.get(f"/ccx/service/customreport2/{TENANT}/{OWNER}/{name}",
                                  params={"format": "json", **prompts})

    async def all_results(self, run_id: str, page: int = 1000, **prompts: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            body = (await self.report("Payroll_Results_by_Cost_Center", Pay_Run_ID=run_id, offset=len(rows),
                                      limit=page, **prompts)).json()
            rows += body["Report_Entry"]
            if len(rows) >= body["total"]:
                return rows

    async def faults(self, **config: Any) -> dict[str, int]:
        async with httpx.AsyncClient(base_url=self.url) as http:
            (await http.put("/_sandbox/faults", json=config)).raise_for_status()
            return (await http.get("/_sandbox/faults")).json()["injected"]


async def access_token(http: httpx.AsyncClient, *, refresh_token: str = "sandbox-refresh-token",
                       client_id: str = "finsync", client_secret: str = "sandbox-secret",
                       tenant: str = TENANT) -> httpx.Response:
    return await http.post(f"/ccx/oauth2/{tenant}/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id,
        "client_secret": client_secret})


@asynccontextmanager
async def workday_tenant(db: Path, employees: int = 40, **options: Any) -> AsyncIterator[Tenant]:
    """The sandbox with ``employees`` workers, its events going to a recording endpoint."""
    hooks, clock = Receiver(), Clock(START)
    async with serve(hooks.app) as hooks_url:
        app = create_app(db, employees=employees, clock=clock, webhook_endpoint=f"{hooks_url}/hooks",
                         webhook_schedule=FAST_RETRIES, **options)
        async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as api, WorkdayDriver(url) as driver:
            api.headers["Authorization"] = f"Bearer {(await access_token(api)).json()['access_token']}"
            yield Tenant(url, api, driver, hooks, clock)


def connector(tenant: Tenant, **settings: Any) -> WorkdayClient:
    """The Workday connector as the worker builds it, pointed at the sandbox."""
    return registry.build(PayrollVendorSettings(base_url=tenant.url, **settings))
