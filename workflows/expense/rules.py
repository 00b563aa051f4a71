"""The expense policy checks, run in the workflow against the rulebook (canonical/expense_rules.py).

A local activity loads the rulebook from versioned TOML files (files are I/O); it is evaluated
here, in workflow code, because evaluating rules is pure and must not cost an activity round-trip.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from canonical import ExpenseReport, Money
from canonical.expense_rules import DuplicateHit, ExpensePolicy


class PolicyBreach(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_id: str
    rule: str          # LIMIT, RECEIPT, DUPLICATE
    message: str       # addressed to the employee


def check_policy(report: ExpenseReport, policy: ExpensePolicy, duplicates: list[DuplicateHit]) -> list[PolicyBreach]:
    breaches: list[PolicyBreach] = []
    for line in report.lines:
        amount: Money = line.amount
        limit = policy.limits.get(line.category, {}).get(amount.currency)
        if limit is not None and amount.amount > limit:
            breaches.append(PolicyBreach(
                line_id=line.line_id, rule="LIMIT",
                message=f"{line.category.replace('_', ' ').lower()} on {line.transaction_date} at {line.merchant} "
                        f"is {amount}, above the limit of {amount.currency} {limit}"))
        threshold = policy.receipt_required_from.get(amount.currency)
        if threshold is not None and amount.amount >= threshold and not line.receipt_present:
            breaches.append(PolicyBreach(
                line_id=line.line_id, rule="RECEIPT",
                message=f"{line.merchant} on {line.transaction_date} ({amount}) needs a receipt "
                        f"(required from {amount.currency} {threshold})"))
    if policy.duplicate_detection:
        for hit in duplicates:
            claimed = next((ln for ln in report.lines if ln.line_id == hit.line_id), None)
            what = f"{claimed.merchant} on {claimed.transaction_date} ({claimed.amount})" if claimed else hit.line_id
            breaches.append(PolicyBreach(line_id=hit.line_id, rule="DUPLICATE",
                                         message=f"{what} was already claimed on report {hit.other_report_id}"))
    return breaches


def send_back_reason(breaches: list[PolicyBreach]) -> str:
    """One comment for the employee, listing every breach so they can fix all at once."""
    items = "; ".join(b.message for b in breaches)
    return f"Returned by finance policy check: {items}."[:1000]
