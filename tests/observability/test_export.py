"""With [telemetry] otlp_endpoint set, spans reach that OTLP/HTTP collector, named for the service."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI, Request, Response

from finsync.config import TelemetrySettings
from finsync.telemetry import span_exporter_provider
from tests.support.servers import serve

pytest.importorskip("opentelemetry.exporter.otlp.proto.http", reason="the otel extra is missing: pip install -e '.[dev]'")
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402


async def test_spans_are_exported_to_the_configured_collector():
    received: list[tuple[str, str, bytes]] = []
    collector = FastAPI()

    @collector.post("/v1/traces")
    async def traces(request: Request) -> Response:
        received.append((request.url.path, request.headers["content-type"], await request.body()))
        return Response(media_type="application/x-protobuf")

    async with serve(collector) as url:
        provider = span_exporter_provider(TelemetrySettings(otlp_endpoint=url + "/", service_name="finsync-eu"), "worker")
        with provider.get_tracer("test").start_as_current_span("concur PATCH"):
            pass
        assert await asyncio.to_thread(provider.force_flush)
        await asyncio.to_thread(provider.shutdown)

    (path, content_type, body) = received[0]
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    (resource_spans,) = ExportTraceServiceRequest.FromString(body).resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "finsync-eu" and resource["finsync.component"] == "worker"
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == ["concur PATCH"]
