"""The ``finsync`` command line."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from finsync import correlation
from finsync.config import settings as load_settings

app = typer.Typer(help="finsync: durable finance-process orchestration on Temporal.", no_args_is_help=True,
                  add_completion=False)
demo_app = typer.Typer(help="Drive realistic demo cases through the local stack.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
exceptions_app = typer.Typer(help="The exception queue: parked processes and their resolution.", no_args_is_help=True)
app.add_typer(exceptions_app, name="exceptions")

SANDBOXES = {"concur": "expense", "netsuite": "erp", "bank": "bank"}


def _run(coroutine) -> int:  # noqa: ANN001
    """Run a command's coroutine; a known problem is one clear line, not a traceback."""
    from finsync.temporal import TemporalUnreachable

    try:
        return asyncio.run(coroutine) or 0
    except TemporalUnreachable as error:
        typer.echo(str(error), err=True)
        return 1
    except KeyboardInterrupt:
        return 130


def _refuse_built_in_credentials(check: Callable[[], Any]) -> Any:
    """A service's startup check: a built-in development credential beyond loopback is one line
    naming the settings to provide (exit code 2), never a traceback (finsync/launch.py)."""
    from finsync.guards import BuiltInCredentialRefused
    from sandboxes.kit.guard import SandboxCredentialRefused

    try:
        return check()
    except (BuiltInCredentialRefused, SandboxCredentialRefused) as refusal:
        typer.echo(str(refusal), err=True)
        raise typer.Exit(2) from None


@app.command()
def dev(data_dir: Path = typer.Option(Path(".finsync"), help="where the local stack keeps its state")) -> None:
    """Run the whole local stack in the foreground: Temporal, sandboxes, gateway, worker."""
    from finsync import devstack
    from finsync.config import Settings

    config = devstack.write_local_config(data_dir)
    os.environ.setdefault("FINSYNC_CONFIG", str(config.resolve()))
    raise typer.Exit(devstack.run(Settings()))


@app.command()
def setup() -> None:
    """Prepare a deployment for finsync (idempotent): create the integration store's tables, register
    finsync's search attributes on the Temporal namespace, and create the sweep's schedule."""
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest

    from finsync.store import open_store
    from finsync.temporal import connect
    from workflows.common import search
    from workflows.sweep.schedule import SCHEDULE_ID, ensure_sweep_schedule

    async def register() -> None:
        settings = load_settings()
        store = open_store(settings.database_url)    # creates the integration store's tables that are missing
        typer.echo(f"integration store ready at {store.engine.url}")
        client = await connect(settings.temporal)
        namespace = settings.temporal.namespace
        existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        missing = {key.name: int(key.indexed_value_type) for key in search.ALL
                   if key.name not in existing.custom_attributes}
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
        typer.echo(f"search attributes on {namespace}: {len(missing)} added, {len(search.ALL) - len(missing)} present")
        typer.echo(f"sweep schedule {SCHEDULE_ID}: {await ensure_sweep_schedule(client, settings)}")

    code = _run(register())
    # A one-shot step's exit code is what a deployment waits on, and the Temporal client's threads
    # can abort the interpreter's teardown after a success (temporalio/sdk-python#300): skip it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@app.command()
def worker() -> None:
    """Run a worker: every workflow, and each vendor's activities on its task queue."""
    import worker as worker_module
    from finsync import launch

    settings = load_settings()
    _refuse_built_in_credentials(lambda: launch.check_worker(settings))
    correlation.install_logging()
    raise typer.Exit(_run(worker_module.run_worker(settings)))


@app.command()
def gateway() -> None:
    """Run the webhook gateway."""
    import uvicorn

    from connectors import registry
    from finsync import launch, telemetry
    from finsync.store import open_store
    from finsync.temporal import connect
    from gateway.app import create_app

    settings = load_settings()
    _refuse_built_in_credentials(lambda: launch.check_gateway(settings))
    correlation.install_logging()

    async def serve() -> None:
        # Before the client: its tracing interceptor joins workflow starts to each request's span.
        telemetry.install_tracing(settings.telemetry, "gateway")
        client = await connect(settings.temporal)
        platform = registry.build(settings.expense)
        api = create_app(settings, client, open_store(settings.database_url), platform)
        server = uvicorn.Server(uvicorn.Config(api, host=settings.gateway.host, port=settings.gateway.port,
                                               log_level="warning"))
        try:
            await server.serve()
        finally:
            await platform.aclose()

    raise typer.Exit(_run(serve()))


