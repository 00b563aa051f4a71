"""finsync's requisition-to-pay rules, read from config/procurement.toml (and the bank accounts
supplier payments leave from): what the workflow decides with, fixed for a run by a local activity."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from canonical.money import Money
from canonical.parties import CompanyBankAccount
from canonical.procurement import PaymentTerms


class MatchTolerance(BaseModel):
    """One legal entity's tolerances (Oracle keeps them per supplier site; finsync per entity). How
    they apply is workflows/procurement/matching.py's business."""

    model_config = ConfigDict(frozen=True)

    price_percent: Decimal = Field(default=Decimal(0), ge=0)   # of the ordered value of the quantity billed
    # The absolute price tolerance per unit, one per currency the entity buys in: an order in a
    # currency without one allows no price variance at all (finsync does not convert tolerances).
    price_per_unit: list[Money] = []
    over_billing_percent: Decimal = Field(default=Decimal(0), ge=0)   # quantity billed beyond the ordered

    @field_validator("price_per_unit")
    @classmethod
    def _one_per_currency(cls, amounts: list[Money]) -> list[Money]:
        currencies = [amount.currency for amount in amounts]
        if len(set(currencies)) != len(currencies):
            raise ValueError(f"one absolute price tolerance per currency (got {', '.join(currencies)})")
        if any(amount.amount < 0 for amount in amounts):
            raise ValueError("an absolute price tolerance cannot be negative")
        return amounts

    def per_unit(self, currency: str) -> Money:
        return next((amount for amount in self.price_per_unit if amount.currency == currency), Money.zero(currency))


class ProcurementRulebook(BaseModel):
    model_config = ConfigDict(frozen=True)

    tolerance: MatchTolerance = MatchTolerance()             # where an entity names none
    tolerances: dict[str, MatchTolerance] = {}               # by legal entity
    default_terms: PaymentTerms = PaymentTerms(net_days=30)  # when neither invoice nor supplier names terms
    take_discounts: bool = True                              # pay early to take an early-payment discount
    # The accounts supplier payments leave from: legal entity -> currency -> account.
    payment_accounts: dict[str, dict[str, CompanyBankAccount]] = {}

    def tolerance_for(self, entity_code: str) -> MatchTolerance:
        return self.tolerances.get(entity_code, self.tolerance)

    def payment_account(self, entity_code: str, currency: str) -> CompanyBankAccount | None:
        return self.payment_accounts.get(entity_code, {}).get(currency)
