"""The ``finsync`` commands finance and operators run, against the whole stack on the real dev server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from canonical import PaymentState, PaymentStatusReport
from finsync.exception_queue import parked
from sandboxes.concur.app import create_app as create_concur
from tests.finsync.conftest import finsync, one_line_error, write_config
from tests.stack.conftest import Stack
from tests.stack.helpers import approve_when_queued, outcome, submit
from tests.support.servers import serve
from workflows.common import search
from workflows.expense.model import WORKFLOW_NAME, BusinessStatus, ExpenseInput, workflow_id
from workflows.expense.workflow import ExpenseReimbursementWorkflow

pytestmark = pytest.mark.stack
ROOT = Path(__file__).resolve().parents[2]


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.2)


async def parked_report(stack: Stack, employee: str, amount: str, code: str, problem: str, currency: str = "USD") -> str:
    """A report submitted, approved and parked on ``problem``, visible in the exception queue."""
    report_id = await submit(stack, employee, amount, currency, code=code)
    await approve_when_queued(stack, employee, report_id)
    handle = stack.client.get_workflow_handle(workflow_id("concur", report_id))

    async def is_parked() -> bool:
        snap = await handle.query(ExpenseReimbursementWorkflow.status)
        return snap.open_exception is not None and snap.open_exception.problem.code == problem

    await eventually(is_parked, f"{report_id} parked on {problem}")
    await eventually(lambda: listed(stack, handle.id), f"{handle.id} in visibility")
    return report_id


async def listed(stack: Stack, wf: str, entity: str | None = None) -> bool:
    return any(item.workflow_id == wf for item in await parked(stack.client, entity, details=False))


async def paid_report(stack: Stack, employee: str = "E1001", amount: str = "86.40") -> str:
    report_id = await submit(stack, employee, amount)
    await approve_when_queued(stack, employee, report_id)
    assert (await outcome(stack, report_id)).status is BusinessStatus.PAID
    return report_id


def row_of(output: str, wf: str) -> str:
    (line,) = [line for line in output.splitlines() if wf in line]
    return line


async def test_the_queue_shows_reason_age_employee_and_amount_with_its_currency(stack: Stack, stack_config: Path):
    us = workflow_id("concur", await parked_report(stack, "E1005", "18.20", "LUNCH", "COST_CENTER_INACTIVE"))
    de = workflow_id("concur", await parked_report(stack, "E2004", "22.80", "TAXIX", "PAYMENT_REJECTED", "EUR"))

    result = await finsync(stack_config, "exceptions", "list")

    assert result.exit_code == 0, result.output
    assert re.search(r"US01\s+\d+m\s+E1005\s+18\.20 USD", row_of(result.stdout, us)), result.stdout
    assert re.search(r"DE01\s+\d+m\s+E2004\s+22\.80 EUR", row_of(result.stdout, de)), result.stdout
    assert "COST_CENTER_INACTIVE: Cost center CC-1900" in result.stdout     # the reason as finance reads it
    assert "the beneficiary account is closed" in result.stdout


async def test_vendor_text_with_markup_characters_is_printed_as_it_is(stack: Stack, stack_config: Path):
    end_to_end = "FSE-[/]-[bold]X[/bold]-[link=http://evil]Y"
    stack.store.record_bank_report("wh-markup-1", PaymentStatusReport(
        message_id="MSG-[/", end_to_end_id=end_to_end, state=PaymentState.REJECTED, source="pain.002"),
        None, "unmatched", investigate=True, raw="<Document/>")

    result = await finsync(stack_config, "exceptions", "list")

    assert result.exit_code == 0, result.output
    assert end_to_end in result.stdout and "pain.002 MSG-[/" in result.stdout


async def test_a_filter_is_checked_and_cannot_rewrite_the_query(stack: Stack, stack_config: Path):
    us = workflow_id("concur", await parked_report(stack, "E1005", "19.30", "LUNCH", "COST_CENTER_INACTIVE"))
    await eventually(lambda: listed(stack, us, "US01"), f"{us} listed for US01")
    injected = "DE01' OR FinsyncLegalEntity = 'US01"

    refused = await finsync(stack_config, "exceptions", "list", "--entity", injected)
    assert "is not a valid code" in one_line_error(refused) and refused.exit_code == 2
    unknown = await finsync(stack_config, "exceptions", "list", "--entity", "FR01")
    assert one_line_error(unknown) == "unknown entity FR01; known: DE01, US01"
    assert "unknown process treasury" in one_line_error(await finsync(stack_config, "exceptions", "list",
                                                                      "--process", "treasury"))
    # Below the CLI's check, the value is still a quoted literal: it matches nothing.
    assert await parked(stack.client, entity=injected, details=False) == []


async def test_without_a_worker_the_queue_falls_back_to_visibility_and_commands_say_so(stack: Stack, stack_config: Path):
    wf = workflow_id("concur", "NOWORKER1")
    handle = await stack.client.start_workflow(
        WORKFLOW_NAME, ExpenseInput(report_id="NOWORKER1"), id=wf, task_queue="no-worker-polls-this",
        search_attributes=TypedSearchAttributes([
            SearchAttributePair(search.PROCESS, "expense"), SearchAttributePair(search.BUSINESS_STATUS, "EXCEPTION"),
            SearchAttributePair(search.LEGAL_ENTITY, "US01"), SearchAttributePair(search.EXCEPTION_REASON, "PERIOD_CLOSED"),
            SearchAttributePair(search.FUNCTIONAL_AMOUNT, 42.5)]))
    try:
        await eventually(lambda: listed(stack, wf), f"{wf} in visibility")

        listing = await finsync(stack_config, "exceptions", "list", "--entity", "US01")
        assert listing.exit_code == 0, listing.output
        assert re.search(r"US01\s+\?\s+\?\s+42\.50 in US01's functional currency", row_of(listing.stdout, wf))
        assert "no worker answered in time" in listing.stdout

        resolve = await finsync(stack_config, "exceptions", "resolve", wf, "--action", "retry", "--by", "ap.clerk")
        assert "no worker answered within 5 s; nothing was sent" in one_line_error(resolve)
        assert "no worker answered" in one_line_error(await finsync(stack_config, "report", "show", wf))
    finally:
        await handle.terminate()


async def test_resolve_says_in_one_line_why_nothing_happened(stack: Stack, stack_config: Path):
    missing = await finsync(stack_config, "exceptions", "resolve", "NOSUCHREPORT", "--action", "retry", "--by", "a")
    assert one_line_error(missing).startswith("no workflow expense-concur-NOSUCHREPORT")

    paid = workflow_id("concur", await paid_report(stack))
    done = await finsync(stack_config, "exceptions", "resolve", paid, "--action", "retry", "--by", "a")
    assert one_line_error(done) == f"{paid} is already completed; nothing to resolve"

    report_id = await parked_report(stack, "E1005", "20.40", "LUNCH", "COST_CENTER_INACTIVE")
    refused = await finsync(stack_config, "exceptions", "resolve", report_id, "--action", "set_posting_date",
                            "--posting-date", "2026-12-01", "--by", "a")
    assert one_line_error(refused) == ("refused: set_posting_date does not apply to COST_CENTER_INACTIVE; "
                                       "allowed: retry, correct_cost_center, cancel")
    invalid = await finsync(stack_config, "exceptions", "resolve", report_id, "--action", "undo", "--by", "a")
    assert one_line_error(invalid).startswith("refused: not a valid expense resolution: action:")

    accepted = await finsync(stack_config, "exceptions", "resolve", report_id, "--action", "correct_cost_center",
                             "--cost-center", "CC-2000", "--by", "a")
    assert accepted.exit_code == 0 and accepted.stdout.strip() == "correct_cost_center accepted for COST_CENTER_INACTIVE"
    assert (await outcome(stack, report_id)).status is BusinessStatus.PAID


async def test_report_show_tells_the_story_with_the_vendors_ids(stack: Stack, stack_config: Path):
    report_id = await parked_report(stack, "E2004", "23.90", "TAXIX", "PAYMENT_REJECTED", "EUR")
    wf = workflow_id("concur", report_id)

    parked_view = await finsync(stack_config, "report", "show", report_id)
    assert parked_view.exit_code == 0, parked_view.output
    assert re.search(r"allowed actions\s+│?\s*retry, cancel", parked_view.stdout), parked_view.stdout
    assert f"finsync exceptions resolve {wf} --action <action>" in parked_view.stdout

    resolved = await finsync(stack_config, "exceptions", "resolve", wf, "--action", "cancel", "--by", "ap.clerk")
    assert resolved.exit_code == 0, resolved.output
    assert (await outcome(stack, report_id)).status is BusinessStatus.CANCELLED
    snap = await stack.client.get_workflow_handle(wf).query(ExpenseReimbursementWorkflow.status)
    (journal,), (reversal,), (payment,) = snap.journals, snap.reversals, snap.payments

    shown = await finsync(stack_config, "report", "show", wf)   # by workflow id this time
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    for posted, kind in ((journal, "journal"), (reversal, "reversal")):
        assert re.search(rf"{kind}\s+{posted.document_number}\s+{posted.erp_id}\s+", out), out
        assert posted.external_id in out
    assert payment.end_to_end_id in out and payment.message_id in out and "REJECTED (RJCT)" in out
    assert "23.90 EUR" in out and "CANCELLED" in out and "open exception" not in out
    assert one_line_error(await finsync(stack_config, "report", "show", "NOPE")) == (
        "no expense report or workflow NOPE (looked for workflow expense-concur-NOPE)")


async def test_the_feed_reads_one_report_page_by_page_and_as_json(stack: Stack, stack_config: Path):
    report_id = await paid_report(stack, "E1002", "24.10")

    async def events() -> list[dict]:
        result = await finsync(stack_config, "feed", "--key", report_id, "--json")
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    async def paid_recorded() -> bool:
        return any(e["type"] == "paid" for e in await events())

    await eventually(paid_recorded, f"the paid event of {report_id} in the feed")
    every = await events()
    assert {e["business_key"] for e in every} == {report_id}
    assert [e["seq"] for e in every] == sorted(e["seq"] for e in every)
    assert next(e for e in every if e["type"] == "paid")["amount"] == {"amount": "24.10", "currency": "USD"}

    first = await finsync(stack_config, "feed", "--workflow", workflow_id("concur", report_id), "--limit", "2", "--json")
    page = [json.loads(line) for line in first.stdout.splitlines()]
    rest = await finsync(stack_config, "feed", "--key", report_id, "--after", str(page[-1]["seq"]), "--json")
    assert page + [json.loads(line) for line in rest.stdout.splitlines()] == every

    table = await finsync(stack_config, "feed", "--key", report_id)
    assert table.exit_code == 0 and "Paid USD 24.10" in table.stdout and f"--after {every[-1]['seq']}" in table.stdout


async def test_the_demo_refuses_to_start_until_the_stack_is_ready(stack: Stack, stack_config: Path, tmp_path: Path):
    assert (await finsync(stack_config, "demo", "expense", "--count", "-3")).exit_code == 2

    no_gateway = stack.settings.model_copy(update={"gateway": stack.settings.gateway.model_copy(update={"port": 9})})
    config = write_config(no_gateway, stack.client.service_client.config.target_host, tmp_path / "no-gateway.toml")
    assert one_line_error(await finsync(config, "demo", "expense")).startswith(
        "not ready: the gateway does not answer at http://127.0.0.1:9/health")

    no_worker = await finsync(stack_config, "demo", "expense", env={"FINSYNC_TEMPORAL__WORKFLOW_TASK_QUEUE": "nobody"})
    assert one_line_error(no_worker).startswith("not ready: no worker polls task queue nobody")

    async with serve(create_concur(tmp_path / "unsubscribed.db")) as unsubscribed:
        platform = stack.settings.expense.model_copy(update={"base_url": unsubscribed})
        config = write_config(stack.settings.model_copy(update={"expense": platform}),
                              stack.client.service_client.config.target_host, tmp_path / "unsubscribed.toml")
        assert one_line_error(await finsync(config, "demo", "expense")).startswith(
            f"not ready: the expense platform has no webhook subscription for {stack.gateway_url}/webhooks/expense")


async def test_a_second_demo_run_on_the_same_day_makes_new_claims(stack: Stack, stack_config: Path):
    for _ in range(2):
        result = await finsync(stack_config, "demo", "expense", "--count", "2")
        assert result.exit_code == 0, result.output
        assert re.search(r"posted and paid\s+│\s+2\b", result.stdout), result.stdout


async def test_a_command_ending_while_the_sdks_thread_is_in_python_exits_cleanly(stack: Stack, stack_config: Path,
                                                                                 tmp_path: Path):
    """The SDK's Rust thread that hands a result to asyncio is held in Python (as when it waits
    for the GIL) until the interpreter finalizes, or at most a second. Without waiting for it,
    the command aborts with 'Fatal Python error: PyGILState_Release' after its output."""
    script = tmp_path / "held_sdk_thread.py"
    script.write_text('''
import asyncio.selector_events, sys, threading, types

main = threading.main_thread().ident
finalizing = threading.Event()


class SetWhenFinalizing:
    def __del__(self, wake=finalizing.set):
        wake()


holder = types.ModuleType("finalizing_marker")   # cleared once the interpreter finalizes
holder.marker = SetWhenFinalizing()
sys.modules[holder.__name__] = holder
write_to_self = asyncio.selector_events.BaseSelectorEventLoop._write_to_self


def held(self):
    write_to_self(self)
    if threading.get_ident() != main:
        finalizing.wait(1.0)


asyncio.selector_events.BaseSelectorEventLoop._write_to_self = held
from finsync.cli import app

app(sys.argv[1:], prog_name="finsync")
''')
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), "exceptions", "list", "--entity", "DE01",
        env={**os.environ, "FINSYNC_CONFIG": str(stack_config), "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0 and b"Fatal Python error" not in err, err.decode()
    assert b"parked" in out
