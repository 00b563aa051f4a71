"""The finsync worker: every workflow, and each vendor's activities on that vendor's task queue.

Run it as ``finsync worker`` (or ``python worker.py``). Scale out by running more of these
against the same Temporal cluster; each vendor queue's ``max_requests_per_second`` is enforced
by the server across all of them, so a vendor's rate limit holds however many workers run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities.bank import BankActivities
from activities.bookkeeping import BookkeepingActivities
from activities.erp import ErpActivities
from activities.expense_platform import ExpensePlatformActivities
from activities.payment_runs import PaymentOwners, PaymentQueueActivities, PaymentRunActivities
from activities.payroll import PayrollIngestActivities, PayrollLedgerActivities, PayrollRules
from activities.payroll_pay import PayrollBankActivities, PayrollPayeeActivities
from activities.payroll_reimbursement import PayrollReimbursementActivities, ReimbursementOwners
from activities.payroll_sweep import PayrollSweepActivities
from activities.procurement_erp import ProcurementErpActivities
from activities.procurement_platform import ProcurementPlatformActivities
from activities.procurement_poll import ProcurementPollActivities, RequisitionRead
from activities.procurement_rules import ProcurementRules
from activities.reconcile import ReconcileActivities, Reconciler
from activities.sweep import HandOverOutcome, ProcessTrigger, SweepActivities, SweepWatermarks
from canonical import ExpenseReport, ReportStatusChanged
from canonical.payroll import PayrollRunEvent
from canonical.payroll_reimbursement import REIMBURSEMENT_PAID_SIGNAL
from canonical.procurement import ProcurementChange
from connectors import registry
from finsync import correlation, telemetry
from finsync.codec import EncryptionCodec
from finsync.config import PaymentPurpose, Settings, VendorSettings
from finsync.config import settings as load_settings
from finsync.store import open_store
from finsync.store.sealing import FieldSealer
from finsync.temporal import connect
from workflows.common.payments import SIGNAL_PAYMENT_STATUS
from workflows.expense.model import workflow_id
from workflows.expense.start import StartOutcome, expense_queues, start_or_signal
from workflows.expense.workflow import ExpenseReimbursementWorkflow
from workflows.payments.run import PaymentRunWorkflow
from workflows.payroll import model as payroll_model
from workflows.payroll import start as payroll_start
from workflows.payroll.entity import PayrollEntityWorkflow
from workflows.payroll.run import PayrollRunWorkflow
from workflows.payroll.sweep import PayrollSweepWorkflow
from workflows.procurement import model as procurement_model
from workflows.procurement import start as procurement_start
from workflows.procurement.poll import ProcurementPollWorkflow
from workflows.procurement.workflow import RequisitionToPayWorkflow
from workflows.reconcile.workflow import DailyReconciliationWorkflow
from workflows.sweep.workflow import ExpenseSweepWorkflow

log = logging.getLogger("finsync.worker")

WORKFLOWS = [ExpenseReimbursementWorkflow, ExpenseSweepWorkflow, DailyReconciliationWorkflow, RequisitionToPayWorkflow,
             ProcurementPollWorkflow, PaymentRunWorkflow, PayrollRunWorkflow, PayrollEntityWorkflow, PayrollSweepWorkflow]


def _vendor_worker(client: Client, vendor: VendorSettings, activities: list) -> Worker:
    return Worker(client, task_queue=vendor.task_queue, activities=activities,
                  max_concurrent_activities=vendor.max_concurrent_activities,
                  max_task_queue_activities_per_second=vendor.max_requests_per_second)


def expense_trigger(client: Client, settings: Settings) -> ProcessTrigger[ReportStatusChanged, ExpenseReport]:
    """The expense process's start, for the sweep: the signal-with-start the gateway uses too."""
    task_queues = expense_queues(settings)

    async def start_or_signal_report(change: ReportStatusChanged, first_read: ExpenseReport | None) -> StartOutcome:
        return await start_or_signal(client, change, workflow_task_queue=settings.temporal.workflow_task_queue,
                                     task_queues=task_queues, report=first_read)
    return start_or_signal_report


def expense_run_of(change: ReportStatusChanged) -> str:
    return workflow_id(change.source_system, change.report_id)


