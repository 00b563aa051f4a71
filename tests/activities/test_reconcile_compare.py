"""The pure comparison of one entity's day (activities/reconcile_compare.py): a clean day is clean,
and each kind of difference, injected into it, is found and named with the documents on each side."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from activities.reconcile_compare import (
    BankDebit,
    DayRecord,
    Difference,
    DifferenceKind,
    FeedEntry,
    PayrollFileBooked,
    ReportTrail,
    compare,
    counts,
    headline,
    is_finsync_external_id,
    owner_of,
)
from canonical import FinanceEventType, Money, Side
from canonical.keys import step_key
from connectors.interfaces import LedgerJournal, LedgerLine

DAY = date(2026, 3, 10)
PAID = "expense-concur-R1"           # posted, paid, its settlement booked: payable cleared
REVERSED = "expense-concur-R2"       # posted, then reversed: payable cleared, nothing paid
E2E = "FSE-R1-G0P1"


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def event(workflow_id: str, n: int, kind: FinanceEventType, amount: str | None = None, **data: Any) -> FeedEntry:
    return FeedEntry(event_id=f"{workflow_id}/run/{n}", type=kind, amount=usd(amount) if amount else None, data=data)


def ledger(erp_id: str, external_id: str | None, debit: str, credit: str, amount: str,
           posting_date: date = DAY) -> LedgerJournal:
    return LedgerJournal(erp_id=erp_id, document_number=f"JE{int(erp_id):06d}", external_id=external_id, entity="US01",
                         posting_date=posting_date, currency="USD",
                         lines=[LedgerLine(account=debit, side=Side.DEBIT, amount=usd(amount)),
                                LedgerLine(account=credit, side=Side.CREDIT, amount=usd(amount))])


def paid_events(amount: str = "84.37", debited: str = "84.37") -> list[FeedEntry]:
    return [event(PAID, 1, FinanceEventType.POSTED, amount, external_id=f"{PAID}:journal-0", erp_id="1001"),
            event(PAID, 2, FinanceEventType.PAYMENT_SENT, "84.37", end_to_end_id=E2E, message_id="FSM-R1-G0P1"),
            event(PAID, 3, FinanceEventType.SETTLEMENT_BOOKED, "84.37", external_id=f"{E2E}:settlement",
                  erp_id="1002", end_to_end_id=E2E, debited=debited, debited_currency="USD", payable="84.37",
                  fx_difference="0"),
            event(PAID, 4, FinanceEventType.PAID, "84.37", platform_told=True)]


REVERSED_EVENTS = [
    event(REVERSED, 1, FinanceEventType.POSTED, "120.00", external_id=f"{REVERSED}:journal-0", erp_id="1003"),
    event(REVERSED, 2, FinanceEventType.REVERSED, "120.00", reverses=f"{REVERSED}:journal-0", erp_id="1004")]

EXPENSE = ledger("1001", f"{PAID}:journal-0", "6120", "2150", "84.37", posting_date=date(2026, 3, 2))
SETTLEMENT = ledger("1002", f"{E2E}:settlement", "2150", "1010", "84.37")
REVERSED_EXPENSE = ledger("1003", f"{REVERSED}:journal-0", "6110", "2150", "120.00")
REVERSAL = ledger("1004", f"{REVERSED}:journal-0-reversal", "2150", "6110", "120.00")
RENT = ledger("1005", None, "6140", "2000", "1500.00")          # entered by hand: not finsync's
DEBIT = BankDebit(end_to_end_id=E2E, message_id="FSM-R1-G0P1", debited=usd("84.37"), booking_date=DAY,
                  bank_reference="BANKREF-1", source="camt.054")


def record(*, paid: list[FeedEntry] | None = None, journals: list[LedgerJournal] | None = None,
           day_journals: list[LedgerJournal] | None = None, debits: list[BankDebit] | None = None,
           trails: list[ReportTrail] | None = None) -> DayRecord:
    """The clean day, with whatever a test changes."""
    journals = [EXPENSE, SETTLEMENT, REVERSED_EXPENSE, REVERSAL] if journals is None else journals
    return DayRecord(
        entity="US01", day=DAY, payable_account="2150", bank_gl_accounts={"USD": "1010"},
        trails=trails if trails is not None else [
            ReportTrail(workflow_id=PAID, report_id="R1", entity="US01", events=paid if paid is not None else paid_events()),
            ReportTrail(workflow_id=REVERSED, report_id="R2", entity="US01", events=REVERSED_EVENTS)],
        debits=[DEBIT] if debits is None else debits, journals=journals,
        day_journals=[j for j in journals if j.posting_date == DAY] + [RENT] if day_journals is None else day_journals)


def kinds(differences: list[Difference]) -> Counter[DifferenceKind]:
    return Counter(d.kind for d in differences)


def only(differences: list[Difference], kind: DifferenceKind) -> Difference:
    found = [d for d in differences if d.kind is kind]
    assert len(found) == 1, differences
    return found[0]


def test_a_clean_day_says_so_in_one_line():
    day = record()
    assert compare(day) == []
    assert headline("US01", DAY, [], counts(day)) == (
        "US01 2026-03-10: clean: feed, ERP and bank agree (2 report(s), 5 ERP journal(s), 1 bank debit(s))")


def test_a_paid_report_whose_payable_is_still_open():
    """Paid before any settlement was booked: the expense journal's credit to 2150 stands alone."""
    differences = compare(record(paid=[e for e in paid_events() if e.type is not FinanceEventType.SETTLEMENT_BOOKED],
                                 journals=[EXPENSE, REVERSED_EXPENSE, REVERSAL], debits=[]))
    assert kinds(differences) == {DifferenceKind.PAYABLE_OPEN: 1}
    open_payable = differences[0]
    assert (open_payable.report_id, open_payable.workflow_id) == ("R1", PAID)
    assert open_payable.found == usd("84.37") and open_payable.expected == usd("0")
    assert open_payable.feed == [f"{PAID}/run/4"]
    assert open_payable.erp == [f"JE001001 (id 1001, external id {PAID}:journal-0)"]
    assert "R1 is paid" in open_payable.summary and "USD 84.37 still owed to the employee" in open_payable.summary


