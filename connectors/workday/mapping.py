"""Workday's shapes -> finsync's payroll contract (canonical/payroll.py).

A pay run, as ``GET payRuns/{id}`` shows it and as its events carry it, becomes the event that
announces its state: the same state read twice is the same event (``event_id`` from the run, its
version and its state), whether a webhook brought it or the sweep found it. A Draft run has not
been announced: it maps to None.

Report rows are many (350,000 for 50,000 employees), so they are read without a model: straight
from the parsed JSON into ``PayResultRow``, amounts as Decimal from their text, dates parsed once
per distinct text.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from canonical.payroll import (
    PayComponentKind,
    Payee,
    PayResultRow,
    PayrollRunEvent,
    PayrollRunRef,
    PayrollRunState,
    RegisterTotals,
)

PROVIDER = "workday"
# A run's id goes into URL paths and store keys: visible ASCII without spaces or slashes, bounded.
RunId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Name = Annotated[str, StringConstraints(max_length=200)]
STATES = {"Finalized": PayrollRunState.FINALIZED, "Reopened": PayrollRunState.REOPENED,
          "Cancelled": PayrollRunState.CANCELLED}
DRAFT = "Draft"
KINDS = {"Earning": PayComponentKind.EARNING, "Employee Deduction": PayComponentKind.EMPLOYEE_DEDUCTION,
         "Employer Contribution": PayComponentKind.EMPLOYER_CONTRIBUTION,
         "Reimbursement": PayComponentKind.REIMBURSEMENT, "Net Pay": PayComponentKind.NET_PAY}
TOTAL_COLUMNS = {"earnings": "Earnings", "employee_deductions": "Employee_Deductions",
                 "employer_contributions": "Employer_Contributions", "reimbursements": "Reimbursements",
                 "net_pay": "Net_Pay"}


class Reference(BaseModel):
    id: Name


class WorkdayRun(BaseModel):
    """The fields of a pay run finsync reads (others are ignored)."""

    id: RunId
    version: Annotated[int, Field(ge=1)]
    status: Annotated[str, StringConstraints(max_length=40)]
    payGroup: Reference
    periodStartDate: date
    periodEndDate: date
    paymentDate: date
    finalizedBy: Name | None = None
    lastActionBy: Name | None = None
    statusChangedOn: datetime


def run_event(run: WorkdayRun) -> PayrollRunEvent | None:
    """The event announcing the run's current state; None for a Draft. ValueError for a status
    finsync does not know."""
    if run.status == DRAFT:
        return None
    state = STATES.get(run.status)
    if state is None:
        raise ValueError(f"status {run.status[:40]!r} is none of Draft, {', '.join(STATES)}")
    ref = PayrollRunRef(provider=PROVIDER, run_id=run.id, version=run.version, pay_group=run.payGroup.id,
                        period_start=run.periodStartDate, period_end=run.periodEndDate,
                        payment_date=run.paymentDate, finalized_by=run.finalizedBy or "")
    return PayrollRunEvent(event_id=f"{PROVIDER}:{run.id}:v{run.version}:{state.value}", state=state, run=ref,
                           actor=run.lastActionBy or "", occurred_at=run.statusChangedOn)


def amount(value: Any) -> Decimal:
    """A report's amount (text, or a number parsed as Decimal); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"an amount is {type(value).__name__}, not a decimal")
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{str(value)[:40]!r} is not an amount") from None
    if not parsed.is_finite():
        raise ValueError(f"{str(value)[:40]!r} is not an amount")
    return parsed


def result_rows(entries: Iterable[dict[str, Any]]) -> list[PayResultRow]:
    """Report_Entry rows of Payroll_Results_by_Cost_Center; KeyError or ValueError naming what is wrong."""
    dates: dict[str, date] = {}
    rows = []
    for entry in entries:
        ended = entry["Period_End_Date"]
        period_end = dates.get(ended) or dates.setdefault(ended, date.fromisoformat(ended))
        kind = KINDS.get(entry["Pay_Component_Type"])
        if kind is None:
            raise ValueError(f"pay component type {str(entry['Pay_Component_Type'])[:40]!r} is unknown")
        texts = (entry["Worker_ID"], entry["Legal_Entity"], entry["Cost_Center"], entry["Pay_Component"],
                 entry["Currency"], entry.get("Reference", ""))
        try:
            "".join(texts)   # unless all are text: the quickest check there is, 350,000 times over
        except TypeError:
            raise ValueError("a worker, entity, cost center, component, currency or reference is not text") from None
        rows.append(PayResultRow(texts[0], texts[1], texts[2], texts[3], kind, amount(entry["Amount"]), texts[4],
                                 period_end, texts[5]))
    return rows


def register_totals(entry: dict[str, Any]) -> RegisterTotals:
    """One Report_Entry of Payroll_Register_Control_Totals."""
    return RegisterTotals(entity=entry["Legal_Entity"], currency=entry["Currency"], headcount=int(entry["Headcount"]),
                          **{field: amount(entry[column]) for field, column in TOTAL_COLUMNS.items()})


def payee(entry: dict[str, Any]) -> Payee:
    """One Report_Entry of Worker_Payment_Elections."""
    return Payee(worker_id=entry["Worker_ID"], name=entry["Worker"], entity=entry["Legal_Entity"], bic=entry["BIC"],
                 iban=entry.get("IBAN"), account_number=entry.get("Account_Number"))


def worker_payee(worker: dict[str, Any], elections: list[dict[str, Any]]) -> Payee | None:
    """A worker (``GET workers/{id}``) and its payment elections (``GET workers/{id}/paymentElections``)
    as the payee its Worker_Payment_Elections row would be; None when no election pays into a bank
    account. ValueError for several: finsync pays an employee's net pay to one account."""
    accounts = [election["bankAccount"] for election in elections if election.get("bankAccount")]
    if len(accounts) > 1:
        raise ValueError(f"{len(accounts)} payment elections into bank accounts, where finsync pays one")
    if not accounts or not (accounts[0].get("iban") or accounts[0].get("accountNumber")):
        return None
    return payee({"Worker_ID": worker["workerId"], "Worker": worker["descriptor"],
                  "Legal_Entity": worker["company"]["id"], "BIC": accounts[0]["bankIdentificationCode"],
                  "IBAN": accounts[0].get("iban"), "Account_Number": accounts[0].get("accountNumber")})
