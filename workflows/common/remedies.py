"""Which resolutions a parked process may be offered: by problem, and by where the money is.

Two rules, in one place, for every process:
- A problem code names the remedies that can fix it (a cost center is corrected, a period
  date is set, master data fixed at the source is retried).
- A remedy is offered only if it is safe in the money state the process is in. Once money has
  left the bank, nothing reverses the books as if it had not: ``cancel`` (reverse the journal,
  pay nothing) is offered only while no payment is with the bank or out of it.
"""

from __future__ import annotations

from enum import StrEnum

from canonical import ProblemCode
from workflows.common.exceptions import OpenException, Resolution, ResolutionAction, ResolutionRejected

RETRY, CORRECT_COST_CENTER, SET_POSTING_DATE, CANCEL, CLOSE_AS_PAID = (
    ResolutionAction.RETRY, ResolutionAction.CORRECT_COST_CENTER, ResolutionAction.SET_POSTING_DATE,
    ResolutionAction.CANCEL, ResolutionAction.CLOSE_AS_PAID)
APPROVE_OVER_BUDGET, ACCEPT_VARIANCE, REJECT_INVOICE = (
    ResolutionAction.APPROVE_OVER_BUDGET, ResolutionAction.ACCEPT_VARIANCE, ResolutionAction.REJECT_INVOICE)
_BEFORE_PAYMENT = frozenset({RETRY, CORRECT_COST_CENTER, SET_POSTING_DATE, CANCEL, APPROVE_OVER_BUDGET,
                             ACCEPT_VARIANCE, REJECT_INVOICE})


class MoneyState(StrEnum):
    NOTHING_BOOKED = "nothing booked"        # no journal in the ERP, no payment
    BOOKED = "booked, not paid"              # a journal stands; no payment is with the bank
    PAYMENT_WITH_BANK = "payment with the bank"   # sent, the bank has not decided: it may still pay
    WITH_PAYROLL = "with payroll"            # handed to payroll: the employee's next net pay may carry it
    PAID_OUT = "paid out"                    # the bank accepted or settled: the money has left


SAFE: dict[MoneyState, frozenset[ResolutionAction]] = {
    MoneyState.NOTHING_BOOKED: _BEFORE_PAYMENT,
    MoneyState.BOOKED: _BEFORE_PAYMENT,
    MoneyState.PAYMENT_WITH_BANK: frozenset({RETRY}),
    MoneyState.WITH_PAYROLL: frozenset({RETRY}),
    MoneyState.PAID_OUT: frozenset({RETRY, SET_POSTING_DATE, CLOSE_AS_PAID}),   # a date moves a booking, not money
}

WHY_UNSAFE: dict[MoneyState, str] = {
    MoneyState.PAYMENT_WITH_BANK: "a payment is with the bank and may still be executed",
    MoneyState.WITH_PAYROLL: "the reimbursement is with payroll and may still be paid with the employee's net pay",
    MoneyState.PAID_OUT: "the money has left the bank; the books cannot be reversed as if it had not "
                         "(recovering it from the payee is a new journal)",
}