def test_a_bank_debit_with_no_settlement_booked():
    """The bank settled; the workflow has not booked it (nor told the platform) yet. The bank
    account's GL is then short of the debit as well."""
    differences = compare(record(paid=paid_events()[:2], journals=[EXPENSE, REVERSED_EXPENSE, REVERSAL]))
    assert kinds(differences) == {DifferenceKind.DEBIT_NOT_BOOKED: 1, DifferenceKind.BANK_ACCOUNT_MOVEMENT: 1}
    unbooked = only(differences, DifferenceKind.DEBIT_NOT_BOOKED)
    assert (unbooked.report_id, unbooked.feed, unbooked.bank) == ("R1", [PAID], [E2E, "bank reference BANKREF-1"])
    assert unbooked.found == usd("84.37") and "report R1" in unbooked.summary
    movement = only(differences, DifferenceKind.BANK_ACCOUNT_MOVEMENT)
    assert (movement.expected, movement.found, movement.bank) == (usd("84.37"), usd("0"), [E2E])


def test_a_bank_debit_finsync_never_sent_is_named_as_such():
    stranger = BankDebit(end_to_end_id="SOMEONE-ELSE-1", debited=usd("10.00"), booking_date=DAY, source="camt.054")
    differences = compare(record(debits=[DEBIT, stranger]))
    unbooked = only(differences, DifferenceKind.DEBIT_NOT_BOOKED)
    assert unbooked.report_id is None and unbooked.bank == ["SOMEONE-ELSE-1"]
    assert "a payment finsync does not know" in unbooked.summary
    assert only(differences, DifferenceKind.BANK_ACCOUNT_MOVEMENT).expected == usd("94.37")


def test_a_settlement_booking_with_no_bank_debit():
    differences = compare(record(debits=[]))
    assert kinds(differences) == {DifferenceKind.BOOKING_WITHOUT_DEBIT: 1, DifferenceKind.BANK_ACCOUNT_MOVEMENT: 1}
    booking = only(differences, DifferenceKind.BOOKING_WITHOUT_DEBIT)
    assert booking.feed == [f"{PAID}/run/3", f"{E2E}:settlement"]
    assert (booking.erp, booking.bank, booking.expected) == (["ERP id 1002"], [E2E], usd("84.37"))
    movement = only(differences, DifferenceKind.BANK_ACCOUNT_MOVEMENT)
    assert (movement.expected, movement.found) == (usd("0"), usd("84.37"))
    assert movement.erp == [f"JE001002 (id 1002, external id {E2E}:settlement)"]


