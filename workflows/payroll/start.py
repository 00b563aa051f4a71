"""Handing a provider's run event to its workflow: one path for the gateway and the sweep.

"Finalized" starts the version's workflow (REJECT_DUPLICATE: an event delivered twice, by a
webhook and a sweep, starts one). "Reopened" and "cancelled" are signalled to the workflow of the
version they take back; with none running there is nothing finsync posted to undo. A version after
the first also tells the version before it that it was taken back: the sweep sees a run only as it
stands now, so a lost "reopened" is caught when the next version is.
"""

from __future__ import annotations

import logging

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.sweep import HandOverOutcome
from canonical.payroll import PayrollRunEvent, PayrollRunState
from finsync import correlation
from finsync.config import Settings
from workflows.common import search
from workflows.payroll.model import (
    PROCESS,
    SIGNAL_RUN_CHANGED,
    PayrollInput,
    PayrollQueues,
    PayrollStatus,
    workflow_id,
)
from workflows.payroll.run import PayrollRunWorkflow

log = logging.getLogger("finsync.payroll")


def payroll_queues(settings: Settings) -> PayrollQueues:
    """Where a run's activities go: the provider's queue, and each ERP's by its settings section."""
    return PayrollQueues(provider=settings.payroll_provider.task_queue, bank=settings.bank.task_queue,
                         ledgers={"erp": settings.erp.task_queue, "s4hana": settings.s4hana.task_queue})


def payroll_summary(event: PayrollRunEvent) -> str:
    """The one line the Web UI shows for the run (no employee data: totals come later, in details)."""
    run = event.run
    return f"Payroll {run.run_id} v{run.version} · {run.pay_group} · {run.period_start} to {run.period_end}"[:200]


async def hand_over(client: Client, event: PayrollRunEvent, *, workflow_task_queue: str,
                    queues: PayrollQueues) -> HandOverOutcome:
    """Start or signal the run's workflow. "delivered", "not needed" (its workflow has it already)
    or "closed" (nothing running to tell: never started, or finished)."""
    wf_id = workflow_id(event.run)
    if event.state is not PayrollRunState.FINALIZED:
        return await _tell(client, event)
    if event.run.version > 1:
        before = event.run.model_copy(update={"version": event.run.version - 1})
        await _tell(client, event.model_copy(update={
            "state": PayrollRunState.REOPENED, "run": before, "event_id": f"{event.event_id}:supersedes"}))
    try:
        await client.start_workflow(
            PayrollRunWorkflow.run,
            PayrollInput(event=event, queues=queues, correlation_id=correlation.current.get() or event.event_id),
            id=wf_id, task_queue=workflow_task_queue, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=payroll_summary(event),
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(search.PROCESS, PROCESS),
                SearchAttributePair(search.SOURCE_SYSTEM, event.run.provider),
                SearchAttributePair(search.BUSINESS_KEY, event.run.key),
                SearchAttributePair(search.BUSINESS_STATUS, PayrollStatus.FINALIZED.value)]))
    except WorkflowAlreadyStartedError:
        running = (await client.get_workflow_handle(wf_id).describe()).status == WorkflowExecutionStatus.RUNNING
        return "not needed" if running else "closed"
    return "delivered"


async def _tell(client: Client, event: PayrollRunEvent) -> HandOverOutcome:
    wf_id = workflow_id(event.run)
    try:
        await client.get_workflow_handle(wf_id).signal(SIGNAL_RUN_CHANGED, event)
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        log.info("payroll event %s (%s): no running workflow %s", event.event_id, event.state.value, wf_id)
        return "closed"
    return "delivered"
