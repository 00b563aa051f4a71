"""One entity's day, reconciled: finsync's feed against the ERP's journals and the bank's debits.

Pure: everything compared is handed in (``activities/reconcile.py`` reads it, and alone calls
this), so each kind of difference can be shown with data built by hand.

What is compared: every report with feed activity on the day, a bank debit booked on the day, or
a journal dated or entered on the day, each checked whole (all its journals, whatever their
date); the entity's journals of the day; and each of its bank accounts' GL movement on the day
against the bank's debits. A report's journals are found by the external ids finsync gives them
(``canonical/keys.py``): ``<workflow id>:journal-<n>`` and ``<workflow id>:journal-<n>-reversal``
(a hash of that when longer than 64 characters), and ``<EndToEndId>:settlement``.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from canonical import FinanceEventType, Money
from canonical.keys import step_key
from canonical.money import total
from canonical.settlement import settlement_external_id
from connectors.interfaces import LedgerJournal

JOURNAL_EVENTS = (FinanceEventType.POSTED, FinanceEventType.REVERSED, FinanceEventType.SETTLEMENT_BOOKED,
                  FinanceEventType.PAYMENT_RETURNED)
# The events that put a report in a day's reconciliation, and all that the comparison reads.
MONEY_EVENTS = (*JOURNAL_EVENTS, FinanceEventType.PAYMENT_SENT, FinanceEventType.PAID)

_JOURNAL_ID = re.compile(r"(?P<workflow>.+):journal-\d+(-reversal)?")
_SETTLEMENT_ID = re.compile(r"(?P<end_to_end_id>.+):settlement(-return)?")   # a return reverses the settlement
# canonical.keys.step_key of a key over 64 characters: its SHA-256 in base32, 52 characters.
_HASHED_ID = re.compile(r"[A-Z2-7]{52}")


def is_finsync_external_id(external_id: str | None) -> bool:
    return external_id is not None and any(
        pattern.fullmatch(external_id) for pattern in (_JOURNAL_ID, _SETTLEMENT_ID, _HASHED_ID))


def owner_of(external_id: str) -> tuple[str | None, str | None]:
    """(workflow id, EndToEndId) a finsync external id names; (None, None) for a hashed one,
    which only the feed can place."""
    if match := _JOURNAL_ID.fullmatch(external_id):
        return match["workflow"], None
    if match := _SETTLEMENT_ID.fullmatch(external_id):
        return None, match["end_to_end_id"]
    return None, None


class FeedEntry(BaseModel):
    """One of a report's finance events, as the feed holds it."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    type: FinanceEventType
    amount: Money | None = None
    data: dict[str, Any] = {}


class ReportTrail(BaseModel):
    """What the feed says about one report's money: its journal, payment and settlement events."""

    workflow_id: str
    report_id: str
    entity: str | None = None
    events: list[FeedEntry] = []

    def of(self, kind: FinanceEventType) -> list[FeedEntry]:
        return [event for event in self.events if event.type is kind]

    def candidate_external_ids(self) -> set[str]:
        """Every external id a journal of this report can have: those its events name, and those
        finsync would give one more journal or reversal than the feed records, or a settlement of
        any of its payments (so a journal whose event is missing is found too)."""
        generations = len(self.of(FinanceEventType.POSTED)) + 1
        ids = {step_key(self.workflow_id, f"journal-{n}{suffix}") for n in range(generations)
               for suffix in ("", "-reversal")}
        ids |= {settlement_external_id(e.data["end_to_end_id"]) for e in self.events
                if e.type in (FinanceEventType.PAYMENT_SENT, FinanceEventType.SETTLEMENT_BOOKED)
                and e.data.get("end_to_end_id")}
        return ids | {e.data["external_id"] for e in self.events if e.data.get("external_id")}


class BankDebit(BaseModel):
    """Money that left one of the company's accounts, as the bank reported it."""

    model_config = ConfigDict(frozen=True)

    end_to_end_id: str
    message_id: str = ""
    debited: Money                   # in the account's currency
    booking_date: date | None = None
    bank_reference: str | None = None
    source: str = ""                 # camt.054, lookup


