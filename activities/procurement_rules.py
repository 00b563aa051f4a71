"""The requisition-to-pay rulebook, loaded by a local activity so each run decides with the rules
it started with (a workflow reads no file)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from temporalio import activity

from canonical import CompanyBankAccount
from canonical.procurement_rules import ProcurementRulebook
from finsync.config import EntityAccounts


def load_procurement_rulebook(rules_file: Path,
                              payment_accounts: EntityAccounts) -> ProcurementRulebook:
    with open(rules_file, "rb") as fh:
        rules = tomllib.load(fh)
    accounts = {entity: {currency: CompanyBankAccount(holder_name=acct.name, bic=acct.bic, iban=acct.iban,
                                                      account_number=acct.account_number, currency=currency,
                                                      gl_account=acct.gl_account)
                         for currency, acct in by_currency.items()}
                for entity, by_currency in payment_accounts.items()}
    return ProcurementRulebook.model_validate(rules | {"payment_accounts": accounts})


class ProcurementRules:
    def __init__(self, rules_file: Path, payment_accounts: EntityAccounts) -> None:
        self.rules_file = rules_file
        self.payment_accounts = payment_accounts

    @activity.defn(name="procurement.load_rulebook")
    async def load_rulebook(self) -> ProcurementRulebook:
        return load_procurement_rulebook(self.rules_file, self.payment_accounts)