def test_erp_journals_under_finsync_ids_that_the_feed_does_not_record():
    nobody = ledger("1006", "expense-concur-R9:journal-0", "6120", "2150", "12.00")
    hashed = ledger("1007", step_key("expense-concur-" + "L" * 60, "journal-0"), "6120", "2150", "13.00")
    one_more = ledger("1008", f"{PAID}:journal-1", "6120", "2150", "84.37", posting_date=date(2026, 3, 3))
    journals = [EXPENSE, SETTLEMENT, REVERSED_EXPENSE, REVERSAL, one_more]
    manual = ledger("1009", "RENT-2026-03", "6140", "2000", "900.00")

    differences = compare(record(journals=journals, day_journals=[SETTLEMENT, nobody, hashed, manual, RENT]))

    assert kinds(differences)[DifferenceKind.JOURNAL_NOT_IN_FEED] == 3
    by_erp = {d.erp[0].split()[0]: d for d in differences if d.kind is DifferenceKind.JOURNAL_NOT_IN_FEED}
    assert set(by_erp) == {"JE001006", "JE001007", "JE001008"}
    assert by_erp["JE001006"].report_id is None and "no report in the feed" in by_erp["JE001006"].summary
    assert by_erp["JE001007"].report_id is None
    assert by_erp["JE001008"].report_id == "R1" and "which the feed does not record" in by_erp["JE001008"].summary
    assert by_erp["JE001008"].found == usd("84.37")


def test_a_journal_whose_amount_is_not_the_feeds():
    differences = compare(record(paid=paid_events(amount="84.73")))
    assert kinds(differences) == {DifferenceKind.JOURNAL_AMOUNT: 1}
    wrong = differences[0]
    assert (wrong.expected, wrong.found) == (usd("84.73"), usd("84.37"))
    assert wrong.feed == [f"{PAID}/run/1", f"{PAID}:journal-0"] and wrong.erp[0].startswith("JE001001")


def test_a_settlement_journal_that_clears_another_amount_than_booked():
    short = ledger("1002", f"{E2E}:settlement", "2150", "1010", "80.00")
    differences = compare(record(journals=[EXPENSE, short, REVERSED_EXPENSE, REVERSAL]))
    assert kinds(differences) == {DifferenceKind.JOURNAL_AMOUNT: 1, DifferenceKind.PAYABLE_OPEN: 1,
                                  DifferenceKind.BANK_ACCOUNT_MOVEMENT: 1}
    assert (only(differences, DifferenceKind.JOURNAL_AMOUNT).found, only(differences, DifferenceKind.PAYABLE_OPEN).found) \
        == (usd("80.00"), usd("4.37"))


def test_a_journal_the_feed_records_and_the_erp_does_not_have():
    differences = compare(record(journals=[EXPENSE, SETTLEMENT, REVERSED_EXPENSE]))
    assert kinds(differences) == {DifferenceKind.JOURNAL_NOT_IN_ERP: 1}
    missing = differences[0]
    assert (missing.report_id, missing.feed, missing.expected) == ("R2", [f"{REVERSED}/run/2", "ERP id 1004"],
                                                                   usd("120.00"))


def test_a_bank_debit_for_another_amount_than_the_settlement_booked():
    differences = compare(record(debits=[DEBIT.model_copy(update={"debited": usd("84.40")})]))
    assert kinds(differences) == {DifferenceKind.DEBIT_AMOUNT: 1, DifferenceKind.BANK_ACCOUNT_MOVEMENT: 1}
    wrong = only(differences, DifferenceKind.DEBIT_AMOUNT)
    assert (wrong.expected, wrong.found, wrong.bank) == (usd("84.37"), usd("84.40"), [E2E, "bank reference BANKREF-1"])
    assert headline("US01", DAY, differences, counts(record())).startswith(
        "US01 2026-03-10: 2 difference(s): 1 bank_account_movement, 1 debit_amount (")


def test_finsync_external_ids_and_their_owners():
    long_workflow = "expense-concur-" + "L" * 60
    assert is_finsync_external_id("expense-concur-R1:journal-0")
    assert is_finsync_external_id("expense-concur-R1:journal-2-reversal")
    assert is_finsync_external_id("FSE-R1-G0P1:settlement")
    assert is_finsync_external_id(step_key(long_workflow, "journal-0"))
    assert not is_finsync_external_id("RENT-2026-03") and not is_finsync_external_id(None)
    assert owner_of("expense-concur-R1:journal-1-reversal") == ("expense-concur-R1", None)
    assert owner_of("FSE-R1-G0P1:settlement") == (None, "FSE-R1-G0P1")
    assert owner_of(step_key(long_workflow, "journal-0")) == (None, None)


