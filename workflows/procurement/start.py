"""Starting (or signalling) a requisition's workflow: one path for the poller and the gateway.

The workflow id is derived from the requisition and the start is REJECT_DUPLICATE, so however
many times a change is delivered (two polls, a poll and a webhook), a requisition gets one run
and each change reaches it once (the workflow dedupes by change id). An approved requisition
just starts its run; a receipt or an invoice is a signal-with-start.
"""

from __future__ import annotations

import logging

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.procurement_poll import RequisitionRead
from activities.sweep import HandOverOutcome
from canonical.procurement import ProcurementChange
from finsync import correlation
from workflows.common import search
from workflows.procurement.model import (
    PROCESS,
    SIGNAL_CHANGE,
    WORKFLOW_NAME,
    ProcurementInput,
    ProcurementQueues,
    ProcurementStatus,
    workflow_id,
)

log = logging.getLogger("finsync.procurement")


def procurement_summary(change: ProcurementChange, first_read: RequisitionRead | None) -> str:
    """The one line the Web UI shows for the workflow (at most 200 bytes)."""
    if first_read is None:
        return f"Requisition {change.requisition_id} ({change.source_system})"
    requisition = first_read.requisition
    return (f"Requisition {requisition.requisition_id} · {first_read.supplier_name} · {requisition.total} · "
            f"{requisition.entity_code}")[:200]


async def start_or_signal(client: Client, change: ProcurementChange, *, workflow_task_queue: str,
                          task_queues: ProcurementQueues, first_read: RequisitionRead | None = None) -> HandOverOutcome:
    """Start the requisition's run, with ``change`` as its first signal when it carries a receipt or
    an invoice. Says what it did: "delivered" (started, or signalled the running one), "not
    needed" (an approval whose run is going already) or "closed" (the run has ended)."""
    wf_id = workflow_id(change.source_system, change.requisition_id)
    documents = change.receipt is not None or change.invoice is not None
    try:
        await client.start_workflow(
            WORKFLOW_NAME,
            ProcurementInput(requisition_id=change.requisition_id, source_system=change.source_system,
                             correlation_id=correlation.current.get() or change.change_id, task_queues=task_queues,
                             requisition=first_read.requisition if first_read else None),
            id=wf_id, task_queue=workflow_task_queue, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=procurement_summary(change, first_read),
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(search.PROCESS, PROCESS),
                SearchAttributePair(search.SOURCE_SYSTEM, change.source_system),
                SearchAttributePair(search.BUSINESS_KEY, change.requisition_id),
                SearchAttributePair(search.BUSINESS_STATUS, ProcurementStatus.APPROVED.value)]),
            start_signal=SIGNAL_CHANGE if documents else None, start_signal_args=[change] if documents else [])
    except WorkflowAlreadyStartedError:
        if not documents and await _running(client, wf_id):
            return "not needed"
        log.info("change %s for closed workflow %s ignored", change.change_id, wf_id)
        return "closed"
    return "delivered"


async def _running(client: Client, wf_id: str) -> bool:
    return (await client.get_workflow_handle(wf_id).describe()).status == WorkflowExecutionStatus.RUNNING
