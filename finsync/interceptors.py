"""Carry the correlation id from the webhook through client, workflow and activities.

The gateway sets ``finsync.correlation.current`` while it starts or signals a workflow; this
interceptor copies it into a Temporal header on every outbound call, and back into the context
variable on every inbound one, so activities (and the vendor requests they make) carry it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import temporalio.activity
import temporalio.api.common.v1
import temporalio.client
import temporalio.converter
import temporalio.worker
import temporalio.workflow

with temporalio.workflow.unsafe.imports_passed_through():
    from finsync import correlation

HEADER = "finsync-correlation-id"


class _WithHeaders(Protocol):
    headers: Mapping[str, temporalio.api.common.v1.Payload]


def _to_header(message: _WithHeaders, converter: temporalio.converter.PayloadConverter) -> None:
    value = correlation.current.get()
    if value:
        message.headers = {**message.headers, HEADER: converter.to_payload(value)}


@contextmanager
def _from_header(message: _WithHeaders, converter: temporalio.converter.PayloadConverter) -> Iterator[None]:
    payload = message.headers.get(HEADER)
    token = correlation.current.set(converter.from_payload(payload, str)) if payload else None
    try:
        yield
    finally:
        if token is not None:
            correlation.current.reset(token)


class CorrelationInterceptor(temporalio.client.Interceptor, temporalio.worker.Interceptor):
    def intercept_client(self, next: temporalio.client.OutboundInterceptor) -> temporalio.client.OutboundInterceptor:
        return _ClientOutbound(next)

    def intercept_activity(
            self, next: temporalio.worker.ActivityInboundInterceptor) -> temporalio.worker.ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(self, input: temporalio.worker.WorkflowInterceptorClassInput
                                   ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        return _WorkflowInbound


_CLIENT_CONVERTER = temporalio.converter.default().payload_converter


class _ClientOutbound(temporalio.client.OutboundInterceptor):
    async def start_workflow(self, input: temporalio.client.StartWorkflowInput) -> Any:
        _to_header(input, _CLIENT_CONVERTER)
        return await super().start_workflow(input)

    async def signal_workflow(self, input: temporalio.client.SignalWorkflowInput) -> None:
        _to_header(input, _CLIENT_CONVERTER)
        await super().signal_workflow(input)

    async def start_workflow_update(self, input: temporalio.client.StartWorkflowUpdateInput) -> Any:
        _to_header(input, _CLIENT_CONVERTER)
        return await super().start_workflow_update(input)


class _ActivityInbound(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        with _from_header(input, temporalio.activity.payload_converter()):
            return await self.next.execute_activity(input)


class _WorkflowInbound(temporalio.worker.WorkflowInboundInterceptor):
    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        self.next.init(_WorkflowOutbound(outbound))

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        with _from_header(input, temporalio.workflow.payload_converter()):
            return await self.next.execute_workflow(input)

    async def handle_signal(self, input: temporalio.worker.HandleSignalInput) -> None:
        with _from_header(input, temporalio.workflow.payload_converter()):
            return await self.next.handle_signal(input)

    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        with _from_header(input, temporalio.workflow.payload_converter()):
            return await self.next.handle_update_handler(input)


class _WorkflowOutbound(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporalio.worker.StartActivityInput) -> temporalio.workflow.ActivityHandle:
        _to_header(input, temporalio.workflow.payload_converter())
        return self.next.start_activity(input)

    def start_local_activity(self, input: temporalio.worker.StartLocalActivityInput) -> temporalio.workflow.ActivityHandle:
        _to_header(input, temporalio.workflow.payload_converter())
        return self.next.start_local_activity(input)

    async def start_child_workflow(self, input: temporalio.worker.StartChildWorkflowInput) -> Any:
        _to_header(input, temporalio.workflow.payload_converter())
        return await self.next.start_child_workflow(input)
