"""Master data: legal entities, employees, their bank accounts, cost centers and GL accounts."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from canonical.money import currency_exponent

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_BIC = re.compile(r"^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$")


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 check: shape and the mod-97 checksum."""
    iban = iban.replace(" ", "").upper()
    if not _IBAN.match(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


class LegalEntity(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str                    # finsync's entity code, e.g. "US01"
    name: str
    functional_currency: str
    country: str                 # ISO 3166 alpha-2
    erp_id: str | None = None    # the ERP's own key (NetSuite subsidiary id, SAP company code)

    @field_validator("functional_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        currency_exponent(value.upper())
        return value.upper()


class BankAccount(BaseModel):
    """An account identified by IBAN, or by a domestic account number where there is no IBAN (US)."""

    model_config = ConfigDict(frozen=True)

    holder_name: str
    bic: str
    iban: str | None = None
    account_number: str | None = None

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.replace(" ", "").upper()
        if not iban_is_valid(value):
            raise ValueError(f"{value} is not a valid IBAN")
        return value

    @model_validator(mode="after")
    def _identified(self) -> BankAccount:
        if not (self.iban or self.account_number):
            raise ValueError("a bank account needs an IBAN or an account number")
        return self

    @property
    def account_id(self) -> str:
        return self.iban or self.account_number or ""

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str) -> str:
        value = value.upper()
        if not _BIC.match(value):
            raise ValueError(f"{value} is not a valid BIC")
        return value


class Employee(BaseModel):
    model_config = ConfigDict(frozen=True)

    employee_id: str
    name: str
    email: str | None = None
    entity_code: str
    cost_center: str | None = None
    active: bool = True
    bank_account: BankAccount | None = None
    erp_id: str | None = None


class CostCenter(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    entity_code: str | None = None
    active: bool = True
    erp_id: str | None = None


class GLAccount(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str
    name: str
    active: bool = True
    erp_id: str | None = None


class CompanyBankAccount(BankAccount):
    """An account the company pays from: its currency, and the GL account that mirrors it in the ERP."""

    currency: str
    gl_account: str

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        currency_exponent(value.upper())
        return value.upper()
