"""The vendor sandboxes as ``finsync sandbox`` and ``finsync dev`` run them (finsync/launch.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from connectors.workday import WorkdayClient
from finsync import launch
from finsync.config import PayrollVendorSettings, Settings
from sandboxes.bank.app import create_app as create_bank
from sandboxes.kit.db import sqlite_engine
from sandboxes.s4hana.processing import confirmation_callback
from tests.support.servers import serve


async def rate_per_second(tmp_path: Path) -> float:
    app = launch.sandbox_app("coupa", Settings(data_dir=tmp_path), "127.0.0.1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        return (await http.get("/_sandbox/rate-limit")).json()["rate-per-second"]


async def test_the_coupa_sandbox_limits_each_client_as_coupa_does(tmp_path: Path) -> None:
    assert await rate_per_second(tmp_path) == 25


async def test_the_benchmark_can_lift_the_coupa_sandboxs_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSYNC_SANDBOX_COUPA_RATE_PER_SECOND", "100000")
    assert await rate_per_second(tmp_path) == 100000


async def test_the_s4hana_sandbox_runs_with_finsyncs_communication_user_and_takes_the_gateway_as_callback(
        tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    async with serve(launch.sandbox_app("s4hana", settings, "127.0.0.1")) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as http:
            items = "/sap/opu/odata/sap/API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic"
            assert (await http.get(items, auth=(settings.s4hana.user, settings.s4hana.password.get_secret_value()))
                    ).status_code == 200
        said = await launch.register_s4hana_confirmations(base_url, "http://gw/callbacks/s4hana/je")
    assert said == "s4hana confirmations go to http://gw/callbacks/s4hana/je"
    assert confirmation_callback.endpoint(sqlite_engine(tmp_path / "sandboxes" / "s4hana.db")) == "http://gw/callbacks/s4hana/je"


async def test_a_tenant_that_is_not_the_sandbox_is_only_told_the_endpoint(tmp_path: Path) -> None:
    async with serve(create_bank(tmp_path / "bank.db")) as elsewhere:
        said = await launch.register_s4hana_confirmations(elsewhere, "https://gw/cb")
    assert said == "s4hana: enter https://gw/cb as the confirmation endpoint in the tenant's communication arrangement"


async def test_the_workday_sandbox_serves_the_tenant_report_owner_and_credentials_of_the_settings(tmp_path: Path) -> None:
    payroll = PayrollVendorSettings(tenant="acme_prod", report_owner="ISU_Acme", client_secret=SecretStr("own secret"),
                                    refresh_token=SecretStr("own refresh"))
    app = launch.sandbox_app("workday", Settings(data_dir=tmp_path, payroll_provider=payroll), "127.0.0.1", employees=12)
    client = WorkdayClient.from_settings(payroll, transport=httpx.ASGITransport(app=app))
    try:
        payees, cursor = await client.payees_page("US01", None, 100)
        _, more = await client.payees_page("DE01", None, 100)
    finally:
        await client.aclose()
    assert cursor is None and more is None and 0 < len(payees) < 12


async def test_the_workday_sandbox_keeps_its_workforce_unless_told_otherwise(tmp_path: Path) -> None:
    async def workforce(**employees: int) -> int:
        app = launch.sandbox_app("workday", Settings(data_dir=tmp_path), "127.0.0.1", **employees)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
            return (await http.get("/_sandbox/workforce")).json()["employees"]

    assert await workforce() == 1000
    assert await workforce(employees=50_000) == 50_000
    assert await workforce() == 50_000
