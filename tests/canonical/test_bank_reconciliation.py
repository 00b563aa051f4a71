"""Reconciling a camt.053 statement with the payments finsync sent: balances, batches by PmtInfId or
EndToEndId, and what is missing, unknown, different or returned (finance-practice.md §5)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canonical import BankAccount, CreditTransfer, Money, PaymentBatch, PaymentGroup
from canonical.bank_reconciliation import (
    ExpectedBatch,
    ExpectedBookings,
    ExpectedPayment,
    ExpectedTransfer,
    MatchedBy,
    StatementReconciliation,
    reconcile_statement,
)
from canonical.statement import BankStatement, BatchReference, CreditDebit, StatementEntry, StatementTransaction

ACCOUNT = "DE02120300000000202051"
DAY = date(2026, 11, 30)
OPENING = Decimal("1000000.00")


def eur(amount: str | Decimal) -> Money:
    return Money.of(amount, "EUR")


def expected_batch(pmt_inf_id: str, amounts: dict[str, str], *, rejected: Collection[str] = (),
                   msg_id: str = "MSG-1") -> ExpectedBatch:
    """A block sent with ``amounts`` (EndToEndId -> amount), of which ``rejected`` will not settle."""
    return ExpectedBatch(
        message_id=msg_id, payment_info_id=pmt_inf_id, debtor_account=ACCOUNT, currency="EUR",
        instructed_count=len(amounts), instructed_total=eur(sum((Decimal(a) for a in amounts.values()), Decimal(0))),
        transactions=[ExpectedTransfer(end_to_end_id=e2e, amount=eur(a)) for e2e, a in amounts.items()
                      if e2e not in rejected])


def transaction(e2e: str, amount: str | Decimal, *, pmt_inf_id: str | None = None, msg_id: str = "MSG-1",
                return_reason: str | None = None) -> StatementTransaction:
    return StatementTransaction(end_to_end_id=e2e, message_id=msg_id, payment_info_id=pmt_inf_id, amount=eur(amount),
                                instructed=eur(amount), bank_reference=f"TX-{e2e}", return_reason=return_reason)


def batch_entry(pmt_inf_id: str, amounts: dict[str, str], *, msg_id: str = "MSG-1", details: bool = True,
                amount: str | None = None) -> StatementEntry:
    """One debit for the block (BtchBookg), with its Btch figures and, if ``details``, a TxDtls per transfer."""
    booked = eur(amount or sum((Decimal(a) for a in amounts.values()), Decimal(0)))
    return StatementEntry(
        amount=booked, direction=CreditDebit.DEBIT, booking_date=DAY, bank_reference=f"BTC-{pmt_inf_id}",
        bank_transaction_code="PMNT/ICDT/ESCT",
        batch=BatchReference(message_id=msg_id, payment_info_id=pmt_inf_id, count=len(amounts), total=booked,
                             direction=CreditDebit.DEBIT),
        transactions=[transaction(e2e, a, pmt_inf_id=pmt_inf_id, msg_id=msg_id) for e2e, a in amounts.items()]
        if details else [])


def single_entry(e2e: str, amount: str, *, pmt_inf_id: str | None = None, msg_id: str = "MSG-1",
                 direction: CreditDebit = CreditDebit.DEBIT, return_reason: str | None = None,
                 reference: str | None = None) -> StatementEntry:
    return StatementEntry(amount=eur(amount), direction=direction, booking_date=DAY,
                          bank_reference=reference or f"{direction.value}-{e2e}",
                          bank_transaction_code="PMNT/ICDT/RRTN" if return_reason else "PMNT/ICDT/ESCT",
                          transactions=[transaction(e2e, amount, pmt_inf_id=pmt_inf_id, msg_id=msg_id,
                                                    return_reason=return_reason)])


def charge(amount: str, reference: str = "FEE-1") -> StatementEntry:
    return StatementEntry(amount=eur(amount), direction=CreditDebit.DEBIT, booking_date=DAY, bank_reference=reference,
                          bank_transaction_code="ACMT/MDOP/CHRG", additional_info="Payroll file fee")


def statement(entries: list[StatementEntry], *, closing_off_by: str = "0") -> BankStatement:
    """The day's statement; its closing balance adds up unless ``closing_off_by`` says otherwise."""
    net = sum((entry.signed.amount for entry in entries), Decimal(0))
    return BankStatement(statement_id="STM-1", sequence_number=7, account_id=ACCOUNT, currency="EUR",
                         opening_balance=eur(OPENING), closing_balance=eur(OPENING + net + Decimal(closing_off_by)),
                         entries=entries)


