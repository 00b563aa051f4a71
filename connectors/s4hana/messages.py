"""finsync's journals as S/4HANA's SOAP requests, built element by element with lxml (never by
pasting text into XML).

A canonical line has a positive amount and a side; SAP takes one signed amount per item (a debit
positive, a credit negative). GL accounts go in SAP's 10-digit form ("6500" -> "0000006500");
cost centers are finsync's codes, which the SAP tenant keys its cost centers by. Texts are cut to
SAP's lengths (header 25, item 50) and stripped of characters XML cannot carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from lxml import etree

from canonical import JournalEntry, Side

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SFIN = "http://sap.com/xi/SAPSCORE/SFIN"
REFERENCE_DOCUMENT_TYPE = "BKPFF"      # an external accounting document
HEADER_TEXT_LENGTH, ITEM_TEXT_LENGTH = 25, 50
GL_ACCOUNT_DIGITS = 10
# Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class MessageIds:
    """The ids of one request: the bulk message's and its one entry's (``MessageHeader/ID``)."""

    message: str
    entry: str


def gl_account(number: str) -> str:
    """SAP's form of a GL account number: numeric ones zero-padded to 10 digits."""
    return number.zfill(GL_ACCOUNT_DIGITS) if number.isdigit() and len(number) <= GL_ACCOUNT_DIGITS else number


def finsync_account(gl: str) -> str:
    """finsync's number for an SAP GL account ("0000006500" -> "6500")."""
    return (gl.lstrip("0") or "0") if gl.isdigit() else gl


def xml_text(value: str, length: int | None = None) -> str:
    cleaned = _NOT_XML.sub("", value).strip()
    return cleaned[:length] if length else cleaned


def _add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _request(root: str, wrapper: str, ids: MessageIds, entry: etree._Element) -> bytes:
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    envelope = etree.Element(etree.QName(SOAP_ENV, "Envelope"), nsmap={"soapenv": SOAP_ENV, "sfin": SFIN})
    etree.SubElement(envelope, etree.QName(SOAP_ENV, "Header"))
    message = etree.SubElement(etree.SubElement(envelope, etree.QName(SOAP_ENV, "Body")), etree.QName(SFIN, root))
    header = _add(message, "MessageHeader")
    _add(header, "ID", ids.message)
    _add(header, "CreationDateTime", now)
    request = _add(message, wrapper)
    entry_header = _add(request, "MessageHeader")
    _add(entry_header, "ID", ids.entry)
    _add(entry_header, "CreationDateTime", now)
    request.append(entry)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _reference(entry: etree._Element, reference: str, logical_system: str) -> None:
    _add(entry, "OriginalReferenceDocumentType", REFERENCE_DOCUMENT_TYPE)
    _add(entry, "OriginalReferenceDocument", xml_text(reference))
    _add(entry, "OriginalReferenceDocumentLogicalSystem", logical_system)


def create_request(journal: JournalEntry, *, company_code: str, logical_system: str, ids: MessageIds) -> bytes:
    """A ``JournalEntryBulkCreateRequest`` holding ``journal`` alone."""
    entry = etree.Element("JournalEntry")
    _reference(entry, journal.external_id, logical_system)
    _add(entry, "BusinessTransactionType", "RFBU")
    _add(entry, "AccountingDocumentType", "SA")
    if journal.memo.strip():
        _add(entry, "DocumentHeaderText", xml_text(journal.memo, HEADER_TEXT_LENGTH))
    _add(entry, "CompanyCode", company_code)
    _add(entry, "DocumentDate", journal.posting_date.isoformat())
    _add(entry, "PostingDate", journal.posting_date.isoformat())
    for number, line in enumerate(journal.lines, start=1):
        item = _add(entry, "Item")
        _add(item, "ReferenceDocumentItem", str(number))
        _add(item, "GLAccount", gl_account(line.account))
        signed = line.amount.amount if line.side is Side.DEBIT else -line.amount.amount
        _add(item, "AmountInTransactionCurrency", format(signed, "f")).set("currencyCode", line.amount.currency)
        if line.memo.strip():
            _add(item, "DocumentItemText", xml_text(line.memo, ITEM_TEXT_LENGTH))
        if line.cost_center:
            _add(_add(item, "AccountAssignment"), "CostCenter", xml_text(line.cost_center))
    return _request("JournalEntryBulkCreateRequest", "JournalEntryCreateRequest", ids, entry)


def reversal_request(reference: str, reverses: str, *, company_code: str, posting_date: date, reason: str,
                     logical_system: str, ids: MessageIds) -> bytes:
    """A ``JournalEntryBulkReversalRequest``: reverse the entry posted under ``reverses``, as the
    document ``reference`` (the sandbox's shape; SAP's reversal message is not public)."""
    entry = etree.Element("JournalEntry")
    _reference(entry, reference, logical_system)
    _add(entry, "ReversedOriginalReferenceDocument", xml_text(reverses))
    _add(entry, "CompanyCode", company_code)
    _add(entry, "PostingDate", posting_date.isoformat())
    _add(entry, "ReversalReason", reason)
    return _request("JournalEntryBulkReversalRequest", "JournalEntryReversalRequest", ids, entry)
