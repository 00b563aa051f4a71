"""The confirmation of a request: one per message, one part per journal entry, each with the
document posted (or ``0000000000`` and fiscal year ``0000`` when refused) and its log.

The synchronous services answer with it; for the asynchronous one it is what the sandbox POSTs
to the registered callback (SAP's outbound ``JournalEntryBulkCreateConfirmation_Out``). Sandbox
addition: each part repeats the entry's OriginalReferenceDocument and logical system, so a
receiver knows which of its entries it is about without keeping the message ids.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from lxml import etree

from sandboxes.s4hana.soap import SFIN, envelope
from sandboxes.s4hana.tables import POSTED, InboundEntry, InboundMessage

# service -> (root element, element per entry)
NAMES = {"create": ("JournalEntryBulkCreateConfirmation", "JournalEntryCreateConfirmation"),
         "reverse": ("JournalEntryBulkReversalConfirmation", "JournalEntryReversalConfirmation")}
SOAP_ACTION = "http://sap.com/xi/SAPSCORE/SFIN/JournalEntryBulkCreateConfirmation_Out"


def _header(parent: etree._Element, reference_id: str, now: str) -> None:
    header = etree.SubElement(parent, "MessageHeader")
    etree.SubElement(header, "ID").text = str(uuid.uuid4())
    etree.SubElement(header, "ReferenceID").text = reference_id
    etree.SubElement(header, "CreationDateTime").text = now


def render(message: InboundMessage, entries: list[InboundEntry]) -> bytes:
    """The confirmation in its SOAP envelope; ``entries`` in the request's order, all processed."""
    root_name, entry_name = NAMES[message.service]
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    root = etree.Element(etree.QName(SFIN, root_name), nsmap={"sfin": SFIN})
    _header(root, message.message_id, now)
    for entry in entries:
        part = etree.SubElement(root, entry_name)
        _header(part, entry.entry_message_id, now)
        document = etree.SubElement(part, entry_name)
        etree.SubElement(document, "OriginalReferenceDocument").text = entry.original_reference_document
        etree.SubElement(document, "OriginalReferenceDocumentLogicalSystem").text = entry.logical_system
        posted = entry.status == POSTED
        etree.SubElement(document, "AccountingDocument").text = entry.accounting_document if posted else "0000000000"
        etree.SubElement(document, "CompanyCode").text = entry.company_code
        etree.SubElement(document, "FiscalYear").text = str(entry.fiscal_year) if posted else "0000"
        items = json.loads(entry.log)
        log = etree.SubElement(part, "Log")
        etree.SubElement(log, "MaximumLogItemSeverityCode").text = str(max((i["severity"] for i in items), default=1))
        for item in items:
            element = etree.SubElement(log, "Item")
            etree.SubElement(element, "TypeID").text = item["type_id"]
            etree.SubElement(element, "SeverityCode").text = str(item["severity"])
            etree.SubElement(element, "Note").text = item["note"]
    return envelope(root)