def bookings(*batches: ExpectedBatch, payments: tuple[ExpectedPayment, ...] = ()) -> ExpectedBookings:
    return ExpectedBookings(account_id=ACCOUNT, batches=list(batches), payments=list(payments))


NET_PAY = {"E-1": "2500.00", "E-2": "3100.50", "E-3": "1999.99"}


def test_a_batch_booked_as_sent_is_matched_whole_by_its_payment_info_id():
    result = reconcile_statement(statement([batch_entry("PAY-DE", NET_PAY)]), bookings(expected_batch("PAY-DE", NET_PAY)))

    assert result.reconciled and result.summary() == "Statement STM-1 reconciled"
    (batch,) = result.batches
    assert (batch.matched_by, batch.matched_count, batch.expected_total, batch.booked_amount, batch.booked_reference) == (
        MatchedBy.PAYMENT_INFO_ID, 3, eur("7600.49"), eur("7600.49"), "BTC-PAY-DE")
    assert result.balance.ok and result.balance.debits == eur("7600.49")


def test_a_batch_with_one_rejected_transfer_is_matched_transfer_by_transfer():
    # E-2 was rejected (AC04, the employee's account is closed): the bank booked the other two.
    settled = {"E-1": "2500.00", "E-3": "1999.99"}
    result = reconcile_statement(statement([batch_entry("PAY-DE", settled)]),
                                 bookings(expected_batch("PAY-DE", NET_PAY, rejected={"E-2"})))

    assert result.reconciled
    (batch,) = result.batches
    assert (batch.matched_by, batch.matched_count, batch.expected_count, batch.expected_total) == (
        MatchedBy.END_TO_END_ID, 2, 2, eur("4499.99"))


def test_a_statement_with_one_missing_and_one_unknown_booking():
    # The bank booked the batch without E-3, and a fee nobody expected.
    booked = {"E-1": "2500.00", "E-2": "3100.50"}
    result = reconcile_statement(statement([charge("15.00"), batch_entry("PAY-DE", booked)]),
                                 bookings(expected_batch("PAY-DE", NET_PAY)))

    assert not result.reconciled
    assert result.balance.ok   # the statement adds up: what it holds is not what finsync sent
    (missing,) = result.missing
    assert (missing.end_to_end_id, missing.payment_info_id, missing.amount, missing.count) == (
        "E-3", "PAY-DE", eur("1999.99"), 1)
    assert "E-3" in missing.reason and "not booked on statement STM-1" in missing.reason
    (unknown,) = result.unknown
    assert (unknown.direction, unknown.amount, unknown.bank_reference, unknown.bank_transaction_code) == (
        CreditDebit.DEBIT, eur("15.00"), "FEE-1", "ACMT/MDOP/CHRG")
    assert "bank charge" in unknown.reason
    assert result.amount_mismatches == [] and result.returns == []
    (batch,) = result.batches
    assert (batch.matched_by, batch.matched_count) == (MatchedBy.END_TO_END_ID, 2)
    assert result.summary() == "Statement STM-1: 1 missing, 1 unknown"
    # It travels through Temporal as JSON and comes back the same.
    assert StatementReconciliation.model_validate_json(result.model_dump_json()) == result