_COST_CENTER = [RETRY, CORRECT_COST_CENTER, CANCEL]
_REMEDIES: dict[str, list[ResolutionAction]] = {
    ProblemCode.COST_CENTER_MISSING: _COST_CENTER,
    ProblemCode.COST_CENTER_UNKNOWN: _COST_CENTER,
    ProblemCode.COST_CENTER_INACTIVE: _COST_CENTER,
    ProblemCode.COST_CENTER_WRONG_ENTITY: _COST_CENTER,
    ProblemCode.PERIOD_CLOSED: [RETRY, SET_POSTING_DATE, CANCEL],
    ProblemCode.PERIOD_MISSING: [RETRY, SET_POSTING_DATE, CANCEL],
    ProblemCode.BANK_SILENT: [RETRY],
    ProblemCode.PAID_BUT_RECALLED: [RETRY, CLOSE_AS_PAID],
    ProblemCode.SETTLEMENT_AMOUNT_UNKNOWN: [RETRY],
    ProblemCode.PAYROLL_SILENT: [RETRY],
    ProblemCode.PAYROLL_ACCOUNT_MISMATCH: [RETRY, CANCEL],
    ProblemCode.FX_ACCOUNT_MISSING: [RETRY],
    # Requisition-to-pay. Supplier master data and the budget are fixed at the source (reactivate,
    # release the hold, correct the bank details, raise the budget) and checked again, or the
    # requisition stops.
    ProblemCode.SUPPLIER_INACTIVE: [RETRY, CANCEL],
    ProblemCode.SUPPLIER_ON_HOLD: [RETRY, CANCEL],
    ProblemCode.SUPPLIER_BANK_INVALID: [RETRY, CANCEL],
    ProblemCode.BUDGET_INSUFFICIENT: [APPROVE_OVER_BUDGET, RETRY, CANCEL],   # cancel: the owner rejects it
    # An invoice's problem is that invoice's, not the requisition's: cancel would stop the whole
    # purchase. Retry matches again (a receipt arrived, a credit note came, the invoice was voided
    # in the platform).
    ProblemCode.INVOICE_MISMATCH: [ACCEPT_VARIANCE, REJECT_INVOICE, RETRY],
    ProblemCode.INVOICE_DUPLICATE: [REJECT_INVOICE, RETRY],
    ProblemCode.ORDER_LINE_CLOSED: [REJECT_INVOICE, RETRY],   # billed against a closed line: void it, or reopen and retry
    ProblemCode.BILL_SETTLED: [RETRY],                        # the bill was paid or credited meanwhile
    # Payroll. The run is corrected at the provider (a new version arrives by itself) or read again;
    # a variance is accepted by a controller other than who finalized the run, with a reason.
    ProblemCode.PAYROLL_VARIANCE: [ACCEPT_VARIANCE, CANCEL],
    ProblemCode.JOURNAL_READ_BACK_DIFFERS: [RETRY],
    # The journal stands and net pay is out: keep the books as they are (the corrected version posts
    # the difference) or look again; reversing it is not offered, as the money-state rule says.
    ProblemCode.PAYROLL_REOPENED_AFTER_PAYMENT: [CANCEL, CLOSE_AS_PAID, RETRY],
}
_DEFAULT = [RETRY, CANCEL]   # fix it at the source and retry, or stop


def remedies(code: str, money: MoneyState) -> list[ResolutionAction]:
    """The actions to offer for ``code`` now, in a stable order."""
    return [action for action in _REMEDIES.get(code, _DEFAULT) if action in SAFE[money]]


def unsafe_reason(action: ResolutionAction, money: MoneyState) -> str | None:
    """Why ``action`` must not run in this money state; None if it may."""
    if action in SAFE[money]:
        return None
    return f"{action.value} is not possible now: {WHY_UNSAFE.get(money, money.value)}"


def check_resolution(open_exception: OpenException | None, resolution: Resolution, money: MoneyState) -> None:
    """The ``resolve_exception`` validator: raise ResolutionRejected (nothing is written) unless
    the action is offered for the open exception, safe now, and has the data it needs."""
    if open_exception is None:
        raise ResolutionRejected("nothing to resolve: this process has no open exception"
                                 + (f" for item {resolution.item}" if resolution.item else ""))
    why = unsafe_reason(resolution.action, money)
    if why:
        raise ResolutionRejected(why)
    if resolution.action not in open_exception.actions:
        allowed = ", ".join(a.value for a in open_exception.actions)
        raise ResolutionRejected(f"{resolution.action.value} does not apply to {open_exception.problem.code}; "
                                 f"allowed: {allowed}")
    if not resolution.resolved_by.strip():
        raise ResolutionRejected("say who resolved it (resolved_by)")
    missing = resolution.missing()
    if missing:
        raise ResolutionRejected(missing)
