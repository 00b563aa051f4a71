"""The payroll sweep catches what a lost event did not bring: a finalized run no webhook started,
and a reopen whose event was lost, caught when the next version is finalized."""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.workflows.harness import record_history
from tests.workflows.payroll.harness import QUEUES, payroll_world, settled
from tests.workflows.payroll.world import Ledger, Provider, company, finalized, run_ref
from tests.workflows.polling import until
from workflows.payroll.model import PayrollStatus, workflow_id
from workflows.payroll.run import PayrollRunWorkflow
from workflows.payroll.sweep import PayrollSweepWorkflow, SweepInput


async def sweep(env: WorkflowEnvironment) -> None:
    handle = await env.client.start_workflow(PayrollSweepWorkflow.run, SweepInput(provider_task_queue=QUEUES.provider),
                                             id=f"sweep-{uuid.uuid4().hex[:8]}", task_queue="t-workflows")
    await handle.result()
    await record_history(handle, "payroll_sweep")


async def test_a_lost_finalized_and_a_lost_reopen_are_caught_by_the_sweep(time_skipping_env: WorkflowEnvironment,
                                                                        tmp_path: Path) -> None:
    first, second = run_ref(version=1), run_ref(version=2)
    provider = Provider(rows={first.key: company(), second.key: company(salary_scale="1.01")},
                        runs=[finalized(first)])
    netsuite, sap = Ledger("netsuite"), Ledger("sap")
    client = time_skipping_env.client
    async with payroll_world(time_skipping_env, tmp_path, provider, netsuite, sap):
        await sweep(time_skipping_env)                          # no webhook brought the finalized run
        one = client.get_workflow_handle(workflow_id(first))
        await until(lambda: one.query(PayrollRunWorkflow.status), settled, lambda s: str(s.status))
        await sweep(time_skipping_env)                          # the same state again: nothing new
        assert netsuite.posts == 1

        provider.runs = [finalized(second)]                     # reopened and finalized again; both events lost
        await sweep(time_skipping_env)
        assert (await one.result())["status"] == PayrollStatus.REVERSED.value
        two = client.get_workflow_handle(workflow_id(second))
        await until(lambda: two.query(PayrollRunWorkflow.status), settled, lambda s: str(s.status))
    assert len(netsuite.reversals()) == 1 and netsuite.reversals()[0].reverses_external_id == "payroll-PR-2026-11-v1:US01"
    assert "payroll-PR-2026-11-v2:US01" in netsuite.journals
