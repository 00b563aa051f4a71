"""The procurement poll activity (activities/procurement_poll.py) against the real Coupa sandbox and
the Temporal test server, with the real start path (workflows/procurement/start.py): each change
reaches its requisition's run once, Coupa hears it was exported only after the hand-over, a poll
that fails between the two hands the change over again, and a poll reads from its watermark less
the overlap. No worker runs the workflows: a run only has to exist to be started or signalled."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.procurement_poll import ProcurementPollActivities, RequisitionRead
from activities.sweep import HandOverOutcome, SweepRequest, SweepResult
from canonical.procurement import ProcurementChange
from tests.support.coupa import World, coupa_world, invoiced, issued
from workflows.procurement.model import ProcurementQueues, workflow_id
from workflows.procurement.start import start_or_signal

OVERLAP = timedelta(minutes=2)


class RecordingStart:
    """The process's real start path, keeping what it was handed (change id, first read's requisition)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.queue = f"idle-{uuid.uuid4().hex[:8]}"
        self.handed: list[tuple[str, str | None]] = []

    async def __call__(self, change: ProcurementChange, first_read: RequisitionRead | None) -> HandOverOutcome:
        self.handed.append((change.change_id, first_read.requisition.requisition_id if first_read else None))
        return await start_or_signal(self.client, change, workflow_task_queue=self.queue,
                                     task_queues=ProcurementQueues(), first_read=first_read)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with coupa_world(tmp_path / "coupa.db") as built:
        yield built


def run_of(change: ProcurementChange) -> str:
    return workflow_id(change.source_system, change.requisition_id)


async def poll(env: WorkflowEnvironment, activities: ProcurementPollActivities, since: Any = None) -> SweepResult:
    return await ActivityEnvironment(client=env.client).run(activities.poll_changes, SweepRequest(since=since))


async def exported(world: World, resource: str, record_id: Any) -> bool:
    """Read through the list (``id=``), which the faults on a record's own path leave alone."""
    (record,) = await world.raw(f"/api/{resource}?id={record_id}")
    return bool(record["exported"])


async def test_each_change_reaches_its_run_once_and_is_marked_exported_after_its_hand_over(
        time_skipping_env: WorkflowEnvironment, world: World) -> None:
    requisition_id, order = await issued(world)
    receipt = await world.driver.receive(order["order-lines"][0]["id"], "3")
    invoice = await invoiced(world, order)
    trigger = RecordingStart(time_skipping_env.client)
    activities = ProcurementPollActivities(world.client, trigger, run_of, overlap=OVERLAP)

    first = await poll(time_skipping_env, activities)
    # The approval started the run with the requisition read; receipt and invoice signalled it.
    assert [(change_id.split(":")[0], read) for change_id, read in trigger.handed] == [
        ("REQUISITION_APPROVED", requisition_id), ("RECEIPT", None), ("INVOICE", None)]
    assert (first.scanned, first.started, first.signalled, first.already_closed) == (3, 1, 2, 0)
    assert first.recovered == [requisition_id]
    assert [await exported(world, resource, record_id) for resource, record_id in (
        ("requisitions", requisition_id), ("inventory_transactions", receipt["id"]), ("invoices", invoice["id"]))] == [
        True, True, True]

    again = await poll(time_skipping_env, activities)
    assert again.scanned == 0 and len(trigger.handed) == 3
    history = await time_skipping_env.client.get_workflow_handle(workflow_id("coupa", requisition_id)).fetch_history()
    assert [e.workflow_execution_signaled_event_attributes.signal_name for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED] == ["procurement_change"] * 2


async def test_a_poll_that_fails_between_hand_over_and_export_hands_the_change_over_again(
        time_skipping_env: WorkflowEnvironment, world: World) -> None:
    requisition_id, order = await issued(world)
    receipt = await world.driver.receive(order["order-lines"][0]["id"], "1")
    trigger = RecordingStart(time_skipping_env.client)
    activities = ProcurementPollActivities(world.client, trigger, run_of, overlap=OVERLAP)
    # Coupa fails every call on the receipt itself: the poll hands it over, then cannot mark it.
    await world.faults(error_rate=1.0, path_pattern=r"^/api/inventory_transactions/[0-9]+$")
    with pytest.raises(Exception, match="HTTP 5"):
        await poll(time_skipping_env, activities)
    receipt_change = next(change_id for change_id, _ in trigger.handed if change_id.startswith("RECEIPT:"))
    assert not await exported(world, "inventory_transactions", receipt["id"])

    await world.faults()
    retried = await poll(time_skipping_env, activities)
    assert (retried.scanned, retried.signalled) == (1, 1)   # the requisition was marked in the failed poll
    assert [change_id for change_id, _ in trigger.handed].count(receipt_change) == 2   # the same change, again
    assert await exported(world, "inventory_transactions", receipt["id"])
    assert (await world.client.get_requisition(requisition_id)).requisition_id == requisition_id


async def test_a_poll_reads_from_its_watermark_less_the_overlap(
        time_skipping_env: WorkflowEnvironment, world: World) -> None:
    _, order = await issued(world)
    receipt = await world.driver.receive(order["order-lines"][0]["id"], "1")
    stamped = world.clock.at
    trigger = RecordingStart(time_skipping_env.client)
    activities = ProcurementPollActivities(world.client, trigger, run_of, overlap=OVERLAP)

    after = await poll(time_skipping_env, activities, since=stamped + OVERLAP)
    assert after.scanned == 0 and not await exported(world, "inventory_transactions", receipt["id"])
    within = await poll(time_skipping_env, activities, since=stamped + OVERLAP - timedelta(seconds=1))
    # The receipt, and its requisition, which the receipt moved to received in the same second.
    assert sorted(change_id.split(":")[0] for change_id, _ in trigger.handed) == ["RECEIPT", "REQUISITION_APPROVED"]
    assert f"RECEIPT:{receipt['id']}:{stamped.isoformat()}" in {change_id for change_id, _ in trigger.handed}
    assert within.scanned == 2
