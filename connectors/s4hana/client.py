"""SAP S/4HANA Cloud as a general ledger for journals: posted through the asynchronous SOAP service
``JournalEntryBulkCreationRequest_In``, reversed by reference document, read back through OData.

It implements the journal side of ``connectors.interfaces.Erp`` (``JournalLedger``): post, find and
read back by external id. Master data: the legal entity's company code comes from configuration
(``[s4hana] company_codes``; SAP's company codes carry nothing finsync could find them by); cost
centers are finsync's codes, as the tenant keys them (sandbox-tested convention, like NetSuite's
department external ids); GL accounts are finsync's numbers in SAP's 10-digit form.

Posting is idempotent by ``external_id``, which travels as OriginalReferenceDocument under the
configured logical system; SAP refuses a reference it has already posted, and that refusal
resolves to the document posted. Posting is asynchronous: after the request is acknowledged the
client reads the entry's status back for ``confirmation_wait_seconds``; still pending then, it
raises TransientVendorError so Temporal retries, and the retry (``lookup_first``) reads back before
sending anything again. The confirmation SAP POSTs to the gateway only lets a workflow stop
waiting sooner; the read-back here is what decides.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Self

import httpx

from canonical import BusinessProblem, JournalEntry, Money, PostedJournal, ProblemCode, Side
from connectors.errors import BusinessRuleError, TransientVendorError, VendorRejectedError
from connectors.http import VendorClient, json_decimal
from connectors.interfaces import LedgerJournal, LedgerLine
from connectors.s4hana import confirmations, messages, rejections
from connectors.s4hana.confirmations import EntryResult
from connectors.s4hana.rejections import Sent
from finsync.config import S4HanaVendorSettings

SOAP_SERVICES = "/sap/bc/srt/scs_ext/sap"
POST_PATH = SOAP_SERVICES + "/journalentrybulkcreationrequest"
REVERSAL_PATH = SOAP_SERVICES + "/journalentryreversalrequestconfi"
ITEMS_PATH = "/sap/opu/odata/sap/API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic"
STATUS_PATH = "/sap/opu/odata/sap/YY1_JOURNALENTRYCONFIRM_CDS/YY1_JournalEntryConfirm"
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "Accept": "text/xml"}
CREATE_ACTION = "http://sap.com/xi/SAPSCORE/SFIN/JournalEntryBulkCreationRequest_In/JournalEntryBulkCreationRequest_InRequest"
PAGE_SIZE = 1000
IDS_PER_QUERY = 40           # external ids in one $filter or-list
FIRST_POLL, LONGEST_POLL = 0.1, 1.0
REVERSAL_IN_PERIOD, REVERSAL_IN_CLOSED_PERIOD = "01", "02"
_EDM_DATE = re.compile(r"/Date\((-?\d{1,15})\)/")


def odata_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def edm_date(value: str) -> date:
    match = _EDM_DATE.fullmatch(value)
    if match is None:
        raise ValueError(f"not an OData date: {value[:40]!r}")
    return datetime.fromtimestamp(int(match[1]) / 1000, UTC).date()


class S4HanaClient(VendorClient):
    vendor = "s4hana"

    def __init__(self, base_url: str, *, user: str, password: str, company_codes: Mapping[str, str],
                 logical_system: str = "FINSYNC", confirmation_wait_seconds: float = 10.0, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, timeout=timeout, transport=transport)
        self._basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.company_codes = dict(company_codes)
        self.entities = {code: entity for entity, code in self.company_codes.items()}
        self.logical_system = logical_system
        self.confirmation_wait = confirmation_wait_seconds

    @classmethod
    def from_settings(cls, settings: S4HanaVendorSettings) -> Self:
        return cls(settings.base_url, user=settings.user, password=settings.password.get_secret_value(),
                   company_codes=settings.company_codes, logical_system=settings.logical_system,
                   confirmation_wait_seconds=settings.confirmation_wait_seconds, timeout=settings.timeout_seconds)

    async def authorization(self) -> str:
        return self._basic    # the communication user; SAP's SOAP services take no OAuth token

    # --- posting -----------------------------------------------------------------------------
    async def post_journal(self, entry: JournalEntry, *, lookup_first: bool = False) -> PostedJournal:
        company_code = self._company_code(entry)
        if entry.reverses_external_id:
            return await self._reverse(entry, entry.reverses_external_id, company_code, lookup_first=lookup_first)
        sent = Sent.journal(entry)
        if lookup_first:
            latest = await self._latest(entry.external_id)
            if latest is not None and latest.posted:
                return await self._read_back(entry.external_id)
            if latest is not None and latest.pending:
                return await self._confirmed(entry.external_id, sent, None)
            # Never received, or refused before: send it (again). A refusal that still holds is
            # refused again; one fixed since (a period reopened) posts.
        ids = messages.MessageIds(message=str(uuid.uuid4()), entry=str(uuid.uuid4()))
        body = messages.create_request(entry, company_code=company_code, logical_system=self.logical_system, ids=ids)
        await self._soap(POST_PATH, body, ok=202, action=CREATE_ACTION)
        return await self._confirmed(entry.external_id, sent, ids.entry)

    async def _confirmed(self, external_id: str, sent: Sent, entry_message_id: str | None) -> PostedJournal:
        """Wait (bounded) for SAP to process the entry: the posted journal, or its refusal raised."""
        deadline = time.monotonic() + self.confirmation_wait
        pause = FIRST_POLL
        while True:
            result = (await self._status(entry_message_id) if entry_message_id else await self._latest(external_id))
            if result is not None and not result.pending:
                return await self._outcome(external_id, result, sent)
            if time.monotonic() + pause > deadline:
                raise TransientVendorError(self.vendor, f"SAP S/4HANA accepted journal {external_id} but has not "
                                                        f"confirmed it within {self.confirmation_wait:g} s; the next "
                                                        "attempt reads it back first")
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_POLL)

    async def _outcome(self, external_id: str, result: EntryResult, sent: Sent) -> PostedJournal:
        if result.posted:
            return await self._read_back(external_id)
        if result.duplicate:   # posted before (an earlier attempt whose answer was lost): that is the one
            existing = await self.find_journal(external_id)
            if existing is not None:
                return existing
        raise rejections.rejection(result, sent)

    async def _reverse(self, entry: JournalEntry, reverses: str, company_code: str, *, lookup_first: bool) -> PostedJournal:
        """SAP reverses the original document in full (every item negated), referenced by its
        external id; the entry's own lines, the original's with sides swapped, are not sent."""
        if lookup_first:
            found = await self.find_journal(entry.external_id)
            if found is not None:
                return found
        original = await self.find_journal(reverses)
        if original is None:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code="REVERSED_JOURNAL_NOT_FOUND", system="erp", subject=reverses,
                reason=f"Journal {reverses}, which {entry.external_id} reverses, is not posted in SAP S/4HANA."))
        same_period = (original.posting_date.year, original.posting_date.month) == (
            entry.posting_date.year, entry.posting_date.month)
        body = messages.reversal_request(
            entry.external_id, reverses, company_code=company_code, posting_date=entry.posting_date,
            reason=REVERSAL_IN_PERIOD if same_period else REVERSAL_IN_CLOSED_PERIOD,
            logical_system=self.logical_system, ids=messages.MessageIds(str(uuid.uuid4()), str(uuid.uuid4())))
        response = await self._soap(REVERSAL_PATH, body, ok=200)
        try:
            (result,) = confirmations.from_soap(response.content)
        except ValueError as error:
            raise TransientVendorError(self.vendor, f"SAP S/4HANA's answer to reversal {entry.external_id} "
                                                    f"cannot be read ({error}); the next attempt reads it back") from error
        return await self._outcome(entry.external_id, result, Sent.journal(entry))

    async def _soap(self, path: str, body: bytes, *, ok: int, action: str | None = None) -> httpx.Response:
        """Send one SOAP request; a fault is a mapping defect (client) or SAP's trouble (server)."""
        headers = {**SOAP_HEADERS, **({"SOAPAction": action} if action else {})}
        response = await self.request("POST", path, ok=(ok, 500), content=body, headers=headers)
        if response.status_code == ok:
            return response
        found = confirmations.fault(response.content)
        if found is not None and found[0]:
            raise rejections.refused_request(found[1])
        raise TransientVendorError(self.vendor, f"HTTP 500: {found[1] if found else response.text[:200]}", status=500)

    def _company_code(self, entry: JournalEntry) -> str:
        if len(entry.currencies) != 1 or any(line.entity != entry.entity for line in entry.lines):
            raise VendorRejectedError(self.vendor, BusinessProblem(
                code="UNSUPPORTED_JOURNAL", system="finsync",
                reason=f"Journal {entry.external_id} mixes currencies or entities; an SAP journal entry has one "
                       "company code and one transaction currency."))
        code = self.company_codes.get(entry.entity)
        if code is None:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code=ProblemCode.ENTITY_UNKNOWN, system="finsync", subject=entry.entity,
                reason=f"Entity {entry.entity} has no SAP company code: add it to [s4hana] company_codes."))
        return code

    # --- reading back --------------------------------------------------------------------------
    async def _odata(self, path: str, odata_filter: str) -> list[dict[str, Any]]:
        """Every row the filter selects, page by page."""
        rows: list[dict[str, Any]] = []
        while True:
            response = await self.request("GET", path, params={
                "$filter": odata_filter, "$top": str(PAGE_SIZE), "$skip": str(len(rows)), "$format": "json"})
            page = json_decimal(response)["d"]["results"]
            rows += page
            if len(page) < PAGE_SIZE:
                return rows

    async def _status(self, entry_message_id: str) -> EntryResult | None:
        rows = await self._odata(STATUS_PATH, f"EntryMessageID eq {odata_literal(entry_message_id)}")
        return confirmations.from_status_row(rows[-1]) if rows else None

    async def _latest(self, external_id: str) -> EntryResult | None:
        """What became of the entry sent last under ``external_id`` (posted wins over any later refusal)."""
        rows = await self._odata(STATUS_PATH, self._by_reference([external_id]))
        results = [confirmations.from_status_row(row) for row in rows]
        return next((r for r in results if r.posted), results[-1] if results else None)

    def _by_reference(self, external_ids: list[str]) -> str:
        references = " or ".join(f"OriginalReferenceDocument eq {odata_literal(i)}" for i in external_ids)
        return f"({references}) and OriginalReferenceDocumentLogicalSystem eq {odata_literal(self.logical_system)}"

    async def _read_back(self, external_id: str) -> PostedJournal:
        posted = await self.find_journal(external_id)
        if posted is None:
            raise TransientVendorError(self.vendor, f"SAP S/4HANA confirmed journal {external_id} but does not "
                                                    "return it yet")
        return posted

    async def find_journal(self, external_id: str) -> PostedJournal | None:
        journals = await self.journals_by_external_id([external_id])
        if not journals:
            return None
        journal = journals[0]
        return PostedJournal(external_id=external_id, erp_id=journal.erp_id, document_number=journal.document_number,
                             entity=journal.entity, posting_date=journal.posting_date, amount=journal.total())

    async def journals_by_external_id(self, external_ids: Collection[str]) -> list[LedgerJournal]:
        wanted = sorted(set(external_ids))
        journals: list[LedgerJournal] = []
        for start in range(0, len(wanted), IDS_PER_QUERY):
            rows = await self._odata(ITEMS_PATH, self._by_reference(wanted[start:start + IDS_PER_QUERY]))
            journals += self._journals(rows)
        return journals

    def _journals(self, rows: list[dict[str, Any]]) -> list[LedgerJournal]:
        """One journal per document (rows come ordered by document and item)."""
        documents: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for row in rows:
            documents.setdefault((row["CompanyCode"], row["AccountingDocument"], row["FiscalYear"]), []).append(row)
        journals = []
        for (company_code, document, fiscal_year), items in documents.items():
            head, currency = items[0], items[0]["TransactionCurrency"]
            journals.append(LedgerJournal(
                erp_id=f"{company_code}/{document}/{fiscal_year}", document_number=document,
                external_id=head["OriginalReferenceDocument"], entity=self.entities.get(company_code, company_code),
                posting_date=edm_date(head["PostingDate"]), currency=currency,
                lines=[_ledger_line(item, currency) for item in items]))
        return journals


def _ledger_line(item: dict[str, Any], currency: str) -> LedgerLine:
    signed = Decimal(str(item["AmountInTransactionCurrency"]))
    return LedgerLine(account=messages.finsync_account(item["GLAccount"]),
                      side=Side.DEBIT if signed >= 0 else Side.CREDIT, amount=Money.of(abs(signed), currency))
