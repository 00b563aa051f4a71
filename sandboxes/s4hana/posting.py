"""Posting a draft against the ledger: the checks S/4HANA makes, the document it creates, and the
log it answers with. Nothing is posted unless every check passes.

Log messages (sandbox choices in SAP's ``number(class)`` form; SAP's own numbers and wording are
not public for every case). Severity 1 is success, 3 an error:

| TypeID     | when                                                                  |
|------------|-----------------------------------------------------------------------|
| 614(RW)    | posted                                                                |
| 609(RW)    | first item of every refusal: "Error in document: BKPFF <ref> <system>" |
| 022(RW)    | the reference is already posted (names the accounting document)       |
| 165(F5)    | unknown company code                                                  |
| 107(F5)    | no posting period covers the posting date                             |
| 201(F5)    | the posting period is not open (names the period)                     |
| 702(F5)    | the items do not net to zero in a currency                            |
| 076(F5)    | unknown currency, or more decimals than the currency has              |
| 010(FH)    | unknown GL account                                                    |
| 011(FH)    | GL account blocked for posting                                        |
| 116(KI)    | unknown cost center                                                   |
| 235(KI)    | cost center of another company code                                   |
| 142(KI)    | cost center blocked against primary postings                          |
| 404(F5A)   | reversal: nothing posted under the reference to reverse               |
| 405(F5A)   | reversal: already reversed (names the reversal document)              |
| 406(F5A)   | reversal: unknown reversal reason                                     |
| 407(F5A)   | reversal: the original is in another company code                     |
| 408(F5A)   | reversal: the original is itself a reversal                           |
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, func, select

from sandboxes.s4hana.messages import EntryDraft, Reference, ReversalDraft
from sandboxes.s4hana.seed import gl_account_key
from sandboxes.s4hana.tables import CompanyCode, CostCenter, GLAccount, JournalDocument, JournalItem, PostingPeriod

SUCCESS, ERROR = 1, 3
FIRST_DOCUMENT_NUMBER = 100000000
# The currencies the sandbox knows, with their decimal places (SAP's TCURC / TCURX).
CURRENCY_DECIMALS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "CAD": 2, "JPY": 0}
# 01: reversal in the current period; 02: reversal in a closed period (posted in an open one).
REVERSAL_REASONS = {"01", "02"}


@dataclass(frozen=True)
class LogItem:
    type_id: str
    severity: int
    note: str


@dataclass(frozen=True)
class Outcome:
    posted: bool
    company_code: str
    accounting_document: str | None = None
    fiscal_year: int | None = None
    log: tuple[LogItem, ...] = ()


def _error(type_id: str, note: str) -> LogItem:
    return LogItem(type_id, ERROR, note)


def _refused(reference: Reference, company_code: str, errors: list[LogItem]) -> Outcome:
    umbrella = _error("609(RW)", f"Error in document: {reference.document_type} {reference.document} "
                                 f"{reference.logical_system}")
    return Outcome(posted=False, company_code=company_code, log=(umbrella, *errors))


def _document_key(document: JournalDocument) -> str:
    return f"{document.accounting_document} (company code {document.company_code}, fiscal year {document.fiscal_year})"


def posted_under(db: Session, reference: Reference | tuple[str, str]) -> JournalDocument | None:
    document, system = (reference.document, reference.logical_system) if isinstance(reference, Reference) else reference
    return db.exec(select(JournalDocument).where(JournalDocument.original_reference_document == document,
                                                 JournalDocument.logical_system == system)).first()


def _duplicate(db: Session, reference: Reference) -> LogItem | None:
    existing = posted_under(db, reference)
    if existing is None:
        return None
    return _error("022(RW)", f"Reference document {reference.document_type} {reference.document} "
                             f"{reference.logical_system} is already posted as accounting document {_document_key(existing)}.")


def _period(db: Session, posting_date: date) -> tuple[PostingPeriod | None, LogItem | None]:
    period = db.exec(select(PostingPeriod).where(PostingPeriod.start <= posting_date,
                                                 PostingPeriod.end >= posting_date)).first()
    if period is None:
        return None, _error("107(F5)", f"No posting period is defined for posting date {posting_date.isoformat()}.")
    if not period.open:
        return period, _error("201(F5)", f"Posting period {period.period:03d} {period.fiscal_year} ({period.name}) is not "
                                         f"open for posting date {posting_date.isoformat()}.")
    return period, None


def _item_errors(db: Session, draft: EntryDraft) -> list[LogItem]:
    errors = []
    for number, item in enumerate(draft.items, start=1):
        where = f"(item {number:03d})"
        account = db.get(GLAccount, gl_account_key(item.gl_account))
        if account is None:
            errors.append(_error("010(FH)", f"G/L account {gl_account_key(item.gl_account)} is not defined in company "
                                            f"code {draft.company_code} {where}."))
        elif account.blocked:
            errors.append(_error("011(FH)", f"G/L account {account.gl_account} ({account.name}) is blocked for posting "
                                            f"in company code {draft.company_code} {where}."))
        if item.cost_center is not None:
            errors += _cost_center_errors(db, draft, item.cost_center, where)
        decimals = CURRENCY_DECIMALS.get(item.currency)
        if decimals is None:
            errors.append(_error("076(F5)", f"Currency {item.currency} is not defined {where}."))
        elif item.amount != item.amount.quantize(Decimal(1).scaleb(-decimals)):
            errors.append(_error("076(F5)", f"Amount {item.amount} has more decimal places than currency {item.currency} "
                                            f"allows ({decimals}) {where}."))
    return errors


def _cost_center_errors(db: Session, draft: EntryDraft, cost_center: str, where: str) -> list[LogItem]:
    center = db.get(CostCenter, (draft.company_code, cost_center))
    if center is not None:
        if center.blocked:
            return [_error("142(KI)", f"Cost center {draft.company_code}/{cost_center} ({center.name}) is blocked "
                                      f"against primary postings {where}.")]
        return []
    elsewhere = db.exec(select(CostCenter).where(CostCenter.cost_center == cost_center)).first()
    if elsewhere is not None:
        return [_error("235(KI)", f"Cost center {cost_center} belongs to company code {elsewhere.company_code}, "
                                  f"not {draft.company_code} {where}.")]
    return [_error("116(KI)", f"Cost center {draft.company_code}/{cost_center} does not exist on "
                              f"{draft.posting_date.isoformat()} {where}.")]


def _balance_errors(draft: EntryDraft) -> list[LogItem]:
    net: dict[str, Decimal] = defaultdict(Decimal)
    for item in draft.items:
        net[item.currency] += item.amount
    return [_error("702(F5)", f"Balance in transaction currency {currency}: {balance} (the items must net to zero).")
            for currency, balance in sorted(net.items()) if balance != 0]


def _next_number(db: Session, company_code: str, fiscal_year: int) -> str:
    highest = db.exec(select(func.max(JournalDocument.accounting_document)).where(
        JournalDocument.company_code == company_code, JournalDocument.fiscal_year == fiscal_year)).one()
    return f"{int(highest) + 1 if highest else FIRST_DOCUMENT_NUMBER:010d}"


def _posted(document: JournalDocument) -> Outcome:
    reference = f"{document.reference_document_type} {document.original_reference_document} {document.logical_system}"
    return Outcome(posted=True, company_code=document.company_code, accounting_document=document.accounting_document,
                   fiscal_year=document.fiscal_year, log=(LogItem(
                       "614(RW)", SUCCESS, f"Document posted successfully: {reference} (accounting document "
                                           f"{_document_key(document)})."),))


def _new_document(db: Session, reference: Reference, company_code: str, period: PostingPeriod, posting_date: date,
                  document_date: date, header_text: str | None, *, reverses_document: str | None = None,
                  reversal_reason: str | None = None) -> JournalDocument:
    document = JournalDocument(
        company_code=company_code, accounting_document=_next_number(db, company_code, period.fiscal_year),
        fiscal_year=period.fiscal_year, fiscal_period=period.period, reference_document_type=reference.document_type,
        original_reference_document=reference.document, logical_system=reference.logical_system,
        header_text=header_text, document_date=document_date, posting_date=posting_date, created_at=time.time(),
        reverses_document=reverses_document, reversal_reason=reversal_reason)
    db.add(document)
    return document


def post_entry(db: Session, draft: EntryDraft) -> Outcome:
    """Post the entry, or refuse it with every reason found. The caller commits."""
    duplicate = _duplicate(db, draft.reference)
    if duplicate is not None:
        return _refused(draft.reference, draft.company_code, [duplicate])
    if db.get(CompanyCode, draft.company_code) is None:
        return _refused(draft.reference, draft.company_code,
                        [_error("165(F5)", f"Company code {draft.company_code} is not defined.")])
    period, period_error = _period(db, draft.posting_date)
    errors = ([period_error] if period_error else []) + _item_errors(db, draft) + _balance_errors(draft)
    if errors or period is None:
        return _refused(draft.reference, draft.company_code, errors)
    document = _new_document(db, draft.reference, draft.company_code, period, draft.posting_date, draft.document_date,
                             draft.header_text)
    for number, item in enumerate(draft.items, start=1):
        db.add(JournalItem(company_code=document.company_code, accounting_document=document.accounting_document,
                           fiscal_year=document.fiscal_year, item=number, gl_account=gl_account_key(item.gl_account),
                           cost_center=item.cost_center, amount=str(item.amount), currency=item.currency,
                           item_text=item.item_text))
    return _posted(document)


def reverse(db: Session, draft: ReversalDraft) -> Outcome:
    """Post the reversal of the document posted under ``draft.reversed_document``: every item
    negated, the original marked reversed. The caller commits."""
    duplicate = _duplicate(db, draft.reference)
    if duplicate is not None:
        return _refused(draft.reference, draft.company_code, [duplicate])
    original = posted_under(db, (draft.reversed_document, draft.reference.logical_system))
    if original is None:
        return _refused(draft.reference, draft.company_code, [_error(
            "404(F5A)", f"No document is posted under reference {draft.reference.document_type} {draft.reversed_document} "
                        f"{draft.reference.logical_system}: there is nothing to reverse.")])
    problems = []
    if original.company_code != draft.company_code:
        problems.append(_error("407(F5A)", f"Accounting document {_document_key(original)} is not in company code "
                                           f"{draft.company_code}."))
    if original.reversed_by_document is not None:
        problems.append(_error("405(F5A)", f"Accounting document {_document_key(original)} is already reversed by "
                                           f"document {original.reversed_by_document}."))
    if original.reverses_document is not None:
        problems.append(_error("408(F5A)", f"Accounting document {_document_key(original)} is itself the reversal of "
                                           f"document {original.reverses_document}: it cannot be reversed."))
    if draft.reason not in REVERSAL_REASONS:
        problems.append(_error("406(F5A)", f"Reversal reason {draft.reason} is not defined (01: reversal in the current "
                                           "period, 02: reversal in a closed period)."))
    period, period_error = _period(db, draft.posting_date)
    if period_error:
        problems.append(period_error)
    if problems or period is None:
        return _refused(draft.reference, draft.company_code, problems)
    document = _new_document(db, draft.reference, original.company_code, period, draft.posting_date, draft.posting_date,
                             f"Reversal of {original.accounting_document}"[:25],
                             reverses_document=original.accounting_document, reversal_reason=draft.reason)
    items = db.exec(select(JournalItem).where(
        JournalItem.company_code == original.company_code, JournalItem.accounting_document == original.accounting_document,
        JournalItem.fiscal_year == original.fiscal_year).order_by(col(JournalItem.item))).all()
    for item in items:
        db.add(JournalItem(company_code=document.company_code, accounting_document=document.accounting_document,
                           fiscal_year=document.fiscal_year, item=item.item, gl_account=item.gl_account,
                           cost_center=item.cost_center, amount=str(-Decimal(item.amount)), currency=item.currency,
                           item_text=item.item_text))
    original.reversed_by_document = document.accounting_document
    original.reversal_reason = draft.reason
    db.add(original)
    return _posted(document)


def process(db: Session, draft: EntryDraft | ReversalDraft) -> Outcome:
    return post_entry(db, draft) if isinstance(draft, EntryDraft) else reverse(db, draft)
