"""What every route of one Concur sandbox shares, kept on ``app.state.concur``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.engine import Engine

from sandboxes.kit.tokens import TokenIssuer
from sandboxes.kit.webhooks import Outbox


@dataclass
class ConcurContext:
    engine: Engine
    access_tokens: TokenIssuer
    refresh_tokens: TokenIssuer
    outbox: Outbox
    webhook_secrets: list[str]
    company_id: str
    external_validation: bool


def concur(request: Request) -> ConcurContext:
    return request.app.state.concur


def base_url(request: Request) -> str:
    """The address the caller used: Concur answers with its own geolocation URL."""
    return str(request.base_url).rstrip("/")


def correlation_id(request: Request) -> str:
    """Always present: the correlation middleware sets one when the caller did not."""
    return request.headers["concur-correlationid"]
