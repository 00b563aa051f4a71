"""The Coupa sandbox: requisitions, approvals, purchase orders, receipts, invoices and suppliers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from sandboxes.coupa import admin, approvals, auth, events, invoices, orders, receipts, requisitions, suppliers
from sandboxes.coupa.clock import Clock, system_clock
from sandboxes.coupa.context import CoupaContext
from sandboxes.coupa.errors import install_error_handlers, render_error
from sandboxes.coupa.ratelimit import DEFAULT_BURST, DEFAULT_RATE, LeakyBucket
from sandboxes.coupa.seed import seed_if_empty
from sandboxes.coupa.tables import create_tables
from sandboxes.kit.app import Sandbox, sandbox_asgi
from sandboxes.kit.company import load_company
from sandboxes.kit.db import create_tables as create_kit_tables
from sandboxes.kit.db import sqlite_engine
from sandboxes.kit.faults import FaultConfig, FaultState
from sandboxes.kit.tokens import TokenIssuer
from sandboxes.kit.webhooks import Outbox, WebhookMessage

DEFAULT_CLIENTS = {"finsync": "sandbox-secret"}
# The same literal as finsync.config.WebhookSettings.procurement_secrets (copied: a sandbox never
# imports finsync).
DEFAULT_WEBHOOK_SECRETS = ["whsec_Zmluc3luYy1sb2NhbC1wcm9jdXJlbWVudC13ZWJob29rLWtleQ=="]
# Fixed, so tokens issued before a restart stay valid after it; it guards only a sandbox.
TOKEN_SIGNING_KEY = b"finsync-coupa-sandbox-bearer-tokens"


def create_app(db_path: str | Path, *, faults: FaultConfig | None = None, clients: dict[str, str] | None = None,
               webhook_secrets: list[str] | None = None, webhook_endpoint: str | None = None,
               webhook_schedule: list[float] | None = None, rate_per_second: float = DEFAULT_RATE,
               rate_burst: int = DEFAULT_BURST, token_lifetime_seconds: int = auth.TOKEN_LIFETIME_SECONDS,
               auto_approve_invoices: bool = True, clock: Clock = system_clock) -> Any:
    """A Coupa instance in SQLite at ``db_path``, seeded from the demo company on first creation.

    ``rate_per_second``/``rate_burst``: the leaky bucket per client (tests loosen or tighten it).
    ``webhook_endpoint``: subscribe it to the optional events from the start.
    ``clock``: what ``created-at``/``updated-at`` read (tests pin it).
    """
    engine = sqlite_engine(db_path)
    create_tables(engine)
    create_kit_tables(engine, [WebhookMessage])
    seed_if_empty(engine, load_company(), clock())
    if webhook_endpoint:
        events.subscription.subscribe(engine, webhook_endpoint)
    tokens = TokenIssuer(TOKEN_SIGNING_KEY, clients or DEFAULT_CLIENTS, lifetime_seconds=token_lifetime_seconds)
    outbox = Outbox(engine, schedule=webhook_schedule)
    sandbox = Sandbox("coupa", engine, FaultState(faults or FaultConfig.from_env("coupa")), outbox)

    api = FastAPI(title="Coupa sandbox (Core API)")
    api.state.coupa = CoupaContext(engine=engine, tokens=tokens, clock=clock, outbox=outbox,
                                   webhook_secrets=webhook_secrets or DEFAULT_WEBHOOK_SECRETS,
                                   auto_approve_invoices=auto_approve_invoices)
    install_error_handlers(api)
    api.include_router(auth.router)
    api.include_router(suppliers.router)
    for module in (requisitions, approvals, orders, receipts, invoices):
        api.include_router(module.reads)
        api.include_router(module.writes)
    api.include_router(events.router)
    api.include_router(admin.router)
    limit = LeakyBucket(sandbox_asgi(api, sandbox, render_error), tokens, rate=rate_per_second, burst=rate_burst)
    api.state.rate_limit = limit   # for GET /_sandbox/rate-limit
    return limit
