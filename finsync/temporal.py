"""Connecting to Temporal the one way finsync does: pydantic converter (encrypting when the codec
is on), TLS, correlation ids, tracing."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import PydanticPayloadConverter, pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from finsync import telemetry
from finsync.codec import EncryptionCodec
from finsync.config import TemporalSettings
from finsync.interceptors import CorrelationInterceptor


class TemporalUnreachable(RuntimeError):
    pass


def interceptors() -> list[Any]:
    """What every finsync client carries, and so every worker built on one (and the replayer).
    Each is a client and a worker interceptor at once, which Python's types cannot say."""
    return [CorrelationInterceptor(), *telemetry.temporal_tracing()]


def data_converter(settings: TemporalSettings) -> DataConverter:
    """How finsync's values become payloads: pydantic's JSON, and with the codec on, each payload
    encrypted and failures' messages and stack traces moved into an encrypted payload too (without
    a codec there is nothing to hide them from: they stay readable in the Web UI)."""
    if not settings.codec.enabled:
        return pydantic_data_converter
    return DataConverter(payload_converter_class=PydanticPayloadConverter,
                         payload_codec=EncryptionCodec.from_settings(settings.codec),
                         failure_converter_class=DefaultFailureConverterWithEncodedAttributes)


async def connect(settings: TemporalSettings, *, runtime: Runtime | None = None) -> Client:
    """A client for finsync, or TemporalUnreachable with a message a user can act on.

    ``runtime``: the Temporal runtime (where SDK metrics go) for this client and its workers."""
    tls: TLSConfig | bool = settings.tls
    if settings.tls and settings.tls_client_cert and settings.tls_client_key:
        tls = TLSConfig(client_cert=settings.tls_client_cert.read_bytes(),
                        client_private_key=settings.tls_client_key.read_bytes())
    try:
        return await Client.connect(
            settings.address, namespace=settings.namespace, tls=tls,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            data_converter=data_converter(settings), interceptors=interceptors(), runtime=runtime)
    except RuntimeError as error:
        raise TemporalUnreachable(
            f"Cannot reach Temporal at {settings.address} (namespace {settings.namespace}). "
            f"Is `finsync dev` running, or is [temporal] address set right? ({error})") from error