def test_balances_that_do_not_add_up_or_do_not_follow_the_previous_statement_are_reported():
    entries = [batch_entry("PAY-DE", NET_PAY)]
    off = reconcile_statement(statement(entries, closing_off_by="-0.01"), bookings(expected_batch("PAY-DE", NET_PAY)))
    gap = reconcile_statement(statement(entries), bookings(expected_batch("PAY-DE", NET_PAY)),
                              previous_closing=eur("999000.00"))
    chained = reconcile_statement(statement(entries), bookings(expected_batch("PAY-DE", NET_PAY)),
                                  previous_closing=eur(OPENING))

    assert not off.reconciled and not off.balance.adds_up and off.balance.continues
    assert off.balance.difference == eur("-0.01")
    assert off.balance.computed_closing == eur(OPENING - Decimal("7600.49"))
    (problem,) = off.balance.problems()
    assert "makes EUR 992,399.51, but the statement closes at EUR 992,399.50 (difference EUR -0.01)" in problem
    assert off.summary() == "Statement STM-1: balances do not add up"
    assert not gap.reconciled and gap.balance.adds_up and not gap.balance.continues
    assert "the previous one closed at EUR 999,000.00" in gap.balance.problems()[0]
    assert chained.reconciled


def test_a_return_is_listed_with_its_reason_and_reopens_the_payment():
    payment = ExpectedPayment(message_id="MSG-9", end_to_end_id="X-1", amount=eur("86.00"))
    entries = [single_entry("X-1", "86.00", msg_id="MSG-9"),
               single_entry("X-1", "86.00", msg_id="MSG-9", direction=CreditDebit.CREDIT, return_reason="AC04")]
    result = reconcile_statement(statement(entries), bookings(payments=(payment,)))

    assert result.reconciled and result.matched_payments == 1
    (returned,) = result.returns
    assert (returned.end_to_end_id, returned.amount, returned.reason_code, returned.booking_date) == (
        "X-1", eur("86.00"), "AC04", DAY)
    assert "the beneficiary account is closed" in returned.reason and "open again" in returned.reason
    assert result.summary() == "Statement STM-1: 1 returns"


def test_an_unknown_credit_and_a_second_booking_are_reported_never_matched_away():
    payment = ExpectedPayment(message_id="MSG-9", end_to_end_id="X-1", amount=eur("86.00"))
    entries = [single_entry("X-1", "86.00", reference="A"), single_entry("X-1", "86.00", reference="B"),
               StatementEntry(amount=eur("5000.00"), direction=CreditDebit.CREDIT, booking_date=DAY,
                              bank_reference="IN-1", bank_transaction_code="PMNT/RCDT/ESCT")]
    result = reconcile_statement(statement(entries), bookings(payments=(payment,)))

    assert result.matched_payments == 1 and not result.reconciled
    assert [(u.direction, u.amount, u.end_to_end_id) for u in result.unknown] == [
        (CreditDebit.CREDIT, eur("5000.00"), None), (CreditDebit.DEBIT, eur("86.00"), "X-1")]
    credit, second = result.unknown
    assert "booked a second time" in second.reason and second.bank_reference == "TX-X-1"
    assert "credit of EUR 5,000.00 finsync did not expect" in credit.reason and "suspense" in credit.reason


def test_a_payment_booked_at_another_amount_is_a_mismatch():
    payment = ExpectedPayment(message_id="MSG-9", end_to_end_id="X-1", amount=eur("100.00"))
    result = reconcile_statement(statement([single_entry("X-1", "99.00")]), bookings(payments=(payment,)))

    (mismatch,) = result.amount_mismatches
    assert (mismatch.end_to_end_id, mismatch.expected, mismatch.booked) == ("X-1", eur("100.00"), eur("99.00"))
    assert result.missing == [] and result.unknown == [] and not result.reconciled


def test_a_batch_entry_without_transactions_is_matched_on_its_figures_or_reported_whole():
    as_expected = reconcile_statement(statement([batch_entry("PAY-DE", NET_PAY, details=False)]),
                                      bookings(expected_batch("PAY-DE", NET_PAY)))
    # With E-2 rejected, the bank's figures are those of the two that settled: nothing else to go by.
    settled = {"E-1": "2500.00", "E-3": "1999.99"}
    less_rejected = reconcile_statement(statement([batch_entry("PAY-DE", settled, details=False)]),
                                        bookings(expected_batch("PAY-DE", NET_PAY, rejected={"E-2"})))
    short = reconcile_statement(statement([batch_entry("PAY-DE", NET_PAY, details=False, amount="7000.00")]),
                                bookings(expected_batch("PAY-DE", NET_PAY)))

    assert as_expected.reconciled and as_expected.batches[0].matched_by is MatchedBy.PAYMENT_INFO_ID
    assert less_rejected.reconciled and less_rejected.batches[0].matched_by is MatchedBy.PAYMENT_INFO_ID
    assert not short.reconciled and short.missing == [] and short.batches[0].matched_by is None
    (mismatch,) = short.amount_mismatches
    assert (mismatch.payment_info_id, mismatch.end_to_end_id, mismatch.expected, mismatch.booked) == (
        "PAY-DE", None, eur("7600.49"), eur("7000.00"))
    assert "gives no transactions" in mismatch.reason


