"""Starting a requisition's workflow (workflows/procurement/start.py) on the Temporal test server:
however often a change is delivered the requisition has one run, an approval seen again needs
nothing, and a change for a run that has ended is answered "closed". No worker runs the
workflow: a run only has to exist to be started or signalled."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.procurement_poll import RequisitionRead
from canonical.procurement import (
    Coding,
    ProcurementChange,
    ProcurementChangeKind,
    Receipt,
    Requisition,
    RequisitionLine,
)
from canonical.quantity import Quantity, UnitPrice
from workflows.procurement.model import ProcurementInput, ProcurementQueues, workflow_id
from workflows.procurement.start import start_or_signal

AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
QUEUES = ProcurementQueues(procurement="p", erp="e", bank="b")


def approval(requisition_id: str) -> ProcurementChange:
    return ProcurementChange(change_id=f"REQUISITION_APPROVED:{requisition_id}:{AT.isoformat()}",
                             kind=ProcurementChangeKind.REQUISITION_APPROVED, source_system="coupa",
                             requisition_id=requisition_id, document_id=requisition_id, occurred_at=AT)


def receipt(requisition_id: str, receipt_id: str = "7") -> ProcurementChange:
    return ProcurementChange(
        change_id=f"RECEIPT:{receipt_id}:{AT.isoformat()}", kind=ProcurementChangeKind.RECEIPT, source_system="coupa",
        requisition_id=requisition_id, document_id=receipt_id, occurred_at=AT,
        receipt=Receipt(receipt_id=receipt_id, order_id="3", order_line_id="5", quantity=Quantity.of("2"),
                        received_on=date(2026, 3, 20)))


def read(requisition_id: str) -> RequisitionRead:
    line = RequisitionLine(line_id="1", description="Standing desk", quantity=Quantity.of("3"),
                           unit_price=UnitPrice.of("12.3456", "USD"), supplier_id="1",
                           coding=Coding(entity_code="US01", cost_center="CC-1000", gl_account="6300"))
    return RequisitionRead(requisition=Requisition(requisition_id=requisition_id, source_system="coupa", title="Desks",
                                                   requested_by="E1001", currency="USD", lines=[line]),
                           supplier_name="Northwind Office Supply")


async def deliver(client: Client, change: ProcurementChange, first_read: RequisitionRead | None = None) -> str:
    return await start_or_signal(client, change, workflow_task_queue=f"idle-{uuid.uuid4().hex[:6]}",
                                 task_queues=QUEUES, first_read=first_read)


async def history(client: Client, requisition_id: str) -> list[EventType.ValueType]:
    events = (await client.get_workflow_handle(workflow_id("coupa", requisition_id)).fetch_history()).events
    return [event.event_type for event in events]


async def test_an_approval_starts_the_run_with_its_summary_and_seen_again_needs_nothing(
        time_skipping_env: WorkflowEnvironment) -> None:
    client, requisition_id = time_skipping_env.client, f"R{uuid.uuid4().hex[:8]}"
    assert await deliver(client, approval(requisition_id), read(requisition_id)) == "delivered"
    assert await deliver(client, approval(requisition_id)) == "not needed"

    handle = client.get_workflow_handle(workflow_id("coupa", requisition_id))
    described = await handle.describe()
    assert await described.static_summary() == (
        f"Requisition {requisition_id} · Northwind Office Supply · USD 37.04 · US01")
    started = (await handle.fetch_history()).events[0].workflow_execution_started_event_attributes
    (given,) = await client.data_converter.decode(started.input.payloads, [ProcurementInput])
    assert given.requisition == read(requisition_id).requisition and given.task_queues == QUEUES
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED not in await history(client, requisition_id)


async def test_a_receipt_delivered_three_times_reaches_one_run_under_one_change_id(
        time_skipping_env: WorkflowEnvironment) -> None:
    client, requisition_id = time_skipping_env.client, f"R{uuid.uuid4().hex[:8]}"
    assert [await deliver(client, receipt(requisition_id)) for _ in range(3)] == ["delivered"] * 3

    events = await history(client, requisition_id)
    assert events.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) == 1
    handle = client.get_workflow_handle(workflow_id("coupa", requisition_id))
    signals = [e.workflow_execution_signaled_event_attributes for e in (await handle.fetch_history()).events
               if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    changes = [(await client.data_converter.decode(s.input.payloads, [ProcurementChange]))[0] for s in signals]
    assert {s.signal_name for s in signals} == {"procurement_change"}
    assert {c.change_id for c in changes} == {receipt(requisition_id).change_id}   # the workflow takes it once


async def test_a_change_for_an_ended_run_is_closed_and_starts_nothing(time_skipping_env: WorkflowEnvironment) -> None:
    client, requisition_id = time_skipping_env.client, f"R{uuid.uuid4().hex[:8]}"
    await deliver(client, approval(requisition_id))
    await client.get_workflow_handle(workflow_id("coupa", requisition_id)).terminate("closed for the test")

    assert await deliver(client, receipt(requisition_id)) == "closed"
    assert await deliver(client, approval(requisition_id)) == "closed"
    assert (await history(client, requisition_id)).count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) == 1
