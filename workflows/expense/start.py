"""Starting (or signalling) a report's workflow: one path for every trigger.

The gateway (a vendor webhook) and the sweep (a poll of the platform) both hand a report's
status change here. The workflow id is derived from the report, the start is a
signal-with-start with REJECT_DUPLICATE, so however many triggers fire for one report, it gets
one run, and each trigger's event reaches it.
"""

from __future__ import annotations

import logging
from typing import Literal

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from canonical import ApprovalStatus, ExpenseReport, PaymentStatusReport, ReportStatusChanged
from finsync.config import Settings
from workflows.common import search
from workflows.expense.model import (
    PROCESS,
    SIGNAL_STATUS_CHANGED,
    WORKFLOW_NAME,
    BusinessStatus,
    ExpenseInput,
    TaskQueues,
    report_of,
    workflow_id,
)

log = logging.getLogger("finsync.expense")

StartOutcome = Literal["delivered", "not needed", "closed"]


def expense_queues(settings: Settings) -> TaskQueues:
    """Where a report's activities go, from each vendor's settings section."""
    return TaskQueues(expense=settings.expense.task_queue, erp=settings.erp.task_queue, bank=settings.bank.task_queue,
                      payroll=settings.payroll_provider.task_queue)


def expense_summary(event: ReportStatusChanged, report: ExpenseReport | None) -> str:
    """The one line the Web UI shows for the workflow (at most 200 bytes)."""
    if report is None:
        return f"Expense report {event.report_id} ({event.source_system})"
    return (f"Expense report {report.report_id} · employee {report.employee_id} · "
            f"{report.reimbursement_total} · {report.name}")[:200]


def worth_a_signal(event: ReportStatusChanged) -> bool:
    """The workflow acts on approval changes made by people or the platform. A payment-only
    change, or the release to the approver, was finsync's own doing: the workflow knows already,
    and each needless signal costs a workflow task."""
    if event.previous_approval_status == event.approval_status:
        return False
    return not (event.previous_approval_status is ApprovalStatus.PENDING_VALIDATION
                and event.approval_status is ApprovalStatus.PENDING_APPROVAL)


async def start_or_signal(client: Client, event: ReportStatusChanged, *, workflow_task_queue: str,
                          task_queues: TaskQueues, report: ExpenseReport | None = None) -> StartOutcome:
    """Signal the report's workflow with ``event``, starting it if it has no run yet.

    ``report``, read on a first submission, gives the summary line and spares the workflow its
    first read. Says what it did: "delivered" (started a run, or signalled the running one; the
    server does not say which to the SDK's public API), "not needed" (an echo of finsync's own
    action), or "closed" (the report's run already finished).
    """
    wf_id = workflow_id(event.source_system, event.report_id)
    if not worth_a_signal(event):
        return "not needed"
    try:
        await client.start_workflow(
            WORKFLOW_NAME,
            ExpenseInput(report_id=event.report_id, source_system=event.source_system,
                         correlation_id=event.correlation_id, task_queues=task_queues,
                         owner_ref=event.owner_ref, report=report),
            id=wf_id, task_queue=workflow_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            start_signal=SIGNAL_STATUS_CHANGED, start_signal_args=[event],
            static_summary=expense_summary(event, report),
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(search.PROCESS, PROCESS),
                SearchAttributePair(search.SOURCE_SYSTEM, event.source_system),
                SearchAttributePair(search.BUSINESS_KEY, event.report_id),
                SearchAttributePair(search.BUSINESS_STATUS, BusinessStatus.RECEIVED.value)]))
    except WorkflowAlreadyStartedError:
        log.info("event %s for closed workflow %s ignored", event.event_id, wf_id)
        return "closed"
    return "delivered"


async def start_after_return(client: Client, report: PaymentStatusReport, wf_id: str, *, workflow_task_queue: str,
                             task_queues: TaskQueues, correlation_id: str = "") -> StartOutcome:
    """A new run of a paid report whose payment the bank returned (its earlier run has ended):
    it reverses the settlement and parks for finance. Same workflow id, so the report's history
    stays one place in the Web UI; a second report of the same return finds the run going."""
    source_system, report_id = report_of(wf_id)
    try:
        await client.start_workflow(
            WORKFLOW_NAME,
            ExpenseInput(report_id=report_id, source_system=source_system, correlation_id=correlation_id,
                         task_queues=task_queues, returned=report),
            id=wf_id, task_queue=workflow_task_queue, id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary=f"Expense report {report_id}: payment {report.end_to_end_id} returned by the bank"[:200],
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(search.PROCESS, PROCESS),
                SearchAttributePair(search.SOURCE_SYSTEM, source_system),
                SearchAttributePair(search.BUSINESS_KEY, report_id),
                SearchAttributePair(search.BUSINESS_STATUS, BusinessStatus.RECEIVED.value)]))
    except WorkflowAlreadyStartedError:
        log.info("return of %s: a run of %s is going already", report.end_to_end_id, wf_id)
        return "closed"
    return "delivered"
