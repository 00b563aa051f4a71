"""Booking a settled payment: the payable it pays is cleared against the bank account it left.

Every process that pays through the bank books its settlement here, so the ledger's cash moves
when the bank's does and the payable nets to zero. Pure functions, run in workflow code:

  Dr payable account     the amount the process booked as owed (functional currency)
  Cr bank GL account     what the bank debited, in the functional currency
  Dr/Cr realized FX      the difference, when the bank converted at another rate than the
                         journal that booked the payable

The entry's external id comes from the payment's EndToEndId, so posting it is exactly once with
the same lookup-before-retry as any journal. A return after settlement is its reversal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from canonical.journal import JournalEntry, JournalLine, Side
from canonical.money import Money
from canonical.parties import CompanyBankAccount
from canonical.problems import BusinessProblem, ProblemCode, ProblemRaised


class SettlementProblem(ProblemRaised):
    """What a settlement journal cannot be built without (a rate, an FX account)."""


class Settlement(BaseModel):
    """What a process knows when its payment settles."""

    model_config = ConfigDict(frozen=True)

    end_to_end_id: str
    entity: str
    functional_currency: str
    payable_account: str
    payable: Money                 # as the process booked it, in the functional currency
    bank_account: CompanyBankAccount
    debited: Money                 # what left the bank account, in its currency
    debited_rate: Decimal | None = None   # functional units per debited unit, if those differ
    fx_account: str | None = None
    booking_date: date
    memo: str
    source_ref: str = ""


def settlement_external_id(end_to_end_id: str) -> str:
    return f"{end_to_end_id}:settlement"


def settlement_entry(settlement: Settlement) -> JournalEntry:
    """The journal that books ``settlement``; SettlementProblem if it cannot be built as stated."""
    functional, payable = settlement.functional_currency, settlement.payable
    if payable.currency != functional:
        raise ValueError(f"the payable is booked in {functional}, not {payable.currency}")
    cash = _in_functional(settlement)
    difference = exchange_difference(settlement)
    lines = [_line(Side.DEBIT, settlement.payable_account, payable, settlement, "Payable cleared"),
             _line(Side.CREDIT, settlement.bank_account.gl_account, cash, settlement, "Paid by the bank")]
    if not difference.is_zero:
        if settlement.fx_account is None:
            raise SettlementProblem(BusinessProblem(
                code=ProblemCode.FX_ACCOUNT_MISSING, system="finsync", subject=settlement.entity, reason=(
                    f"Payment {settlement.end_to_end_id} cost {cash} against {payable} booked: the account mapping "
                    f"has no realized FX account (fx_gain_loss) for entity {settlement.entity}; add it, then retry.")))
        side = Side.DEBIT if difference.amount > 0 else Side.CREDIT    # paid more: a loss; less: a gain
        lines.append(_line(side, settlement.fx_account, Money(amount=abs(difference.amount), currency=functional),
                           settlement, "Realized exchange difference"))
    return JournalEntry(external_id=settlement_external_id(settlement.end_to_end_id), entity=settlement.entity,
                        posting_date=settlement.booking_date, memo=settlement.memo[:250], lines=lines,
                        source_ref=settlement.source_ref)


def exchange_difference(settlement: Settlement) -> Money:
    """What the payment cost beyond the payable it cleared (negative: a gain), functional currency."""
    return _in_functional(settlement) - settlement.payable


def _in_functional(settlement: Settlement) -> Money:
    debited, functional = settlement.debited, settlement.functional_currency
    if debited.currency == functional:
        return debited
    if settlement.debited_rate is None:
        raise SettlementProblem(BusinessProblem(
            code=ProblemCode.FX_RATE_MISSING, system="erp", subject=f"{debited.currency}/{functional}", reason=(
                f"Payment {settlement.end_to_end_id} left account {settlement.bank_account.account_id} in "
                f"{debited.currency}; the ERP has no {debited.currency}/{functional} rate for "
                f"{settlement.booking_date} to book it. Add the rate, then retry.")))
    return debited.convert(settlement.debited_rate, functional)


def _line(side: Side, account: str, amount: Money, settlement: Settlement, what: str) -> JournalLine:
    return JournalLine(side=side, account=account, amount=amount, entity=settlement.entity,
                       memo=f"{what}: {settlement.end_to_end_id}"[:200])
