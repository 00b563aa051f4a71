"""The payroll journal through the whole stack on the real dev server: the Workday-shaped sandbox's
signed "finalized" event through the gateway, the results read page by page, the US entity's
journal posted to the NetSuite-shaped ERP and the German one's to the SAP S/4HANA-shaped ERP; then
a reopen at the provider reverses each once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from connectors import registry
from connectors.interfaces import LedgerJournal
from tests.stack.conftest import STACK_EMPLOYEES, Stack
from workflows.payroll.model import EntityStatus, PayrollSnapshot, PayrollStatus
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
    raise AssertionError(f"timed out; last {snap.status if snap else 'not started'}: {snap.timeline[-3:] if snap else ''}")


async def journals(stack: Stack, section: str, external_id: str) -> list[LedgerJournal]:
    ledger = registry.build(getattr(stack.settings, section))
    try:
        return await ledger.journals_by_external_id([external_id, f"{external_id}:rev"])
    finally:
        await ledger.aclose()


async def test_a_finalized_run_posts_each_entity_to_its_own_erp_and_a_reopen_reverses_each_once(stack: Stack) -> None:
    run = await stack.workday.create_run(THIS_MONTH, employees=STACK_EMPLOYEES)
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
