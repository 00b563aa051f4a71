"""Coding: turn an approved report into a balanced journal in the entity's functional currency.

Pure functions, run in workflow code. Master data comes in a CodingContext read from the ERP
once per report; a problem a person must fix raises CodingProblem with a finance-readable reason.

Journal shape (functional currency of the employee's entity):
  Dr expense account per line (net of reclaimable tax), with the line's cost center
  Dr reclaimable input tax
  Cr employee reimbursements payable (what the employee is owed)
  Dr/Cr FX rounding: only true rounding, see below

Rate policy: one rate per journal. Each line is taken in the report currency (a foreign line at
the platform's own conversion, ``posted_amount``, which is what the employee is reimbursed), and
every amount converts to the functional currency at the ERP's report-currency rate on the
posting date. Converting line by line and the total once then differ only by rounding: at most
half a minor unit per converted amount, so the rounding line never carries an exchange
difference. Exchange differences arise only when the payment settles at another rate; the
settlement books them as realized FX (canonical/settlement.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from canonical import (
    BusinessProblem,
    CodingContext,
    CodingRequest,
    ExpenseLine,
    ExpenseReport,
    JournalEntry,
    JournalLine,
    Money,
    ProblemCode,
    ProblemRaised,
    Side,
)
from canonical.expense_rules import AccountMapping, EntityAccounts
from canonical.money import total


class CodingProblem(ProblemRaised):
    """Master data or rules a person must fix before the journal can be built."""


class CodingOverrides(BaseModel):
    """Corrections finance made while the report was parked."""

    model_config = ConfigDict(frozen=True)

    cost_centers: dict[str, str] = {}   # the report's code -> the code to post on
    default_cost_center: str | None = None   # for lines that have none, nor does the employee
    posting_date: date | None = None

    def correct_cost_center(self, wrong: str | None, right: str) -> CodingOverrides:
        """Post on ``right`` wherever ``wrong`` would have been used. ``wrong`` may itself be an
        earlier correction (a typo corrected again); None means a line had no cost center at all."""
        if wrong is None:
            return self.model_copy(update={"default_cost_center": right})
        mapping = {original: (right if corrected == wrong else corrected)
                   for original, corrected in self.cost_centers.items()}
        if wrong not in self.cost_centers.values():
            mapping[wrong] = right
        default = right if self.default_cost_center == wrong else self.default_cost_center
        return self.model_copy(update={"cost_centers": mapping, "default_cost_center": default})


def _problem(code: ProblemCode, reason: str, system: str = "erp", subject: str | None = None,
             line_id: str | None = None) -> CodingProblem:
    return CodingProblem(BusinessProblem(code=code, reason=reason, system=system, subject=subject, line_id=line_id))


def cost_center_for(report: ExpenseReport, line_cost_center: str | None, employee_cost_center: str | None,
                    overrides: CodingOverrides) -> str | None:
    code = line_cost_center or report.cost_center or employee_cost_center
    return overrides.cost_centers.get(code, code) if code else overrides.default_cost_center


def coding_request(report: ExpenseReport, mapping: AccountMapping, overrides: CodingOverrides,
                   posting_date: date, entity_code: str | None = None) -> CodingRequest:
    """What to ask the ERP for: every cost center, account and FX rate this report can touch."""
    cost_centers = sorted({overrides.cost_centers.get(c, c) for c in
                           [report.cost_center, *(ln.cost_center for ln in report.lines)] if c}
                          | ({overrides.default_cost_center} if overrides.default_cost_center else set()))
    accounts = sorted({acct for ent in mapping.entities.values()
                       for acct in [ent.employee_payable, ent.reclaimable_tax, ent.fx_rounding, *ent.categories.values()]})
    fx_pairs = [(report.currency, posting_date)]   # one rate per journal (see the module docstring)
    return CodingRequest(entity_code=entity_code, employee_id=report.employee_id, cost_centers=cost_centers,
                         accounts=accounts, fx_pairs=fx_pairs, posting_date=posting_date)


def build_journal(report: ExpenseReport, ctx: CodingContext, mapping: AccountMapping, *,
                  external_id: str, posting_date: date, overrides: CodingOverrides) -> JournalEntry:
    """The report's journal, or CodingProblem: never an exception that would fail the workflow task."""
    if report.reimbursement_total.amount <= 0:
        raise _problem(ProblemCode.NOTHING_TO_REIMBURSE, f"Report {report.report_id} reimburses "
                                                         f"{report.reimbursement_total}: there is nothing to pay; "
                                                         "cancel it, or have the employee correct it.", system="expense")
    try:
        return _build_journal(report, ctx, mapping, external_id=external_id, posting_date=posting_date,
                              overrides=overrides)
    except CodingProblem:
        raise
    except ValueError as error:   # pydantic's ValidationError included: data no rule above foresaw
        raise _problem(ProblemCode.JOURNAL_INVALID, f"finsync could not build a valid journal for report "
                                                    f"{report.report_id}: {error}", system="finsync") from error