def test_an_entry_is_checked_against_its_own_transactions():
    # The bank states 7,600.00 but its three transactions add up to 7,600.49.
    result = reconcile_statement(statement([batch_entry("PAY-DE", NET_PAY, amount="7600.00")]),
                                 bookings(expected_batch("PAY-DE", NET_PAY)))

    (mismatch,) = result.amount_mismatches
    assert (mismatch.end_to_end_id, mismatch.expected, mismatch.booked) == (None, eur("7600.49"), eur("7600.00"))
    assert result.batches[0].matched_by is MatchedBy.END_TO_END_ID and result.batches[0].matched_count == 3
    assert not result.reconciled


def test_a_batch_booked_one_entry_per_transfer_is_matched_by_end_to_end_id():
    entries = [single_entry(e2e, amount, pmt_inf_id="PAY-DE") for e2e, amount in NET_PAY.items()]
    result = reconcile_statement(statement(entries), bookings(expected_batch("PAY-DE", NET_PAY)))

    assert result.reconciled
    assert (result.batches[0].matched_by, result.batches[0].matched_count) == (MatchedBy.END_TO_END_ID, 3)


def test_a_batch_not_booked_at_all_is_one_missing_item_and_a_strange_batch_one_unknown():
    strange = {"S-1": "10.00", "S-2": "20.00"}
    result = reconcile_statement(statement([batch_entry("OTHER", strange, msg_id="MSG-X")]),
                                 bookings(expected_batch("PAY-DE", NET_PAY)))

    (missing,) = result.missing
    assert (missing.payment_info_id, missing.end_to_end_id, missing.count, missing.amount) == (
        "PAY-DE", None, 3, eur("7600.49"))
    (unknown,) = result.unknown
    assert (unknown.payment_info_id, unknown.count, unknown.amount, unknown.end_to_end_id) == (
        "OTHER", 2, eur("30.00"), None)
    assert result.batches[0].matched_by is None


def test_expectations_must_be_of_the_statements_account():
    with pytest.raises(ValueError, match="not paid from account"):
        ExpectedBookings(account_id="DE89370400440532013000", batches=[expected_batch("PAY-DE", NET_PAY)])
    with pytest.raises(ValueError, match="not DE89"):
        reconcile_statement(statement([]), ExpectedBookings(account_id="DE89370400440532013000"))
    with pytest.raises(ValueError, match="expected twice"):
        bookings(expected_batch("PAY-DE", NET_PAY),
                 payments=(ExpectedPayment(message_id="M", end_to_end_id="E-1", amount=eur("1.00")),))


def test_an_expected_batch_is_the_block_as_sent_less_what_the_bank_rejected():
    account = BankAccount(holder_name="Finsync Demo GmbH", bic="BYLADEM1001", iban=ACCOUNT)
    employee = BankAccount(holder_name="Katrin Vogel", bic="COBADEFFXXX", iban="DE75512108001245126199")
    group = PaymentGroup(payment_info_id="PAY-DE", currency="EUR", requested_execution_date=DAY, transactions=[
        CreditTransfer(end_to_end_id=e2e, creditor=employee, amount=eur(amount)) for e2e, amount in NET_PAY.items()])
    batch = PaymentBatch(message_id="MSG-1", debtor_entity="DE01", debtor_name="Finsync Demo GmbH",
                         debtor_account=account, groups=[group])

    expected = ExpectedBatch.of_group(batch, group, rejected={"E-2"})

    assert expected == expected_batch("PAY-DE", NET_PAY, rejected={"E-2"})
    assert not expected.settles_whole and ExpectedBatch.of_group(batch, group).settles_whole


