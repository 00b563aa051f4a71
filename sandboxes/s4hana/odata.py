"""Read back through OData V2, in its JSON shape (``{"d": {"results": [...]}}``, dates as
``/Date(ms)/``, decimals as strings): posted journal entry items, and what became of each inbound
entry.

``$filter`` is parsed narrowly, never handed to SQL: equality on a few fields, or-lists of one
field (in parentheses when there is more than one condition), joined by ``and``::

    OriginalReferenceDocument eq 'PAY-1' and OriginalReferenceDocumentLogicalSystem eq 'FINSYNC'
    (OriginalReferenceDocument eq 'PAY-1' or OriginalReferenceDocument eq 'PAY-2') and CompanyCode eq '1010'

Each field maps to a column; values become bound parameters. ``$top`` (at most 5000) and
``$skip`` page; without ``$top`` a page holds 1000 rows and ``__next`` links the next.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from sandboxes.kit.db import session
from sandboxes.s4hana.tables import InboundEntry, InboundMessage, JournalDocument, JournalItem

ITEMS_SERVICE = "/sap/opu/odata/sap/API_JOURNALENTRYITEMBASIC_SRV"
ITEMS_PATH = ITEMS_SERVICE + "/A_JournalEntryItemBasic"
# Sandbox assumption: S/4HANA Cloud has no public API for the asynchronous messages' log (the
# Message Dashboard shows it); modelled as a custom CDS view a key user would expose (YY1_ prefix).
CONFIRMATIONS_SERVICE = "/sap/opu/odata/sap/YY1_JOURNALENTRYCONFIRM_CDS"
CONFIRMATIONS_PATH = CONFIRMATIONS_SERVICE + "/YY1_JournalEntryConfirm"

PAGE_SIZE, MAX_TOP = 1000, 5000
MAX_FILTER_LENGTH, MAX_TERMS = 8000, 200
_TOKEN = re.compile(r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<string>'(?:[^']|'')*')|(?P<word>[A-Za-z_][A-Za-z0-9_]*))")


class ODataError(Exception):
    """An OData error answer: ``{"error": {"code": ..., "message": {"lang": "en", "value": ...}}}``."""

    def __init__(self, status: int, message: str, code: str = "SY/530") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": {"lang": "en", "value": self.message}}}


@dataclass(frozen=True)
class Page:
    top: int
    skip: int
    explicit_top: bool


# --- $filter ------------------------------------------------------------------------------------
def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() == "":
                break
            raise ODataError(400, f"$filter cannot be read at position {position + 1}.")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def parse_filter(text: str, fields: Mapping[str, Any]) -> dict[str, set[str]]:
    """Field -> the values it may equal; ``fields`` are the filterable ones."""
    if len(text) > MAX_FILTER_LENGTH:
        raise ODataError(400, f"$filter is longer than {MAX_FILTER_LENGTH} characters.")
    tokens = _tokens(text)
    position = 0

    def take(kind: str, value: str | None = None) -> str:
        nonlocal position
        if position >= len(tokens) or tokens[position][0] != kind or (value is not None and tokens[position][1] != value):
            raise ODataError(400, f"$filter: expected {value or kind} after {position} token(s); the sandbox reads "
                                  "conditions like Field eq 'value', joined by and, or-lists in parentheses.")
        position += 1
        return tokens[position - 1][1]

    def term() -> tuple[str, str]:
        field = take("word")
        if field not in fields:
            raise ODataError(400, f"$filter: {field[:60]} cannot be filtered; use one of {', '.join(fields)}.")
        take("word", "eq")
        return field, take("string")[1:-1].replace("''", "'")

    def or_list() -> list[tuple[str, str]]:
        terms = [term()]
        while position < len(tokens) and tokens[position] == ("word", "or"):
            take("word", "or")
            terms.append(term())
        if len({field for field, _ in terms}) > 1:
            raise ODataError(400, "$filter: an or-list compares one field only.")
        return terms

    groups: list[tuple[bool, list[tuple[str, str]]]] = []
    while True:
        if position < len(tokens) and tokens[position][0] == "open":
            take("open")
            groups.append((True, or_list()))
            take("close")
        else:
            groups.append((False, or_list()))
        if position == len(tokens):
            break
        take("word", "and")
    if len(groups) > 1 and any(not parenthesised and len(terms) > 1 for parenthesised, terms in groups):
        raise ODataError(400, "$filter: put an or-list in parentheses when it is joined with and.")
    if sum(len(terms) for _, terms in groups) > MAX_TERMS:
        raise ODataError(400, f"$filter has more than {MAX_TERMS} conditions.")
    allowed: dict[str, set[str]] = {}
    for _, terms in groups:
        values = {value for _, value in terms}
        field = terms[0][0]
        allowed[field] = allowed[field] & values if field in allowed else values
    return allowed


def conditions(params: Mapping[str, str], columns: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """The query's ``$filter`` as SQL conditions on ``columns`` (field -> column)."""
    raw = params.get("$filter")
    if not raw:
        return []
    return [columns[field].in_(sorted(values)) for field, values in parse_filter(raw, columns).items()]


def page(params: Mapping[str, str]) -> Page:
    def number(name: str, default: int) -> int:
        raw = params.get(name)
        if raw is None:
            return default
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
            raise ODataError(400, f"{name} must be a whole number.")
        return int(raw)

    if params.get("$format", "json") != "json":
        raise ODataError(400, "The sandbox answers $format=json only.")
    top = number("$top", PAGE_SIZE)
    if top > MAX_TOP:
        raise ODataError(400, f"$top may be at most {MAX_TOP}.")
    return Page(top=top, skip=number("$skip", 0), explicit_top="$top" in params)


