"""The expense rulebook: policy, account mapping and payout accounts, as one versioned value.

A local activity loads it from the rule files (files are I/O) and hands it to the workflow,
which evaluates it in pure code (workflows/expense/rules.py).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from canonical.parties import BankAccount, CompanyBankAccount
from canonical.payroll_reimbursement import PayrollRoute


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
    # Entity code -> how it reimburses through payroll (config/payroll.toml): with the employee's
    # next net pay instead of a bank transfer of its own. Rulebooks recorded before it have none.
    through_payroll: dict[str, PayrollRoute] = {}

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
