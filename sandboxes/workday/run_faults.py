"""Faults a test or the demo plants in a pay run, applied when it is next finalized:

- ``bonus`` ``{"entity": "DE01", "percentOfSalary": "30"}``: every employee of the entity gets a
  bonus of that share of their base salary (a variance against the period before);
- ``unbalancedWorker`` ``{"worker": "W000042", "amount": "0.01"}``: that employee's NET_PAY is off
  by the amount, so their components no longer add up;
- ``controlTotalsOff`` ``{"entity": "US01", "total": "netPay", "amount": "100.00"}``: the register's
  control total of the entity is off by the amount (``total``: earnings, employeeDeductions,
  employerContributions, reimbursements or netPay), while its rows are right.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sandboxes.workday.bodies import cents_value
from sandboxes.workday.errors import WorkdayError
from sandboxes.workday.payslips import cents_text

Code = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
# The control totals' names on the wire and in the sandbox's totals.
TOTAL_NAMES = {"earnings": "earnings", "employeeDeductions": "employee_deductions",
               "employerContributions": "employer_contributions", "reimbursements": "reimbursements",
               "netPay": "net_pay"}


class _Fault(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Amount(_Fault):
    """An amount that may be negative, with at most two decimals: kept as text once checked, so the
    faults stored on a run read back alike."""

    amount: str

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> str:
        return _checked(value, positive=False)

    @property
    def cents(self) -> int:
        return cents_value(self.amount, "amount", positive=False)


class BonusFault(_Fault):
    entity: str = Code
    percentOfSalary: str

    @field_validator("percentOfSalary", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> str:
        return _checked(value, positive=True)

    @property
    def basis_points(self) -> int:
        return cents_value(self.percentOfSalary, "percentOfSalary")


class UnbalancedWorker(_Amount):
    worker: str = Code


class ControlTotalsOff(_Amount):
    entity: str = Code
    total: Literal["earnings", "employeeDeductions", "employerContributions", "reimbursements", "netPay"] = "netPay"


def _checked(value: Any, *, positive: bool) -> str:
    try:
        return cents_text(cents_value(value, "it", positive=positive))
    except WorkdayError as error:
        raise ValueError(error.message.removeprefix("invalid request: ")) from None


class RunFaults(_Fault):
    bonus: BonusFault | None = None
    unbalancedWorker: UnbalancedWorker | None = None
    controlTotalsOff: ControlTotalsOff | None = None

    @classmethod
    def parse(cls, value: Any) -> RunFaults:
        """Faults from a request body; a 400 naming the first thing wrong."""
        try:
            return cls.model_validate(value)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise WorkdayError(400, f"invalid request: faults {where}: {first['msg']}") from None

    def stored(self) -> str:
        return self.model_dump_json(exclude_none=True)
