"""The ``finsync`` command line.

Every command reads the configuration ``finsync dev`` uses (see ``finsync.config.config_file``).
An expected failure (a wrong id, a process that ended, no worker answering, a refused
resolution, a stack that is not ready) is one line on stderr and a non-zero exit, never a
traceback; vendor text is printed as text, never as markup.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from finsync import correlation
from finsync.config import LOCAL_STACK_CONFIG, Settings, config_file

app = typer.Typer(help="finsync: durable finance-process orchestration on Temporal.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_show_locals=False)
demo_app = typer.Typer(help="Drive realistic demo cases through the local stack.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
exceptions_app = typer.Typer(help="The exception queue: parked processes and their resolution.", no_args_is_help=True)
app.add_typer(exceptions_app, name="exceptions")
report_app = typer.Typer(help="One expense report's process: timeline, journals, payments, open exception.",
                         no_args_is_help=True)
app.add_typer(report_app, name="report")
codec_key_app = typer.Typer(help="Keys of the payload codec ([temporal.codec] keys).", no_args_is_help=True)
app.add_typer(codec_key_app, name="codec-key")

SANDBOXES = {"concur": "expense", "netsuite": "erp", "bank": "bank", "coupa": "procurement", "s4hana": "s4hana",
             "workday": "payroll_provider"}


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@app.callback()
def _configuration_exists() -> None:
    named = os.environ.get("FINSYNC_CONFIG")
    if named and not Path(named).is_file():
        raise _fail(f"FINSYNC_CONFIG names {named}, which is not a file", 2)


def _settings() -> Settings:
    """This invocation's settings, read afresh; a configuration that does not load is one line."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise _fail(f"configuration {config_file()}: {where}: {first['msg']}", 2) from None
    except ValueError as error:   # a TOML syntax error
        raise _fail(f"configuration {config_file()}: {error}", 2) from None


