"""Coupa's rate limit: a leaky bucket per client, 25 requests a second with a burst queue of 20.

Requests from one client (the token's client id; the caller's address without a token) are let
through one every 1/rate seconds. One that arrives early waits its turn in the queue; one that
would find ``burst`` requests already waiting is refused at once with 429, a ``Retry-After``
(whole seconds, at least 1) and Coupa's error body. The 25/s and 20 are Coupa's documented
figures; the 429 status is known from third parties only and its ``Retry-After`` header is
unverified.

The limiter sits outside the fault injector, so a request slowed by injected latency has
already taken its turn. ``/_sandbox`` routes are not limited. ``GET /_sandbox/rate-limit`` says
how many requests each client made, and how many were refused (the benchmark reads it).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from sandboxes.coupa.errors import render_error
from sandboxes.kit.tokens import TokenIssuer

DEFAULT_RATE = 25.0
DEFAULT_BURST = 20


class LeakyBucket:
    def __init__(self, app: Callable[..., Awaitable[None]], tokens: TokenIssuer, *,
                 rate: float = DEFAULT_RATE, burst: int = DEFAULT_BURST) -> None:
        if rate <= 0 or burst < 0:
            raise ValueError("the rate must be positive and the burst queue not negative")
        self.app = app
        self.tokens = tokens
        self.rate = rate
        self.interval = 1.0 / rate
        self.burst = burst
        self._next_turn: dict[str, float] = {}    # client -> when its next request may start
        self.requests: Counter[str] = Counter()   # client -> requests, refused ones included
        self.refused = 0

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        client = self._client(scope)
        self.requests[client] += 1
        now = time.monotonic()
        turn = max(self._next_turn.get(client, now), now)
        wait = turn - now
        queue_room = self.burst * self.interval
        if wait > queue_room + 1e-9:
            self.refused += 1
            await self._refuse(send, math.ceil(max(wait - queue_room, 1.0)))
            return
        self._next_turn[client] = turn + self.interval
        if wait > 0:
            await asyncio.sleep(wait)
        await self.app(scope, receive, send)

    def report(self) -> dict[str, Any]:
        return {"rate-per-second": self.rate, "burst": self.burst, "requests": dict(self.requests),
                "refused": self.refused}

    def _client(self, scope: dict) -> str:
        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization", b"").decode(errors="replace")
        claims = self.tokens.verify(authorization) if authorization else None
        if claims is not None:
            return f"client:{claims.client_id}"
        host = (scope.get("client") or ("unknown", 0))[0]
        return f"address:{host}"

    async def _refuse(self, send: Callable, retry_after: int) -> None:
        body, content_type = render_error(429, retry_after)
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode())]})
        await send({"type": "http.response.body", "body": body})
