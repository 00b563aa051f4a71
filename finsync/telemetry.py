"""Tracing and metrics, from the [telemetry] settings; with none set they cost nothing.

Tracing: finsync's code speaks only the OpenTelemetry API (FastAPI's span per webhook request,
ours per vendor request, Temporal's TracingInterceptor around workflow starts, workflows and
activities), so one trace runs from the webhook to the vendor and on into the vendor's logs
(W3C ``traceparent``). API spans are no-ops until a process installs the SDK: with
``otlp_endpoint`` set and the ``otel`` extra installed, the gateway and the worker export their
spans to that OTLP/HTTP collector.

Metrics: with ``prometheus_bind`` set, the worker's Temporal runtime serves the SDK's own
metrics (task latencies, slots, polls, failures) at ``http://<prometheus_bind>/metrics``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from finsync.config import TelemetrySettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


class TelemetryError(RuntimeError):
    """A [telemetry] setting this process cannot honour; the message names it and says why."""


def temporal_tracing() -> list[Any]:
    """Temporal's tracing interceptor (client and worker), for a client and the workers built on it.

    Only once a process has installed an SDK tracer provider (``install_tracing``, or a test's):
    without one no span is recorded, and the interceptor would still cost every workflow task.
    temporalio.contrib.opentelemetry imports the SDK, so with only the API installed it is absent.
    """
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return []
    try:
        from temporalio.contrib.opentelemetry import TracingInterceptor
    except ImportError:
        return []
    return [TracingInterceptor()]


def span_exporter_provider(settings: TelemetrySettings, component: str) -> TracerProvider:
    """An SDK tracer provider that batches spans to the collector at ``settings.otlp_endpoint``."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as error:
        raise TelemetryError("[telemetry] otlp_endpoint is set, but the OpenTelemetry SDK and OTLP exporter are "
                             "not installed: pip install 'finsync[otel]'") from error
    endpoint = f"{(settings.otlp_endpoint or '').rstrip('/')}/v1/traces"
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name,
                                                        "finsync.component": component}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def install_tracing(settings: TelemetrySettings, component: str) -> None:
    """Export this process's spans as configured (``component``: "gateway", "worker").

    Without ``otlp_endpoint`` nothing happens; a provider the host process installed first wins.
    """
    if settings.otlp_endpoint and isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(span_exporter_provider(settings, component))


def worker_runtime(settings: TelemetrySettings) -> Runtime | None:
    """The Temporal runtime for the worker's client (its workers share it): one that serves
    Prometheus metrics at ``prometheus_bind``, or None for the SDK's default, without."""
    return _prometheus_runtime(settings.prometheus_bind) if settings.prometheus_bind else None


@functools.cache
def _prometheus_runtime(bind_address: str) -> Runtime:
    # One per address and process: the runtime owns the HTTP server listening there.
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))
    except ValueError as error:   # the SDK's words: bad syntax, address in use
        raise TelemetryError(f"[telemetry] prometheus_bind {bind_address!r}: {error}") from error