def procurement_queues(settings: Settings) -> procurement_model.ProcurementQueues:
    return procurement_model.ProcurementQueues(procurement=settings.procurement.task_queue, erp=settings.erp.task_queue,
                                               bank=settings.bank.task_queue)


def procurement_trigger(client: Client, settings: Settings) -> ProcessTrigger[ProcurementChange, RequisitionRead]:
    """The requisition-to-pay process's start, for the poller: the one the gateway uses too."""
    queues = procurement_queues(settings)

    async def start_or_signal_requisition(change: ProcurementChange, first_read: RequisitionRead | None) -> HandOverOutcome:
        return await procurement_start.start_or_signal(
            client, change, workflow_task_queue=settings.temporal.workflow_task_queue, task_queues=queues,
            first_read=first_read)
    return start_or_signal_requisition


def procurement_run_of(change: ProcurementChange) -> str:
    return procurement_model.workflow_id(change.source_system, change.requisition_id)


def payroll_trigger(client: Client, settings: Settings) -> ProcessTrigger[PayrollRunEvent, None]:
    """The payroll run's start, for the sweep: the hand-over the gateway uses too."""
    queues = payroll_start.payroll_queues(settings)

    async def hand_over(change: PayrollRunEvent, first_read: None) -> HandOverOutcome:
        return await payroll_start.hand_over(client, change, workflow_task_queue=settings.temporal.workflow_task_queue,
                                             queues=queues)

    return hand_over


def payroll_run_of(event: PayrollRunEvent) -> str:
    return payroll_model.workflow_id(event.run)


def _tell_by_signal(client: Client, signal: str) -> Callable[[str, Any], Coroutine[Any, Any, bool]]:
    """Send ``signal`` with one argument to a workflow by id; False if it has ended."""
    async def tell(workflow_id: str, message: Any) -> bool:
        try:
            await client.get_workflow_handle(workflow_id).signal(signal, message)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return False
        return True
    return tell


def payment_owners(client: Client) -> PaymentOwners:
    """The payment run's word to the process that queued a payment: its payment_status signal."""
    return _tell_by_signal(client, SIGNAL_PAYMENT_STATUS)


def reimbursement_owners(client: Client) -> ReimbursementOwners:
    """The payroll process's word to the expense report it paid with net pay: its signal."""
    return _tell_by_signal(client, REIMBURSEMENT_PAID_SIGNAL)


