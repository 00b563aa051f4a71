"""The payroll rulebook: where each pay component posts, which ledger each entity posts to, and
what variance against the previous period needs a controller's approval (config/payroll.toml)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from canonical.payroll import PayComponentKind
from canonical.payroll_reimbursement import PayrollRoute


class ComponentPosting(BaseModel):
    """Where one pay component posts.

    - EARNING: debit ``account`` (expense) by cost center.
    - EMPLOYEE_DEDUCTION: credit ``account`` (the withholding's liability).
    - EMPLOYER_CONTRIBUTION: debit ``account`` (expense) by cost center, credit ``liability_account``.
    - REIMBURSEMENT: debit ``account`` (the employee payable the approved expense was booked to).
    - NET_PAY: credit ``account`` (net pay payable, cleared when the bank pays it).
    """

    model_config = ConfigDict(frozen=True)

    code: str
    kind: PayComponentKind
    account: str
    liability_account: str | None = None
    name: str = ""

    @model_validator(mode="after")
    def _liability_for_employer_costs(self) -> ComponentPosting:
        if (self.kind is PayComponentKind.EMPLOYER_CONTRIBUTION) != (self.liability_account is not None):
            raise ValueError(f"pay component {self.code}: an employer contribution, and only it, names a "
                             "liability_account")
        return self


class VarianceThreshold(BaseModel):
    """A run whose net pay moves against the previous period's by more than BOTH limits parks for
    approval (PrismHR's practice: a percentage, with an amount so small entities are not flagged
    for pennies)."""

    model_config = ConfigDict(frozen=True)

    percent: Decimal = Field(Decimal(10), ge=0)
    amount: Decimal = Field(Decimal(0), ge=0)      # in the entity's currency


class PayrollRulebook(BaseModel):
    model_config = ConfigDict(frozen=True)

    components: list[ComponentPosting]
    # Legal entity code -> the configuration section of the ERP it posts to ("erp", "s4hana").
    ledgers: dict[str, str]
    variance: VarianceThreshold = VarianceThreshold()
    variance_by_entity: dict[str, VarianceThreshold] = {}
    # The net-pay file goes to the bank this many days before the payment date (SEPA: D-1), on the
    # payment date's requested execution date; a run finalized later pays at once.
    pay_days_before: int = Field(1, ge=0)
    # Legal entities that reimburse approved expenses through payroll instead of the bank.
    reimburse_through_payroll: list[str] = []
    reimbursement_component: str = "EXPENSE_REIMB"

    @model_validator(mode="after")
    def _one_posting_per_component(self) -> PayrollRulebook:
        codes = [component.code for component in self.components]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"pay components posted twice in the payroll rules: {', '.join(repeated)}")
        return self

    @model_validator(mode="after")
    def _reimbursement_component_posted(self) -> PayrollRulebook:
        posting = self.posting(self.reimbursement_component)
        if self.reimburse_through_payroll and (posting is None or posting.kind is not PayComponentKind.REIMBURSEMENT):
            raise ValueError(f"reimburse_through_payroll needs reimbursement_component {self.reimbursement_component!r} "
                             "among the components, of kind REIMBURSEMENT")
        return self

    def reimbursement_routes(self) -> dict[str, PayrollRoute]:
        """Entity -> how it reimburses approved expenses through payroll (the expense rulebook's)."""
        posting = self.posting(self.reimbursement_component)
        if posting is None:
            return {}
        return {entity: PayrollRoute(component=posting.code, clears_account=posting.account,
                                     ledger=self.ledgers.get(entity, ""))
                for entity in self.reimburse_through_payroll}

    def posting(self, component: str) -> ComponentPosting | None:
        return next((posting for posting in self.components if posting.code == component), None)

    def variance_for(self, entity: str) -> VarianceThreshold:
        return self.variance_by_entity.get(entity, self.variance)

    def ledger_for(self, entity: str) -> str | None:
        return self.ledgers.get(entity)
