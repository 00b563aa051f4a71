"""CLI tests: the ``finsync`` commands as a user runs them, against the real stack where they
need Temporal (``tests/stack`` fixture), each reading a configuration file written here."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import tomli_w
from typer.testing import CliRunner, Result

from finsync.cli import app
from finsync.config import Settings
from tests.stack.conftest import Stack, stack, stack_rules  # noqa: F401  (the fixtures, for this folder)


def write_config(settings: Settings, temporal_address: str, path: Path) -> Path:
    """The configuration a user would have for ``settings``'s stack."""
    path.write_text(tomli_w.dumps({
        "data_dir": str(settings.data_dir), "store_url": settings.database_url,
        "temporal": {"address": temporal_address, "namespace": settings.temporal.namespace,
                     "workflow_task_queue": settings.temporal.workflow_task_queue},
        "expense": {"base_url": settings.expense.base_url},
        "erp": {"base_url": settings.erp.base_url},
        "bank": {"base_url": settings.bank.base_url},
        "gateway": {"host": settings.gateway.host, "port": settings.gateway.port},
    }))
    return path


@pytest.fixture(scope="module")
def stack_config(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    return write_config(stack.settings, stack.client.service_client.config.target_host,
                        tmp_path_factory.mktemp("cli") / "finsync.toml")


async def finsync(config: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """Run a ``finsync`` command in a thread, so the stack (on this event loop) keeps serving."""
    def invoke() -> Result:
        return CliRunner().invoke(app, list(args), env={"FINSYNC_CONFIG": str(config), "COLUMNS": "250", **(env or {})})

    return await asyncio.to_thread(invoke)


def one_line_error(result: Result) -> str:
    """The command failed as expected: no traceback, one line on stderr."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
