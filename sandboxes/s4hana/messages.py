"""The inbound messages read into drafts: what SAP's SOAP runtime checks before anything is posted
(shape, types, lengths). What the drafts say is checked against the ledger in posting.py.

``JournalEntryBulkCreateRequest`` (both the synchronous and the asynchronous service):

    MessageHeader/ID
    JournalEntryCreateRequest (1..n)
      MessageHeader/ID
      JournalEntry
        OriginalReferenceDocumentType, OriginalReferenceDocument, OriginalReferenceDocumentLogicalSystem,
        CompanyCode, DocumentDate, PostingDate, DocumentHeaderText (optional, 25),
        Item (2..n): GLAccount, AmountInTransactionCurrency@currencyCode (signed), DocumentItemText
                     (optional, 50), AccountAssignment/CostCenter (optional)

``JournalEntryBulkReversalRequest`` (sandbox assumption: SAP's reversal message is not public in
this shape; modelled on BAPI_ACC_DOCUMENT_REV_POST, which names the reversal's own reference and
the original's):

    MessageHeader/ID
    JournalEntryReversalRequest (1..n)
      MessageHeader/ID
      JournalEntry
        OriginalReferenceDocumentType, OriginalReferenceDocument (the reversal's own reference),
        OriginalReferenceDocumentLogicalSystem, ReversedOriginalReferenceDocument (the entry to
        reverse, of the same logical system), CompanyCode, PostingDate, ReversalReason

Sandbox deviation: an OriginalReferenceDocument may be up to 128 characters (SAP's reference
key is 20), so a sender's own ids travel unchanged.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from sandboxes.s4hana.soap import SoapFault, amount, child, children, local_name, required_text, text

REFERENCE_LENGTH = 128
HEADER_TEXT_LENGTH = 25
ITEM_TEXT_LENGTH = 50
MAX_ENTRIES = 1000
MAX_ITEMS = 999                   # items are numbered with three digits


@dataclass(frozen=True)
class ItemDraft:
    gl_account: str
    amount: Decimal
    currency: str
    item_text: str | None
    cost_center: str | None


@dataclass(frozen=True)
class Reference:
    """Who sent an entry and under which key: the sender's idempotency key."""

    document_type: str
    document: str
    logical_system: str


@dataclass(frozen=True)
class EntryDraft:
    message_id: str
    reference: Reference
    company_code: str
    document_date: date
    posting_date: date
    header_text: str | None
    items: tuple[ItemDraft, ...]


@dataclass(frozen=True)
class ReversalDraft:
    message_id: str
    reference: Reference          # the reversal's own
    reversed_document: str        # the original's OriginalReferenceDocument, same logical system
    company_code: str
    posting_date: date
    reason: str


@dataclass(frozen=True)
class Request:
    message_id: str
    entries: tuple[EntryDraft | ReversalDraft, ...]


def read_create_request(payload: etree._Element) -> Request:
    return _read(payload, "JournalEntryCreateRequest", _entry)


def read_reversal_request(payload: etree._Element) -> Request:
    return _read(payload, "JournalEntryReversalRequest", _reversal)


def _read(payload: etree._Element, wrapper: str, read_entry: Any) -> Request:
    root = local_name(payload)
    message_id = required_text(child(payload, "MessageHeader", root), "ID", f"{root}/MessageHeader", max_length=100)
    wrapped = children(payload, wrapper)
    if not wrapped:
        raise SoapFault(f"{root} holds no {wrapper}.")
    if len(wrapped) > MAX_ENTRIES:
        raise SoapFault(f"{root} holds more than {MAX_ENTRIES} entries.")
    entries = []
    for i, element in enumerate(wrapped, start=1):
        path = f"{wrapper}[{i}]"
        entry_id = required_text(child(element, "MessageHeader", path), "ID", f"{path}/MessageHeader", max_length=100)
        entries.append(read_entry(child(element, "JournalEntry", path), entry_id, f"{path}/JournalEntry"))
    return Request(message_id=message_id, entries=tuple(entries))


def _reference(entry: etree._Element, path: str) -> Reference:
    return Reference(
        document_type=required_text(entry, "OriginalReferenceDocumentType", path, max_length=5),
        document=required_text(entry, "OriginalReferenceDocument", path, max_length=REFERENCE_LENGTH),
        logical_system=required_text(entry, "OriginalReferenceDocumentLogicalSystem", path, max_length=10))


def _date(entry: etree._Element, name: str, path: str) -> date:
    raw = required_text(entry, name, path, max_length=10)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SoapFault(f"{path}/{name} is not a date (YYYY-MM-DD).") from None


def _entry(entry: etree._Element, message_id: str, path: str) -> EntryDraft:
    items = []
    elements = children(entry, "Item")
    if len(elements) < 2 or len(elements) > MAX_ITEMS:
        raise SoapFault(f"{path} needs between 2 and {MAX_ITEMS} Item elements.")
    for i, element in enumerate(elements, start=1):
        item_path = f"{path}/Item[{i}]"
        amount_element = child(element, "AmountInTransactionCurrency", item_path)
        currency = (amount_element.get("currencyCode") or "").strip()
        if not (len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()):
            raise SoapFault(f"{item_path}/AmountInTransactionCurrency needs a currencyCode (ISO 4217).")
        assignments = children(element, "AccountAssignment")
        if len(assignments) > 1:
            raise SoapFault(f"{item_path}/AccountAssignment is repeated.")
        cost_center = (text(assignments[0], "CostCenter", f"{item_path}/AccountAssignment", max_length=10,
                            required=False) if assignments else None)
        items.append(ItemDraft(
            gl_account=required_text(element, "GLAccount", item_path, max_length=10),
            amount=amount(amount_element, f"{item_path}/AmountInTransactionCurrency"), currency=currency,
            item_text=text(element, "DocumentItemText", item_path, max_length=ITEM_TEXT_LENGTH, required=False),
            cost_center=cost_center))
    return EntryDraft(
        message_id=message_id, reference=_reference(entry, path),
        company_code=required_text(entry, "CompanyCode", path, max_length=4),
        document_date=_date(entry, "DocumentDate", path), posting_date=_date(entry, "PostingDate", path),
        header_text=text(entry, "DocumentHeaderText", path, max_length=HEADER_TEXT_LENGTH, required=False),
        items=tuple(items))


def _reversal(entry: etree._Element, message_id: str, path: str) -> ReversalDraft:
    return ReversalDraft(
        message_id=message_id, reference=_reference(entry, path),
        reversed_document=required_text(entry, "ReversedOriginalReferenceDocument", path, max_length=REFERENCE_LENGTH),
        company_code=required_text(entry, "CompanyCode", path, max_length=4),
        posting_date=_date(entry, "PostingDate", path),
        reason=required_text(entry, "ReversalReason", path, max_length=2))


# --- kept as JSON until processed -----------------------------------------------------------------
def dump(draft: EntryDraft | ReversalDraft) -> str:
    kind = "entry" if isinstance(draft, EntryDraft) else "reversal"
    return json.dumps({"kind": kind, **asdict(draft)}, default=str)


def load(raw: str) -> EntryDraft | ReversalDraft:
    data = json.loads(raw)
    kind = data.pop("kind")
    data["reference"] = Reference(**data["reference"])
    data["posting_date"] = date.fromisoformat(data["posting_date"])
    if kind == "reversal":
        return ReversalDraft(**data)
    data["document_date"] = date.fromisoformat(data["document_date"])
    data["items"] = tuple(ItemDraft(**{**item, "amount": Decimal(item["amount"])}) for item in data["items"])
    return EntryDraft(**data)
