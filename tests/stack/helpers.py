"""What the end-to-end tests do as people, and how they read the vendors' books afterwards."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import httpx

from canonical import Money, Side
from canonical.money import total
from connectors import registry
from finsync.store import BankReportRow
from sandboxes.concur.driver import Expense
from tests.stack.conftest import Stack
from workflows.expense.model import ExpenseOutcome, workflow_id
from workflows.expense.workflow import ExpenseReimbursementWorkflow

MANAGER_OF = {"E1": "E1000", "E2": "E2000"}


async def submit(stack: Stack, employee: str = "E1001", amount: str = "86.40", currency: str = "USD",
                 code: str = "DINNR", name: str = "Client dinner") -> str:
    expense = Expense(code, Decimal(amount), currency, date.today(), "Nopa", tax_code="DE19" if currency == "EUR" else None)
    report_id = await stack.concur.create_report(employee, name, currency, [expense], report_date=date.today())
    await stack.concur.submit(employee, report_id)
    return report_id


async def approve_when_queued(stack: Stack, employee: str, report_id: str, timeout: float = 60) -> None:
    """Play the manager: approve the report once finsync's check released it to them."""
    manager = MANAGER_OF[employee[:2]]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if any(h["reportId"] == report_id for h in await stack.concur.manager_queue(manager)):
            await stack.concur.approve_as_manager(manager, report_id)
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"report {report_id} never reached {manager}'s approval queue")


async def outcome(stack: Stack, report_id: str, timeout: float = 120) -> ExpenseOutcome:
    handle = stack.client.get_workflow_handle_for(ExpenseReimbursementWorkflow.run, workflow_id("concur", report_id))
    try:
        return await asyncio.wait_for(handle.result(), timeout)
    except TimeoutError:
        snap = await handle.query(ExpenseReimbursementWorkflow.status)
        pending = [(a.activity_type.name, a.attempt, a.last_failure.message[:300])
                   for a in (await handle.describe()).raw_description.pending_activities]
        raise AssertionError(f"{report_id} not finished after {timeout}s: {snap.status}, "
                             f"exception={snap.open_exception}, last={snap.timeline[-2:]}, pending={pending}") from None


async def journals_for(stack: Stack, report_id: str, *, settlement: bool = False) -> list[dict]:
    """Journal entries in the ERP whose external id belongs to this report's workflow (or, with
    ``settlement``, to its payments' settlements: ``<EndToEndId>:settlement``)."""
    pattern = f"FSE-{report_id}-%:settlement" if settlement else f"{workflow_id('concur', report_id)}:%"
    erp = registry.build(stack.settings.erp)
    try:
        headers = await erp.suiteql(f"SELECT id, tranid, externalid FROM transaction WHERE externalid LIKE '{pattern}'")
        for header in headers:
            lines = await erp.suiteql(f"SELECT debitforeignamount, creditforeignamount FROM transactionline "
                                      f"WHERE transaction = {header['id']}")
            header["debits"] = sum(Decimal(str(ln.get("debitforeignamount", 0))) for ln in lines)
            header["credits"] = sum(Decimal(str(ln.get("creditforeignamount", 0))) for ln in lines)
        return headers
    finally:
        await erp.aclose()


async def payments_for(stack: Stack, report_id: str) -> list[dict]:
    async with httpx.AsyncClient() as http:
        every = (await http.get(f"{stack.settings.bank.base_url}/_sandbox/payments")).json()
    return [p for p in every if p["endToEndId"].startswith(f"FSE-{report_id}-")]


async def payment_status_in_concur(stack: Stack, employee: str, report_id: str) -> str:
    return (await stack.concur.read_report(employee, report_id))["paymentStatusId"]


async def bank_reports(stack: Stack, end_to_end_id: str, count: int, timeout: float = 30) -> list[BankReportRow]:
    """The bank's reports on one payment as the gateway kept them, once ``count`` have arrived."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = stack.store.bank_reports(end_to_end_id)
        if len(rows) >= count or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.1)


async def ledger_net(stack: Stack, external_ids: list[str], account: str) -> Money:
    """Debits less credits on ``account`` over these journals, as the ERP holds them."""
    erp = registry.build(stack.settings.erp)
    try:
        journals = await erp.journals_by_external_id(external_ids)
    finally:
        await erp.aclose()
    assert len(journals) == len(external_ids), f"the ERP has {len(journals)} of {external_ids}"
    lines = [ln for journal in journals for ln in journal.lines if ln.account == account]
    currency = lines[0].amount.currency if lines else "USD"
    return total([ln.amount if ln.side is Side.DEBIT else -ln.amount for ln in lines], currency)
