"""What the payroll engine calculates for one employee in one period: their pay components.

All in integer cents, each component rounded half up to the cent on its own, as a payslip shows it:

- earnings: SALARY (the monthly base with a drift of up to 1% either way from period to period:
  hours, allowances) and, for about one employee in eight, a BONUS of 5 to 20% of the base;
- employee deductions: WAGE_TAX (progressive brackets of the country on gross pay), SOCIAL_EE (a
  rate on gross up to a monthly ceiling) and BENEFITS_EE (a rate on the salary);
- the employer's contribution on top: SOCIAL_ER (a rate on gross up to the same ceiling);
- reimbursements: one EXPENSE_REIMB per pay input, outside gross and the tax base;
- NET_PAY = earnings - employee deductions + reimbursements, exactly.

The rates are plausible, not any country's law.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sandboxes.kit.workforce import Employee

EARNING = "Earning"
EMPLOYEE_DEDUCTION = "Employee Deduction"
EMPLOYER_CONTRIBUTION = "Employer Contribution"
REIMBURSEMENT = "Reimbursement"
NET_PAY = "Net Pay"
REIMBURSEMENT_COMPONENT = "EXPENSE_REIMB"
BASIS_POINTS = 10_000


@dataclass(frozen=True)
class CountryRules:
    wage_tax: tuple[tuple[int, int], ...]   # (from this many cents of gross, the marginal rate in basis points)
    social_employee: int                    # basis points of gross up to the ceiling
    social_employer: int
    social_ceiling: int                     # cents of gross a month
    benefits: int                           # basis points of the salary


RULES = {
    "US": CountryRules(wage_tax=((0, 1000), (100_000, 1200), (400_000, 2200), (850_000, 2400), (1_600_000, 3200)),
                       social_employee=765, social_employer=825, social_ceiling=1_467_500, benefits=500),
    "DE": CountryRules(wage_tax=((0, 0), (100_000, 1400), (200_000, 2400), (500_000, 4200), (2_200_000, 4500)),
                       social_employee=2095, social_employer=2100, social_ceiling=755_000, benefits=100),
}


class PayLine(NamedTuple):
    component: str
    type: str                  # Earning, Employee Deduction, ...: which total it counts in
    amount_cents: int
    reference: str = ""


class Reimbursement(NamedTuple):
    amount_cents: int
    reference: str


def share(cents: int, basis_points: int) -> int:
    """``cents`` times a rate, to the cent, half up (amounts here are never negative)."""
    return (cents * basis_points + BASIS_POINTS // 2) // BASIS_POINTS


def wage_tax(gross: int, brackets: Sequence[tuple[int, int]]) -> int:
    """Each bracket's rate on the part of gross within it, rounded once."""
    scaled = 0
    for number, (start, rate) in enumerate(brackets):
        end = brackets[number + 1][0] if number + 1 < len(brackets) else gross
        if gross > start:
            scaled += (min(gross, end) - start) * rate
    return (scaled + BASIS_POINTS // 2) // BASIS_POINTS


def pay_lines(employee: Employee, period_end: date, seed: int, reimbursements: Sequence[Reimbursement] = (),
              bonus_percent_bp: int | None = None) -> list[PayLine]:
    """The employee's pay components for the period ending ``period_end``, NET_PAY last.

    ``bonus_percent_bp``: a bonus of this share of the base (basis points) instead of the usual
    chance of one (a one-off bonus paid to a whole entity)."""
    draw = int.from_bytes(hashlib.blake2b(f"{seed}:{employee.index}:{period_end.isoformat()}".encode(),
                                          digest_size=8).digest(), "big")
    draw, drift = divmod(draw, 201)
    draw, lucky = divmod(draw, 8)
    draw, bonus_bp = divmod(draw, 1501)
    base = employee.monthly_salary_cents
    salary = share(base, BASIS_POINTS + drift - 100)
    if bonus_percent_bp is not None:
        bonus = share(base, bonus_percent_bp)
    else:
        bonus = share(base, 500 + bonus_bp) if lucky == 0 else 0
    gross = salary + bonus
    rules = RULES[employee.country]
    insured = min(gross, rules.social_ceiling)
    lines = [PayLine("SALARY", EARNING, salary)]
    if bonus:
        lines.append(PayLine("BONUS", EARNING, bonus))
    lines += [PayLine(REIMBURSEMENT_COMPONENT, REIMBURSEMENT, r.amount_cents, r.reference) for r in reimbursements]
    tax, social, benefits = wage_tax(gross, rules.wage_tax), share(insured, rules.social_employee), share(salary, rules.benefits)
    lines += [PayLine("WAGE_TAX", EMPLOYEE_DEDUCTION, tax), PayLine("SOCIAL_EE", EMPLOYEE_DEDUCTION, social),
              PayLine("BENEFITS_EE", EMPLOYEE_DEDUCTION, benefits),
              PayLine("SOCIAL_ER", EMPLOYER_CONTRIBUTION, share(insured, rules.social_employer)),
              PayLine("NET_PAY", NET_PAY, gross - tax - social - benefits + sum(r.amount_cents for r in reimbursements))]
    return lines


# A register's totals, by the type of component each sums.
TOTAL_OF = {EARNING: "earnings", EMPLOYEE_DEDUCTION: "employee_deductions",
            EMPLOYER_CONTRIBUTION: "employer_contributions", REIMBURSEMENT: "reimbursements", NET_PAY: "net_pay"}
TOTAL_FIELDS = tuple(TOTAL_OF.values())


class Totals:
    """A payroll register's totals for one entity and currency, in cents."""

    def __init__(self) -> None:
        self.headcount = 0
        self.by_type = dict.fromkeys(TOTAL_OF, 0)

    def add(self, lines: Sequence[PayLine]) -> None:
        self.headcount += 1
        for line in lines:
            self.by_type[line.type] += line.amount_cents

    def as_columns(self) -> dict[str, int]:
        return {"headcount": self.headcount, **{TOTAL_OF[kind]: cents for kind, cents in self.by_type.items()}}


def cents_text(cents: int) -> str:
    """12345 -> "123.45", as amounts go over the wire."""
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"

