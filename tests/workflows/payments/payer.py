"""A paying process, as procurement and payroll pay through the payment run: it queues its payments
(a local activity), then waits on its payment_status signal for the bank's word on each."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.payment_runs import PaymentQueueActivities, QueuedPayment
    from canonical import PaymentOrder, PaymentStatusReport
    from finsync.config import PaymentPurpose
    from workflows.common.payments import PaymentInbox


@workflow.defn
class Payer(PaymentInbox):
    @workflow.init
    def __init__(self, orders: list[PaymentOrder]) -> None:
        self._begin_payments()

    @workflow.run
    async def run(self, orders: list[PaymentOrder]) -> list[PaymentStatusReport]:
        for order in orders:
            await workflow.execute_local_activity_method(
                PaymentQueueActivities.enqueue_payment,
                QueuedPayment(order=order, owner_workflow_id=workflow.info().workflow_id,
                              purpose=PaymentPurpose.SUPPLIER_PAYMENTS),
                start_to_close_timeout=timedelta(seconds=10))
        e2es = [order.transfer.end_to_end_id for order in orders]
        await workflow.wait_condition(lambda: all(self._decided(e2e) for e2e in e2es))
        return [self.bank_reports[e2e] for e2e in e2es]
