"""A webhook endpoint for tests: it records every delivery (headers and the exact body)."""

from __future__ import annotations

import asyncio
import json
import time

from fastapi import FastAPI, Request


class Receiver:
    """A webhook endpoint that records what it gets."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.app = FastAPI()

        @self.app.post("/hooks")
        async def hook(request: Request) -> dict:
            self.received.append((dict(request.headers), await request.body()))
            return {}

    async def wait_for(self, count: int, timeout: float = 6.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"got {len(self.received)} webhooks, expected {count}"
            await asyncio.sleep(0.05)
        return self.received

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]
