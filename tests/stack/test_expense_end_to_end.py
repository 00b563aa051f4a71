"""The whole stack: signed webhooks from the sandboxes, the gateway, the real dev server, a worker,
and the vendors' books read back over HTTP."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.stack.conftest import Stack
from tests.stack.helpers import (
    approve_when_queued,
    bank_reports,
    journals_for,
    outcome,
    payment_status_in_concur,
    payments_for,
    submit,
)
from workflows.common import search
from workflows.expense.model import BusinessStatus, workflow_id

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
    assert [e.type for e in events] == ["submitted", "validated", "approved", "posted", "payment_sent", "paid"]
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
    # The faults really happened (summed over ERP and bank: one vendor alone may draw none of a kind).
    total: Counter[str] = Counter()
    for counts in injected.values():
        total.update(counts)
    assert total["dropped_response"] > 0 and total["server_error_5xx"] > 0, injected
