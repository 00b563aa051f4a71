"""``finsync dev``: its port check, the configuration it runs from, and what a kill leaves behind."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import tomli_w
from typer.testing import CliRunner

from connectors import registry
from finsync.cli import app
from finsync.config import ExpenseVendorSettings, Settings
from finsync.devstack import port_free, services, write_local_config
from tests.support.servers import free_ports

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("temporal", "temporal Web UI", "sandbox:concur", "sandbox:netsuite", "sandbox:bank", "sandbox:coupa",
            "sandbox:workday", "gateway")


def stack_config(folder: Path) -> tuple[Path, dict[str, int]]:
    """A configuration for ``finsync dev`` on free ports, state under ``folder``."""
    ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
    path = folder / "finsync.toml"
    path.write_text(tomli_w.dumps({
        "data_dir": str(folder / "data"),
        "temporal": {"address": f"127.0.0.1:{ports['temporal']}", "ui_port": ports["temporal Web UI"]},
        "expense": {"base_url": f"http://127.0.0.1:{ports['sandbox:concur']}"},
        "erp": {"base_url": f"http://127.0.0.1:{ports['sandbox:netsuite']}"},
        "bank": {"base_url": f"http://127.0.0.1:{ports['sandbox:bank']}"},
        "procurement": {"base_url": f"http://127.0.0.1:{ports['sandbox:coupa']}"},
        "payroll_provider": {"base_url": f"http://127.0.0.1:{ports['sandbox:workday']}"},
        "gateway": {"port": ports["gateway"]},
    }))
    return path, ports


@contextmanager
def held(port: int) -> Iterator[None]:
    """Another program listening on ``port``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield


@pytest.mark.parametrize("taken", ["temporal Web UI", "gateway"])
def test_a_taken_port_is_named_before_anything_starts(tmp_path: Path, taken: str):
    config, ports = stack_config(tmp_path)
    with held(ports[taken]):
        result = CliRunner().invoke(app, ["dev"], env={"FINSYNC_CONFIG": str(config), "COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert f"Port {ports[taken]} ({taken}) is already in use." in result.stdout
    assert f"change the port in {config}" in result.stdout
    assert not (tmp_path / "data" / "logs").exists()   # nothing was started


def test_dev_runs_from_the_finsync_toml_the_other_commands_find(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FINSYNC_CONFIG")
    config, ports = stack_config(tmp_path)      # ./finsync.toml
    with held(ports["gateway"]):
        result = CliRunner().invoke(app, ["dev"], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert f"Port {ports['gateway']} (gateway) is already in use." in result.stdout
    assert not (tmp_path / ".finsync").exists()  # no second configuration written beside it


@pytest.mark.parametrize(("sandbox", "section", "kind", "port"), [("coupa", "procurement", "coupa", 8704),
                                                                   ("workday", "payroll_provider", "workday", 8705)])
def test_the_local_stack_runs_each_sandbox_on_its_port(tmp_path: Path, sandbox: str, section: str, kind: str, port: int):
    service = next(s for s in services(Settings(data_dir=tmp_path), sys.executable) if s.name == f"sandbox:{sandbox}")
    assert service.port == port
    assert service.command[-4:] == ["sandbox", sandbox, "--port", str(port)]
    assert service.health_url == f"http://127.0.0.1:{port}/_sandbox/health"
    written = tomllib.loads(write_local_config(tmp_path / "data").read_text())
    assert written[section] == {"kind": kind, "base_url": f"http://127.0.0.1:{port}"}


@pytest.mark.stack
async def test_a_killed_finsync_dev_takes_its_children_and_their_ports_with_it(tmp_path: Path):
    config, ports = stack_config(tmp_path)
    dev = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "finsync.cli", "dev", cwd=tmp_path, start_new_session=True,
        env={**os.environ, "FINSYNC_CONFIG": str(config), "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    children: list[int] = []
    try:
        announced = await asyncio.wait_for(_until_line(dev, "Ctrl-C stops everything"), 180)
        assert announced, f"finsync dev ended before it was ready; see {tmp_path / 'data' / 'logs'}"
        # Ready means subscribed: the expense platform already posts to the gateway.
        assert f"http://127.0.0.1:{ports['gateway']}/webhooks/expense" in await _subscribed_endpoints(ports)
        children = _children(dev.pid)
        assert len(children) == 8

        os.kill(dev.pid, signal.SIGKILL)
        await dev.wait()

        assert await _left_behind_after(children, ports, timeout=30) == []
    finally:
        for pid in [dev.pid, *children]:   # only what this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if dev.returncode is None:
            await dev.wait()


async def _until_line(process: asyncio.subprocess.Process, marker: str) -> bool:
    assert process.stdout is not None
    while line := await process.stdout.readline():
        if marker in line.decode(errors="replace"):
            return True
    return False


async def _subscribed_endpoints(ports: dict[str, int]) -> list[str]:
    platform = registry.build(ExpenseVendorSettings(base_url=f"http://127.0.0.1:{ports['sandbox:concur']}"))
    try:
        subscriptions = (await platform.request("GET", "/events/v4/subscriptions")).json()
    finally:
        await platform.aclose()
    return [s["webHookConfig"]["endpoint"] for s in subscriptions]


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def _left_behind_after(children: list[int], ports: dict[str, int], timeout: float) -> list[str]:
    """What still runs or listens once all is gone, or at the deadline."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = ([f"process {pid}" for pid in children if _alive(pid)]
                + [f"{name} on port {port}" for name, port in ports.items() if not port_free("127.0.0.1", port)])
        if not left or asyncio.get_running_loop().time() > deadline:
            return left
        await asyncio.sleep(0.2)


def _alive(pid: int) -> bool:
    """Running (a zombie, killed but not yet reaped by its new parent, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False
