"""Reimbursement through payroll: the contract between the expense process and the payroll process.

An entity listed in config/payroll.toml ``reimburse_through_payroll`` pays approved expenses with
the employee's next net pay instead of a bank transfer of their own:

1. The expense process posts its journal as always (Dr expense, Cr employee payable), then hands
   the payable over as a ``PayrollReimbursement``: a one-off, non-taxable pay input in the payroll
   system, idempotent by ``reference``, recorded in the integration store.
2. The payroll provider pays it in the worker's next finalized run, as a REIMBURSEMENT row carrying
   the same ``reference``. The payroll journal debits the employee payable (clearing what the
   expense booked) and credits net pay, which the net-pay file pays.
3. Once the bank has taken that worker's net-pay transfer, the payroll process records the
   reference as paid and sends ``ReimbursementPaid`` to the expense workflow
   (``REIMBURSEMENT_PAID_SIGNAL``). The expense process confirms the report paid to the platform.

The signal is not the only way the word arrives: the expense workflow also reads the store's
record of the reference from time to time, so a lost signal delays the confirmation, never loses
it. One reference is paid once: a run taken back before its net pay left lets the reference go to
the provider's next version, and the first payment recorded is the one that stands.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from canonical.money import Money
from canonical.payment import PaymentState, PaymentStatusReport

REIMBURSEMENT_PAID_SIGNAL = "payroll_reimbursement_paid"


class PayrollRoute(BaseModel):
    """How an entity reimburses through payroll (from config/payroll.toml)."""

    model_config = ConfigDict(frozen=True)

    component: str                 # the non-taxable pay component the reimbursement becomes
    clears_account: str            # what the payroll journal debits for it: the expense's employee payable
    ledger: str = "erp"            # the ERP section the entity's payroll journal posts to


class PayrollReimbursement(BaseModel):
    """What the expense process asks payroll to pay: once per ``reference``."""

    model_config = ConfigDict(frozen=True)

    reference: str                 # from the expense workflow and its journal generation
    expense_workflow_id: str       # who is told when it is paid
    report_id: str
    entity: str
    worker_id: str                 # the employee id the payroll system knows the worker by
    component: str                 # the non-taxable pay component, e.g. EXPENSE_REIMB
    amount: Money                  # the employee payable the expense journal booked


class ReimbursementRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    reference: str


class ReimbursementPaid(BaseModel):
    """Payroll's word back: the reimbursement left the bank with this net-pay transfer."""

    model_config = ConfigDict(frozen=True)

    reference: str
    run: str                       # the payroll run version that paid it (PayrollRunRef.key)
    worker_id: str
    amount: Money                  # the reimbursement (the transfer carried the whole net pay)
    message_id: str                # the net-pay file
    end_to_end_id: str             # the worker's transfer in it
    paid_on: date

    def payment_report(self) -> PaymentStatusReport:
        """The payment as the expense platform is told of it: settled with the worker's net pay."""
        return PaymentStatusReport(
            message_id=self.message_id, end_to_end_id=self.end_to_end_id, state=PaymentState.SETTLED,
            amount=self.amount, booking_date=self.paid_on, bank_reference=self.end_to_end_id, source="payroll")