async def run_worker(settings: Settings, client: Client | None = None, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set. The client must come from ``finsync.temporal.connect`` (or carry
    its converter and interceptors): workers inherit the client's interceptors, and its runtime,
    so [telemetry] prometheus_bind applies only to a client made here."""
    telemetry.install_tracing(settings.telemetry, "worker")
    client = client or await connect(settings.temporal, runtime=telemetry.worker_runtime(settings.telemetry))
    store = open_store(settings.database_url)
    if settings.temporal.codec.enabled:   # payroll payees sealed at rest with the keys history is encrypted with
        store.sealer = FieldSealer(EncryptionCodec.from_settings(settings.temporal.codec))
    async with AsyncExitStack() as stack:
        platform = registry.build(settings.expense)
        erp = registry.build(settings.erp)
        bank = registry.build(settings.bank)
        procurement = registry.build(settings.procurement)
        sap = registry.build(settings.s4hana)
        payroll = registry.build(settings.payroll_provider)
        for connector in (platform, erp, bank, procurement, sap, payroll):
            stack.push_async_callback(connector.aclose)
        expense_acts = ExpensePlatformActivities(platform)
        erp_acts = ErpActivities(erp)
        procurement_erp = ProcurementErpActivities(erp)
        bank_acts = BankActivities(bank, store)
        books = BookkeepingActivities(store, settings)
        sweep = SweepActivities(platform, expense_trigger(client, settings), expense_run_of,
                                overlap=timedelta(seconds=settings.sweep.overlap_seconds))
        watermarks = SweepWatermarks(store)
        reconcile = ReconcileActivities(Reconciler(erp, bank, store, settings))
        payment_queue = PaymentQueueActivities(store)
        payment_runs = PaymentRunActivities(bank, store, payment_owners(client))
        procure = ProcurementPlatformActivities(procurement)
        poll = ProcurementPollActivities(procurement, procurement_trigger(client, settings), procurement_run_of,
                                         overlap=timedelta(seconds=settings.procurement.poll_overlap_seconds))
        payroll_rules = PayrollRules(settings.rules.payroll)
        payroll_accounts = settings.bank.accounts_for(PaymentPurpose.PAYROLL)
        payroll_on_erp = PayrollLedgerActivities(erp, store, settings.rules.payroll, payroll_accounts)
        payroll_on_sap = PayrollLedgerActivities(sap, store, settings.rules.payroll, payroll_accounts)
        payroll_ingest = PayrollIngestActivities(payroll, store, settings.payroll_provider.results_page_size)
        payroll_payees = PayrollPayeeActivities(payroll, store)
        reimbursements = PayrollReimbursementActivities(payroll, store, reimbursement_owners(client))
        payroll_bank = PayrollBankActivities(bank, store, payroll_accounts,
                                             settings.data_dir / "spool")
        payroll_sweep = PayrollSweepActivities(payroll, payroll_trigger(client, settings), payroll_run_of,
                                               overlap=timedelta(seconds=settings.payroll_provider.sweep_overlap_seconds))
        procurement_rules = ProcurementRules(settings.rules.procurement,
                                             settings.bank.accounts_for(PaymentPurpose.SUPPLIER_PAYMENTS))
        workers = [
            Worker(client, task_queue=settings.temporal.workflow_task_queue, workflows=WORKFLOWS,
                   activities=[*books.all(), watermarks.sweep_watermark, watermarks.set_sweep_watermark,
                               procurement_rules.load_rulebook, payroll_rules.load_rulebook,
                               payment_queue.enqueue_payment,
                               payment_runs.collect_due, payment_runs.withdraw_run_file]),
            _vendor_worker(client, settings.expense, [
                expense_acts.fetch_report, expense_acts.pass_validation, expense_acts.send_back,
                expense_acts.claim_for_posting, expense_acts.confirm_posting, expense_acts.confirm_payment,
                sweep.sweep_reports]),
            _vendor_worker(client, settings.erp, [erp_acts.load_coding_context, erp_acts.post_journal,
                                                  reconcile.reconcile_day, procurement_erp.check_budget,
                                                  procurement_erp.supplier_known, procurement_erp.create_commitment,
                                                  procurement_erp.release_commitment, procurement_erp.post_bill,
                                                  procurement_erp.reverse_bill, procurement_erp.pay_bill,
                                                  payroll_on_erp.post_journal, payroll_on_erp.read_back,
                                                  payroll_on_erp.reverse_journal, payroll_on_erp.book_net_pay]),
            _vendor_worker(client, settings.bank, [bank_acts.send_payment, bank_acts.payment_status,
                                                   payment_runs.send_run_file, payroll_bank.send_net_pay,
                                                   payroll_bank.file_status, payroll_bank.take_rejections,
                                                   payroll_bank.reconcile_statement]),
            _vendor_worker(client, settings.procurement, [
                procure.fetch_requisition, procure.check_supplier, procure.order_for_requisition, procure.issue_order,
                procure.cancel_order, procure.close_order, procure.fetch_receipts, procure.void_invoice,
                procure.record_invoice_payment, poll.poll_changes]),
            _vendor_worker(client, settings.s4hana, [payroll_on_sap.post_journal, payroll_on_sap.read_back,
                                                     payroll_on_sap.reverse_journal, payroll_on_sap.book_net_pay]),
            _vendor_worker(client, settings.payroll_provider, [
                payroll_ingest.ingest_results, payroll_ingest.control_totals, payroll_ingest.previous_totals,
                payroll_sweep.sweep_runs, payroll_payees.read_payees, payroll_payees.read_payee,
                reimbursements.hand_to_payroll, reimbursements.reimbursement_paid, reimbursements.settle_reimbursements]),
        ]
        for worker in workers:
            await stack.enter_async_context(worker)
        log.info("worker running on %s", ", ".join(w.task_queue for w in workers))
        await (stop or asyncio.Event()).wait()


def main() -> None:
    correlation.install_logging()
    asyncio.run(run_worker(load_settings()))


if __name__ == "__main__":
    main()
