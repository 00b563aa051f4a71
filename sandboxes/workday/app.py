"""The Workday sandbox: OAuth refresh-token grant, workers, pay runs, pay inputs and RaaS reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from sandboxes.kit.app import Sandbox, sandbox_asgi
from sandboxes.kit.company import load_company
from sandboxes.kit.db import create_tables as create_kit_tables
from sandboxes.kit.db import sqlite_engine
from sandboxes.kit.faults import FaultConfig, FaultState
from sandboxes.kit.tokens import TokenIssuer
from sandboxes.kit.webhooks import Outbox, WebhookMessage
from sandboxes.kit.workforce import Workforce
from sandboxes.workday import admin, auth, events, payinputs, reports, runs, workers
from sandboxes.workday.clock import Clock, system_clock
from sandboxes.workday.context import WorkdayContext
from sandboxes.workday.errors import install_error_handlers, render_error
from sandboxes.workday.staff import Staff, set_company_staff, set_workforce_size, workforce_size
from sandboxes.workday.tables import create_tables

DEFAULT_TENANT = "finsync_demo"
DEFAULT_REPORT_OWNER = "ISU_Finsync"
DEFAULT_EMPLOYEES = 1000
DEFAULT_CLIENTS = {"finsync": "sandbox-secret"}
# The same literals as finsync.config.PayrollVendorSettings.refresh_token and
# WebhookSettings.payroll_secrets (copied: a sandbox never imports finsync).
DEFAULT_REFRESH_TOKENS = ["sandbox-refresh-token"]
DEFAULT_WEBHOOK_SECRETS = ["whsec_Zmluc3luYy1sb2NhbC1wYXlyb2xsLXdlYmhvb2sta2V5"]
# Fixed, so tokens issued before a restart stay valid after it; it guards only a sandbox.
TOKEN_SIGNING_KEY = b"finsync-workday-sandbox-bearer-tokens"


def create_app(db_path: str | Path, *, faults: FaultConfig | None = None, clients: dict[str, str] | None = None,
               refresh_token: str | None = None, webhook_secrets: list[str] | None = None,
               webhook_endpoint: str | None = None, webhook_schedule: list[float] | None = None,
               tenant: str = DEFAULT_TENANT, report_owner: str = DEFAULT_REPORT_OWNER, employees: int | None = None,
               company_staff: bool | list[str] | None = None, seed: int = 0, clock: Clock = system_clock) -> Any:
    """A Workday tenant in SQLite at ``db_path``.

    ``employees``: the workforce's size (kept from the last start unless given; 1,000 on a new
    database). ``company_staff``: which of the company file's named employees are workers too, besides
    the generated ones: all (true), none (false) or those Employee IDs (kept from the last start
    unless given; none on a new database; ValueError for an id the company file lacks). ``seed``: which
    generated workforce (the same seed, the same people).
    ``webhook_endpoint``: subscribe it to the run events from the start. ``clock``: what the
    ``...On`` stamps read (tests pin it).
    """
    staff = Staff(Workforce(load_company(), seed=seed))
    engine = sqlite_engine(db_path)
    create_tables(engine)
    create_kit_tables(engine, [WebhookMessage])
    with engine.begin() as conn:
        if employees is not None or not workforce_size(conn):
            set_workforce_size(conn, employees or DEFAULT_EMPLOYEES)
        if company_staff is not None:
            set_company_staff(conn, staff.choose(company_staff))
    if webhook_endpoint:
        events.subscription.subscribe(engine, webhook_endpoint)
    tokens = TokenIssuer(TOKEN_SIGNING_KEY, clients or DEFAULT_CLIENTS, lifetime_seconds=auth.TOKEN_LIFETIME_SECONDS)
    outbox = Outbox(engine, schedule=webhook_schedule)
    sandbox = Sandbox("workday", engine, FaultState(faults or FaultConfig.from_env("workday")), outbox)

    api = FastAPI(title="Workday sandbox (REST, RaaS, payroll)")
    api.state.workday = WorkdayContext(
        engine=engine, tenant=tenant, report_owner=report_owner, tokens=tokens,
        refresh_token=refresh_token or DEFAULT_REFRESH_TOKENS[0], clock=clock,
        staff=staff, outbox=outbox,
        webhook_secrets=webhook_secrets or DEFAULT_WEBHOOK_SECRETS)
    install_error_handlers(api)
    for module in (auth, workers, runs, payinputs, reports, events, admin):
        api.include_router(module.router)
    return sandbox_asgi(api, sandbox, render_error)
