"""Shared test fixtures: Temporal test environments built from the installed binaries only."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from finsync.interceptors import CorrelationInterceptor
from workflows.common import search


def _binary(name: str) -> str:
    """The binary installed beside this Python (the venv's bin), else on PATH."""
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make install` (pip install -e '.[dev]')")
    return path


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server (timers of days run in milliseconds), search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, interceptors=[CorrelationInterceptor()],
        test_server_existing_path=_binary("temporal-test-server"))
    async with env:
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={key.name: IndexedValueType.ValueType(int(key.indexed_value_type)) for key in search.ALL}))
        yield env
