"""Shared test fixtures: Temporal test environments built from the installed binaries only."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from finsync import config
from finsync.config import TemporalSettings
from finsync.interceptors import CorrelationInterceptor
from finsync.temporal import data_converter
from workflows.common import search


@pytest.fixture(scope="session", autouse=True)
def _no_developer_configuration(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads the developer's FINSYNC_* environment or ./finsync.toml: the configuration
    file is an empty one, and tests build the Settings they need. Session-wide, so module-scoped
    fixtures (the stack) are isolated too. FINSYNC_RECORD_HISTORIES is the harness's own switch."""
    empty = tmp_path_factory.mktemp("config") / "empty.toml"
    empty.write_text("")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("FINSYNC_") and n != "FINSYNC_RECORD_HISTORIES"]:
            patch.delenv(name)
        patch.setenv("FINSYNC_CONFIG", str(empty))
        yield


@pytest.fixture(autouse=True)
def _fresh_settings() -> None:
    """``finsync.config.settings()`` is cached per process: each test reads its own environment."""
    config.settings.cache_clear()


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
        data_converter=data_converter(TemporalSettings()), interceptors=[CorrelationInterceptor()],
        test_server_existing_path=_binary("temporal-test-server"))
    async with env:
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={key.name: IndexedValueType.ValueType(int(key.indexed_value_type)) for key in search.ALL}))
        yield env


@pytest.fixture
async def dev_server_client() -> AsyncIterator[Client]:
    """A client of a fresh real dev server, for what the time-skipping server lacks (schedules)."""
    async with await WorkflowEnvironment.start_local(data_converter=data_converter(TemporalSettings()),
                                                     dev_server_existing_path=_binary("temporal"),
                                                     dev_server_log_level="error") as env:
        yield env.client
