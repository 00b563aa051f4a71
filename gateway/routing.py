"""Turn verified vendor events into idempotent workflow starts and signals.

The bank's reports reach the process waiting for each payment by its EndToEndId. A report on a
whole file (MsgId) or block (PmtInfId), a rejection that lists no transaction, reaches every
process with a payment routed under it, as one report per transaction: whatever the bank sent,
a process is signalled one PaymentStatusReport per payment, its EndToEndId set.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from canonical import (
    ExpenseReport,
    GroupStatusReport,
    JournalConfirmation,
    PaymentState,
    PaymentStatusReport,
    ReportStatusChanged,
)
from canonical.journal import JOURNAL_CONFIRMED_SIGNAL, journal_workflow_id
from canonical.payroll import PayrollRunEvent
from canonical.procurement import ProcurementChangeKind
from connectors.coupa.events import DOCUMENT_KINDS
from connectors.errors import BusinessRuleError
from connectors.interfaces import ProcurementPlatform
from finsync import correlation
from finsync.config import Settings
from finsync.store import IntegrationStore
from workflows.expense.model import workflow_id
from workflows.expense.start import expense_queues, start_after_return, start_or_signal
from workflows.expense.workflow import ExpenseReimbursementWorkflow
from workflows.payroll import model as payroll_model
from workflows.payroll import start as payroll_start
from workflows.procurement import model as procurement_model
from workflows.procurement import start as procurement_start

log = logging.getLogger("finsync.gateway")

# Signals in flight at once when one report speaks for a whole file of payments.
FAN_OUT = 20


@dataclass
class Routed:
    workflow_id: str | None
    # "delivered" (started or signalled), "not needed", "already decided", "closed", "unmatched",
    # "left to the poller"
    outcome: str


# A process's handler of one event: given the id of the document the event names.
EventHandler = Callable[[str], Awaitable[Routed]]


class Router:
    """``procurement`` (optional) reads the document a procurement event names; without it those
    events are left to the poller, which reads the same changes."""

    def __init__(self, client: Client, settings: Settings, store: IntegrationStore,
                 procurement: ProcurementPlatform | None = None) -> None:
        self.client = client
        self.settings = settings
        self.store = store
        self.procurement = procurement
        self._payment_locks: dict[str, asyncio.Lock] = {}
        self.task_queues = expense_queues(settings)
        self.procurement_queues = procurement_model.ProcurementQueues(
            procurement=settings.procurement.task_queue, erp=settings.erp.task_queue, bank=settings.bank.task_queue)

    def event_table(self) -> dict[tuple[str, str], EventHandler]:
        """(source, event type) -> the handler of the process that takes it. An event type not in
        it is acknowledged and left alone: no process needs it."""
        return {("procurement", event_type): functools.partial(self.procurement_document, kind)
                for event_type, kind in DOCUMENT_KINDS.items()}

    async def procurement_document(self, kind: ProcurementChangeKind, document_id: str) -> Routed:
        """The document read through the connector, as the poller reads it, and handed to its
        requisition's workflow the way the poller hands it: the change id is the same, so the
        workflow takes it once whichever path brings it first."""
        if self.procurement is None:
            return Routed(None, "left to the poller")
        try:
            change = await self.procurement.change_of(kind, document_id)
        except BusinessRuleError as refusal:   # e.g. deleted since: nothing to hand on, nothing to retry
            log.warning("procurement %s %s not handed on: %s", kind.value, document_id, refusal.problem.reason)
            return Routed(None, "not needed")
        if change is None:
            return Routed(None, "not needed")
        outcome = await procurement_start.start_or_signal(
            self.client, change, workflow_task_queue=self.settings.temporal.workflow_task_queue,
            task_queues=self.procurement_queues)
        return Routed(procurement_model.workflow_id(change.source_system, change.requisition_id), outcome)

    async def expense_event(self, event: ReportStatusChanged, report: ExpenseReport | None) -> Routed:
        """Signal the report's workflow, starting it if needed; never a second run for one report."""
        outcome = await start_or_signal(self.client, event, workflow_task_queue=self.settings.temporal.workflow_task_queue,
                                        task_queues=self.task_queues, report=report)
        return Routed(workflow_id(event.source_system, event.report_id), outcome)

    async def payroll_event(self, event: PayrollRunEvent) -> Routed:
        """Finalized starts the version's run; reopened or cancelled is told to it."""
        outcome = await payroll_start.hand_over(self.client, event,
                                                workflow_task_queue=self.settings.temporal.workflow_task_queue,
                                                queues=payroll_start.payroll_queues(self.settings))
        return Routed(payroll_model.workflow_id(event.run), outcome)

    async def journal_confirmation(self, confirmation: JournalConfirmation) -> Routed:
        """Tell the workflow posting the journal what the ERP decided. With none running (not yet
        started, or already done) nothing is lost: that workflow reads the journal back itself."""
        wf_id = journal_workflow_id(confirmation.external_id)
        try:
            await self.client.get_workflow_handle(wf_id).signal(JOURNAL_CONFIRMED_SIGNAL, confirmation)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return Routed(wf_id, "no such workflow; its read-back decides")
        return Routed(wf_id, "delivered")

    async def bank_report(self, report: PaymentStatusReport | GroupStatusReport, webhook_id: str,
                          message: str) -> list[tuple[PaymentStatusReport | GroupStatusReport, Routed]]:
        """Each report as routed: a transaction's to its process; a file's or block's as one report
        per payment routed under it. One that names no routed payment is kept for finance."""
        if isinstance(report, PaymentStatusReport):
            return [(report, await self.payment_report(report, webhook_id, message))]
        routes = await asyncio.to_thread(self.store.routes_in, report.message_id, report.payment_info_id)
        if not routes:
            await asyncio.to_thread(functools.partial(
                self.store.record_bank_report, webhook_id, report, None, "unmatched",
                investigate=to_investigate("unmatched", report.state), raw=message))
            return [(report, Routed(None, "unmatched"))]
        in_flight = asyncio.Semaphore(FAN_OUT)

        async def each(transaction: PaymentStatusReport) -> tuple[PaymentStatusReport, Routed]:
            async with in_flight:
                return transaction, await self.payment_report(transaction, webhook_id, message)

        return list(await asyncio.gather(*(each(report.for_transaction(route.end_to_end_id, route.block))
                                           for route in routes)))

    async def payment_report(self, report: PaymentStatusReport, webhook_id: str, message: str) -> Routed:
        """Signal the process that waits for the payment, and keep the report in the store. One
        that no running process takes keeps the bank's ``message`` for finance to investigate."""
        # One payment's reports in turn (pain.002 and camt.054 often arrive together), so the
        # second finds the first's decision; across gateway processes a race costs one signal.
        lock = self._payment_locks.setdefault(report.end_to_end_id, asyncio.Lock())
        try:
            async with lock:
                report = await asyncio.to_thread(self._late_rejection_as_return, report)
                routed = await self._signal_payment(report)
                investigate = to_investigate(routed.outcome, report.state)
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
        if (report.state.decided and report.state is not PaymentState.RETURNED
                and await asyncio.to_thread(self.store.payment_decided, report.end_to_end_id)):
            # e.g. camt.054 after pain.002 ACSC: the process has its answer and keeps the first.
            # A return always goes on: it comes after the answer, and the money is back.
            return Routed(wf_id, "already decided")
        try:
            await self.client.get_workflow_handle(wf_id).signal(ExpenseReimbursementWorkflow.payment_status, report)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            if report.state is PaymentState.RETURNED:   # the report was paid and its run has ended
                return Routed(wf_id, await start_after_return(
                    self.client, report, wf_id, workflow_task_queue=self.settings.temporal.workflow_task_queue,
                    task_queues=self.task_queues, correlation_id=correlation.current.get() or ""))
            return Routed(wf_id, "closed")
        return Routed(wf_id, "delivered")

    def _late_rejection_as_return(self, report: PaymentStatusReport) -> PaymentStatusReport:
        """A rejection of a payment the bank had reported settled is a return: some banks report
        the creditor's bank sending the money back as a pain.002 RJCT after the ACSC."""
        if report.state is not PaymentState.REJECTED or not any(
                row.state == PaymentState.SETTLED for row in self.store.bank_reports(report.end_to_end_id)):
            return report
        return report.model_copy(update={"state": PaymentState.RETURNED})


def subject(report: PaymentStatusReport | GroupStatusReport) -> str:
    """What a report is about, for a log line."""
    if isinstance(report, PaymentStatusReport):
        return report.end_to_end_id
    return f"block {report.payment_info_id}" if report.payment_info_id else f"file {report.message_id}"


def to_investigate(outcome: str, state: PaymentState) -> bool:
    """A report about a payment no process knows, or a rejection or return no running process
    took (say, a return after the report was paid and closed): money may have moved without a
    process."""
    return outcome == "unmatched" or (state in (PaymentState.REJECTED, PaymentState.RETURNED)
                                      and outcome != "delivered")
