from datetime import date

import pytest
from pydantic import ValidationError

from canonical import JournalEntry, JournalLine, Money, Side, UnbalancedJournalError
from canonical.keys import iso20022_id, step_key


def line(side, account, amount, currency="USD", entity="US01"):
    return JournalLine(side=side, account=account, amount=Money.of(amount, currency), entity=entity)


def entry(*lines):
    return JournalEntry(external_id="je-1", entity="US01", posting_date=date(2026, 11, 2), memo="test", lines=list(lines))


def test_a_balanced_entry_builds_and_reverses():
    je = entry(line(Side.DEBIT, "6120", "80.00"), line(Side.DEBIT, "1410", "20.00"), line(Side.CREDIT, "2150", "100.00"))
    reversal = je.reversal("je-1-rev", date(2026, 11, 5), "recalled")
    assert reversal.reverses_external_id == "je-1"
    assert [ln.side for ln in reversal.lines] == [Side.CREDIT, Side.CREDIT, Side.DEBIT]
    assert reversal.total(Side.DEBIT) == je.total(Side.CREDIT)


def test_an_unbalanced_entry_cannot_exist():
    with pytest.raises(ValidationError, match="does not balance"):
        entry(line(Side.DEBIT, "6120", "100.00"), line(Side.CREDIT, "2150", "99.99"))


def test_a_changed_copy_cannot_come_out_unbalanced_and_a_bypassed_one_is_caught():
    entry = JournalEntry(external_id="J2", entity="US01", posting_date=date(2026, 11, 1), memo="m",
                         lines=[line(Side.DEBIT, "6120", "10.00"), line(Side.CREDIT, "2150", "10.00")])
    with pytest.raises(ValidationError) as built:
        entry.model_copy(update={"lines": [line(Side.DEBIT, "6120", "10.00"), line(Side.CREDIT, "2150", "9.99")]})
    assert isinstance(built.value.errors()[0]["ctx"]["error"], UnbalancedJournalError)
    bypassed = JournalEntry.model_construct(**{**entry.__dict__, "lines": [line(Side.DEBIT, "6120", "10.00"),
                                                                         line(Side.CREDIT, "2150", "9.99")]})
    with pytest.raises(UnbalancedJournalError):
        bypassed.check_balanced()


def test_balance_is_per_currency():
    with pytest.raises(ValidationError, match="EUR"):
        entry(line(Side.DEBIT, "6120", "100.00", "USD"), line(Side.CREDIT, "2150", "100.00", "EUR"))


def test_balance_is_per_entity():
    with pytest.raises(ValidationError, match="DE01"):
        entry(line(Side.DEBIT, "6120", "100.00", entity="US01"), line(Side.CREDIT, "2150", "100.00", entity="DE01"))


def test_lines_are_positive():
    with pytest.raises(ValidationError):
        line(Side.DEBIT, "6120", "-1.00")


def test_keys_are_deterministic_and_fit_iso20022():
    # Pinned: a key that changed between releases would post a running report's journal twice.
    assert step_key("expense-concur-ABC", "journal-1") == "expense-concur-ABC:journal-1"
    assert step_key("expense-concur-" + "A" * 60, "journal-1") == "6VPBDNXXE73AZSOCZPR5UJEVIPZJH5WERFHXJPAVDJBNUYFJGUNQ"
    e2e = iso20022_id("FSE", "764428DD6A664AF0BFCB", "G1P1")
    assert e2e == "FSE-764428DD6A664AF0BFCB-G1P1" and len(e2e) <= 35
    long = iso20022_id("FSE", "X" * 60, "G1P1")
    assert len(long) <= 35 and long == iso20022_id("FSE", "X" * 60, "G1P1")
    assert long != iso20022_id("FSE", "X" * 60, "G1P2")
