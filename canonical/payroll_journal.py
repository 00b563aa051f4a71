"""One legal entity's payroll journal, built from its aggregates by the payroll rulebook.

Gross wages and employer contributions are expense by cost center; withholdings, the employer's
contributions owed and net pay are liabilities; a reimbursement paid with net pay clears the
employee payable the approved expense was booked to. Amounts are summed per (account, cost
center) from exact per-employee amounts, so the entry balances exactly when every employee's
net pay adds up (the run is stopped before this when one does not).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from canonical.journal import JournalEntry, JournalLine, Side
from canonical.keys import step_key
from canonical.money import Money
from canonical.payroll import AggregateLine, PayComponentKind, PayrollRunRef
from canonical.payroll_rules import PayrollRulebook

EXPENSE_BY_COST_CENTER = {PayComponentKind.EARNING, PayComponentKind.EMPLOYER_CONTRIBUTION}


class UnmappedPayComponents(ValueError):
    """Pay components the rulebook does not post: nothing is posted until it does."""

    def __init__(self, components: list[str]) -> None:
        self.components = components
        super().__init__(f"pay components with no GL account in the payroll rules: {', '.join(components)}")


def journal_external_id(run: PayrollRunRef, entity: str) -> str:
    """The journal's key in the ERP: one per run version and entity."""
    return step_key(f"payroll-{run.run_id}-v{run.version}", entity)


def net_pay_external_id(message_id: str) -> str:
    """The key of the booking of one net-pay file in the ERP: one per file (MsgId, at most 35)."""
    return f"{message_id}:net-pay"


def net_pay_booking(run: PayrollRunRef, entity: str, message_id: str, paid: Money, net_pay_account: str,
                    bank_account: str, posting_date: date) -> JournalEntry:
    """Net pay that left the bank in one file: Dr the net pay payable the run's journal credited,
    Cr the GL account of the bank account it left from. Once every employee is paid, the payable
    stands at zero."""
    memo = f"Net pay of payroll {run.run_id} v{run.version} paid in {message_id}"
    return JournalEntry(external_id=net_pay_external_id(message_id), entity=entity, posting_date=posting_date,
                        memo=memo, source_ref=f"{run.provider}:payrun:{run.run_id}:v{run.version}", lines=[
                            JournalLine(side=Side.DEBIT, account=net_pay_account, amount=paid, entity=entity, memo=memo),
                            JournalLine(side=Side.CREDIT, account=bank_account, amount=paid, entity=entity, memo=memo)])


def aggregates_hash(lines: Iterable[AggregateLine]) -> str:
    """What an entity's aggregates were when read: the journal posted must be built from the same."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(f"{line.currency}|{line.cost_center}|{line.component}|{line.kind.value}|{line.amount}\n".encode())
    return digest.hexdigest()


def entity_journal(run: PayrollRunRef, entity: str, lines: list[AggregateLine], rules: PayrollRulebook,
                   posting_date: date) -> JournalEntry:
    """The entity's journal for ``run``: one line per (side, account, cost center)."""
    unmapped = sorted({line.component for line in lines if rules.posting(line.component) is None})
    if unmapped:
        raise UnmappedPayComponents(unmapped)
    sums: dict[tuple[Side, str, str | None, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        posting = rules.posting(line.component)
        assert posting is not None
        cost_center = line.cost_center if line.kind in EXPENSE_BY_COST_CENTER else None
        debit = line.kind in EXPENSE_BY_COST_CENTER or line.kind is PayComponentKind.REIMBURSEMENT
        sums[(Side.DEBIT if debit else Side.CREDIT, posting.account, cost_center, line.currency)] += line.amount
        if posting.liability_account is not None:     # the employer's contribution is owed on top
            sums[(Side.CREDIT, posting.liability_account, None, line.currency)] += line.amount
    journal_lines = [_line(side, account, cost_center, Money.of(amount, currency), entity)
                     for (side, account, cost_center, currency), amount in sorted(sums.items(), key=_order)
                     if amount != 0]
    return JournalEntry(external_id=journal_external_id(run, entity), entity=entity, posting_date=posting_date,
                        memo=f"Payroll {run.run_id} v{run.version}, period {run.period_start} to {run.period_end}",
                        lines=journal_lines, source_ref=f"{run.provider}:payrun:{run.run_id}:v{run.version}")


def _line(side: Side, account: str, cost_center: str | None, amount: Money, entity: str) -> JournalLine:
    """A negative sum (a correction larger than the period's amount) posts on the other side."""
    if amount.amount < 0:
        side, amount = (Side.CREDIT if side is Side.DEBIT else Side.DEBIT), -amount
    return JournalLine(side=side, account=account, amount=amount, entity=entity, cost_center=cost_center,
                       memo=f"Payroll {account}" + (f" {cost_center}" if cost_center else ""))


def _order(item: tuple[tuple[Side, str, str | None, str], Decimal]) -> tuple[str, str, str, str]:
    (side, account, cost_center, currency), _ = item
    return (currency, "0" if side is Side.DEBIT else "1", account, cost_center or "")
