"""Connecting to Temporal the one way finsync does: pydantic converter, TLS, correlation ids."""

from __future__ import annotations

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter

from finsync.config import TemporalSettings
from finsync.interceptors import CorrelationInterceptor


class TemporalUnreachable(RuntimeError):
    pass


async def connect(settings: TemporalSettings) -> Client:
    """A client for finsync, or TemporalUnreachable with a message a user can act on."""
    tls: TLSConfig | bool = settings.tls
    if settings.tls and settings.tls_client_cert and settings.tls_client_key:
        tls = TLSConfig(client_cert=settings.tls_client_cert.read_bytes(),
                        client_private_key=settings.tls_client_key.read_bytes())
    try:
        return await Client.connect(
            settings.address, namespace=settings.namespace, tls=tls,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            data_converter=pydantic_data_converter, interceptors=[CorrelationInterceptor()])
    except RuntimeError as error:
        raise TemporalUnreachable(
            f"Cannot reach Temporal at {settings.address} (namespace {settings.namespace}). "
            f"Is `finsync dev` running, or is [temporal] address set right? ({error})") from error
