"""A payroll run as finsync sees it: the run, its result rows, and the totals that must tie.

Rows are many (a component per employee: hundreds of thousands for a large company), so they are
plain frozen dataclasses built by connectors and summed by activities; only run references and
per-entity totals, which are few, are pydantic models that travel through workflow history.

The arithmetic every payroll obeys, per employee and so per entity and currency:

    net pay = earnings - employee deductions + reimbursements

Employer contributions are paid on top of gross: the employer's cost, not the employee's pay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from canonical.money import Money


class PayComponentKind(StrEnum):
    EARNING = "EARNING"                              # gross pay: salary, bonus, overtime
    EMPLOYEE_DEDUCTION = "EMPLOYEE_DEDUCTION"        # withheld from gross: wage tax, social security, benefits
    EMPLOYER_CONTRIBUTION = "EMPLOYER_CONTRIBUTION"  # the employer's own cost on top of gross
    REIMBURSEMENT = "REIMBURSEMENT"                  # non-taxable: paid with net pay, outside gross
    NET_PAY = "NET_PAY"                              # what the bank pays the employee


class PayrollRunState(StrEnum):
    FINALIZED = "FINALIZED"
    REOPENED = "REOPENED"      # the provider took the run back for correction: its version will change
    CANCELLED = "CANCELLED"


class PayrollRunRef(BaseModel):
    """One version of one payroll run at the provider: ingested once, keyed by ``key``."""

    model_config = ConfigDict(frozen=True)

    provider: str              # e.g. "workday"
    run_id: str
    version: int = Field(ge=1)
    pay_group: str             # e.g. "MONTHLY-ALL"
    period_start: date
    period_end: date
    payment_date: date         # when net pay is due in the employees' accounts
    finalized_by: str          # the provider's user who finalized it: may not approve its variance

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.run_id}:v{self.version}"


class PayrollRunEvent(BaseModel):
    """The provider announced a change of a run's state (a signed event, or found by the sweep)."""

    model_config = ConfigDict(frozen=True)

    event_id: str              # the same state read twice is the same event
    state: PayrollRunState
    run: PayrollRunRef
    actor: str                 # who finalized, reopened or cancelled
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class PayResultRow:
    """One row of the provider's payroll results: one pay component of one employee."""

    worker_id: str
    entity: str                # legal entity code
    cost_center: str
    component: str             # the provider's pay component code, e.g. "SALARY", "WAGE_TAX"
    kind: PayComponentKind
    amount: Decimal            # positive; the kind says which way it goes
    currency: str
    period_end: date
    reference: str = ""        # for a reimbursement: the expense report it pays


@dataclass(frozen=True, slots=True)
class AggregateLine:
    """One aggregated amount of one entity's payroll, as the journal is built from it."""

    cost_center: str
    component: str
    kind: PayComponentKind
    currency: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ResultPage:
    """One page of results, and where the next one starts (None: this was the last)."""

    rows: list[PayResultRow]
    next_cursor: str | None
    total_rows: int            # in the whole report, as the provider counts them


@dataclass(frozen=True, slots=True)
class Payee:
    """Where an employee's net pay goes. Employee data: it travels only encrypted, never in clear."""

    worker_id: str
    name: str
    entity: str
    bic: str
    iban: str | None = None
    account_number: str | None = None    # where there is no IBAN (US)


class RegisterTotals(BaseModel):
    """A payroll register's totals for one legal entity and currency.

    The provider states them (its control totals) and finsync recomputes them from the rows; the
    two must tie before anything is posted."""

    model_config = ConfigDict(frozen=True)

    entity: str
    currency: str
    headcount: int = Field(ge=0)
    earnings: Decimal = Decimal(0)
    employee_deductions: Decimal = Decimal(0)
    employer_contributions: Decimal = Decimal(0)
    reimbursements: Decimal = Decimal(0)
    net_pay: Decimal = Decimal(0)

    def differences(self, stated: RegisterTotals) -> list[str]:
        """Where these totals differ from ``stated``, one finance-readable phrase each."""
        found = [f"headcount {self.headcount} against {stated.headcount}"] if self.headcount != stated.headcount else []
        for name in ("earnings", "employee_deductions", "employer_contributions", "reimbursements", "net_pay"):
            mine, theirs = getattr(self, name), getattr(stated, name)
            if mine != theirs:
                found.append(f"{name.replace('_', ' ')} {mine} against {theirs} {self.currency} "
                             f"(difference {mine - theirs})")
        return found

    def money(self, amount: Decimal) -> Money:
        return Money.of(amount, self.currency)


class EntityPayroll(BaseModel):
    """What the workflow holds of one entity's payroll: totals and a reference, never the rows."""

    model_config = ConfigDict(frozen=True)

    totals: RegisterTotals
    content_hash: str          # of the entity's aggregates in the store: what was posted is what was read
    cost_centers: int = Field(ge=0)

    @property
    def entity(self) -> str:
        return self.totals.entity


class PayrollIngest(BaseModel):
    """The run read and aggregated into the integration store: what the workflow decides on."""

    model_config = ConfigDict(frozen=True)

    run: PayrollRunRef
    rows: int = Field(ge=0)
    entities: list[EntityPayroll]
    content_hash: str          # of every entity's aggregates, in entity order
    # Employees whose components do not add up to their net pay (earnings - deductions +
    # reimbursements != net): a few examples by worker id, and how many in all.
    unbalanced_employees: int = 0
    unbalanced_examples: list[str] = []

    def entity(self, code: str) -> EntityPayroll:
        return next(entity for entity in self.entities if entity.entity == code)


def combined_hash(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\n")
    return digest.hexdigest()