class PayrollFileBooked(BaseModel):
    """Net pay that left one of the entity's accounts in a payroll file, as the payroll process booked
    it (it matched the file against the bank's camt.053 itself)."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    paid: Money
    gl_account: str                  # the paying account's GL account, credited by the booking


class DayRecord(BaseModel):
    """Everything one entity's day is reconciled from."""

    entity: str
    day: date
    payable_account: str             # the employee payable (config/expense-accounts.toml)
    bank_gl_accounts: dict[str, str] = {}    # currency -> GL account of the entity's bank account in it
    trails: list[ReportTrail] = []
    # The bank's debits for the trails' payments, whatever their day, and those of unknown origin
    # booked on the day from the entity's accounts.
    debits: list[BankDebit] = []
    returns: list[BankDebit] = []            # money the bank credited back on the day (returned payments)
    journals: list[LedgerJournal] = []       # the ERP's journals under the trails' candidate external ids
    day_journals: list[LedgerJournal] = []   # the entity's journals dated or entered on the day
    payroll_files: list[PayrollFileBooked] = []   # net pay booked on the day in this ERP


class DifferenceKind(StrEnum):
    PAYABLE_OPEN = "payable_open"                    # paid, but the employee payable is not cleared in the ERP
    DEBIT_NOT_BOOKED = "debit_not_booked"            # the bank debited; no settlement was booked
    BOOKING_WITHOUT_DEBIT = "booking_without_debit"  # a settlement was booked; the bank shows no debit
    JOURNAL_NOT_IN_FEED = "journal_not_in_feed"      # an ERP journal under a finsync external id the feed does not record
    JOURNAL_NOT_IN_ERP = "journal_not_in_erp"        # the feed records a journal the ERP does not have
    JOURNAL_AMOUNT = "journal_amount"                # a journal's amount is not the feed's
    DEBIT_AMOUNT = "debit_amount"                    # the bank debited other than the settlement booked
    BANK_ACCOUNT_MOVEMENT = "bank_account_movement"  # a bank account's GL moved other than the bank's debits


class Difference(BaseModel):
    """One disagreement, with the documents on each side that show it."""

    model_config = ConfigDict(frozen=True)

    kind: DifferenceKind
    summary: str                     # one sentence finance reads
    report_id: str | None = None
    workflow_id: str | None = None
    feed: list[str] = []             # finsync's side: workflow id, event ids, external ids
    erp: list[str] = []              # the ERP's documents: number, internal id, external id
    bank: list[str] = []             # the bank's: EndToEndId, bank reference
    expected: Money | None = None    # what the feed (or for a bank account, the bank) says
    found: Money | None = None       # what the other side holds


class Counts(BaseModel):
    reports: int = 0
    journals: int = 0
    debits: int = 0


def counts(record: DayRecord) -> Counts:
    journals = {j.erp_id for j in record.journals} | {j.erp_id for j in record.day_journals}
    return Counts(reports=len(record.trails), journals=len(journals), debits=len(record.debits))


def compare(record: DayRecord) -> list[Difference]:
    by_external_id = {j.external_id: j for j in record.journals if j.external_id}
    by_erp_id = {j.erp_id: j for j in record.journals}
    debits = {d.end_to_end_id: d for d in record.debits}
    differences: list[Difference] = []
    claimed: set[str] = set()        # ERP ids of the journals some report accounts for
    for trail in record.trails:
        journals = [by_external_id[eid] for eid in sorted(trail.candidate_external_ids()) if eid in by_external_id]
        claimed |= {j.erp_id for j in journals}
        differences += _journals(trail, journals, by_external_id, by_erp_id, record.payable_account)
        differences += _payable(trail, journals, record.payable_account)
        differences += _settlements(trail, debits)
    booked = {e.data.get("end_to_end_id") for t in record.trails for e in t.of(FinanceEventType.SETTLEMENT_BOOKED)}
    differences += [_not_booked(debit, record.trails) for debit in record.debits if debit.end_to_end_id not in booked]
    differences += [_unknown_journal(j) for j in record.day_journals
                    if j.erp_id not in claimed and is_finsync_external_id(j.external_id)]
    differences += _bank_accounts(record)
    return differences


def headline(entity: str, day: date, differences: list[Difference], checked: Counts) -> str:
    """The day in one line, for the log, the feed and the workflow's details."""
    scope = (f"{checked.reports} report(s), {checked.journals} ERP journal(s), "
             f"{checked.debits} bank debit(s)")
    if not differences:
        return f"{entity} {day}: clean: feed, ERP and bank agree ({scope})"
    kinds = Counter(d.kind.value for d in differences)
    named = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    return f"{entity} {day}: {len(differences)} difference(s): {named} ({scope})"


