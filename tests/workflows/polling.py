"""Wait for a workflow's status query to show something (queries do not skip time)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.service import RPCError, RPCStatusCode

Snapshot = TypeVar("Snapshot")
RETRIED = {RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}


async def until(read: Callable[[], Awaitable[Snapshot]], predicate: Callable[[Snapshot], bool],
                describe: Callable[[Snapshot], str], timeout: float = 60.0) -> Snapshot:
    """Poll ``read`` until ``predicate`` holds; the deadline only stops a test that went wrong, it
    is not a measure."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            snap = await read()
        except RPCError as error:
            # A busy machine can miss a query's deadline (say, while a run continues as new): the
            # server says DEADLINE_EXCEEDED, the client's own timer CANCELLED. Ask again.
            if error.status not in RETRIED or asyncio.get_running_loop().time() > deadline:
                raise
            continue
        if predicate(snap):
            return snap
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out; {describe(snap)}")
        await asyncio.sleep(0.05)
