"""The payroll sweep catches what a lost event did not bring: a finalized run no webhook started,
and a reopen whose event was lost, caught when the next version is finalized."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.workflows.harness import record_history
from tests.workflows.payroll.harness import QUEUES, payroll_world
from tests.workflows.payroll.world import Ledger, Provider, company, finalized, run_ref
from tests.workflows.polling import until
from workflows.payroll.model import PayrollSnapshot, PayrollStatus, workflow_id
from workflows.payroll.run import PayrollRunWorkflow
from workflows.payroll.sweep import PayrollSweepWorkflow, SweepInput


async def sweep(env: WorkflowEnvironment) -> None:
    handle = await env.client.start_workflow(PayrollSweepWorkflow.run, SweepInput(provider_task_queue=QUEUES.provider),
                                             id=f"sweep-{uuid.uuid4().hex[:8]}", task_queue="t-workflows")
    await handle.result()
    await record_history(handle, "payroll_sweep")


async def test_a_lost_finalized_and_a_lost_reopen_are_caught_by_the_sweep(time_skipping_env: WorkflowEnvironment,
                                                                        tmp_path: Path) -> None:
    pay_day = date.today() + timedelta(days=10)               # net pay not yet out: a reopen reverses
    first, second = run_ref(version=1, payment_date=pay_day), run_ref(version=2, payment_date=pay_day)
    provider = Provider(rows={first.key: company(), second.key: company(salary_scale="1.01")},
                        runs=[finalized(first)])
    netsuite, sap = Ledger("netsuite"), Ledger("sap")
    client = time_skipping_env.client
    # Time stands still: the test awaits the sweeps' results, and with time skipping on the runs'
    # waits for their pay day would run out meanwhile; this test is about what the sweep brings.
    with time_skipping_env.auto_time_skipping_disabled():
        async with payroll_world(time_skipping_env, tmp_path, provider, netsuite, sap):
            await sweep(time_skipping_env)                      # no webhook brought the finalized run
            one = client.get_workflow_handle(workflow_id(first))
            await until(lambda: one.query(PayrollRunWorkflow.status), posted, lambda s: str(s.status))
            await sweep(time_skipping_env)                      # the same state again: nothing new
            assert netsuite.posts == 1

            provider.runs = [finalized(second)]                 # reopened and finalized again; both events lost
            await sweep(time_skipping_env)
            assert (await one.result())["status"] == PayrollStatus.REVERSED.value
            two = client.get_workflow_handle(workflow_id(second))
            await until(lambda: two.query(PayrollRunWorkflow.status), posted, lambda s: str(s.status))
    assert len(netsuite.reversals()) == 1 and netsuite.reversals()[0].reverses_external_id == "payroll-PR-2026-11-v1:US01"
    assert "payroll-PR-2026-11-v2:US01" in netsuite.journals


def posted(snapshot: PayrollSnapshot) -> bool:
    return snapshot.status is PayrollStatus.POSTED