def _run(coroutine) -> int:  # noqa: ANN001
    """Run a command's coroutine; a known problem is one clear line, not a traceback."""
    from finsync.store.migrate import StoreTooNew
    from finsync.temporal import TemporalUnreachable
    from finsync.workflow_calls import CallFailed

    try:
        return asyncio.run(coroutine) or 0
    except (TemporalUnreachable, CallFailed, StoreTooNew) as error:
        typer.echo(str(error), err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        _let_sdk_threads_leave_python()


def _let_sdk_threads_leave_python(timeout: float = 2.0) -> None:
    """Wait (bounded) until no thread the Temporal SDK's Rust core owns is running Python.

    The core hands each RPC's result to asyncio from one of its own threads, which writes to the
    event loop's self-pipe and so releases the GIL while still inside Python. The awaiting
    command may then finish and the interpreter start finalizing before that thread takes the
    GIL back; CPython then ends the thread mid-call and the process aborts with ``Fatal Python
    error: PyGILState_Release`` (temporalio/sdk-python#300), after the command printed success.
    Such threads show in ``sys._current_frames()`` but are not threads Python started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started_by_python = {t.ident for t in threading.enumerate() if not isinstance(t, threading._DummyThread)}
        if all(ident in started_by_python for ident in sys._current_frames()):
            return
        time.sleep(0.001)


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
def dev(data_dir: Path = typer.Option(Path(".finsync"), help="where the local stack keeps its state (and, unless "
                                      "FINSYNC_CONFIG or ./finsync.toml exist, its configuration)")) -> None:
    """Run the whole local stack in the foreground: Temporal, sandboxes, gateway, worker."""
    from finsync import devstack

    # The configuration every other command finds; unless named or in ./finsync.toml, the local
    # stack's own under the data folder, written if missing.
    config = config_file()
    if config is None or (config == LOCAL_STACK_CONFIG and not os.environ.get("FINSYNC_CONFIG")):
        config = devstack.write_local_config(data_dir)
    os.environ["FINSYNC_CONFIG"] = str(config.resolve())
    raise typer.Exit(devstack.run(_settings(), config.resolve()))


@app.command()
def setup() -> None:
    """Prepare a deployment for finsync (idempotent): bring the integration store to its newest
    migration, register finsync's search attributes on the Temporal namespace, and create the
    sweep's, the procurement poll's, the daily reconciliation's and the payment run's schedules."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest

    from finsync.store import open_store
    from finsync.temporal import connect
    from workflows.common import search
    from workflows.payments import schedule as payment_run
    from workflows.payroll import schedule as payroll_sweep
    from workflows.procurement import schedule as procurement_poll
    from workflows.reconcile import schedule as reconciliation
    from workflows.sweep.schedule import SCHEDULE_ID, ensure_sweep_schedule

    settings = _settings()

    async def register() -> None:
        store = open_store(settings.database_url)    # migrates the integration store to its newest revision
        typer.echo(f"integration store ready at {store.engine.url}")
        client = await connect(settings.temporal)
        namespace = settings.temporal.namespace
        existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        missing = {key.name: IndexedValueType.ValueType(int(key.indexed_value_type)) for key in search.ALL
                   if key.name not in existing.custom_attributes}
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
        typer.echo(f"search attributes on {namespace}: {len(missing)} added, {len(search.ALL) - len(missing)} present")
        typer.echo(f"sweep schedule {SCHEDULE_ID}: {await ensure_sweep_schedule(client, settings)}")
        typer.echo(f"procurement poll schedule {procurement_poll.SCHEDULE_ID}: "
                   f"{await procurement_poll.ensure_poll_schedule(client, settings)}")
        typer.echo(f"reconciliation schedule {reconciliation.SCHEDULE_ID}: "
                   f"{await reconciliation.ensure_reconciliation_schedule(client, settings)}")
        typer.echo(f"payment run schedule {payment_run.SCHEDULE_ID}: "
                   f"{await payment_run.ensure_payment_run_schedule(client, settings)}")
        typer.echo(f"payroll sweep schedule {payroll_sweep.SCHEDULE_ID}: "
                   f"{await payroll_sweep.ensure_sweep_schedule(client, settings)}")

    raise typer.Exit(_run(register()))   # _run lets the SDK's threads leave Python before exit


@app.command()
def worker() -> None:
    """Run a worker: every workflow, and each vendor's activities on its task queue."""
    import worker as worker_module
    from finsync import launch

    settings = _settings()
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

    settings = _settings()
    _refuse_built_in_credentials(lambda: launch.check_gateway(settings))
    correlation.install_logging()

    async def serve() -> None:
        # Before the client: its tracing interceptor joins workflow starts to each request's span.
        telemetry.install_tracing(settings.telemetry, "gateway")
        client = await connect(settings.temporal)
        platform = registry.build(settings.expense)
        procurement = registry.build(settings.procurement)
        api = create_app(settings, client, open_store(settings.database_url), platform, procurement)
        server = uvicorn.Server(uvicorn.Config(api, host=settings.gateway.host, port=settings.gateway.port,
                                               log_level="warning"))
        try:
            await server.serve()
        finally:
            await platform.aclose()
            await procurement.aclose()

    raise typer.Exit(_run(serve()))


@app.command()
def sandbox(name: str = typer.Argument(..., help="concur, netsuite, bank, coupa, s4hana or workday"),
            port: int = typer.Option(..., help="port to listen on"),
            host: str = typer.Option("127.0.0.1", help="address to listen on (0.0.0.0 in a container)"),
            employees: int | None = typer.Option(None, min=1, max=1_000_000, envvar="FINSYNC_SANDBOX_WORKDAY_EMPLOYEES",
                                                 help="workday only: the workforce's size (default: as it was, "
                                                 "1,000 at first)")) -> None:
    """Run one vendor sandbox (state under the data folder; faults from FINSYNC_SANDBOX_FAULTS)."""
    import uvicorn

    from finsync import launch

    if name not in SANDBOXES:
        typer.echo(f"unknown sandbox {name!r}; choose one of {', '.join(SANDBOXES)}", err=True)
        raise typer.Exit(2)
    correlation.install_logging()   # the webhook outbox logs each delivery attempt
    settings = _settings()
    api = _refuse_built_in_credentials(lambda: launch.sandbox_app(name, settings, host, employees))
    uvicorn.run(api, host=host, port=port, log_level="warning")


@app.command("codec-server")
def codec_server() -> None:
    """Run the codec server: the Web UI's /decode and /encode for holders of a configured token."""
    import uvicorn

    from finsync import codec_server as server

    settings = _settings()
    try:
        api = server.create_app(settings.temporal)
    except server.CodecServerRefused as refusal:
        raise _fail(str(refusal), 2) from None
    address = settings.temporal.codec.server
    uvicorn.run(api, host=address.host, port=address.port, log_level="warning")


@codec_key_app.command("new")
def codec_key_new(key_id: str | None = typer.Option(None, "--id", help="the key's id (default: today's date and a "
                                                     "random suffix)")) -> None:
    """Print a fresh random key as a line for [temporal.codec.keys]. Rotate by adding it to every
    worker, client and the codec server, then making it active_key_id; keep the old key while any
    retained history was written under it."""
    import secrets
    from datetime import UTC, datetime

    import tomli_w

    from finsync.codec import new_key

    key_id = key_id or f"{datetime.now(UTC):%Y-%m-%d}-{secrets.token_hex(2)}"
    typer.echo(tomli_w.dumps({key_id: new_key()}), nl=False)


@demo_app.command("expense")
def demo_expense(count: int = typer.Option(50, min=1, help="how many expense reports to create")) -> None:
    """Create realistic expense reports of mixed cases and follow them to a resting state."""
    from finsync.demo import run_expense_demo

    raise typer.Exit(_run(run_expense_demo(_settings(), count)))


@demo_app.command("payroll")
def demo_payroll(employees: int = typer.Option(1000, min=1, max=200_000, help="the run's headcount")) -> None:
    """Finalize a payroll run in the payroll sandbox and follow it to the bank statement."""
    from finsync.demo_payroll import run_payroll_demo

    raise typer.Exit(_run(run_payroll_demo(_settings(), employees)))


@demo_app.command("procurement")
def demo_procurement(count: int = typer.Option(30, min=1, help="how many requisitions to create")) -> None:
    """Requisitions of mixed cases (paid, discounted, scheduled, AP hold, over budget, supplier problems, cancelled)."""
    from finsync.demo_procurement import run_procurement_demo

    raise typer.Exit(_run(run_procurement_demo(_settings(), count)))


@exceptions_app.command("list")
def exceptions_list(entity: str | None = typer.Option(None, help="legal entity code, e.g. DE01"),
                    process: str | None = typer.Option(None, help="process, e.g. expense")) -> None:
    """Every process parked on a business exception, and bank reports no process took."""
    from finsync.exception_queue import bank_reports_table, check_filters, parked, queue_table
    from finsync.store import open_store
    from finsync.temporal import connect
    from finsync.terminal import console
    from finsync.visibility import BadFilter

    settings = _settings()
    try:
        check_filters(settings, entity, process)
    except BadFilter as error:
        raise _fail(str(error), 2) from None

    async def show() -> None:
        items = await parked(await connect(settings.temporal), entity, process)
        out = console()
        out.print(queue_table(items))
        reports = open_store(settings.database_url).bank_reports_to_investigate()
        if reports:
            out.print(bank_reports_table(reports))

    raise typer.Exit(_run(show()))


@exceptions_app.command("resolve")
def exceptions_resolve(workflow_id: str = typer.Argument(..., help="workflow id (expense-concur-...) or report id"),
                       action: str = typer.Option(..., help="an action the exception offers (exceptions list shows them)"),
                       by: str = typer.Option(..., help="who resolves it (kept in the timeline and the feed)"),
                       item: str = typer.Option(None, help="which exception, when the process has several open"),
                       cost_center: str = typer.Option(None), posting_date: str = typer.Option(None, help="YYYY-MM-DD"),
                       note: str = typer.Option("")) -> None:
    """Resolve one parked process; the workflow checks the resolution before accepting it."""
    from finsync.exception_queue import resolve
    from finsync.temporal import connect
    from finsync.workflow_calls import workflow_id_for

    settings = _settings()
    # Sent as given: each process decodes its own resolution payload and refuses what it cannot use.
    fields = {"action": action, "resolved_by": by, "note": note, "item": item, "cost_center": cost_center,
              "posting_date": posting_date}
    resolution = {name: value for name, value in fields.items() if value is not None}

    async def send() -> None:
        typer.echo(await resolve(await connect(settings.temporal), workflow_id_for(workflow_id), resolution))

    raise typer.Exit(_run(send()))


@report_app.command("show")
def report_show(reference: str = typer.Argument(..., help="workflow id (expense-concur-...) or the expense "
                                                "platform's report id")) -> None:
    """Where one report's process stands, how it got there, and what was booked and paid."""
    from finsync import report_view
    from finsync.temporal import connect
    from finsync.terminal import console
    from finsync.workflow_calls import workflow_id_for

    settings = _settings()

    async def show() -> None:
        snapshot = await report_view.load(await connect(settings.temporal), reference)
        console().print(report_view.render(workflow_id_for(reference), snapshot))

    raise typer.Exit(_run(show()))


@app.command()
def feed(workflow: str | None = typer.Option(None, help="only this process run (workflow id)"),
         key: str | None = typer.Option(None, help="only this business key (an expense report id)"),
         after: int = typer.Option(0, min=0, help="only events after this seq (the last one you saw)"),
         limit: int = typer.Option(100, min=1, max=10_000, help="at most this many events"),
         as_json: bool = typer.Option(False, "--json", help="one JSON object per line, for programs")) -> None:
    """The finance event feed (the integration store's finance_event), oldest first."""
    from finsync import feed as feed_reader
    from finsync.store.migrate import StoreTooNew
    from finsync.terminal import console

    settings = _settings()
    try:
        store = feed_reader.open_existing(settings.database_url)
    except (feed_reader.NoStore, StoreTooNew) as error:
        raise _fail(str(error)) from None
    rows = feed_reader.read(store, after=after, workflow_id=workflow, business_key=key, limit=limit)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(feed_reader.as_json(row)))
    else:
        console().print(feed_reader.table(rows))