# --- per report --------------------------------------------------------------------------------
def _journals(trail: ReportTrail, journals: list[LedgerJournal], by_external_id: dict[str, LedgerJournal],
              by_erp_id: dict[str, LedgerJournal], payable_account: str) -> list[Difference]:
    """Each journal the feed records is in the ERP for the same amount (a settlement's: the payable
    it clears); the ERP has no other journal of the report."""
    found: list[Difference] = []
    accounted: set[str] = set()
    for event in trail.events:
        if event.type not in JOURNAL_EVENTS:
            continue
        external_id = event.data.get("external_id")
        # A reversal's event names the ERP's id only (its external id derives from the original's).
        journal = by_external_id.get(external_id) if external_id else by_erp_id.get(str(event.data.get("erp_id")))
        named = external_id or f"ERP id {event.data.get('erp_id')}"
        if journal is None:
            found.append(_about(trail, DifferenceKind.JOURNAL_NOT_IN_ERP, feed=[event.event_id, named],
                                expected=event.amount, summary=(
                                    f"The feed records the {event.type.value} journal {named} of report "
                                    f"{trail.report_id}, which the ERP does not have.")))
            continue
        accounted.add(journal.erp_id)
        settlement = event.type in (FinanceEventType.SETTLEMENT_BOOKED, FinanceEventType.PAYMENT_RETURNED)
        # A settlement clears the payable (a debit); its return reopens it (a credit).
        net = journal.net(payable_account)
        amount = (-net if event.type is FinanceEventType.PAYMENT_RETURNED else net) if settlement else journal.total()
        if event.amount is not None and amount != event.amount:
            what = "clears" if settlement else "is for"
            found.append(_about(trail, DifferenceKind.JOURNAL_AMOUNT, feed=[event.event_id, named], erp=[_doc(journal)],
                                expected=event.amount, found=amount, summary=(
                                    f"Journal {journal.document_number} of report {trail.report_id} {what} {amount}; "
                                    f"the feed's {event.type.value} event says {event.amount}.")))
    for journal in journals:
        if journal.erp_id not in accounted:
            found.append(_about(trail, DifferenceKind.JOURNAL_NOT_IN_FEED, feed=[trail.workflow_id], erp=[_doc(journal)],
                                found=journal.total(), summary=(
                                    f"The ERP has journal {journal.document_number} ({journal.external_id}) of report "
                                    f"{trail.report_id}, which the feed does not record.")))
    return found


def _payable(trail: ReportTrail, journals: list[LedgerJournal], payable_account: str) -> list[Difference]:
    """A paid report's employee payable nets to zero over its journals (expense, reversal, settlement),
    or what the payroll journal cleared of it when the employee was paid with net pay."""
    paid = trail.of(FinanceEventType.PAID)
    if not paid or not journals:
        return []
    through_payroll = [Money.of(str(e.data["cleared"]), str(e.data["cleared_currency"])) for e in paid
                       if e.data.get("channel") == "payroll" and e.data.get("cleared") is not None]
    found = []
    for currency in sorted({j.currency for j in journals}):
        owed = -total([j.net(payable_account) for j in journals if j.currency == currency], currency) - total(
            [cleared for cleared in through_payroll if cleared.currency == currency], currency)
        if not owed.is_zero:
            state = "still owed to the employee" if owed.amount > 0 else "debited beyond what was owed"
            found.append(_about(trail, DifferenceKind.PAYABLE_OPEN, feed=[paid[-1].event_id],
                                erp=[_doc(j) for j in journals], expected=Money.zero(currency), found=owed, summary=(
                                    f"Report {trail.report_id} is paid, but its employee payable ({payable_account}) "
                                    f"is not cleared in the ERP: {owed} {state}.")))
    return found


