"""Fault injection for a sandbox: 5xx, 429 bursts, latency, maintenance and lost responses.

Settable at start (``FINSYNC_SANDBOX_FAULTS`` JSON, per sandbox) and at run time with
``PUT /_sandbox/faults``. ``GET /_sandbox/faults`` also returns how many of each fault were
injected, so a test can prove the faults really happened.

The ambiguous case is the one that breaks naive integrations: the request is carried out and
committed, then the response is lost (the connection drops mid-response) or arrives only after
the client has given up.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

ErrorRenderer = Callable[[int, float | None], tuple[bytes, str]]
"""(status, retry_after) -> (body, content type) in the vendor's own error shape."""

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class FaultConfig(BaseModel):
    error_rate: float = Field(0.0, ge=0, le=1, description="share of requests answered 5xx before any work")
    rate_limit_rate: float = Field(0.0, ge=0, le=1, description="chance that a request starts a 429 burst")
    rate_limit_burst_seconds: float = Field(1.0, ge=0, description="how long a 429 burst lasts")
    retry_after_seconds: float = Field(1.0, ge=0, description="Retry-After sent with 429 and 503")
    latency_ms: int = Field(0, ge=0, description="added to every request")
    maintenance: bool = Field(False, description="answer 503 + Retry-After to everything")
    ambiguous_rate: float = Field(0.0, ge=0, le=1, description="share of writes committed whose response is lost")
    ambiguous_mode: Literal["drop", "late"] = "drop"
    late_response_seconds: float = Field(15.0, ge=0, description="delay of a late response (mode 'late')")
    path_pattern: str = Field("", description="regex: inject only on matching paths (empty: all)")
    seed: int | None = None

    @classmethod
    def from_env(cls, sandbox: str) -> FaultConfig:
        """``FINSYNC_SANDBOX_FAULTS='{"erp": {"error_rate": 0.1}}'``, or one object for every sandbox."""
        raw = os.environ.get("FINSYNC_SANDBOX_FAULTS", "").strip()
        if not raw:
            return cls()
        data = json.loads(raw)
        if isinstance(data, dict) and sandbox in data:
            data = data[sandbox]
        elif isinstance(data, dict) and set(data) & {"concur", "erp", "bank", "netsuite", "coupa", "s4hana", "workday"}:
            data = {}
        return cls.model_validate(data)


class FaultState:
    """The live config of one sandbox, and what it has injected so far."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self._burst_until = 0.0
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        self.config = config
        self._pattern = re.compile(config.path_pattern) if config.path_pattern else None
        self._random = random.Random(config.seed)
        self._burst_until = 0.0

    def applies_to(self, path: str) -> bool:
        if path.startswith("/_sandbox"):
            return False
        return self._pattern is None or bool(self._pattern.search(path))

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._random.random() < rate

    def in_burst(self) -> bool:
        now = time.monotonic()
        if now < self._burst_until:
            return True
        if self.roll(self.config.rate_limit_rate):
            self._burst_until = now + self.config.rate_limit_burst_seconds
            return True
        return False

    def report(self) -> dict[str, Any]:
        return {"config": self.config.model_dump(), "injected": dict(self.counts)}


class FaultInjector:
    """ASGI middleware that injects the configured faults in front of a sandbox app."""

    def __init__(self, app: Callable[..., Awaitable[None]], state: FaultState, render_error: ErrorRenderer) -> None:
        self.app = app
        self.state = state
        self.render_error = render_error

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or not self.state.applies_to(scope["path"]):
            await self.app(scope, receive, send)
            return
        cfg, state = self.state.config, self.state
        if cfg.latency_ms:
            await asyncio.sleep(cfg.latency_ms / 1000)
        if cfg.maintenance:
            state.counts["maintenance_503"] += 1
            await self._error(send, 503, cfg.retry_after_seconds)
            return
        if state.in_burst():
            state.counts["rate_limited_429"] += 1
            await self._error(send, 429, cfg.retry_after_seconds)
            return
        if state.roll(cfg.error_rate):
            state.counts["server_error_5xx"] += 1
            await self._error(send, state._random.choice([500, 502, 503]), None)
            return
        if scope["method"] in WRITE_METHODS and state.roll(cfg.ambiguous_rate):
            await self._ambiguous(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _error(self, send: Callable, status: int, retry_after: float | None) -> None:
        body, content_type = self.render_error(status, retry_after)
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        if retry_after is not None:
            headers.append((b"retry-after", str(int(retry_after)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _ambiguous(self, scope: dict, receive: Callable, send: Callable) -> None:
        """Run the request to completion (it commits), then lose or delay the answer."""
        messages: list[dict] = []

        async def capture(message: dict) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        if self.state.config.ambiguous_mode == "late":
            self.state.counts["late_response"] += 1
            await asyncio.sleep(self.state.config.late_response_seconds)
            for message in messages:
                await send(message)
            return
        self.state.counts["dropped_response"] += 1
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        if start is None:
            return
        # Announce a body longer than we send, then fail: the server aborts the connection,
        # and the client sees a broken response after the work was committed.
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", b"1048576"))
        # A 204/304 has no body by definition, so the client would read it as complete: the
        # lost answer goes out as a 200 whose body never arrives.
        status = 200 if start["status"] in (204, 304) else start["status"]
        await send({**start, "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise ConnectionAbortedError("sandbox fault: response lost after commit")
