"""Every Concur response carries ``concur-correlationid``: the caller's, or a new one."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

HEADER = b"concur-correlationid"


class CorrelationIdMiddleware:
    """Outermost ASGI layer, so even injected faults carry the header.

    A request without the header gets one generated and written into its own headers, so the
    routes (and the events they emit) see the same id the response returns.
    """

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", []))
        value = next((v for k, v in headers if k.lower() == HEADER), None)
        if not value:
            value = uuid.uuid4().hex.encode()
            headers.append((HEADER, value))
            scope = {**scope, "headers": headers}

        async def send_with_header(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (HEADER, value)]}
            await send(message)

        await self.app(scope, receive, send_with_header)
