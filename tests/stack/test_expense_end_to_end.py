"""The whole stack: signed webhooks from the sandboxes, the gateway, the real dev server, a worker,
and the vendors' books read back over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal

import httpx
import pytest

from canonical import Money
from connectors import registry
from tests.stack.conftest import Stack
from tests.stack.helpers import (
    approve_when_queued,
    bank_reports,
    journals_for,
    ledger_net,
    outcome,
    payment_status_in_concur,
    payments_for,
    submit,
)
from workflows.common import search
from workflows.common.exceptions import ResolutionAction
from workflows.common.process import RESOLVE_EXCEPTION
from workflows.expense.model import BusinessStatus, ExpenseResolution, workflow_id
from workflows.expense.workflow import ExpenseReimbursementWorkflow

pytestmark = pytest.mark.stack


async def test_a_submitted_report_is_posted_paid_and_confirmed(stack: Stack):
    report_id = await submit(stack, "E1001")
    await approve_when_queued(stack, "E1001", report_id)
    result = await outcome(stack, report_id)

    assert result.status is BusinessStatus.PAID
    (journal,) = await journals_for(stack, report_id)
    assert journal["debits"] == journal["credits"] > 0
    (payment,) = await payments_for(stack, report_id)
    assert payment["status"] == "ACSC" and payment["amount"] == "86.40"
    assert await payment_status_in_concur(stack, "E1001", report_id) == "P_PAID"

    wf = workflow_id("concur", report_id)
    events = stack.store.events(workflow_id=wf)
    assert [e.type for e in events] == ["submitted", "validated", "approved", "posted", "payment_sent",
                                        "settlement_booked", "paid"]
    assert len({e.correlation_id for e in events}) == 1
    description = await stack.client.get_workflow_handle(wf).describe()
    assert description.typed_search_attributes.get(search.LEGAL_ENTITY) == "US01"
    assert report_id in (await description.static_summary() or "")

    # pain.002 ACSC decides the payment; the camt.054 that follows is kept but not signalled.
    assert result.payment is not None
    rows = await bank_reports(stack, result.payment.end_to_end_id, count=2)
    assert sorted(r.outcome for r in rows) == ["already decided", "delivered"]
    assert not any(r.investigate for r in rows)
    history = await stack.client.get_workflow_handle(wf).fetch_history()
    assert [e.workflow_execution_signaled_event_attributes.signal_name for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")].count("payment_status") == 1


@pytest.mark.parametrize(("employee", "currency", "bank_account"), [
    ("E1002", "USD", "1010"),    # a US employee, dollars, from the USD account
    ("E2001", "EUR", "1020"),    # a German employee, euros, from the EUR account
    ("E1003", "EUR", "1010"),    # a US employee reimbursed in euros: from the USD account, the bank converting
], ids=["usd", "eur", "eur-from-usd"])
async def test_once_paid_the_payable_nets_to_zero_and_the_bank_account_moved_by_the_debit(
        stack: Stack, employee: str, currency: str, bank_account: str):
    report_id = await submit(stack, employee, "74.72", currency, code="TAXIX", name="Taxi")
    await approve_when_queued(stack, employee, report_id)
    result = await outcome(stack, report_id)
    assert result.status is BusinessStatus.PAID and result.payment is not None

    events = {e.type: e for e in stack.store.events(workflow_id=workflow_id("concur", report_id))}
    posted, settled = json.loads(events["posted"].data), json.loads(events["settlement_booked"].data)
    journals = [posted["external_id"], settled["external_id"]]
    functional = "USD" if employee.startswith("E1") else "EUR"
    assert await ledger_net(stack, journals, "2150") == Money.of("0", functional)
    # What the bank debited (its lookup says so, converted or not) is what left the bank's GL account.
    (payment,) = await payments_for(stack, report_id)
    bank = registry.build(stack.settings.bank)
    try:
        lookup = await bank.payment_status(payment["messageId"], payment["endToEndId"])
    finally:
        await bank.aclose()
    debited = lookup.debited
    assert debited is not None
    assert debited.currency == functional and (debited.currency != currency) == (employee == "E1003")
    assert await ledger_net(stack, [settled["external_id"]], bank_account) == -debited
    assert Decimal(settled["debited"]) == debited.amount


async def test_twenty_reports_complete_exactly_once_through_erp_and_bank_faults(stack: Stack):
    # Unseeded on purpose: every run meets a different sequence of faults. Temporal's backoff
    # (1 s doubling) can legitimately take minutes for an unlucky step, hence the long wait.
    faults = {"error_rate": 0.1, "rate_limit_rate": 0.03, "rate_limit_burst_seconds": 0.5,
              "retry_after_seconds": 1, "ambiguous_rate": 0.15}
    for vendor in (stack.settings.erp, stack.settings.bank):
        await stack.set_faults(vendor.base_url, **faults)
    try:
        employees = ["E1001", "E1002", "E1003", "E1004", "E2001", "E2002", "E2003"]
        plan = [(employees[i % len(employees)], f"{40 + i}.{i:02d}") for i in range(20)]
        reports = []
        for employee, amount in plan:
            currency = "EUR" if employee.startswith("E2") else "USD"
            reports.append((employee, await submit(stack, employee, amount, currency, code="TAXIX", name="Taxi")))
        await asyncio.gather(*(approve_when_queued(stack, e, r, timeout=120) for e, r in reports))
        results = await asyncio.gather(*(outcome(stack, r, timeout=300) for _, r in reports))
        injected = {vendor.base_url: await stack.faults_injected(vendor.base_url)
                    for vendor in (stack.settings.erp, stack.settings.bank)}
    finally:
        for vendor in (stack.settings.erp, stack.settings.bank):
            await stack.set_faults(vendor.base_url)

    assert [r.status for r in results] == [BusinessStatus.PAID] * 20
    for _employee, report_id in reports:
        journals = await journals_for(stack, report_id)
        assert len(journals) == 1, f"{report_id}: {journals}"
        assert journals[0]["debits"] == journals[0]["credits"]
        assert [p["status"] for p in await payments_for(stack, report_id)] == ["ACSC"]
        settlements = await journals_for(stack, report_id, settlement=True)
        assert len(settlements) == 1 and settlements[0]["debits"] == settlements[0]["credits"], settlements
    # The faults really happened (summed over ERP and bank: one vendor alone may draw none of a kind).
    total: Counter[str] = Counter()
    for counts in injected.values():
        total.update(counts)
    assert total["dropped_response"] > 0 and total["server_error_5xx"] > 0, injected


async def test_a_payment_returned_after_settlement_is_reversed_parked_and_paid_again(stack: Stack):
    report_id = await submit(stack, "E1001", "64.20", "USD", code="TAXIX", name="Taxi")
    await approve_when_queued(stack, "E1001", report_id)
    first = await outcome(stack, report_id)
    assert first.status is BusinessStatus.PAID and first.payment is not None
    paid = first.payment
    async with httpx.AsyncClient(base_url=stack.settings.bank.base_url) as http:   # the employee's bank sends it back
        answer = await http.post(f"/_sandbox/payments/{paid.message_id}/transactions/{paid.end_to_end_id}/return",
                                 json={"reasonCode": "AC04"})
        assert answer.status_code == 200, answer.text
    wf = workflow_id("concur", report_id)
    handle = stack.client.get_workflow_handle_for(ExpenseReimbursementWorkflow.run, wf)
    deadline = asyncio.get_running_loop().time() + 60
    while True:   # the gateway starts a new run of the report's workflow, which parks
        snap = await handle.query(ExpenseReimbursementWorkflow.status)
        if snap.open_exception is not None:
            break
        assert asyncio.get_running_loop().time() < deadline, snap.timeline[-3:]
        await asyncio.sleep(0.2)
    assert snap.open_exception.problem.code == "PAYMENT_RETURNED" and "AC04" in snap.open_exception.problem.reason
    await handle.execute_update(RESOLVE_EXCEPTION, ExpenseResolution(action=ResolutionAction.RETRY, resolved_by="ap.clerk"),
                                result_type=str)
    assert (await asyncio.wait_for(handle.result(), 120)).status is BusinessStatus.PAID

    events = stack.store.events(workflow_id=wf)
    settled = [json.loads(e.data) for e in events if e.type == "settlement_booked"]
    returned = [json.loads(e.data) for e in events if e.type == "payment_returned"]
    posted = [json.loads(e.data) for e in events if e.type == "posted"]
    assert len(settled) == 2 and len(returned) == 1 and len(posted) == 1
    journals = [posted[0]["external_id"], *(s["external_id"] for s in settled), returned[0]["external_id"]]
    assert await ledger_net(stack, journals, "2150") == Money.of("0", "USD")       # owed, paid, owed again, paid
    assert await ledger_net(stack, journals, "1010") == Money.of("-64.20", "USD")  # out, back, out again
