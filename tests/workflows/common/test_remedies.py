"""Remedies offered for requisition-to-pay problems, where the money is."""

from __future__ import annotations

from canonical import ProblemCode
from workflows.common.exceptions import ResolutionAction
from workflows.common.remedies import MoneyState, remedies

RETRY, CANCEL = ResolutionAction.RETRY, ResolutionAction.CANCEL
APPROVE_OVER_BUDGET, ACCEPT_VARIANCE, REJECT_INVOICE = (
    ResolutionAction.APPROVE_OVER_BUDGET, ResolutionAction.ACCEPT_VARIANCE, ResolutionAction.REJECT_INVOICE)


def test_supplier_and_budget_problems_are_fixed_at_the_source_and_retried_or_the_requisition_stops():
    for code in [ProblemCode.SUPPLIER_INACTIVE, ProblemCode.SUPPLIER_ON_HOLD, ProblemCode.SUPPLIER_BANK_INVALID]:
        assert remedies(code, MoneyState.NOTHING_BOOKED) == [RETRY, CANCEL], code
    assert remedies(ProblemCode.BUDGET_INSUFFICIENT, MoneyState.NOTHING_BOOKED) == [APPROVE_OVER_BUDGET, RETRY, CANCEL]


def test_an_invoice_on_hold_never_offers_cancel_which_would_stop_the_whole_purchase():
    for code in [ProblemCode.INVOICE_MISMATCH, ProblemCode.INVOICE_DUPLICATE]:
        for money in MoneyState:
            assert CANCEL not in remedies(code, money), (code, money)
    assert remedies(ProblemCode.INVOICE_MISMATCH, MoneyState.BOOKED) == [ACCEPT_VARIANCE, REJECT_INVOICE, RETRY]
    # Once the invoice's payment is with the bank or out, neither accepting nor rejecting it is safe.
    assert remedies(ProblemCode.INVOICE_MISMATCH, MoneyState.PAYMENT_WITH_BANK) == [RETRY]


def test_once_a_payment_is_with_the_bank_a_supplier_problem_can_only_be_retried():
    assert remedies(ProblemCode.SUPPLIER_BANK_INVALID, MoneyState.PAYMENT_WITH_BANK) == [RETRY]
