"""The payment-status signal every paying process answers, whatever the bank sent.

The gateway turns the bank's pain.002 and camt.054 (per transaction, or a whole file rejected)
into one ``PaymentStatusReport`` per EndToEndId and signals the process that owns the payment
(routed by EndToEndId, PmtInfId or MsgId). Reports may arrive twice, late or out of order; the
inbox keeps, per EndToEndId, the most decided word.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from canonical import PaymentState, PaymentStatusReport

SIGNAL_PAYMENT_STATUS = "payment_status"
MONEY_LEFT = {PaymentState.ACCEPTED, PaymentState.SETTLED}


class PaymentInbox:
    """Mixed into a process workflow beside FinanceProcess; call ``_begin_payments`` in its init."""

    def _begin_payments(self) -> None:
        self.bank_reports: dict[str, PaymentStatusReport] = {}

    @workflow.signal(name=SIGNAL_PAYMENT_STATUS)
    def payment_status(self, report: PaymentStatusReport) -> None:
        """A decided state is overwritten only by a return of a settled payment, and an acceptance
        never falls back to PENDING (the money is on its way)."""
        current = self.bank_reports.get(report.end_to_end_id)
        returned = report.state is PaymentState.RETURNED and current is not None and current.state is PaymentState.SETTLED
        if returned or current is None or not (current.state.decided or current.state in MONEY_LEFT
                                               and report.state not in MONEY_LEFT and not report.state.decided):
            self.bank_reports[report.end_to_end_id] = report

    def _decided(self, end_to_end_id: str) -> bool:
        report = self.bank_reports.get(end_to_end_id)
        return report is not None and report.state.decided
