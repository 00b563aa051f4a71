"""When to pay a supplier's invoice, and how much (finance-practice.md §2). Pure: today is an argument.

The terms are the invoice's, else the supplier's, else the entity's default (net 30). The due
date and the discount date count from the invoice date. The early-payment discount is the terms'
percentage of the invoice total, rounded to the currency once (as ERPNext takes it on the grand
total), never summed from rounded per-line discounts. It is taken only when the entity's policy
says so; then payment is scheduled on the last day of the discount (as late as possible without
losing it, as SAP's payment run does), else on the due date, and never in the past.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from canonical import Money
from canonical.procurement import Invoice, PaymentTerms


class PaymentPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_id: str
    terms: PaymentTerms
    total: Money
    due_date: date
    discount_date: date | None    # the last day the terms allow the discount; None without one
    discount: Money               # what the terms take off when paid by the discount date (zero without one)
    take_discounts: bool          # the entity's policy

    def discount_on(self, day: date) -> Money:
        """The discount taken when paying on ``day``: all of it by the discount date, if the policy takes it."""
        if self.take_discounts and self.discount_date is not None and day <= self.discount_date:
            return self.discount
        return Money.zero(self.total.currency)

    def amount_on(self, day: date) -> Money:
        """What to pay on ``day``."""
        return self.total - self.discount_on(day)

    def pay_on(self, today: date) -> date:
        """The day to schedule the payment: the discount date while the discount is taken and still
        reachable, else the due date; today if that has passed."""
        if self.take_discounts and self.discount_date is not None and self.discount_date >= today:
            return self.discount_date
        return max(self.due_date, today)


def terms_for(invoice: Invoice, supplier_terms: PaymentTerms | None, default: PaymentTerms) -> PaymentTerms:
    return invoice.payment_terms or supplier_terms or default


def payment_plan(invoice: Invoice, *, supplier_terms: PaymentTerms | None, default: PaymentTerms,
                 take_discounts: bool) -> PaymentPlan:
    terms = terms_for(invoice, supplier_terms, default)
    total = invoice.total
    discount = Money(amount=total.amount * terms.discount_percent / 100, currency=total.currency)
    return PaymentPlan(invoice_id=invoice.invoice_id, terms=terms, total=total,
                       due_date=terms.due_date(invoice.invoice_date), discount_date=terms.discount_date(invoice.invoice_date),
                       discount=discount, take_discounts=take_discounts)
