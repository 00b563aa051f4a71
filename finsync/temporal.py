"""Connecting to Temporal the one way finsync does: pydantic converter, TLS, correlation ids."""

from __future__ import annotations

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter

from finsync.config import TemporalSettings
from finsync.interceptors import CorrelationInterceptor


async def connect(settings: TemporalSettings) -> Client:
    tls: TLSConfig | bool = settings.tls
    if settings.tls and settings.tls_client_cert and settings.tls_client_key:
        tls = TLSConfig(client_cert=settings.tls_client_cert.read_bytes(),
                        client_private_key=settings.tls_client_key.read_bytes())
    return await Client.connect(
        settings.address, namespace=settings.namespace, tls=tls,
        api_key=settings.api_key.get_secret_value() if settings.api_key else None,
        data_converter=pydantic_data_converter, interceptors=[CorrelationInterceptor()])
