"""NetSuite's governance: a cap on requests in flight per account, not on request rate.

Past the cap a request is refused at once with 429 (no Retry-After: NetSuite documents none).
The gate sits outside the fault injector, so injected latency holds a slot as a slow NetSuite
would. Only REST record and query calls count; the token endpoint and ``/_sandbox`` do not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sandboxes.netsuite.errors import render_error

GOVERNED_PREFIXES = ("/services/rest/record/", "/services/rest/query/")


class ConcurrencyGate:
    def __init__(self, app: Callable[..., Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GOVERNED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            body, content_type = render_error(429, None)
            await send({"type": "http.response.start", "status": 429, "headers": [
                (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
