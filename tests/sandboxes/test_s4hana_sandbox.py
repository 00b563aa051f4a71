"""The S/4HANA sandbox over real HTTP: the communication user, the journal entry rules, the
asynchronous confirmation to a callback (signed as the gateway verifies it), the OData read-back,
the reversal by reference document, and its faults."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.verify import Verifier
from sandboxes.s4hana import create_app, odata
from sandboxes.s4hana.app import ASYNC_PATH, DEFAULT_WEBHOOK_SECRETS, REVERSAL_PATH, SYNC_PATH
from sandboxes.s4hana.odata import CONFIRMATIONS_PATH, ITEMS_PATH
from tests.support.s4hana import (
    PASSWORD,
    TODAY,
    USER,
    Item,
    confirmed,
    journal_entry,
    receiver,
    reversal_entry,
    reversal_request,
    set_faults,
    set_processing,
    soap_request,
    wait_for,
)
from tests.support.servers import serve

PAYROLL: list[Item] = [("6500", "125000.00", "EUR", "CC-4200"), ("0000006520", "25000.00", "EUR", "CC-4200"),
                       ("2250", "-100000.00", "EUR", None), ("0000002200", "-50000.00", "EUR", None)]


@pytest.fixture
async def sandbox(tmp_path) -> AsyncIterator[str]:
    async with serve(create_app(tmp_path / "s4hana.db", today=TODAY, confirmation_delay_seconds=0,
                                webhook_schedule=[0.1])) as base_url:
        yield base_url


@pytest.fixture
async def sap(sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox, auth=(USER, PASSWORD), timeout=10) as http:
        yield http


async def post(sap: httpx.AsyncClient, body: bytes, path: str = SYNC_PATH) -> httpx.Response:
    return await sap.post(path, content=body, headers={"Content-Type": "text/xml; charset=utf-8"})


async def items(sap: httpx.AsyncClient, odata_filter: str) -> list[dict]:
    response = await sap.get(ITEMS_PATH, params={"$filter": odata_filter})
    assert response.status_code == 200, response.text
    return response.json()["d"]["results"]


async def statuses(sap: httpx.AsyncClient, reference: str) -> list[dict]:
    response = await sap.get(CONFIRMATIONS_PATH, params={"$filter": f"OriginalReferenceDocument eq '{reference}'"})
    return response.json()["d"]["results"]


# --- the communication user --------------------------------------------------------------------

@pytest.mark.parametrize("auth", [None, (USER, "wrong"), ("SOMEONE", PASSWORD)], ids=["none", "wrong password", "unknown user"])
async def test_only_the_communication_user_gets_in(sandbox, auth):
    async with httpx.AsyncClient(base_url=sandbox, auth=auth) as http:
        soap = await http.post(SYNC_PATH, content=soap_request(journal_entry("PAY-AUTH", PAYROLL)))
        odata = await http.get(ITEMS_PATH)
    assert soap.status_code == 401 and soap.headers["www-authenticate"].startswith("Basic")
    assert b"<faultcode>soap-env:Client</faultcode>" in soap.content and b"Logon failed" in soap.content
    assert odata.status_code == 401 and "Logon failed" in odata.json()["error"]["message"]["value"]
    async with httpx.AsyncClient(base_url=sandbox, auth=(USER, PASSWORD)) as http:
        assert (await http.get(ITEMS_PATH, params={"$filter": "OriginalReferenceDocument eq 'PAY-AUTH'"})).json() == {
            "d": {"results": []}}


# --- posting ---------------------------------------------------------------------------------------

async def test_a_balanced_entry_posts_with_signed_amounts_and_reads_back_by_reference(sap):
    response = await post(sap, soap_request(journal_entry("PAY-2026-03-DE01", PAYROLL)))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    (part,) = confirmed(response.content)
    assert (part.reference, part.accounting_document, part.company_code, part.fiscal_year, part.severity) == (
        "PAY-2026-03-DE01", "0100000000", "1010", "2026", "1")
    assert part.type_ids == ["614(RW)"]

    rows = await items(sap, "OriginalReferenceDocument eq 'PAY-2026-03-DE01' and "
                            "OriginalReferenceDocumentLogicalSystem eq 'FINSYNC'")
    assert [(r["AccountingDocumentItem"], r["GLAccount"], r["CostCenter"], r["AmountInTransactionCurrency"],
             r["DebitCreditCode"]) for r in rows] == [
        ("001", "0000006500", "CC-4200", "125000.00", "S"), ("002", "0000006520", "CC-4200", "25000.00", "S"),
        ("003", "0000002250", "", "-100000.00", "H"), ("004", "0000002200", "", "-50000.00", "H")]
    assert {(r["AccountingDocument"], r["CompanyCode"], r["FiscalYear"], r["TransactionCurrency"], r["PostingDate"],
             r["FiscalPeriod"], r["IsReversed"]) for r in rows} == {
        ("0100000000", "1010", "2026", "EUR", "/Date(1773100800000)/", "003", False)}

    second = confirmed((await post(sap, soap_request(journal_entry(
        "PAY-2026-03-US01", [("6500", "10.00", "USD", "CC-1000"), ("2250", "-10.00", "USD", None)],
        company_code="1710")))).content)
    assert second[0].accounting_document == "0100000000" and second[0].company_code == "1710"   # numbered per company code


@pytest.mark.parametrize(("entry", "type_id", "words"), [
    (journal_entry("X-UNBALANCED", [("6500", "100.00", "EUR", "CC-4200"), ("2250", "-90.00", "EUR", None)]),
     "702(F5)", "Balance in transaction currency EUR: 10.00"),
    (journal_entry("X-CLOSED", PAYROLL, posting_date="2026-02-27"), "201(F5)", "Posting period 002 2026 (Feb 2026) is not open"),
    (journal_entry("X-COMPANY", PAYROLL, company_code="9999"), "165(F5)", "Company code 9999 is not defined"),
    (journal_entry("X-ACCOUNT", [("6999", "1.00", "EUR", None), ("2250", "-1.00", "EUR", None)]), "010(FH)",
     "G/L account 0000006999 is not defined in company code 1010"),
    (journal_entry("X-BLOCKED", [("6199", "1.00", "EUR", None), ("2250", "-1.00", "EUR", None)]), "011(FH)",
     "G/L account 0000006199 (Travel - Other (retired)) is blocked"),
    (journal_entry("X-CC", [("6500", "1.00", "EUR", "CC-9999"), ("2250", "-1.00", "EUR", None)]), "116(KI)",
     "Cost center 1010/CC-9999 does not exist"),
    (journal_entry("X-CC-US", [("6500", "1.00", "EUR", "CC-1000"), ("2250", "-1.00", "EUR", None)]), "235(KI)",
     "Cost center CC-1000 belongs to company code 1710, not 1010"),
    (journal_entry("X-CC-OFF", [("6500", "1.00", "USD", "CC-1900"), ("2250", "-1.00", "USD", None)],
                   company_code="1710"), "142(KI)", "Cost center 1710/CC-1900 (Legacy Field Marketing (closed)) is blocked"),
    (journal_entry("X-CENTS", [("6500", "1.005", "EUR", None), ("2250", "-1.005", "EUR", None)]), "076(F5)",
     "more decimal places than currency EUR allows (2)"),
], ids=["unbalanced", "closed-period", "company-code", "gl-account", "blocked-account", "cost-center",
        "cost-center-of-other-company", "blocked-cost-center", "decimals"])
async def test_a_refused_entry_posts_nothing_and_says_why(sap, entry, type_id, words):
    reference = entry.findtext("OriginalReferenceDocument")
    (part,) = confirmed((await post(sap, soap_request(entry))).content)
    assert (part.accounting_document, part.fiscal_year, part.severity) == ("0000000000", "0000", "3")
    assert part.type_ids[0] == "609(RW)" and type_id in part.type_ids
    assert any(words in note for note in part.notes), part.notes
    assert await items(sap, f"OriginalReferenceDocument eq '{reference}'") == []
    (status,) = await statuses(sap, reference)
    assert status["Status"] == "REJECTED" and status["to_Log"]["results"][1]["TypeID"] == type_id


async def test_a_repeated_reference_is_refused_naming_the_document_already_posted(sap):
    first = confirmed((await post(sap, soap_request(journal_entry("PAY-DUP", PAYROLL)))).content)
    again = confirmed((await post(sap, soap_request(journal_entry("PAY-DUP", PAYROLL)))).content)
    assert first[0].accounting_document == "0100000000"
    assert again[0].accounting_document == "0000000000" and "022(RW)" in again[0].type_ids
    assert "already posted as accounting document 0100000000 (company code 1010, fiscal year 2026)" in again[0].notes[1]
    assert {r["AccountingDocument"] for r in await items(sap, "OriginalReferenceDocument eq 'PAY-DUP'")} == {"0100000000"}
    # Another sender's system may use the same reference: the key is reference and logical system.
    other = confirmed((await post(sap, soap_request(journal_entry("PAY-DUP", PAYROLL, logical_system="OTHER")))).content)
    assert other[0].accounting_document == "0100000001"


@pytest.mark.parametrize(("body", "words"), [
    (b"not xml", b"not well-formed XML"),
    (b"<a/>", b"not a SOAP 1.1 envelope"),
    (soap_request(journal_entry("X", PAYROLL, header_text="A header text longer than 25")), b"longer than 25 characters"),
    (soap_request(journal_entry("X", [("6500", "1.00", "EUR", None)])), b"needs between 2 and 999 Item"),
    (soap_request(journal_entry("X", [("6500", "one", "EUR", None), ("2250", "-1", "EUR", None)])), b"not a decimal"),
], ids=["not-xml", "no-envelope", "header-text", "one-item", "amount"])
async def test_a_request_that_cannot_be_read_is_a_client_fault(sap, body, words):
    response = await post(sap, body)
    assert response.status_code == 500 and b"<faultcode>soap-env:Client</faultcode>" in response.content
    assert words in response.content


async def test_an_entity_in_the_request_is_not_expanded(sap):
    body = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            + soap_request(journal_entry("X-ENTITY", PAYROLL)).split(b"?>", 1)[1].replace(b"X-ENTITY", b"&e;"))
    response = await post(sap, body)
    assert b"root:" not in response.content
    assert await items(sap, "OriginalReferenceDocument eq 'X-ENTITY'") == []


# --- asynchronous, with the confirmation to a callback -------------------------------------------

async def test_a_bulk_request_is_acknowledged_then_confirmed_to_the_callback_signed(sandbox, sap):
    async with receiver() as callback:
        callback.statuses = [503]   # the first delivery fails: the confirmation is sent again
        assert (await sap.put("/_sandbox/callbacks", json={"endpoint": callback.url})).status_code == 200
        response = await post(sap, soap_request(journal_entry("PAY-ASYNC", PAYROLL),
                                                journal_entry("PAY-ASYNC-CLOSED", PAYROLL, posting_date="2026-01-31")),
                              ASYNC_PATH)
        assert response.status_code == 202 and response.content == b""

        async def delivered_twice() -> bool:
            return len(callback.received) >= 2

        await wait_for(delivered_twice)

    (first_headers, first_body), (headers, body) = callback.received
    assert headers["webhook-id"] == first_headers["webhook-id"] and body == first_body
    assert headers["content-type"].startswith("text/xml")
    assert Verifier(DEFAULT_WEBHOOK_SECRETS).verify(headers, body) == headers["webhook-id"]
    posted, refused = confirmed(body)
    assert (posted.reference, posted.accounting_document, posted.company_code, posted.fiscal_year) == (
        "PAY-ASYNC", "0100000000", "1010", "2026")
    assert (refused.reference, refused.accounting_document, refused.severity) == ("PAY-ASYNC-CLOSED", "0000000000", "3")
    assert any("Jan 2026" in note for note in refused.notes)
    assert [s["Status"] for s in await statuses(sap, "PAY-ASYNC")] == ["POSTED"]
    assert len(await items(sap, "OriginalReferenceDocument eq 'PAY-ASYNC'")) == 4


async def test_a_held_confirmation_is_pending_until_released(sandbox, sap):
    await set_processing(sandbox, held=True)
    assert (await post(sap, soap_request(journal_entry("PAY-HELD", PAYROLL)), ASYNC_PATH)).status_code == 202
    (status,) = await statuses(sap, "PAY-HELD")
    assert (status["Status"], status["AccountingDocument"]) == ("PENDING", "")
    assert (await sap.get("/_sandbox/processing")).json()["pending_messages"] == 1
    await set_processing(sandbox, held=False)
    posted = await wait_for(lambda: _status_is(sap, "PAY-HELD", "POSTED"))
    assert posted["AccountingDocument"] == "0100000000"


async def _status_is(sap: httpx.AsyncClient, reference: str, wanted: str) -> dict | None:
    found = await statuses(sap, reference)
    return found[-1] if found and found[-1]["Status"] == wanted else None


# --- read back ---------------------------------------------------------------------------------

async def test_the_read_back_filters_narrowly_and_pages(sap, monkeypatch):
    for reference in ("PAY-A", "PAY-B", "PAY-C"):
        await post(sap, soap_request(journal_entry(reference, PAYROLL)))
    both = await items(sap, "(OriginalReferenceDocument eq 'PAY-A' or OriginalReferenceDocument eq 'PAY-C') "
                            "and CompanyCode eq '1010'")
    assert {r["OriginalReferenceDocument"] for r in both} == {"PAY-A", "PAY-C"} and len(both) == 8
    page = (await sap.get(ITEMS_PATH, params={"$filter": "CompanyCode eq '1010'", "$top": "5", "$skip": "10"})).json()
    assert [r["OriginalReferenceDocument"] for r in page["d"]["results"]] == ["PAY-C", "PAY-C"]
    monkeypatch.setattr(odata, "PAGE_SIZE", 5)   # without $top, the server's page size cuts and links the rest
    first = (await sap.get(ITEMS_PATH, params={"$filter": "CompanyCode eq '1010'"})).json()["d"]
    rest = (await sap.get(first["__next"])).json()["d"]
    assert len(first["results"]) == 5 and "__next" in rest and len(rest["results"]) == 5
    # A quote in a value is part of the value, never the end of the filter.
    assert await items(sap, "OriginalReferenceDocument eq 'PAY-A'' or CompanyCode eq ''1010'") == []


@pytest.mark.parametrize(("odata_filter", "words"), [
    ("GLAccount eq '0000006500'", "GLAccount cannot be filtered"),
    ("OriginalReferenceDocument eq 'A' or OriginalReferenceDocument eq 'B' and CompanyCode eq '1010'", "in parentheses"),
    ("OriginalReferenceDocument ne 'A'", "expected eq"),
    ("OriginalReferenceDocument eq 'A'; DROP TABLE", "cannot be read"),
    ("(CompanyCode eq '1010' or OriginalReferenceDocument eq 'A')", "one field only"),
], ids=["field", "precedence", "operator", "junk", "mixed-or"])
async def test_a_filter_the_sandbox_does_not_read_is_a_400_in_one_line(sap, odata_filter, words):
    response = await sap.get(ITEMS_PATH, params={"$filter": odata_filter})
    assert response.status_code == 400
    message = response.json()["error"]["message"]["value"]
    assert words in message and "\n" not in message


# --- reversal ----------------------------------------------------------------------------------

async def test_a_reversal_negates_every_item_once_and_names_itself_on_a_second_try(sap):
    await post(sap, soap_request(journal_entry("PAY-REV", PAYROLL)))
    (reversal,) = confirmed((await post(sap, reversal_request(reversal_entry("PAY-REV:reversal", "PAY-REV")),
                                        REVERSAL_PATH)).content)
    assert (reversal.reference, reversal.accounting_document, reversal.severity) == ("PAY-REV:reversal", "0100000001", "1")

    original = await items(sap, "OriginalReferenceDocument eq 'PAY-REV'")
    reversing = await items(sap, "OriginalReferenceDocument eq 'PAY-REV:reversal'")
    assert [r["AmountInTransactionCurrency"] for r in reversing] == ["-125000.00", "-25000.00", "100000.00", "50000.00"]
    assert [r["GLAccount"] for r in reversing] == [r["GLAccount"] for r in original]
    assert {(r["IsReversed"], r["ReversalReferenceDocument"]) for r in original} == {(True, "0100000001")}
    assert {(r["IsReversal"], r["ReversalReferenceDocument"], r["ReversalReason"]) for r in reversing} == {
        (True, "0100000000", "01")}

    (again,) = confirmed((await post(sap, reversal_request(reversal_entry("PAY-REV:reversal-2", "PAY-REV")),
                                     REVERSAL_PATH)).content)
    assert "405(F5A)" in again.type_ids and any("already reversed by document 0100000001" in n for n in again.notes)
    (same,) = confirmed((await post(sap, reversal_request(reversal_entry("PAY-REV:reversal", "PAY-REV")),
                                    REVERSAL_PATH)).content)
    assert "022(RW)" in same.type_ids   # the same reversal sent again is a repeated reference
    (unknown,) = confirmed((await post(sap, reversal_request(reversal_entry("NONE:reversal", "NONE")),
                                       REVERSAL_PATH)).content)
    assert "404(F5A)" in unknown.type_ids and any("nothing to reverse" in n for n in unknown.notes)
    assert len(await items(sap, "CompanyCode eq '1010'")) == 8


async def test_a_reversal_into_a_closed_period_is_refused(sap):
    await post(sap, soap_request(journal_entry("PAY-REV-CLOSED", PAYROLL)))
    (refused,) = confirmed((await post(sap, reversal_request(
        reversal_entry("PAY-REV-CLOSED:reversal", "PAY-REV-CLOSED", posting_date="2026-02-28")), REVERSAL_PATH)).content)
    assert "201(F5)" in refused.type_ids
    assert {r["IsReversed"] for r in await items(sap, "OriginalReferenceDocument eq 'PAY-REV-CLOSED'")} == {False}


# --- faults ------------------------------------------------------------------------------------

async def test_a_server_error_posts_nothing_and_a_lost_answer_still_posts(sandbox, sap):
    await set_faults(sandbox, error_rate=1.0, path_pattern="journalentry")
    failed = await post(sap, soap_request(journal_entry("PAY-5XX", PAYROLL)))
    assert failed.status_code in (500, 502, 503) and b"soap-env:Server" in failed.content
    assert await statuses(sap, "PAY-5XX") == []

    await set_faults(sandbox, ambiguous_rate=1.0, path_pattern="journalentry")
    with pytest.raises(httpx.HTTPError):
        await post(sap, soap_request(journal_entry("PAY-LOST", PAYROLL)), ASYNC_PATH)
    report = await set_faults(sandbox)
    assert report["injected"] == {"server_error_5xx": 1, "dropped_response": 1}
    posted = await wait_for(lambda: _status_is(sap, "PAY-LOST", "POSTED"))
    assert posted["AccountingDocument"] == "0100000000"


async def test_state_survives_a_restart(tmp_path):
    for attempt in range(2):
        async with serve(create_app(tmp_path / "s4hana.db", today=TODAY)) as base_url:
            async with httpx.AsyncClient(base_url=base_url, auth=(USER, PASSWORD)) as sap:
                if attempt == 0:
                    await post(sap, soap_request(journal_entry("PAY-KEPT", PAYROLL)))
                else:
                    assert len(await items(sap, "OriginalReferenceDocument eq 'PAY-KEPT'")) == 4
                    (again,) = confirmed((await post(sap, soap_request(journal_entry("PAY-KEPT", PAYROLL)))).content)
                    assert "022(RW)" in again.type_ids

