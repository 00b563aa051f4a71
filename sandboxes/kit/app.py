"""Wrap a vendor's FastAPI app into a sandbox: admin routes, fault injection, webhook outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from sandboxes.kit.faults import ErrorRenderer, FaultConfig, FaultInjector, FaultState
from sandboxes.kit.webhooks import Outbox


@dataclass
class Sandbox:
    """One running sandbox: its name, state, faults and (if it sends webhooks) its outbox."""

    name: str
    engine: Engine
    faults: FaultState = field(default_factory=FaultState)
    outbox: Outbox | None = None


def sandbox_asgi(api: FastAPI, sandbox: Sandbox, render_error: ErrorRenderer) -> FaultInjector:
    """Add ``/_sandbox`` admin routes and the outbox lifecycle to ``api``; return it behind faults.

    Admin routes are never faulted, so tests and demos can always reconfigure a sandbox.
    """

    @api.get("/_sandbox/health", include_in_schema=False)
    async def health() -> dict:
        return {"sandbox": sandbox.name, "status": "ok"}

    @api.get("/_sandbox/faults", include_in_schema=False)
    async def get_faults() -> dict:
        return sandbox.faults.report()

    @api.put("/_sandbox/faults", include_in_schema=False)
    async def put_faults(config: FaultConfig) -> dict:
        sandbox.faults.configure(config)
        return sandbox.faults.report()

    @api.get("/_sandbox/webhooks", include_in_schema=False)
    async def webhooks() -> dict:
        return sandbox.outbox.report() if sandbox.outbox else {}

    if sandbox.outbox is not None:
        outbox, inner = sandbox.outbox, api.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
            async with inner(app) as state:
                outbox.start()
                try:
                    yield state
                finally:
                    await outbox.stop()

        api.router.lifespan_context = lifespan

    return FaultInjector(api, sandbox.faults, render_error)
