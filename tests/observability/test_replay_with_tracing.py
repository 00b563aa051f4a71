"""A run made under a trace replays without making spans (recorded histories: tests/workflows/test_replay.py)."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from finsync.temporal import interceptors
from tests.observability.conftest import TelemetryStack, eventually
from workflows.expense.model import workflow_id
from workflows.expense.workflow import ExpenseReimbursementWorkflow


def _replayer() -> Replayer:
    return Replayer(workflows=[ExpenseReimbursementWorkflow], data_converter=pydantic_data_converter,
                    interceptors=interceptors())


async def test_a_traced_run_replays_and_replaying_adds_no_spans(telemetry_stack: TelemetryStack,
                                                                spans: InMemorySpanExporter):
    report_id = await telemetry_stack.draft("E1003")
    await telemetry_stack.submit("E1003", report_id)
    handle = telemetry_stack.client.get_workflow_handle(workflow_id("concur", report_id))

    async def released_history() -> WorkflowHistory | None:
        try:
            history = await handle.fetch_history()
        except RPCError as error:   # not started yet
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            return None
        done = [e.activity_task_completed_event_attributes for e in history.events
                if e.HasField("activity_task_completed_event_attributes")]
        return history if done else None

    history = await eventually(released_history, "a completed activity in the run's history")
    assert "_tracer-data" in history.events[0].workflow_execution_started_event_attributes.header.fields, \
        "the run was not started under a trace"
    spans.clear()
    await _replayer().replay_workflow(history)
    assert [s.name for s in spans.get_finished_spans()] == []
