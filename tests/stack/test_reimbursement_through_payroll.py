"""Reimbursement through payroll across the whole stack on the real dev server: an expense of
E1001 (US01 reimburses through payroll here) approved in the Concur-shaped sandbox is handed to the
Workday-shaped sandbox as a pay input, paid with E1001's net pay in the next finalized run, and
only then shown paid in Concur; the payable the expense booked is cleared by the payroll journal."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from activities.reconcile import Reconciler
from connectors import registry
from finsync import reconciliation_view as view
from finsync.config import RulesSettings
from tests.stack.conftest import STACK_EMPLOYEES, Stack
from tests.stack.helpers import (
    approve_when_queued,
    ledger_net,
    outcome,
    payment_status_in_concur,
    payments_for,
    submit,
)
from tests.stack.test_payroll_end_to_end import THIS_MONTH, journals, until
from workflows.expense.model import BusinessStatus, workflow_id
from workflows.expense.workflow import ExpenseReimbursementWorkflow

EMPLOYEE = "E1001"


@pytest.fixture(scope="module")
def stack_rules(tmp_path_factory: pytest.TempPathFactory) -> RulesSettings:
    rules = RulesSettings()
    payroll = tmp_path_factory.mktemp("rules") / "payroll.toml"
    payroll.write_text(Path(rules.payroll).read_text().replace("reimburse_through_payroll = []",
                                                               'reimburse_through_payroll = ["US01"]'))
    return rules.model_copy(update={"payroll": payroll})


async def with_payroll(stack: Stack, report_id: str, timeout: float = 60.0) -> str:
    handle = stack.client.get_workflow_handle(workflow_id("concur", report_id))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        snapshot = await handle.query(ExpenseReimbursementWorkflow.status)
        if snapshot.status is BusinessStatus.WITH_PAYROLL and snapshot.payroll_reference:
            return snapshot.payroll_reference
        assert asyncio.get_running_loop().time() < deadline, f"{report_id} is {snapshot.status}: {snapshot.timeline[-2:]}"
        await asyncio.sleep(0.2)


async def test_an_approved_expense_is_paid_with_the_next_net_pay_and_shown_paid_in_concur(stack: Stack) -> None:
    await stack.workday.set_workforce(STACK_EMPLOYEES, company_staff=[EMPLOYEE])
    report_id = await submit(stack, EMPLOYEE, "86.40")
    await approve_when_queued(stack, EMPLOYEE, report_id)
    reference = await with_payroll(stack, report_id)
    assert await payments_for(stack, report_id) == []                  # no bank transfer of its own
    assert await payment_status_in_concur(stack, EMPLOYEE, report_id) != "P_PAID"

    run = await stack.workday.create_run(THIS_MONTH, employees=STACK_EMPLOYEES, payment_date=date.today())
    await stack.workday.finalize(run["id"], by="pat.payroll")
    payroll = await until(stack, f"payroll-workday-{run['id']}-v1",
                          lambda s: s.entities.get("US01") is not None and s.entities["US01"].payment is not None
                          and s.entities["US01"].payment.statement is not None)

    paid = await outcome(stack, report_id)
    assert paid.status is BusinessStatus.PAID
    assert paid.payment is not None and paid.payment.source == "payroll"
    assert await payment_status_in_concur(stack, EMPLOYEE, report_id) == "P_PAID"
    assert await payments_for(stack, report_id) == []
    # The payroll journal debits the employee payable by exactly what the expense journal credited.
    us = payroll.entities["US01"].journal
    assert us is not None
    [journal] = await journals(stack, "erp", us.external_id)
    assert journal.net("2150").amount == Decimal("86.40")
    expense_journal = f"{workflow_id('concur', report_id)}:journal-1"
    assert (await ledger_net(stack, [expense_journal, us.external_id], "2150")).amount == 0
    assert stack.store.reimbursement_paid(reference) is not None


async def test_the_days_reconciliation_of_feed_erp_and_bank_is_clean_with_payroll_in_it(stack: Stack) -> None:
    """After the test above: the expense paid with net pay has its payable cleared by payroll, the
    payroll run reconciles its own journals and statement, and the paying account's GL moved by the
    net pay booked (US01 posts its payroll to the reconciled ERP; DE01's goes to SAP)."""
    erp, bank = registry.build(stack.settings.erp), registry.build(stack.settings.bank)
    try:
        results = await view.reconcile(Reconciler(erp, bank, stack.store, stack.settings), ["US01", "DE01"],
                                       date.today())
    finally:
        await erp.aclose()
        await bank.aclose()
    for summary, differences in results:
        assert differences == [], summary.headline
    us = next(summary for summary, _ in results if summary.entity == "US01")
    assert us.checked.reports == 1 and us.checked.journals >= 1
