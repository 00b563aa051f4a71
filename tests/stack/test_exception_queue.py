"""Parked reports on the whole stack: found in the exception queue, resolved, paid exactly once."""

from __future__ import annotations

import asyncio

import pytest

from connectors import registry
from finsync.exception_queue import ResolutionRefused, parked, resolve
from tests.stack.conftest import Stack
from tests.stack.helpers import approve_when_queued, journals_for, outcome, payments_for, submit
from workflows.common.exceptions import ResolutionAction
from workflows.expense.model import BusinessStatus, ExpenseResolution, workflow_id
from workflows.expense.workflow import ExpenseReimbursementWorkflow

pytestmark = pytest.mark.stack


async def until_parked(stack: Stack, report_id: str, code: str, timeout: float = 60) -> None:
    handle = stack.client.get_workflow_handle(workflow_id("concur", report_id))
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        snap = await handle.query(ExpenseReimbursementWorkflow.status)
        if snap.open_exception and snap.open_exception.problem.code == code:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{report_id} did not park on {code}: {snap.status} {snap.open_exception}")


async def test_an_inactive_cost_center_is_queued_then_recoded_and_paid(stack: Stack):
    report_id = await submit(stack, "E1005", "18.20", code="LUNCH")      # E1005 sits on inactive CC-1900
    await approve_when_queued(stack, "E1005", report_id)
    await until_parked(stack, report_id, "COST_CENTER_INACTIVE")
    wf = workflow_id("concur", report_id)

    for _ in range(50):   # visibility is eventually consistent
        queue = await parked(stack.client, entity="US01", process="expense")
        if any(item.workflow_id == wf for item in queue):
            break
        await asyncio.sleep(0.2)
    item = next(item for item in queue if item.workflow_id == wf)
    assert item.reason_code == "COST_CENTER_INACTIVE" and item.entity == "US01"

    with pytest.raises(ResolutionRefused, match="does not apply"):
        await resolve(stack.client, wf, ExpenseResolution(action=ResolutionAction.SET_POSTING_DATE,
                                                   posting_date="2026-12-01", resolved_by="ap.clerk"))
    await resolve(stack.client, wf, ExpenseResolution(action=ResolutionAction.CORRECT_COST_CENTER, cost_center="CC-2000",
                                               resolved_by="ap.clerk"))
    assert (await outcome(stack, report_id)).status is BusinessStatus.PAID
    (journal,) = await journals_for(stack, report_id)
    assert journal["debits"] == journal["credits"]


async def test_a_closed_bank_account_parks_and_pays_once_after_the_erp_is_corrected(stack: Stack):
    report_id = await submit(stack, "E2004", "22.80", "EUR", code="TAXIX")   # E2004's account is closed: AC04
    await approve_when_queued(stack, "E2004", report_id)
    await until_parked(stack, report_id, "PAYMENT_REJECTED")
    wf = workflow_id("concur", report_id)

    erp = registry.build(stack.settings.erp)
    try:
        await erp.update_employee_bank_details("E2004", bic="DEUTDEFFXXX", iban="DE89370400440532013000")
    finally:
        await erp.aclose()
    await resolve(stack.client, wf, ExpenseResolution(action=ResolutionAction.RETRY, resolved_by="ap.clerk",
                                               note="new account from the employee"))
    assert (await outcome(stack, report_id)).status is BusinessStatus.PAID
    assert sorted(p["status"] for p in await payments_for(stack, report_id)) == ["ACSC", "RJCT"]
    assert len(await journals_for(stack, report_id)) == 1
