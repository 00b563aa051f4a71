"""What every route of one Coupa sandbox shares, kept on ``app.state.coupa``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.engine import Engine

from sandboxes.coupa.clock import Clock, stamp
from sandboxes.kit.tokens import TokenIssuer
from sandboxes.kit.webhooks import Outbox


@dataclass
class CoupaContext:
    engine: Engine
    tokens: TokenIssuer
    clock: Clock
    outbox: Outbox
    webhook_secrets: list[str]
    auto_approve_invoices: bool     # an invoice from a supplier is approved as it arrives

    def now(self) -> str:
        return stamp(self.clock())


def coupa(request: Request) -> CoupaContext:
    return request.app.state.coupa
