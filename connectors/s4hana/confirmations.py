"""What S/4HANA answers about each journal entry: read from a SOAP confirmation (the synchronous
services' answer, or the asynchronous one POSTed to the gateway) or from the OData status view
(the polling fallback), into one shape.

An entry is posted when its log's highest severity is below 3 (error) and it names a document
(a refused one says ``0000000000``). Every refusal's log starts with 609(RW) "Error in document";
the items after it say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from canonical import JournalConfirmation

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ERROR = 3
UMBRELLA = "609(RW)"          # "Error in document: BKPFF <reference> <system>", first in every refusal
DUPLICATE = "022(RW)"         # the reference is already posted
NO_DOCUMENT = "0000000000"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_DIGITS = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True)
class LogNote:
    type_id: str
    severity: int
    note: str


@dataclass(frozen=True)
class EntryResult:
    """One entry's outcome: posted (with its document), refused (with its log), or still pending."""

    reference: str
    company_code: str
    accounting_document: str | None = None
    fiscal_year: int | None = None
    log: tuple[LogNote, ...] = ()
    pending: bool = False

    @property
    def posted(self) -> bool:
        return not self.pending and self.accounting_document is not None

    @property
    def errors(self) -> list[LogNote]:
        """Why it was refused, without the umbrella message."""
        return [n for n in self.log if n.severity >= ERROR and n.type_id != UMBRELLA]

    @property
    def duplicate(self) -> bool:
        return any(n.type_id == DUPLICATE for n in self.log)

    def as_confirmation(self) -> JournalConfirmation:
        return JournalConfirmation(external_id=self.reference, accepted=self.posted,
                                   document_number=self.accounting_document, company_code=self.company_code,
                                   fiscal_year=self.fiscal_year,
                                   reason="" if self.posted else "; ".join(n.note for n in self.errors))


def _posted(document: str | None, fiscal_year: str | None, severity: int) -> tuple[str | None, int | None]:
    """(document, fiscal year) if these say posted, else (None, None)."""
    if severity >= ERROR or not document or document == NO_DOCUMENT or not _DIGITS.fullmatch(fiscal_year or ""):
        return None, None
    return document, int(fiscal_year or 0) or None


# --- from XML ----------------------------------------------------------------------------------
def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in element if _local(c) == name), None)


def _text(element: etree._Element | None, name: str) -> str:
    found = _child(element, name) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _severity(text: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise ValueError("a log severity is not a number")
    return int(text)


def _body_payload(document: bytes) -> etree._Element:
    try:
        root = etree.fromstring(document, _PARSER)
    except etree.XMLSyntaxError:
        raise ValueError("the body is not well-formed XML") from None
    body = root.find(etree.QName(SOAP_ENV, "Body")) if root.tag == etree.QName(SOAP_ENV, "Envelope") else None
    payload = [c for c in body if isinstance(c.tag, str)] if body is not None else []
    if len(payload) != 1:
        raise ValueError("the body is not a SOAP envelope holding one message")
    return payload[0]


def fault(document: bytes) -> tuple[bool, str] | None:
    """(whether the sender is at fault, the fault string) of a SOAP fault; None if it is not one."""
    try:
        payload = _body_payload(document)
    except ValueError:
        return None
    if payload.tag != etree.QName(SOAP_ENV, "Fault"):
        return None
    code = _text(payload, "faultcode")
    return code.endswith(":Client") or code == "Client", _text(payload, "faultstring")[:300]


def from_soap(document: bytes) -> list[EntryResult]:
    """Each entry's outcome in a ``JournalEntryBulk...Confirmation``; ValueError if it is not one."""
    payload = _body_payload(document)
    if not (_local(payload).startswith("JournalEntryBulk") and _local(payload).endswith("Confirmation")):
        raise ValueError("the message is not a journal entry confirmation")
    results = []
    for part in payload:
        name = _local(part)
        if name in ("", "MessageHeader"):
            continue
        inner, log = _child(part, name), _child(part, "Log")
        reference = _text(inner, "OriginalReferenceDocument")
        company_code = _text(inner, "CompanyCode")
        if inner is None or log is None or not reference or not company_code:
            raise ValueError(f"a {name[:60]} lacks its reference, company code or log")
        notes = tuple(LogNote(_text(item, "TypeID"), _severity(_text(item, "SeverityCode")), _text(item, "Note"))
                      for item in log if _local(item) == "Item")
        highest = max([_severity(_text(log, "MaximumLogItemSeverityCode") or "0"), *(n.severity for n in notes)])
        document_number, fiscal_year = _posted(_text(inner, "AccountingDocument"), _text(inner, "FiscalYear"), highest)
        results.append(EntryResult(reference=reference, company_code=company_code, accounting_document=document_number,
                                   fiscal_year=fiscal_year, log=notes))
    if not results:
        raise ValueError("the confirmation confirms no entry")
    return results


def journal_confirmations(document: bytes) -> list[JournalConfirmation]:
    """The journals an asynchronous confirmation (as POSTed to the gateway) is about."""
    return [result.as_confirmation() for result in from_soap(document)]


# --- from OData --------------------------------------------------------------------------------
def from_status_row(row: dict[str, Any]) -> EntryResult:
    """A row of the status view (``YY1_JournalEntryConfirm``)."""
    notes = tuple(LogNote(str(item.get("TypeID", "")), _severity(str(item.get("SeverityCode", "0"))),
                          str(item.get("Note", ""))) for item in row.get("to_Log", {}).get("results", []))
    status = row.get("Status")
    highest = max((n.severity for n in notes), default=0) if status == "POSTED" else ERROR
    document_number, fiscal_year = _posted(row.get("AccountingDocument"), row.get("FiscalYear"), highest)
    return EntryResult(reference=str(row.get("OriginalReferenceDocument", "")),
                       company_code=str(row.get("CompanyCode", "")), accounting_document=document_number,
                       fiscal_year=fiscal_year, log=notes, pending=status == "PENDING")
