"""Keeping a Temporal Schedule in line with finsync's configuration (``finsync setup``, ``finsync dev``)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode


def poll_every(action: ScheduleActionStartWorkflow, every: timedelta, section: str) -> Schedule:
    """A poll (``action``) every ``every``, from the settings in ``[section]``.

    One poll at a time; ticks missed while Temporal was down are not made up one by one: the next
    poll reads everything since the watermark anyway."""
    return Schedule(action=action, spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
                    policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=every),
                    state=ScheduleState(note=f"created by finsync from [{section}] in its configuration"))


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule, *, enabled: bool, section: str,
                          when: str, switch: str = "enabled") -> str:
    """Create the schedule, or replace the existing one's definition with ``schedule``; when not
    ``enabled`` (the setting ``switch`` in ``[section]``), pause it if it exists. Returns what was
    done, for one line (``when`` says how often)."""
    handle = client.get_schedule_handle(schedule_id)
    if not enabled:
        try:
            await handle.pause(note=f"[{section}] {switch} = false in finsync's configuration")
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
