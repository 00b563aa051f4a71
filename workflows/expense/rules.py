"""Expense policy and account mapping: the rulebook, and the pure checks run in the workflow.

Loaded from versioned TOML files by a local activity (files are I/O); evaluated here, in
workflow code, because evaluating rules is pure and must not cost an activity round-trip.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from canonical import BankAccount, CompanyBankAccount, ExpenseReport, Money


class ExpensePolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    limits: dict[str, dict[str, Decimal]] = {}        # category -> currency -> per-line limit
    receipt_required_from: dict[str, Decimal] = {}    # currency -> threshold
    duplicate_detection: bool = True


class EntityAccounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    employee_payable: str
    reclaimable_tax: str
    fx_rounding: str
    fx_gain_loss: str | None = None   # realized exchange differences on settlement
    categories: dict[str, str]


class AccountMapping(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    entities: dict[str, EntityAccounts]


class ExpenseRulebook(BaseModel):
    model_config = ConfigDict(frozen=True)

    policy: ExpensePolicy
    accounts: AccountMapping
    # Entity code -> the account payments leave from. Kept for runs that started before accounts
    # were configured per currency (their recorded rulebooks have only this); new runs read
    # company_accounts: entity code -> currency -> account.
    payout_accounts: dict[str, BankAccount]
    company_accounts: dict[str, dict[str, CompanyBankAccount]] = {}
    pay_cross_currency: bool = True   # no account in the payment's currency: pay from the functional one

    def payout_account(self, entity: str, currency: str, functional: str) -> CompanyBankAccount | None:
        """The account a payment in ``currency`` leaves from: one in that currency, else (if
        allowed) the entity's functional-currency account, the bank converting."""
        accounts = self.company_accounts.get(entity, {})
        return accounts.get(currency) or (accounts.get(functional) if self.pay_cross_currency else None)


class DuplicateHit(BaseModel):
    """A line of this report that matches a line already seen on another report."""

    model_config = ConfigDict(frozen=True)

    line_id: str
    other_report_id: str


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