def _build_journal(report: ExpenseReport, ctx: CodingContext, mapping: AccountMapping, *,
                   external_id: str, posting_date: date, overrides: CodingOverrides) -> JournalEntry:
    entity, employee = ctx.entity, ctx.employee
    if not employee.active:
        raise _problem(ProblemCode.EMPLOYEE_INACTIVE, f"Employee {employee.employee_id} ({employee.name}) is inactive "
                                                      "in the ERP.", subject=employee.employee_id)
    accounts = mapping.entities.get(entity.code)
    if accounts is None:
        raise _problem(ProblemCode.NO_ACCOUNT_MAPPING, f"The account mapping {mapping.version} has no entry for "
                                                       f"entity {entity.code}.", system="finsync", subject=entity.code)
    _check_period(ctx, posting_date)
    functional = entity.functional_currency

    rate = _report_rate(ctx, report.currency, posting_date)

    def to_functional(amount: Money) -> Money:
        return amount if rate is None else amount.convert(rate, functional)

    lines: list[JournalLine] = []
    for line in report.lines:
        cost_center = cost_center_for(report, line.cost_center, employee.cost_center, overrides)
        _check_cost_center(ctx, cost_center, line.line_id)
        account = _account(ctx, accounts, line.category, mapping.version)
        gross, tax = _in_report_currency(report, line)
        net = to_functional(gross - tax)
        tax = to_functional(tax)
        memo = f"{report.report_id}/{line.line_id} {line.merchant}"[:200]
        if not net.is_zero:
            lines.append(_line(Side.DEBIT, account, net, entity.code, cost_center, memo))
        if not tax.is_zero:
            lines.append(_line(Side.DEBIT, _active(ctx, accounts.reclaimable_tax), tax, entity.code, None, f"Input VAT {memo}"))

    # What the lines cost, net of refund lines (booked as credits), before the payable is added.
    expensed = (total([ln.amount for ln in lines if ln.side is Side.DEBIT], functional)
                - total([ln.amount for ln in lines if ln.side is Side.CREDIT], functional))
    payable = to_functional(report.reimbursement_total)
    lines.append(_line(Side.CREDIT, _active(ctx, accounts.employee_payable), payable, entity.code, None,
                       f"Reimbursement {employee.employee_id} {employee.name}"[:200]))
    difference = payable - expensed
    if not difference.is_zero:
        side = Side.DEBIT if difference.amount > 0 else Side.CREDIT
        lines.append(_line(side, _active(ctx, accounts.fx_rounding), Money(amount=abs(difference.amount), currency=functional),
                           entity.code, None, "FX rounding"))
    return JournalEntry(
        external_id=external_id, entity=entity.code, posting_date=posting_date,
        memo=f"Expense report {report.report_id} {report.name} ({employee.name}); mapping {mapping.version}"[:250],
        lines=lines, source_ref=f"{report.source_system}:report:{report.report_id}")