@app.command()
def reconcile(entity: str | None = typer.Option(None, help="legal entity code, e.g. DE01 (default: every configured one)"),
              day: str | None = typer.Option(None, "--date", help="the day, YYYY-MM-DD (default: yesterday, UTC)")) -> None:
    """Reconcile a day now: finsync's feed against the ERP's journals and the bank's debits, per entity."""
    from datetime import UTC, date, datetime, timedelta

    from activities.reconcile import Reconciler
    from connectors import registry
    from finsync import feed as feed_reader
    from finsync import reconciliation_view as view
    from finsync.store.migrate import StoreTooNew
    from finsync.terminal import console

    settings = _settings()
    configured = settings.bank.entities
    if entity is not None and entity not in configured:
        raise _fail(f"unknown entity {entity!r}; configured: {', '.join(configured)} ([bank] debtor_accounts)", 2)
    today = datetime.now(UTC).date()
    try:
        which = date.fromisoformat(day) if day else today - timedelta(days=1)
    except ValueError:
        raise _fail(f"--date {day!r} is not a date (YYYY-MM-DD)", 2) from None
    if which > today:
        raise _fail(f"{which} has not begun yet (today is {today}, UTC): nothing to reconcile", 2)
    try:
        store = feed_reader.open_existing(settings.database_url)
    except (feed_reader.NoStore, StoreTooNew) as error:
        raise _fail(str(error)) from None
    erp, bank = _refuse_built_in_credentials(lambda: (registry.build(settings.erp), registry.build(settings.bank)))

    async def run() -> None:
        try:
            results = await view.reconcile(Reconciler(erp, bank, store, settings), [entity] if entity else configured,
                                           which)
        except view.NotReconciled as error:
            raise _fail(str(error)) from None
        finally:
            await erp.aclose()
            await bank.aclose()
        for summary, differences in results:
            console().print(view.render(summary, differences))

    raise typer.Exit(_run(run()))


if __name__ == "__main__":
    app()
