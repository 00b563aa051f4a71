"""Keeping a Temporal Schedule in line with finsync's configuration (``finsync setup``, ``finsync dev``)."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleAlreadyRunningError,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule, *, enabled: bool, section: str,
                          when: str) -> str:
    """Create the schedule, or replace the existing one's definition with ``schedule``; when not
    ``enabled``, pause it if it exists. Returns what was done, for one line (``when`` says how often)."""
    handle = client.get_schedule_handle(schedule_id)
    if not enabled:
        try:
            await handle.pause(note=f"[{section}] enabled = false in finsync's configuration")
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return "not created (disabled)"
        return "paused (disabled)"
    try:
        await client.create_schedule(schedule_id, schedule)
        return f"created ({when})"
    except ScheduleAlreadyRunningError:
        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await handle.update(replace)
        return f"up to date ({when})"