def _line(side: Side, account: str, amount: Money, entity: str, cost_center: str | None, memo: str) -> JournalLine:
    """A negative amount (a refund line on the report) books on the other side."""
    if amount.amount < 0:
        side, amount = (Side.CREDIT if side is Side.DEBIT else Side.DEBIT), Money(amount=-amount.amount,
                                                                                   currency=amount.currency)
    return JournalLine(side=side, account=account, amount=amount, entity=entity, cost_center=cost_center, memo=memo)


def _check_period(ctx: CodingContext, posting_date: date) -> None:
    if ctx.period is None:
        raise _problem(ProblemCode.PERIOD_MISSING, f"The ERP has no accounting period for {posting_date:%d %b %Y}.",
                       subject=posting_date.isoformat())
    if ctx.period.closed:
        raise _problem(ProblemCode.PERIOD_CLOSED, f"Accounting period {ctx.period.name} is closed in the ERP; reopen it, "
                                                  "or choose a posting date in an open period.",
                       subject=posting_date.isoformat())


def _check_cost_center(ctx: CodingContext, code: str | None, line_id: str) -> None:
    if code is None:
        raise _problem(ProblemCode.COST_CENTER_MISSING, f"Line {line_id} has no cost center and the employee has no "
                                                        "default one; give the report a cost center.",
                       system="expense", line_id=line_id)
    cost_center = ctx.cost_centers.get(code)
    if cost_center is None:
        raise _problem(ProblemCode.COST_CENTER_UNKNOWN, f"Cost center {code} does not exist in the ERP; correct it "
                                                        "on the report.", subject=code, line_id=line_id)
    if not cost_center.active:
        raise _problem(ProblemCode.COST_CENTER_INACTIVE, f"Cost center {code} ({cost_center.name}) is inactive in the "
                                                         "ERP; reactivate it or recode the report to an active cost center.",
                       subject=code, line_id=line_id)
    if cost_center.entity_code and cost_center.entity_code != ctx.entity.code:
        raise _problem(ProblemCode.COST_CENTER_WRONG_ENTITY, f"Cost center {code} belongs to {cost_center.entity_code}, "
                                                             f"not to the employee's entity {ctx.entity.code}.",
                       subject=code, line_id=line_id)


def _account(ctx: CodingContext, accounts: EntityAccounts, category: str, version: str) -> str:
    number = accounts.categories.get(category) or accounts.categories.get("OTHER")
    if number is None:
        raise _problem(ProblemCode.NO_ACCOUNT_MAPPING, f"Category {category} has no GL account in mapping {version}.",
                       system="finsync", subject=category)
    return _active(ctx, number)


def _active(ctx: CodingContext, number: str) -> str:
    account = ctx.accounts.get(number)
    if account is None:
        raise _problem(ProblemCode.ACCOUNT_UNKNOWN, f"GL account {number} does not exist in the ERP.", subject=number)
    if not account.active:
        raise _problem(ProblemCode.ACCOUNT_INACTIVE, f"GL account {number} ({account.name}) is inactive in the ERP; "
                                                     "reactivate it or change the account mapping.", subject=number)
    return number


def _in_report_currency(report: ExpenseReport, line: ExpenseLine) -> tuple[Money, Money]:
    """A line's gross and reclaimable tax in the report currency: the platform's own conversion
    of a foreign line (``posted_amount``), its tax in the same proportion."""
    gross = report.reimbursable(line)
    if line.reclaimable_tax is None or line.reclaimable_tax.is_zero:
        return gross, Money.zero(report.currency)
    if line.amount.currency == report.currency:
        return gross, line.reclaimable_tax
    share = line.reclaimable_tax.amount / line.amount.amount
    return gross, Money(amount=gross.amount * share, currency=report.currency)


def _report_rate(ctx: CodingContext, currency: str, on: date) -> Decimal | None:
    """The one rate a journal converts at: the ERP's report-currency rate on the posting date
    (None: the report is in the functional currency already)."""
    functional = ctx.entity.functional_currency
    if currency == functional:
        return None
    rate = ctx.rate(currency, on)
    if rate is None:
        raise _problem(ProblemCode.FX_RATE_MISSING, f"The ERP has no {currency}/{functional} rate on or before "
                                                    f"{on}.", subject=f"{currency}/{functional}")
    return rate.rate
