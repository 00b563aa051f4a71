"""What every route of one Workday sandbox shares, kept on ``app.state.workday``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy.engine import Engine

from sandboxes.kit.tokens import TokenIssuer
from sandboxes.kit.webhooks import Outbox
from sandboxes.workday.clock import Clock, stamp
from sandboxes.workday.errors import WorkdayError
from sandboxes.workday.staff import Staff


@dataclass
class WorkdayContext:
    engine: Engine
    tenant: str
    report_owner: str                # the integration system user the RaaS reports are shared by
    tokens: TokenIssuer
    refresh_token: str               # the integration system user's, as its API client registration shows it
    clock: Clock
    staff: Staff
    outbox: Outbox
    webhook_secrets: list[str]
    # One change of a pay run at a time: a finalization takes a while, and the next must see it done.
    changing: asyncio.Lock = field(default_factory=asyncio.Lock)

    def now(self) -> str:
        return stamp(self.clock())

    def check_tenant(self, tenant: str) -> None:
        if tenant != self.tenant:
            raise WorkdayError(404, f"No tenant {tenant[:60]!r} here.")


def workday(request: Request) -> WorkdayContext:
    return request.app.state.workday
