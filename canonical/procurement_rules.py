"""finsync's requisition-to-pay rules, read from config/procurement.toml (and the bank accounts
supplier payments leave from): what the workflow decides with, fixed for a run by a local activity."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from canonical.parties import CompanyBankAccount
from canonical.procurement import PaymentTerms


class MatchTolerance(BaseModel):
    """How far an invoice may stray from the order and the receipts before it goes on AP hold.

    A unit price passes only within both the percentage of the order's price and the absolute
    amount per unit (in the document's currency): the percentage guards cheap items, the amount
    expensive ones. Quantities: what is invoiced on an order line, over all its invoices, may not
    exceed what was received, nor the ordered quantity plus ``over_billing_percent``."""

    model_config = ConfigDict(frozen=True)

    price_percent: Decimal = Decimal(0)
    price_amount: Decimal = Decimal(0)
    over_billing_percent: Decimal = Decimal(0)


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
