"""The payroll journal through the whole stack on the real dev server: the Workday-shaped sandbox's
signed "finalized" event through the gateway, the results read page by page, the US entity's
journal posted to the NetSuite-shaped ERP and the German one's to the SAP S/4HANA-shaped ERP; then
a reopen at the provider reverses each once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import httpx
from temporalio.client import WorkflowHandle

from connectors import registry
from connectors.interfaces import LedgerJournal
from tests.stack.conftest import STACK_EMPLOYEES, Stack
from workflows.common.exceptions import ResolutionAction
from workflows.common.process import RESOLVE_EXCEPTION
from workflows.payroll.entity import PayrollEntityWorkflow
from workflows.payroll.model import EntitySnapshot, EntityStatus, PayrollResolution, PayrollSnapshot, PayrollStatus
from workflows.payroll.run import PayrollRunWorkflow

THIS_MONTH = date.today().replace(day=1)    # the sandboxes close every month before the current one


async def until(stack: Stack, workflow_id: str, predicate: Callable[[PayrollSnapshot], bool],
                timeout: float = 120.0) -> PayrollSnapshot:
    """Ask the run's status until the predicate holds; the deadline only stops a test gone wrong."""
    handle, snap = stack.client.get_workflow_handle(workflow_id), None
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        try:
            snap = await handle.query(PayrollRunWorkflow.status)
            if predicate(snap):
                return snap
        except Exception:   # not started yet  # noqa: BLE001
            pass
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out; last {snap.status if snap else 'not started'}: {snap.timeline[-3:] if snap else ''}"
                         f"; entities {snap.entities if snap else ''}")


async def parked_employee(child: WorkflowHandle, timeout: float = 60.0) -> EntitySnapshot:
    """The entity once its rejected employee is parked (it parks them after reading the statement)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        snapshot = await child.query(PayrollEntityWorkflow.status)
        if snapshot.open_exceptions or asyncio.get_running_loop().time() > deadline:
            return snapshot
        await asyncio.sleep(0.3)


async def journals(stack: Stack, section: str, external_id: str) -> list[LedgerJournal]:
    ledger = registry.build(getattr(stack.settings, section))
    try:
        return await ledger.journals_by_external_id([external_id, f"{external_id}:rev"])
    finally:
        await ledger.aclose()


async def test_a_finalized_run_posts_each_entity_to_its_own_erp_and_a_reopen_reverses_each_once(stack: Stack) -> None:
    run = await stack.workday.create_run(THIS_MONTH, employees=STACK_EMPLOYEES,
                                         payment_date=date.today() + timedelta(days=10))   # net pay not out yet
    run_id = run["id"]
    await stack.workday.finalize(run_id, by="pat.payroll")
    workflow_id = f"payroll-workday-{run_id}-v1"

    posted = await until(stack, workflow_id, lambda s: s.status is PayrollStatus.POSTED)
    assert {e: p.status for e, p in posted.entities.items()} == {"US01": EntityStatus.POSTED,
                                                               "DE01": EntityStatus.POSTED}
    us_id, de_id = (posted.entities[e].journal.external_id for e in ("US01", "DE01"))   # type: ignore[union-attr]
    [us] = await journals(stack, "erp", us_id)
    [de] = await journals(stack, "s4hana", de_id)
    assert (us.entity, us.currency, de.entity, de.currency) == ("US01", "USD", "DE01", "EUR")
    for journal in (us, de):                       # balanced, net pay owed to the employees
        assert sum((line.amount.amount for line in journal.lines if line.side.value == "DEBIT"), Decimal(0)) == \
            sum((line.amount.amount for line in journal.lines if line.side.value == "CREDIT"), Decimal(0))
        assert journal.net("2250").amount < 0

    await stack.workday.reopen(run_id, by="pat.payroll")
    reversed_run = await until(stack, workflow_id, lambda s: s.status is PayrollStatus.REVERSED)
    assert {p.status for p in reversed_run.entities.values()} == {EntityStatus.REVERSED}
    assert len(await journals(stack, "erp", us_id)) == 2
    assert len(await journals(stack, "s4hana", de_id)) == 2


async def test_net_pay_leaves_as_one_file_per_entity_a_closed_account_parks_its_employee_and_the_statement_ties(
        stack: Stack) -> None:
    run = await stack.workday.create_run(THIS_MONTH, employees=STACK_EMPLOYEES, payment_date=date.today(),
                                         pay_group="MONTHLY-PAID")   # one run per group and period
    run_id = run["id"]
    await stack.workday.finalize(run_id, by="pat.payroll")
    workflow_id = f"payroll-workday-{run_id}-v1"

    # Worker 7 of the generated workforce has a closed account: the bank rejects that transfer only.
    parked = await until(stack, workflow_id, lambda s: any(p.payment and p.payment.rejected for p in s.entities.values()))
    [progress] = [p for p in parked.entities.values() if p.payment and p.payment.rejected]
    assert progress.payment is not None and progress.journal is not None
    assert (progress.payment.rejected, progress.payment.settled) == (1, progress.payment.transfers - 1)
    child = stack.client.get_workflow_handle(f"payroll-journal:{progress.journal.external_id}")
    [exception] = (await parked_employee(child)).open_exceptions
    assert exception.problem.vendor_code == "AC04" and exception.item == f"employee {exception.problem.subject}"

    payee = stack.store.payee(f"workday:{run_id}:v1", exception.problem.subject or "")
    assert payee is not None
    async with httpx.AsyncClient(base_url=stack.settings.bank.base_url) as bank:   # the account is open again
        reopened = await bank.put(f"/_sandbox/accounts/{payee.iban or payee.account_number}", json={"closed": False})
        assert reopened.status_code == 200
    await child.execute_update(RESOLVE_EXCEPTION, PayrollResolution(
        action=ResolutionAction.RETRY, resolved_by="casey.payroll", item=exception.item), result_type=str)

    done = await until(stack, workflow_id, lambda s: s.status is PayrollStatus.RECONCILED and all(
        p.payment and not p.payment.rejected for p in s.entities.values()))
    for entity, finished in done.entities.items():
        assert finished.payment is not None, entity
        assert (finished.payment.settled, finished.payment.rejected) == (finished.payment.transfers, 0)
        assert finished.payment.statement.endswith("reconciled") or "unknown" in finished.payment.statement, \
            finished.payment.statement
        assert "missing" not in finished.payment.statement
    # Net pay that left the bank is booked in each entity's own ERP, the employee paid again too:
    # the net pay payable the payroll journal credited stands at zero there.
    for entity, section in (("US01", "erp"), ("DE01", "s4hana")):
        journal = done.entities[entity].journal
        assert journal is not None
        child = stack.client.get_workflow_handle(f"payroll-journal:{journal.external_id}")
        bookings = (await child.query(PayrollEntityWorkflow.status)).net_pay_bookings
        assert len(bookings) == (2 if entity == progress.entity else 1)
        ledger = registry.build(getattr(stack.settings, section))
        try:
            held = await ledger.journals_by_external_id([journal.external_id, *(b.external_id for b in bookings)])
        finally:
            await ledger.aclose()
        assert len(held) == 1 + len(bookings)
        assert sum((j.net("2250").amount for j in held), Decimal(0)) == 0, entity
