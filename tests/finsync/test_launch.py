"""The vendor sandboxes as ``finsync sandbox`` and ``finsync dev`` run them (finsync/launch.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from finsync import launch
from finsync.config import Settings


async def rate_per_second(tmp_path: Path) -> float:
    app = launch.sandbox_app("coupa", Settings(data_dir=tmp_path), "127.0.0.1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        return (await http.get("/_sandbox/rate-limit")).json()["rate-per-second"]


async def test_the_coupa_sandbox_limits_each_client_as_coupa_does(tmp_path: Path) -> None:
    assert await rate_per_second(tmp_path) == 25


async def test_the_benchmark_can_lift_the_coupa_sandboxs_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSYNC_SANDBOX_COUPA_RATE_PER_SECOND", "100000")
    assert await rate_per_second(tmp_path) == 100000