@app.command()
def sandbox(name: str = typer.Argument(..., help="concur, netsuite or bank"),
            port: int = typer.Option(..., help="port to listen on"),
            host: str = typer.Option("127.0.0.1", help="address to listen on (0.0.0.0 in a container)")) -> None:
    """Run one vendor sandbox (state under the data folder; faults from FINSYNC_SANDBOX_FAULTS)."""
    import uvicorn

    from finsync import launch

    if name not in SANDBOXES:
        typer.echo(f"unknown sandbox {name!r}; choose one of {', '.join(SANDBOXES)}", err=True)
        raise typer.Exit(2)
    correlation.install_logging()   # the webhook outbox logs each delivery attempt
    settings = load_settings()
    api = _refuse_built_in_credentials(lambda: launch.sandbox_app(name, settings, host))
    uvicorn.run(api, host=host, port=port, log_level="warning")


@demo_app.command("expense")
def demo_expense(count: int = typer.Option(50, help="how many expense reports to create")) -> None:
    """Create realistic expense reports of mixed cases and follow them to a resting state."""
    from finsync.demo import run_expense_demo

    raise typer.Exit(_run(run_expense_demo(load_settings(), count)))


@exceptions_app.command("list")
def exceptions_list(entity: str = typer.Option(None, help="legal entity code, e.g. DE01"),
                    process: str = typer.Option(None, help="process, e.g. expense")) -> None:
    """Every process parked on a business exception, and bank reports no process took."""
    from rich.console import Console
    from rich.table import Table

    from finsync.exception_queue import parked
    from finsync.store import open_store
    from finsync.temporal import connect

    async def show() -> None:
        settings = load_settings()
        items = await parked(await connect(settings.temporal), entity, process)
        table = Table(title=f"{len(items)} parked")
        for column in ("workflow", "process", "entity", "reason", "amount"):
            table.add_column(column)
        for item in items:
            table.add_row(item.workflow_id, item.process, item.entity or "", item.reason_code,
                          "" if item.amount is None else f"{item.amount:,.2f}")
        Console().print(table)
        reports = open_store(settings.database_url).bank_reports_to_investigate()
        if reports:
            bank = Table(title=f"{len(reports)} bank reports no process took (the bank's message is kept in the store)")
            for column in ("received", "end-to-end id", "message", "status", "why", "workflow"):
                bank.add_column(column)
            for row in reports:
                bank.add_row(f"{row.received_at:%Y-%m-%d %H:%M}", row.end_to_end_id, f"{row.source} {row.message_id}",
                             row.state, row.outcome, row.workflow_id or "")
            Console().print(bank)

    raise typer.Exit(_run(show()))


@exceptions_app.command("resolve")
def exceptions_resolve(workflow_id: str,
                       action: str = typer.Option(..., help="retry, correct_cost_center, set_posting_date or cancel"),
                       by: str = typer.Option(..., help="who resolves it (kept in the timeline and the feed)"),
                       cost_center: str = typer.Option(None), posting_date: str = typer.Option(None, help="YYYY-MM-DD"),
                       note: str = typer.Option("")) -> None:
    """Resolve one parked process; the workflow checks the resolution before accepting it."""
    from pydantic import ValidationError

    from finsync.exception_queue import ResolutionRefused, resolve
    from finsync.temporal import connect
    from workflows.common.exceptions import Resolution

    try:
        resolution = Resolution(action=action, resolved_by=by, cost_center=cost_center, posting_date=posting_date, note=note)
    except ValidationError as error:
        typer.echo(f"not a valid resolution: {error.errors()[0]['msg']}", err=True)
        raise typer.Exit(2) from None

    async def send() -> int:
        try:
            typer.echo(await resolve(await connect(load_settings().temporal), workflow_id, resolution))
            return 0
        except ResolutionRefused as refusal:
            typer.echo(f"refused: {refusal}", err=True)
            return 1

    raise typer.Exit(_run(send()))


if __name__ == "__main__":
    app()
