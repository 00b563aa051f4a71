"""Turn verified vendor events into idempotent workflow starts and signals."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from canonical import ApprovalStatus, ExpenseReport, PaymentState, PaymentStatusReport, ReportStatusChanged
from finsync.config import Settings
from finsync.store import IntegrationStore
from workflows.common import search
from workflows.expense.model import PROCESS, BusinessStatus, ExpenseInput, TaskQueues, workflow_id
from workflows.expense.workflow import ExpenseReimbursementWorkflow

log = logging.getLogger("finsync.gateway")


@dataclass
class Routed:
    workflow_id: str | None
    outcome: str   # "delivered" (started or signalled), "not needed", "already decided", "closed", "unmatched"


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


class Router:
    def __init__(self, client: Client, settings: Settings, store: IntegrationStore) -> None:
        self.client = client
        self.settings = settings
        self.store = store
        self._payment_locks: dict[str, asyncio.Lock] = {}
        self.task_queues = TaskQueues(expense=settings.expense.task_queue, erp=settings.erp.task_queue,
                                      bank=settings.bank.task_queue)

    async def expense_event(self, event: ReportStatusChanged, report: ExpenseReport | None) -> Routed:
        """Signal the report's workflow, starting it if needed; never a second run for one report.
        ``report``, read on a first submission, gives the summary line and spares the workflow
        its first read."""
        wf_id = workflow_id(event.source_system, event.report_id)
        if not worth_a_signal(event):
            return Routed(wf_id, "not needed")
        try:
            await self.client.start_workflow(
                ExpenseReimbursementWorkflow.run,
                ExpenseInput(report_id=event.report_id, source_system=event.source_system,
                             correlation_id=event.correlation_id, task_queues=self.task_queues,
                             owner_ref=event.owner_ref, report=report),
                id=wf_id, task_queue=self.settings.temporal.workflow_task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                start_signal="report_status_changed", start_signal_args=[event],
                static_summary=expense_summary(event, report),
                search_attributes=TypedSearchAttributes([
                    SearchAttributePair(search.PROCESS, PROCESS),
                    SearchAttributePair(search.SOURCE_SYSTEM, event.source_system),
                    SearchAttributePair(search.BUSINESS_KEY, event.report_id),
                    SearchAttributePair(search.BUSINESS_STATUS, BusinessStatus.RECEIVED.value)]))
        except WorkflowAlreadyStartedError:
            # The report's workflow already finished: the event is about a closed case.
            log.info("event %s for closed workflow %s ignored", event.event_id, wf_id)
            return Routed(wf_id, "closed")
        return Routed(wf_id, "delivered")

    async def payment_report(self, report: PaymentStatusReport, webhook_id: str, message: str) -> Routed:
        """Signal the process that waits for the payment, and keep the report in the store. One
        that no running process takes keeps the bank's ``message`` for finance to investigate."""
        # One payment's reports in turn (pain.002 and camt.054 often arrive together), so the
        # second finds the first's decision; across gateway processes a race costs one signal.
        lock = self._payment_locks.setdefault(report.end_to_end_id, asyncio.Lock())
        try:
            async with lock:
                routed = await self._signal_payment(report)
                investigate = to_investigate(routed.outcome, report.state)
                if investigate:
                    log.warning("bank report %s (%s %s) %s: kept for investigation", report.end_to_end_id,
                                report.source, report.bank_status_code, routed.outcome)
                await asyncio.to_thread(functools.partial(
                    self.store.record_bank_report, webhook_id, report, routed.workflow_id, routed.outcome,
                    investigate=investigate, raw=message))
                return routed
        finally:
            if not lock.locked() and self._payment_locks.get(report.end_to_end_id) is lock:
                del self._payment_locks[report.end_to_end_id]

    async def _signal_payment(self, report: PaymentStatusReport) -> Routed:
        wf_id = await asyncio.to_thread(self.store.workflow_for_payment, report.end_to_end_id)
        if wf_id is None:
            return Routed(None, "unmatched")
        if report.state.decided and await asyncio.to_thread(self.store.payment_decided, report.end_to_end_id):
            # e.g. camt.054 after pain.002 ACSC: the process has its answer and keeps the first.
            return Routed(wf_id, "already decided")
        try:
            await self.client.get_workflow_handle(wf_id).signal(ExpenseReimbursementWorkflow.payment_status, report)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return Routed(wf_id, "closed")
        return Routed(wf_id, "delivered")



def to_investigate(outcome: str, state: PaymentState) -> bool:
    """A report about a payment no process knows, or a rejection no running process took
    (say, a return after the report was paid): money may have moved without a process."""
    return outcome == "unmatched" or (state is PaymentState.REJECTED and outcome != "delivered")
