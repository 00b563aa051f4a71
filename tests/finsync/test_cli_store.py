"""A store that a newer finsync migrated is one line for the commands that open it, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from finsync.cli import app
from finsync.store import IntegrationStore


@pytest.mark.parametrize("command", [["feed"], ["setup"]])
def test_a_store_migrated_by_a_newer_finsync_is_one_line(tmp_path: Path, command: list[str]):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    IntegrationStore(url)
    with create_engine(url).begin() as db:
        db.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    config = tmp_path / "finsync.toml"
    config.write_text(f'store_url = "{url}"\n')

    result = CliRunner().invoke(app, command, env={"FINSYNC_CONFIG": str(config)})

    assert result.exit_code == 1
    assert result.stderr.startswith(f"the integration store at {url} is at migration 9999, which this finsync")
    assert result.stderr.count("\n") == 1
