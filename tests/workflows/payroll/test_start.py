"""The provider's events reach the run's workflow once: finalized starts the version's workflow
(twice delivered, one workflow), reopened is signalled to it, and an event for a run finsync never
started is answered without error."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from canonical.payroll import PayrollRunState
from tests.workflows.payroll.harness import QUEUES, payroll_world
from tests.workflows.payroll.world import Ledger, Provider, company, finalized, run_ref
from tests.workflows.polling import until
from workflows.payroll.model import PayrollStatus, workflow_id
from workflows.payroll.run import PayrollRunWorkflow
from workflows.payroll.start import hand_over


async def test_finalized_twice_is_one_run_and_a_reopen_reaches_it(time_skipping_env: WorkflowEnvironment,
                                                                   tmp_path: Path) -> None:
    run = run_ref(payment_date=date.today() + timedelta(days=10))   # not paid yet: the reopen reverses
    client = time_skipping_env.client
    netsuite, sap = Ledger("netsuite"), Ledger("sap")
    async with payroll_world(time_skipping_env, tmp_path, Provider(rows={run.key: company()}), netsuite, sap):
        event = finalized(run)
        assert await hand_over(client, event, workflow_task_queue="t-workflows", queues=QUEUES) == "delivered"
        assert await hand_over(client, event, workflow_task_queue="t-workflows", queues=QUEUES) == "not needed"
        handle = client.get_workflow_handle(workflow_id(run))

        await until(lambda: handle.query(PayrollRunWorkflow.status), lambda s: s.status is PayrollStatus.POSTED,
                    lambda s: str(s.status))
        reopened = event.model_copy(update={"state": PayrollRunState.REOPENED, "event_id": "evt-reopen"})
        assert await hand_over(client, reopened, workflow_task_queue="t-workflows", queues=QUEUES) == "delivered"
        assert (await handle.result())["status"] == PayrollStatus.REVERSED.value
        assert await hand_over(client, event, workflow_task_queue="t-workflows", queues=QUEUES) == "closed"
    assert netsuite.posts == 2 and len(netsuite.reversals()) == 1      # the journal, and its one reversal


async def test_a_reopen_of_a_run_finsync_never_took_is_nothing_to_undo(time_skipping_env: WorkflowEnvironment) -> None:
    reopened = finalized(run_ref(run_id="PR-NEVER")).model_copy(update={"state": PayrollRunState.REOPENED})
    assert await hand_over(time_skipping_env.client, reopened, workflow_task_queue="t-workflows",
                           queues=QUEUES) == "closed"
