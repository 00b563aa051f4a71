"""Fixtures for the sandbox tests."""

from __future__ import annotations

import pytest

from sandboxes.netsuite import create_app
from tests.support.netsuite_http import TODAY, authorized_client
from tests.support.servers import serve


@pytest.fixture
async def netsuite(tmp_path):
    """A fresh NetSuite sandbox created on TODAY, and a client holding a bearer token for it."""
    async with serve(create_app(tmp_path / "netsuite.db", today=TODAY)) as base_url:
        http = await authorized_client(base_url)
        yield http
        await http.aclose()
