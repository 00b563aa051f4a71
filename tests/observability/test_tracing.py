"""One trace runs from the vendor's webhook to finsync's requests back to the vendor."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.observability.conftest import TelemetryStack, eventually
from workflows.expense.model import WORKFLOW_NAME


async def test_one_trace_runs_from_the_webhook_through_workflow_and_activity_to_the_vendor(
        telemetry_stack: TelemetryStack, spans: InMemorySpanExporter):
    report_id = await telemetry_stack.draft("E1001")
    await telemetry_stack.submit("E1001", report_id)

    # finsync's policy check passes the report: an activity's PATCH to Concur, with a traceparent.
    release = await eventually(lambda: [r for r in telemetry_stack.concur_tap.seen
                                        if r.method == "PATCH" and f"/reports/{report_id}/approve" in r.path],
                               "the release of the report to its approver")
    (traceparent,) = {r.traceparent for r in release}
    assert traceparent, "the vendor request carried no W3C traceparent"
    _version, trace_hex, parent_hex, _flags = traceparent.split("-")
    trace_id, vendor_span_id = int(trace_hex, 16), int(parent_hex, 16)

    def lineage(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str] | None:
        """The span's name and its ancestors', nearest first; None while one has not ended yet."""
        names = [span.name]
        while span.parent is not None:
            if span.parent.span_id not in by_id:
                return None
            span = by_id[span.parent.span_id]
            names.append(span.name)
        return names

    def the_trace() -> dict[int, ReadableSpan] | None:
        by_id = {s.context.span_id: s for s in spans.get_finished_spans() if s.context.trace_id == trace_id}
        return by_id if vendor_span_id in by_id and lineage(by_id[vendor_span_id], by_id) else None

    by_id = await eventually(the_trace, "the end of every span from the webhook to the vendor request")
    vendor_request = by_id[vendor_span_id]
    assert vendor_request.kind is SpanKind.CLIENT and vendor_request.attributes["http.request.method"] == "PATCH"
    assert vendor_request.attributes["http.response.status_code"] == 204
    # vendor request <- activity <- its start in the workflow <- workflow start <- webhook request
    # (FastAPI's span, the root: the sandbox's webhook carries no trace of its own).
    chain = lineage(vendor_request, by_id)
    assert chain and chain[-1] == "POST /webhooks/expense", chain
    steps = ["RunActivity:expense.pass_validation", "StartActivity:expense.pass_validation",
             f"SignalWithStartWorkflow:{WORKFLOW_NAME}", "POST /webhooks/expense"]
    assert [name for name in chain if name in steps] == steps, chain
    (workflow_run,) = [s for s in by_id.values() if s.name == f"RunWorkflow:{WORKFLOW_NAME}"]
    assert f"SignalWithStartWorkflow:{WORKFLOW_NAME}" in (lineage(workflow_run, by_id) or [])
