"""A run made under a trace replays without making spans (recorded histories: tests/workflows/test_replay.py)."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from finsync.config import TemporalSettings
from finsync.temporal import data_converter, interceptors
from tests.observability.conftest import TelemetryStack, eventually
from workflows.expense.model import workflow_id
from workflows.expense.workflow import ExpenseReimbursementWorkflow

WORKFLOW_TASK = {EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
                 EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED}


def _replayer() -> Replayer:
    return Replayer(workflows=[ExpenseReimbursementWorkflow], data_converter=data_converter(TemporalSettings()),
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
        # At rest (waiting for the approver): an activity completed, the feed written since (its
        # local activity's marker), and the last workflow task done. The live run then makes no
        # more spans, so whatever the replay finds is the replay's.
        kinds = [e.event_type for e in history.events]
        completed = [i for i, kind in enumerate(kinds) if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
        flushed = completed and EventType.EVENT_TYPE_MARKER_RECORDED in kinds[completed[-1]:]
        tasks = [kind for kind in kinds if kind in WORKFLOW_TASK]
        at_rest = (tasks[-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
                   and kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == len(completed))
        return history if flushed and at_rest else None

    history = await eventually(released_history, "the run at rest after a completed activity")
    assert "_tracer-data" in history.events[0].workflow_execution_started_event_attributes.header.fields, \
        "the run was not started under a trace"
    spans.clear()
    await _replayer().replay_workflow(history)
    assert [s.name for s in spans.get_finished_spans()] == []