def _settlements(trail: ReportTrail, debits: dict[str, BankDebit]) -> list[Difference]:
    """Each settlement booked has its bank debit, for the amount booked."""
    found: list[Difference] = []
    for event in trail.of(FinanceEventType.SETTLEMENT_BOOKED):
        e2e = str(event.data.get("end_to_end_id", ""))
        debit = debits.get(e2e)
        booked = _booked_debit(event)
        feed = [event.event_id, str(event.data.get("external_id", ""))]
        erp = [f"ERP id {event.data['erp_id']}"] if event.data.get("erp_id") else []
        if debit is None:
            found.append(_about(trail, DifferenceKind.BOOKING_WITHOUT_DEBIT, feed=feed, erp=erp, bank=[e2e],
                                expected=booked, summary=(
                                    f"A settlement of payment {e2e} (report {trail.report_id}) was booked, "
                                    "but the bank reports no debit for it.")))
        elif booked is not None and booked != debit.debited:
            found.append(_about(trail, DifferenceKind.DEBIT_AMOUNT, feed=feed, erp=erp, bank=_bank_docs(debit),
                                expected=booked, found=debit.debited, summary=(
                                    f"The bank debited {debit.debited} for payment {e2e} (report {trail.report_id}); "
                                    f"the settlement booked says {booked}.")))
    return found


def _booked_debit(event: FeedEntry) -> Money | None:
    amount, currency = event.data.get("debited"), event.data.get("debited_currency")
    return Money.of(amount, str(currency)) if amount is not None and currency else None


# --- per day -------------------------------------------------------------------------------------
def _not_booked(debit: BankDebit, trails: list[ReportTrail]) -> Difference:
    trail = next((t for t in trails for e in t.of(FinanceEventType.PAYMENT_SENT)
                  if e.data.get("end_to_end_id") == debit.end_to_end_id), None)
    whose = f"report {trail.report_id}" if trail else "a payment finsync does not know"
    return Difference(kind=DifferenceKind.DEBIT_NOT_BOOKED, report_id=trail.report_id if trail else None,
                      workflow_id=trail.workflow_id if trail else None, feed=[trail.workflow_id] if trail else [],
                      bank=_bank_docs(debit), found=debit.debited, summary=(
                          f"The bank debited {debit.debited} for payment {debit.end_to_end_id} ({whose}) on "
                          f"{debit.booking_date}, and no settlement is booked for it."))


def _unknown_journal(journal: LedgerJournal) -> Difference:
    return Difference(kind=DifferenceKind.JOURNAL_NOT_IN_FEED, erp=[_doc(journal)], found=journal.total(), summary=(
        f"The ERP has journal {journal.document_number} under finsync's external id {journal.external_id}, "
        "and no report in the feed accounts for it."))


def _bank_accounts(record: DayRecord) -> list[Difference]:
    """Each bank account's GL account is credited on the day by what the bank debited from it.
    Journals in another currency than the account's are not compared."""
    found = []
    for currency, gl_account in sorted(record.bank_gl_accounts.items()):
        journals = [j for j in record.day_journals if j.posting_date == record.day and j.currency == currency
                    and any(line.account == gl_account for line in j.lines)]
        credited = -total([j.net(gl_account) for j in journals], currency)
        debits = [d for d in record.debits if d.booking_date == record.day and d.debited.currency == currency]
        returns = [r for r in record.returns if r.booking_date == record.day and r.debited.currency == currency]
        payroll = [f for f in record.payroll_files if f.gl_account == gl_account and f.paid.currency == currency]
        debited = (total([d.debited for d in debits], currency) - total([r.debited for r in returns], currency)
                   + total([f.paid for f in payroll], currency))
        if credited != debited:
            found.append(Difference(
                kind=DifferenceKind.BANK_ACCOUNT_MOVEMENT, erp=[_doc(j) for j in journals],
                bank=[d.end_to_end_id for d in debits] + [f.message_id for f in payroll], expected=debited,
                found=credited, summary=(
                    f"On {record.day} the bank debited {debited} from {record.entity}'s {currency} account"
                    + (" (net pay files included)" if payroll else "") + f"; its GL account {gl_account} was "
                    f"credited {credited}.")))
    return found


# --- wording -------------------------------------------------------------------------------------
def _about(trail: ReportTrail, kind: DifferenceKind, *, summary: str, feed: list[str], erp: list[str] | None = None,
           bank: list[str] | None = None, expected: Money | None = None, found: Money | None = None) -> Difference:
    return Difference(kind=kind, summary=summary, report_id=trail.report_id, workflow_id=trail.workflow_id,
                      feed=feed, erp=erp or [], bank=bank or [], expected=expected, found=found)


def _doc(journal: LedgerJournal) -> str:
    return f"{journal.document_number} (id {journal.erp_id}" + (
        f", external id {journal.external_id})" if journal.external_id else ")")


def _bank_docs(debit: BankDebit) -> list[str]:
    return [debit.end_to_end_id] + ([f"bank reference {debit.bank_reference}"] if debit.bank_reference else [])