def answer(engine: Engine, query: Any, params: Mapping[str, str], url: str,
           render: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The page of ``query`` (filtered and ordered) that the request asks for, each row rendered,
    in OData's envelope; ``__next`` when the server's page size cut it short."""
    requested = page(params)
    with session(engine) as db:
        rows = db.exec(query.offset(requested.skip).limit(requested.top + 1)).all()   # one more tells there is more
    body: dict[str, Any] = {"results": [render(*row) for row in rows[:requested.top]]}
    if len(rows) > requested.top and not requested.explicit_top:
        body["__next"] = _with_skip(url, requested.skip + requested.top)
    return {"d": body}


def _with_skip(url: str, skip: int) -> str:
    base, _, query = url.partition("?")
    kept = [part for part in query.split("&") if part and not part.startswith(("%24skip=", "$skip="))]
    return base + "?" + "&".join([*kept, f"$skip={skip}"])


# --- rendering ----------------------------------------------------------------------------------
def edm_date(day: date) -> str:
    return f"/Date({int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000})/"


def edm_datetime(moment: float) -> str:
    return f"/Date({int(moment * 1000)})/"


ITEM_FILTERS: dict[str, Any] = {
    "OriginalReferenceDocument": col(JournalDocument.original_reference_document),
    "OriginalReferenceDocumentLogicalSystem": col(JournalDocument.logical_system),
    "CompanyCode": col(JournalDocument.company_code),
    "AccountingDocument": col(JournalDocument.accounting_document),
}


def journal_items(engine: Engine, params: Mapping[str, str], url: str) -> dict[str, Any]:
    query = select(JournalItem, JournalDocument).where(
        JournalItem.company_code == JournalDocument.company_code,
        JournalItem.accounting_document == JournalDocument.accounting_document,
        JournalItem.fiscal_year == JournalDocument.fiscal_year, *conditions(params, ITEM_FILTERS))
    return answer(engine, query.order_by(col(JournalDocument.company_code), col(JournalDocument.fiscal_year),
                                         col(JournalDocument.accounting_document), col(JournalItem.item)),
                  params, url, _item)


def _item(item: JournalItem, document: JournalDocument) -> dict[str, Any]:
    amount = Decimal(item.amount)
    return {
        "__metadata": {"type": "API_JOURNALENTRYITEMBASIC_SRV.A_JournalEntryItemBasicType"},
        "CompanyCode": item.company_code, "FiscalYear": str(item.fiscal_year),
        "AccountingDocument": item.accounting_document, "AccountingDocumentItem": f"{item.item:03d}",
        "AccountingDocumentType": document.document_type, "FiscalPeriod": f"{document.fiscal_period:03d}",
        "GLAccount": item.gl_account, "CostCenter": item.cost_center or "",
        "AmountInTransactionCurrency": item.amount, "TransactionCurrency": item.currency,
        "DebitCreditCode": "S" if amount >= 0 else "H",
        "PostingDate": edm_date(document.posting_date), "DocumentDate": edm_date(document.document_date),
        "DocumentItemText": item.item_text or "", "AccountingDocumentHeaderText": document.header_text or "",
        "ReferenceDocumentType": document.reference_document_type,
        "OriginalReferenceDocument": document.original_reference_document,
        "OriginalReferenceDocumentLogicalSystem": document.logical_system,
        "IsReversal": document.reverses_document is not None, "IsReversed": document.reversed_by_document is not None,
        "ReversalReferenceDocument": document.reverses_document or document.reversed_by_document or "",
        "ReversalReason": document.reversal_reason or "",
    }


CONFIRMATION_FILTERS: dict[str, Any] = {
    "OriginalReferenceDocument": col(InboundEntry.original_reference_document),
    "OriginalReferenceDocumentLogicalSystem": col(InboundEntry.logical_system),
    "EntryMessageID": col(InboundEntry.entry_message_id),
}


def entry_confirmations(engine: Engine, params: Mapping[str, str], url: str) -> dict[str, Any]:
    query = select(InboundEntry, InboundMessage).where(
        col(InboundEntry.message) == col(InboundMessage.id), *conditions(params, CONFIRMATION_FILTERS))
    return answer(engine, query.order_by(col(InboundEntry.id)), params, url, _confirmation)


def _confirmation(entry: InboundEntry, message: InboundMessage) -> dict[str, Any]:
    log = json.loads(entry.log)
    return {
        "__metadata": {"type": "YY1_JOURNALENTRYCONFIRM_CDS.YY1_JournalEntryConfirmType"},
        "MessageID": message.message_id, "EntryMessageID": entry.entry_message_id,
        "Service": message.service, "OriginalReferenceDocument": entry.original_reference_document,
        "OriginalReferenceDocumentLogicalSystem": entry.logical_system, "CompanyCode": entry.company_code,
        "Status": entry.status, "AccountingDocument": entry.accounting_document or "",
        "FiscalYear": str(entry.fiscal_year) if entry.fiscal_year else "",
        "ReceivedAt": edm_datetime(entry.received_at),
        "MaximumLogItemSeverityCode": str(max((i["severity"] for i in log), default=0)),
        "to_Log": {"results": [{"TypeID": i["type_id"], "SeverityCode": str(i["severity"]), "Note": i["note"]}
                               for i in log]},
    }