def test_a_payment_returned_and_paid_again_on_the_day_is_clean():
    """The bank sent R1's payment back (its settlement reversed, the money credited back) and a
    second payment settled: payable nets to zero, the bank account moved by debits less returns."""
    again = "FSE-R1-G0P2"
    events = [*paid_events()[:3],
              event(PAID, 5, FinanceEventType.PAYMENT_RETURNED, "84.37", external_id=f"{E2E}:settlement-return",
                    erp_id="1006", end_to_end_id=E2E, reverses=f"{E2E}:settlement", credited="84.37"),
              event(PAID, 6, FinanceEventType.PAYMENT_SENT, "84.37", end_to_end_id=again, message_id="FSM-R1-G0P2"),
              event(PAID, 7, FinanceEventType.SETTLEMENT_BOOKED, "84.37", external_id=f"{again}:settlement",
                    erp_id="1007", end_to_end_id=again, debited="84.37", debited_currency="USD", payable="84.37"),
              event(PAID, 8, FinanceEventType.PAID, "84.37")]
    returned = ledger("1006", f"{E2E}:settlement-return", "1010", "2150", "84.37")
    second = ledger("1007", f"{again}:settlement", "2150", "1010", "84.37")
    credited_back = DEBIT.model_copy(update={"bank_reference": "RTN-1"})
    second_debit = DEBIT.model_copy(update={"end_to_end_id": again, "message_id": "FSM-R1-G0P2", "bank_reference": "B2"})
    day = record(paid=events, journals=[EXPENSE, SETTLEMENT, returned, second, REVERSED_EXPENSE, REVERSAL],
                 debits=[DEBIT, second_debit]).model_copy(update={"returns": [credited_back]})
    assert compare(day) == []
    assert is_finsync_external_id(f"{E2E}:settlement-return")
    # Without the bank's credit back, the bank account's GL would not match: the return is counted.
    assert kinds(compare(day.model_copy(update={"returns": []}))) == {DifferenceKind.BANK_ACCOUNT_MOVEMENT: 1}


def through_payroll_events(cleared: str = "84.37") -> list[FeedEntry]:
    """Paid with the employee's net pay: no bank payment or settlement of its own."""
    return [event(PAID, 1, FinanceEventType.POSTED, "84.37", external_id=f"{PAID}:journal-0", erp_id="1001"),
            event(PAID, 2, FinanceEventType.PAYMENT_SENT, "84.37", channel="payroll", reference=f"{PAID}:payroll-1"),
            event(PAID, 3, FinanceEventType.PAID, "84.37", channel="payroll", run="workday:PR-1:v1",
                  cleared=cleared, cleared_currency="USD")]


def test_a_report_paid_with_net_pay_has_its_payable_cleared_by_the_payroll_journal():
    day = record(paid=through_payroll_events(), journals=[EXPENSE, REVERSED_EXPENSE, REVERSAL], debits=[])
    assert compare(day) == []
    # Payroll cleared less than the expense owes: the rest is still open, and said so.
    short = compare(day.model_copy(update={"trails": [day.trails[0].model_copy(update={
        "events": through_payroll_events(cleared="80.00")}), day.trails[1]]}))
    assert only(short, DifferenceKind.PAYABLE_OPEN).found == usd("4.37")


def test_net_pay_booked_against_the_bank_account_counts_as_its_movement():
    payroll = ledger("1006", "NP-PR1v1US01-net0:net-pay", "2250", "1010", "25000.00")
    booked = PayrollFileBooked(message_id="NP-PR1v1US01-net0", paid=usd("25000.00"), gl_account="1010")
    clean = record(day_journals=[SETTLEMENT, REVERSED_EXPENSE, REVERSAL, RENT, payroll])
    assert compare(clean.model_copy(update={"payroll_files": [booked]})) == []
    # Booked in the ERP with no payroll file behind it: the GL moved by more than the bank debited.
    moved = only(compare(clean), DifferenceKind.BANK_ACCOUNT_MOVEMENT)
    assert moved.expected == usd("84.37") and moved.found == usd("25084.37")
