"""A sandbox's background loop (webhook delivery, bank settlement), started and stopped with its app."""

from __future__ import annotations

import asyncio


class BackgroundLoop:
    """Subclasses implement ``_run``; ``start`` and ``stop`` are idempotent."""

    task_name = "sandbox-background"
    _task: asyncio.Task | None = None

    async def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