# --- Properties ----------------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@st.composite
def sent_and_booked(draw: st.DrawFn) -> tuple[ExpectedBookings, list[StatementEntry]]:
    """Batches of 2 to 6 transfers and a few single payments, and the entries of a bank that booked
    each of them as sent: a batch as one entry (BtchBookg) or one entry per transfer."""
    batches, entries = [], []
    for b in range(draw(st.integers(1, 3))):
        sent = {f"E-{b}-{t}": str(draw(amounts)) for t in range(draw(st.integers(2, 6)))}
        batches.append(expected_batch(f"PAY-{b}", sent))
        if draw(st.booleans()):
            entries.append(batch_entry(f"PAY-{b}", sent))
        else:
            entries.extend(single_entry(e2e, amount, pmt_inf_id=f"PAY-{b}") for e2e, amount in sent.items())
    payments = [ExpectedPayment(message_id="MSG-S", end_to_end_id=f"S-{p}", amount=eur(draw(amounts)))
                for p in range(draw(st.integers(0, 3)))]
    entries.extend(single_entry(p.end_to_end_id, str(p.amount.amount), msg_id="MSG-S") for p in payments)
    return bookings(*batches, payments=tuple(payments)), entries


def without(entries: list[StatementEntry], end_to_end_id: str) -> list[StatementEntry]:
    """The entries as a bank that left one transfer out would book them."""
    kept = []
    for entry in entries:
        rest = [tx for tx in entry.transactions if tx.end_to_end_id != end_to_end_id]
        if len(rest) == len(entry.transactions):
            kept.append(entry)
        elif rest:
            amount = eur(sum((tx.amount.amount for tx in rest if tx.amount), Decimal(0)))
            batch = entry.batch.model_copy(update={"count": len(rest), "total": amount}) if entry.batch else None
            kept.append(entry.model_copy(update={"amount": amount, "batch": batch, "transactions": rest}))
    return kept


@settings(max_examples=60, deadline=None)
@given(sent_and_booked(), st.randoms(use_true_random=False))
def test_in_whatever_order_the_bank_lists_its_entries_the_result_is_the_same(case, random):
    expected, entries = case
    # Something to tell apart too: a fee, and one entry booked again under another reference and
    # a cent more (which of the two is the booking and which the repeat must not depend on order).
    again = random.choice(entries)
    entries = [*entries, charge("4.20"), again.model_copy(update={"bank_reference": "AGAIN",
                                                                  "amount": again.amount + eur("0.01")})]
    shuffled = [entry.model_copy(update={"transactions": random.sample(entry.transactions, len(entry.transactions))})
                for entry in random.sample(entries, len(entries))]

    assert reconcile_statement(statement(shuffled), expected) == reconcile_statement(statement(entries), expected)


@settings(max_examples=60, deadline=None)
@given(sent_and_booked(), st.data())
def test_leaving_any_one_transfer_out_makes_exactly_that_transfer_missing(case, data):
    expected, entries = case
    assert reconcile_statement(statement(entries), expected).reconciled
    every = [tx.end_to_end_id for b in expected.batches for tx in b.transactions] + [
        p.end_to_end_id for p in expected.payments]
    left_out = data.draw(st.sampled_from(every))

    result = reconcile_statement(statement(without(entries, left_out)), expected)

    assert [m.end_to_end_id for m in result.missing] == [left_out]
    assert result.unknown == [] and result.amount_mismatches == [] and result.balance.ok


@settings(max_examples=40, deadline=None)
@given(sent_and_booked(), amounts)
def test_a_booking_nobody_sent_is_unknown_and_everything_else_still_matches(case, fee):
    expected, entries = case
    result = reconcile_statement(statement([*entries, charge(str(fee))]), expected)

    assert [(u.amount, u.bank_reference) for u in result.unknown] == [(eur(fee), "FEE-1")]
    assert result.missing == [] and result.amount_mismatches == [] and result.balance.ok
    assert sum(b.matched_count for b in result.batches) + result.matched_payments == sum(
        len(b.transactions) for b in expected.batches) + len(expected.payments)
