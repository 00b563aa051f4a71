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

import httpx
import pytest
import tomli_w
from typer.testing import CliRunner

from connectors import registry
from finsync import devstack
from finsync.cli import app
from finsync.codec import new_key
from finsync.config import CodecSettings, ExpenseVendorSettings, Settings, TemporalSettings, decode_codec_key
from finsync.devstack import LocalStack, port_free, services, write_local_config
from tests.support.servers import free_ports

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("temporal", "temporal Web UI", "sandbox:concur", "sandbox:netsuite", "sandbox:bank", "sandbox:coupa",
            "sandbox:s4hana", "sandbox:workday", "gateway", "codec-server")
CODEC_TOKEN = "token-for-this-test"


def stack_config(folder: Path) -> tuple[Path, dict[str, int]]:
    """A configuration for ``finsync dev`` on free ports, state under ``folder``, the codec on."""
    ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
    path = folder / "finsync.toml"
    path.write_text(tomli_w.dumps({
        "data_dir": str(folder / "data"),
        "temporal": {"address": f"127.0.0.1:{ports['temporal']}", "ui_port": ports["temporal Web UI"],
                     "codec": {"enabled": True, "keys": {"k1": new_key()}, "server_tokens": [CODEC_TOKEN],
                               "server": {"port": ports["codec-server"]}}},
        "expense": {"base_url": f"http://127.0.0.1:{ports['sandbox:concur']}"},
        "erp": {"base_url": f"http://127.0.0.1:{ports['sandbox:netsuite']}"},
        "bank": {"base_url": f"http://127.0.0.1:{ports['sandbox:bank']}"},
        "procurement": {"base_url": f"http://127.0.0.1:{ports['sandbox:coupa']}"},
        "s4hana": {"base_url": f"http://127.0.0.1:{ports['sandbox:s4hana']}"},
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


@pytest.mark.parametrize("taken", ["temporal Web UI", "gateway", "codec-server"])
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


# --- the payload codec on the local stack ------------------------------------------------------

def codec_table(config: Path) -> dict:
    return tomllib.loads(config.read_text())["temporal"]["codec"]


def test_the_first_run_makes_a_key_and_a_token_of_its_own_readable_by_the_owner_only(tmp_path: Path):
    config = write_local_config(tmp_path / "data")
    codec = CodecSettings(**codec_table(config))
    assert codec.enabled
    assert decode_codec_key(codec.keys[codec.active_key or ""]) is not None
    assert len(codec.server_tokens) == 1 and len(codec.server_tokens[0].get_secret_value()) >= 32
    assert config.stat().st_mode & 0o777 == 0o600
    another = codec_table(write_local_config(tmp_path / "elsewhere"))
    assert another["keys"] != codec_table(config)["keys"]                 # fresh, not built in
    assert another["server_tokens"] != codec_table(config)["server_tokens"]


def test_later_runs_keep_the_key_that_decrypts_the_history(tmp_path: Path):
    config = write_local_config(tmp_path / "data")
    written = config.read_text()
    assert write_local_config(tmp_path / "data").read_text() == written


def test_a_configuration_written_before_the_codec_gets_it_once_and_keeps_the_rest(tmp_path: Path):
    config = tmp_path / "finsync.toml"
    config.write_text('[temporal]\naddress = "127.0.0.1:7300"\n\n[gateway]\nport = 8800\n')
    config.chmod(0o644)
    write_local_config(tmp_path)
    first = config.read_text()
    settings = tomllib.loads(first)
    assert (settings["temporal"]["address"], settings["gateway"]["port"]) == ("127.0.0.1:7300", 8800)
    assert CodecSettings(**settings["temporal"]["codec"]).enabled
    assert config.stat().st_mode & 0o777 == 0o600
    write_local_config(tmp_path)
    assert config.read_text() == first


def test_a_codec_turned_off_stays_off(tmp_path: Path):
    config = tmp_path / "finsync.toml"
    config.write_text("[temporal.codec]\nenabled = false\n")
    write_local_config(tmp_path)
    assert config.read_text() == "[temporal.codec]\nenabled = false\n"


def test_with_the_codec_on_the_web_ui_is_pointed_at_the_codec_server(tmp_path: Path):
    codec = CodecSettings(enabled=True, keys={"k1": new_key()}, server_tokens=["t"])
    on = services(Settings(data_dir=tmp_path, temporal=TemporalSettings(codec=codec)), sys.executable)
    temporal = next(s for s in on if s.name == "temporal")
    assert temporal.command[temporal.command.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8707"
    server = next(s for s in on if s.name == "codec-server")
    assert (server.port, server.command[-1], server.health_url) == (8707, "codec-server", "http://127.0.0.1:8707/health")

    off = services(Settings(data_dir=tmp_path), sys.executable)
    assert "--ui-codec-endpoint" not in next(s for s in off if s.name == "temporal").command
    assert "codec-server" not in [s.name for s in off]


def test_finsync_dev_says_how_to_read_payloads_in_the_web_ui(tmp_path: Path):
    config = write_local_config(tmp_path / "data")
    settings = Settings(data_dir=tmp_path / "data", temporal=TemporalSettings(**tomllib.loads(config.read_text())["temporal"]))
    with devstack.console.capture() as printed:
        devstack._print_table(LocalStack(settings, config=config))
    said = " ".join(printed.get().split())
    assert f"sign in at http://127.0.0.1:8707/login with the token in {config.resolve()}" in said
    assert ('choose "Use my browser setting", enter http://127.0.0.1:8707 and tick "Include cross-origin '
            'credentials"') in said


def test_the_local_stack_runs_the_s4hana_sandbox_on_8706(tmp_path: Path):
    s4hana = next(s for s in services(Settings(data_dir=tmp_path), sys.executable) if s.name == "sandbox:s4hana")
    assert (s4hana.port, s4hana.command[-4:]) == (8706, ["sandbox", "s4hana", "--port", "8706"])
    written = tomllib.loads(write_local_config(tmp_path / "data").read_text())
    assert written["s4hana"] == {"kind": "s4hana", "base_url": "http://127.0.0.1:8706"}


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
        async with httpx.AsyncClient() as http:   # and S/4HANA confirms its journal entries to it
            callback = (await http.get(f"http://127.0.0.1:{ports['sandbox:s4hana']}/_sandbox/callbacks")).json()
        assert callback == {"endpoint": f"http://127.0.0.1:{ports['gateway']}/callbacks/s4hana/journal-entry"}
        children = _children(dev.pid)
        assert len(children) == 10
        await _the_web_ui_decodes_through_the_codec_server(ports)

        os.kill(dev.pid, signal.SIGKILL)
        await dev.wait()

        assert await _left_behind_after(children, ports, timeout=30) == []
    finally:
        for pid in [dev.pid, *children]:   # only what this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if dev.returncode is None:
            await dev.wait()


async def _the_web_ui_decodes_through_the_codec_server(ports: dict[str, int]) -> None:
    """The dev server's Web UI names the codec server, which answers only with the token."""
    codec = f"http://127.0.0.1:{ports['codec-server']}"
    async with httpx.AsyncClient(timeout=5) as http:
        ui = (await http.get(f"http://127.0.0.1:{ports['temporal Web UI']}/api/v1/settings")).json()
        refused = await http.post(f"{codec}/decode", content=b'{"payloads": []}')
        allowed = await http.post(f"{codec}/decode", content=b'{"payloads": []}',
                                  headers={"Authorization": f"Bearer {CODEC_TOKEN}"})
    assert ui["Codec"]["Endpoint"] == codec
    assert (refused.status_code, allowed.status_code) == (401, 200)


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
