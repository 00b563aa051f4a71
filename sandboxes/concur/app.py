"""The SAP Concur sandbox: Expense v4, Identity v4, Financial Integration and ESS webhooks."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from sandboxes.concur import auth, events, expenses, financial, identity, listing, reports
from sandboxes.concur.context import ConcurContext
from sandboxes.concur.correlation import CorrelationIdMiddleware
from sandboxes.concur.errors import install_error_handlers, render_error
from sandboxes.concur.models import CONCUR_TABLES
from sandboxes.concur.seed import seed, setting
from sandboxes.kit.app import Sandbox, sandbox_asgi
from sandboxes.kit.company import load_company
from sandboxes.kit.db import create_tables, sqlite_engine
from sandboxes.kit.faults import FaultConfig, FaultState
from sandboxes.kit.tokens import TokenIssuer
from sandboxes.kit.webhooks import Outbox, WebhookMessage

# The expense secret finsync's gateway verifies by default (finsync.config.WebhookSettings),
# copied so the sandbox stays independent of finsync.
DEFAULT_WEBHOOK_SECRETS = ["whsec_Zmluc3luYy1sb2NhbC1jb25jdXItd2ViaG9vay1rZXk="]
DEFAULT_CLIENTS = {"finsync": "sandbox-secret"}
REFRESH_TOKEN_LIFETIME = 180 * 24 * 3600  # Concur refresh tokens last six months


def create_app(db_path: str | Path, *, faults: FaultConfig | None = None, today: date | None = None,
               webhook_secrets: list[str] | None = None, clients: dict[str, str] | None = None,
               external_validation: bool = True, webhook_schedule: list[float] | None = None) -> Any:
    """An ASGI app behaving like SAP Concur, with its state in the SQLite file ``db_path``.

    ``external_validation``: submitted reports wait in A_EXTV for finsync's policy check
    before they reach the manager (as with a Concur external-validation workflow step).
    ``webhook_schedule``: seconds between delivery retries (tests shorten it).
    """
    engine = sqlite_engine(db_path)
    create_tables(engine, [*CONCUR_TABLES, WebhookMessage])
    seed(engine, load_company(), today or date.today())
    secrets_ = webhook_secrets or DEFAULT_WEBHOOK_SECRETS
    signing_key = setting(engine, "token_signing_key").encode()
    clients = clients or DEFAULT_CLIENTS
    outbox = Outbox(engine, retry_on=events.concur_retries, schedule=webhook_schedule,
                    timeout_seconds=30, extra_headers=events.concur_signature(secrets_))
    sandbox = Sandbox(name="concur", engine=engine, faults=FaultState(faults or FaultConfig.from_env("concur")),
                      outbox=outbox)

    api = FastAPI(title="SAP Concur sandbox", version="v4")
    api.state.concur = ConcurContext(
        engine=engine,
        access_tokens=TokenIssuer(signing_key, clients),
        refresh_tokens=TokenIssuer(b"refresh:" + signing_key, clients, lifetime_seconds=REFRESH_TOKEN_LIFETIME),
        outbox=outbox, webhook_secrets=secrets_, company_id=setting(engine, "company_id"),
        external_validation=external_validation)
    install_error_handlers(api)
    for module in (auth, identity, reports, listing, expenses, financial, events):
        api.include_router(module.router)
    return CorrelationIdMiddleware(sandbox_asgi(api, sandbox, render_error))
