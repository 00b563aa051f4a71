"""Reference data read from the ERP once per document: what coding needs to be validated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from canonical.parties import CostCenter, Employee, GLAccount, LegalEntity


class FxRate(BaseModel):
    model_config = ConfigDict(frozen=True)

    from_currency: str
    to_currency: str
    rate: Decimal          # units of to_currency for one unit of from_currency
    rate_date: date        # the date the rate is effective from
    source: str = ""


class AccountingPeriod(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str              # "Mar 2026"
    start: date
    end: date
    closed: bool
    erp_id: str | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class CodingRequest(BaseModel):
    """Everything one document needs looked up, asked for in one go."""

    model_config = ConfigDict(frozen=True)

    entity_code: str | None        # None: take the employee's entity
    employee_id: str
    cost_centers: list[str]
    accounts: list[str]
    fx_pairs: list[tuple[str, date]]   # (transaction currency, transaction date)
    posting_date: date


class CodingContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    entity: LegalEntity
    employee: Employee
    cost_centers: dict[str, CostCenter]   # by code; a code the ERP does not know is absent
    accounts: dict[str, GLAccount]        # by number
    period: AccountingPeriod | None       # the period holding the posting date
    fx_rates: list[FxRate]

    def rate(self, from_currency: str, on: date) -> FxRate | None:
        """The latest rate effective on or before ``on``."""
        candidates = [
            r for r in self.fx_rates
            if r.from_currency == from_currency and r.to_currency == self.entity.functional_currency
            and r.rate_date <= on
        ]
        return max(candidates, key=lambda r: r.rate_date, default=None)
