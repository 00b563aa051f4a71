"""Talking to the S/4HANA sandbox in tests: SOAP requests built with lxml, its admin routes, and
a receiver that records the confirmations the sandbox POSTs to its callback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import httpx
from fastapi import FastAPI, Request, Response
from lxml import etree

from sandboxes.s4hana.app import DEFAULT_USERS
from tests.support.servers import serve

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SFIN = "http://sap.com/xi/SAPSCORE/SFIN"
TODAY = date(2026, 3, 15)                  # March 2026 open, February closed
USER, PASSWORD = next(iter(DEFAULT_USERS.items()))
Item = tuple[str, str, str, str | None]    # GL account, signed amount, currency, cost center
T = TypeVar("T")


def _add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def journal_entry(reference: str, items: list[Item], *, company_code: str = "1010", posting_date: str = "2026-03-10",
                  logical_system: str = "FINSYNC", header_text: str = "March payroll") -> etree._Element:
    entry = etree.Element("JournalEntry")
    _add(entry, "OriginalReferenceDocumentType", "BKPFF")
    _add(entry, "OriginalReferenceDocument", reference)
    _add(entry, "OriginalReferenceDocumentLogicalSystem", logical_system)
    _add(entry, "BusinessTransactionType", "RFBU")
    _add(entry, "AccountingDocumentType", "SA")
    _add(entry, "DocumentHeaderText", header_text)
    _add(entry, "CompanyCode", company_code)
    _add(entry, "DocumentDate", posting_date)
    _add(entry, "PostingDate", posting_date)
    for number, (account, amount, currency, cost_center) in enumerate(items, start=1):
        item = _add(entry, "Item")
        _add(item, "ReferenceDocumentItem", str(number))
        _add(item, "GLAccount", account)
        _add(item, "AmountInTransactionCurrency", amount).set("currencyCode", currency)
        _add(item, "DocumentItemText", f"line {number}")
        if cost_center is not None:
            _add(_add(item, "AccountAssignment"), "CostCenter", cost_center)
    return entry


def reversal_entry(reference: str, reverses: str, *, company_code: str = "1010", posting_date: str = "2026-03-20",
                   reason: str = "01") -> etree._Element:
    entry = etree.Element("JournalEntry")
    _add(entry, "OriginalReferenceDocumentType", "BKPFF")
    _add(entry, "OriginalReferenceDocument", reference)
    _add(entry, "OriginalReferenceDocumentLogicalSystem", "FINSYNC")
    _add(entry, "ReversedOriginalReferenceDocument", reverses)
    _add(entry, "CompanyCode", company_code)
    _add(entry, "PostingDate", posting_date)
    _add(entry, "ReversalReason", reason)
    return entry


def soap_request(*entries: etree._Element, root: str = "JournalEntryBulkCreateRequest",
                 wrapper: str = "JournalEntryCreateRequest") -> bytes:
    envelope = etree.Element(etree.QName(SOAP_ENV, "Envelope"), nsmap={"soapenv": SOAP_ENV, "sfin": SFIN})
    etree.SubElement(envelope, etree.QName(SOAP_ENV, "Header"))
    message = etree.SubElement(etree.SubElement(envelope, etree.QName(SOAP_ENV, "Body")), etree.QName(SFIN, root))
    _add(_add(message, "MessageHeader"), "ID", f"bulk-{time.monotonic_ns()}")
    for number, entry in enumerate(entries, start=1):
        request = _add(message, wrapper)
        _add(_add(request, "MessageHeader"), "ID", f"entry-{number}-{time.monotonic_ns()}")
        request.append(entry)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def reversal_request(*entries: etree._Element) -> bytes:
    return soap_request(*entries, root="JournalEntryBulkReversalRequest", wrapper="JournalEntryReversalRequest")


@dataclass(frozen=True)
class Confirmed:
    """One entry's part of a confirmation."""

    reference: str
    accounting_document: str
    company_code: str
    fiscal_year: str
    severity: str
    type_ids: list[str]
    notes: list[str]


def confirmed(document: bytes) -> list[Confirmed]:
    root = etree.fromstring(document)
    body = root.find(etree.QName(SOAP_ENV, "Body"))
    assert body is not None
    (message,) = body
    parts = []
    for part in message:
        if etree.QName(part).localname == "MessageHeader":
            continue
        inner = part.find(etree.QName(part).localname)
        assert inner is not None
        log = part.find("Log")
        assert log is not None
        parts.append(Confirmed(
            reference=inner.findtext("OriginalReferenceDocument", ""), accounting_document=inner.findtext(
                "AccountingDocument", ""), company_code=inner.findtext("CompanyCode", ""),
            fiscal_year=inner.findtext("FiscalYear", ""), severity=log.findtext("MaximumLogItemSeverityCode", ""),
            type_ids=[i.findtext("TypeID", "") for i in log.iter("Item")],
            notes=[i.findtext("Note", "") for i in log.iter("Item")]))
    return parts


async def wait_for(check: Callable[[], Awaitable[T | None]], timeout: float = 10.0) -> T:
    """Ask ``check`` until it answers something truthy, and return that; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        assert time.monotonic() < deadline, "not reached before the deadline"
        await asyncio.sleep(0.05)
    return result


@dataclass
class Receiver:
    """A callback endpoint: records each request; answers the queued statuses, then 200."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    app = FastAPI()
    state = Receiver(url="")

    @app.post("/callback")
    async def callback(request: Request) -> Response:
        state.received.append((dict(request.headers), await request.body()))
        return Response(status_code=state.statuses.pop(0) if state.statuses else 200)

    async with serve(app) as base_url:
        state.url = base_url + "/callback"
        yield state


async def set_processing(base_url: str, **settings: object) -> dict:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.put("/_sandbox/processing", json=settings)
        response.raise_for_status()
        return response.json()


async def set_faults(base_url: str, **faults: object) -> dict:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.put("/_sandbox/faults", json=faults)
        response.raise_for_status()
        return response.json()
