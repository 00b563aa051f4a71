"""The NetSuite sandbox over real HTTP: M2M auth, journal rules, SuiteQL, governance, restart."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandboxes.kit.company import load_company
from sandboxes.netsuite import create_app
from sandboxes.netsuite.tables import OutdatedDatabase
from tests.support.netsuite_http import SUITEQL, TODAY, assertion, authorized_client, request_token, suiteql
from tests.support.servers import serve

JOURNALS = "/services/rest/record/v1/journalEntry"


def journal_body(external_id: str, *, tran_date: str = "2026-03-10", debit_account: str = "612",
                 department: str = "10", debit: str = "120.50", credit: str = "120.50") -> str:
    # Raw JSON so the amounts travel as exact decimal numbers.
    return (f'{{"externalId":"{external_id}","subsidiary":{{"id":"1"}},"tranDate":"{tran_date}",'
            f'"currency":{{"id":"1"}},"memo":"Expense report R-1",'
            f'"line":{{"items":[{{"account":{{"id":"{debit_account}"}},"debit":{debit},'
            f'"department":{{"id":"{department}"}},"memo":"Team dinner"}},'
            f'{{"account":{{"id":"215"}},"credit":{credit},"memo":"Payable to E1001"}}]}}}}')


async def put_journal(http: httpx.AsyncClient, external_id: str, body: str) -> httpx.Response:
    return await http.put(f"{JOURNALS}/eid:{external_id}", content=body, headers={"Content-Type": "application/json"})


async def test_token_for_a_signed_assertion_and_none_for_a_forged_one(tmp_path):
    async with serve(create_app(tmp_path / "netsuite.db", today=TODAY)) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as http:
            good = await request_token(http, assertion(base_url))
            assert good.status_code == 200
            assert good.json()["token_type"] == "bearer" and good.json()["expires_in"] == 3600

            other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            forged = await request_token(http, assertion(base_url, key=other_key))
            assert forged.status_code == 400 and forged.json()["error"] == "invalid_client"
            unknown_kid = await request_token(http, assertion(base_url, kid="someone-elses-certificate"))
            assert unknown_kid.json()["error"] == "invalid_client"
            too_long = await request_token(http, assertion(base_url, lifetime=2 * 3600))
            assert too_long.status_code == 400

            anonymous = await http.get("/services/rest/record/v1/account")
            assert anonymous.status_code == 401
            assert anonymous.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
            with_token = await http.get("/services/rest/record/v1/account",
                                        headers={"Authorization": f"Bearer {good.json()['access_token']}"})
            assert with_token.status_code == 200


async def test_upserting_the_same_journal_twice_keeps_one_record(netsuite):
    first = await put_journal(netsuite, "exp-R1", journal_body("exp-R1"))
    second = await put_journal(netsuite, "exp-R1", journal_body("exp-R1"))
    assert first.status_code == second.status_code == 204
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].startswith(str(netsuite.base_url) + JOURNALS + "/")

    rows = await suiteql(netsuite, "SELECT id, tranid, trandate FROM transaction WHERE externalid = 'exp-R1'")
    assert len(rows) == 1
    assert rows[0]["tranid"].startswith("JE") and rows[0]["trandate"] == "3/10/2026"

    record = (await netsuite.get(f"{JOURNALS}/eid:exp-R1", params={"expandSubResources": "true"})).json()
    assert record["tranId"] == rows[0]["tranid"] and record["postingPeriod"]["refName"] == "Mar 2026"
    assert '"debit":120.50' in (await netsuite.get(f"{JOURNALS}/{record['id']}",
                                                   params={"expandSubResources": "true"})).text

    duplicate = await netsuite.post(JOURNALS, content=journal_body("exp-R1"),
                                    headers={"Content-Type": "application/json"})
    assert duplicate.status_code == 400
    assert duplicate.json()["o:errorDetails"][0]["o:errorCode"] == "DUP_RCRD"
    assert len(await suiteql(netsuite, "SELECT id FROM transaction")) == 1


async def test_upsert_with_a_changed_body_updates_in_place(netsuite):
    await put_journal(netsuite, "exp-R2", journal_body("exp-R2"))
    changed = await put_journal(netsuite, "exp-R2", journal_body("exp-R2", debit="99.00", credit="99.00"))
    assert changed.status_code == 204
    lines = await suiteql(netsuite, "SELECT tl.debitforeignamount FROM transactionline tl "
                                    "JOIN transaction t ON t.id = tl.transaction "
                                    "WHERE t.externalid = 'exp-R2' AND tl.debitforeignamount IS NOT NULL")
    assert lines == [{"links": [], "debitforeignamount": "99.00"}]


@pytest.mark.parametrize(("body", "code", "path", "words"), [
    (journal_body("bad", credit="100.00"), "USER_ERROR", "line", "out of balance"),
    (journal_body("bad", debit_account="619"), "INVALID_FLD_VALUE", "line.items[0].account", "6199"),
    (journal_body("bad", department="19"), "INVALID_FLD_VALUE", "line.items[0].department", "Legacy Field Marketing"),
    (journal_body("bad", department="41"), "INVALID_KEY_OR_REF", "line.items[0].department", "subsidiary 1"),
    (journal_body("bad", tran_date="2026-02-27"), "INVALID_FLD_VALUE", "postingPeriod", "Feb 2026 is closed"),
    (journal_body("bad", debit="120.505", credit="120.505"), "INVALID_FLD_VALUE", "line.items[0].debit", "2 decimal"),
    (journal_body("bad", debit="-5", credit="-5"), "INVALID_FLD_VALUE", "line.items[0].debit", "positive"),
], ids=["unbalanced", "inactive-account", "inactive-department", "other-subsidiary-department", "closed-period",
        "three-decimals", "negative"])
async def test_journal_refusals_in_netsuite_error_shape(netsuite, body, code, path, words):
    response = await put_journal(netsuite, "bad", body)
    assert response.status_code == 400
    error = response.json()
    assert error["status"] == 400 and error["title"] == "Bad Request"
    detail = error["o:errorDetails"][0]
    assert (detail["o:errorCode"], detail["o:errorPath"]) == (code, path)
    assert words in detail["detail"]
    assert await suiteql(netsuite, "SELECT id FROM transaction") == []


@pytest.mark.parametrize(("subsidiary", "currency"), [("1", "1"), ("2", "4")], ids=["US01-in-USD", "DE01-in-EUR"])
async def test_the_bank_and_realized_fx_accounts_take_journals_in_either_subsidiary(netsuite, subsidiary, currency):
    """What a settled payment books: the bank account credited, an exchange difference to 7980."""
    accounts = {row["acctnumber"]: row for row in await suiteql(
        netsuite, "SELECT id, acctnumber, acctname, isinactive FROM account WHERE acctnumber IN ('1010', '1020', '7980')")}
    assert {number: (row["acctname"], row["isinactive"]) for number, row in accounts.items()} == {
        "1010": ("Bank - Chase (USD)", "F"), "1020": ("Bank - BayernLB (EUR)", "F"),
        "7980": ("Realized FX Gain/Loss", "F")}
    for bank in ("1010", "1020"):
        external_id = f"fx-{subsidiary}-{bank}"
        body = (f'{{"externalId":"{external_id}","subsidiary":{{"id":"{subsidiary}"}},"tranDate":"2026-03-10",'
                f'"currency":{{"id":"{currency}"}},"memo":"Payment settled",'
                f'"line":{{"items":[{{"account":{{"id":"{accounts["7980"]["id"]}"}},"debit":0.55}},'
                f'{{"account":{{"id":"{accounts[bank]["id"]}"}},"credit":0.55}}]}}}}')
        response = await put_journal(netsuite, external_id, body)
        assert response.status_code == 204, response.text


async def test_suiteql_reads_and_refuses_anything_but_select(netsuite):
    rows = await suiteql(netsuite, "SELECT e.entityid, e.isinactive, e.custentity_iban, s.externalid AS entity "
                                   "FROM employee e JOIN subsidiary s ON s.id = e.subsidiary "
                                   "WHERE e.entityid IN ('E1001', 'E2001') ORDER BY e.entityid")
    assert rows == [
        {"links": [], "entityid": "E1001", "isinactive": "F", "entity": "US01"},
        {"links": [], "entityid": "E2001", "isinactive": "F", "custentity_iban": "DE12500105170648489890",
         "entity": "DE01"}]
    paged = await netsuite.post(SUITEQL, params={"limit": 5, "offset": 5}, json={"q": "SELECT id FROM account"},
                                headers={"Prefer": "transient"})
    page = paged.json()
    chart = len(load_company()["accounts"])     # the seed's chart of accounts, every one of them
    assert (page["count"], page["offset"], page["totalResults"], page["hasMore"]) == (5, 5, chart, True)

    for statement in ["DELETE FROM account", "UPDATE account SET isinactive = 'T'",
                      "SELECT 1; DELETE FROM account", "SELECT name FROM sqlite_master",
                      "SELECT * FROM sandbox_journal_request"]:
        refused = await netsuite.post(SUITEQL, json={"q": statement}, headers={"Prefer": "transient"})
        assert refused.status_code == 400, statement
        assert refused.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"
    active = [account for account in load_company()["accounts"] if not account.get("inactive")]
    assert len(await suiteql(netsuite, "SELECT id FROM account WHERE isinactive = 'F'")) == len(active)


async def test_record_collections_page_and_filter(netsuite):
    inactive = (await netsuite.get("/services/rest/record/v1/account", params={"q": "isInactive IS true"})).json()
    assert [item["id"] for item in inactive["items"]] == ["619"]
    page = (await netsuite.get("/services/rest/record/v1/accountingPeriod", params={"limit": 10, "offset": 10})).json()
    assert (page["count"], page["offset"], page["totalResults"], page["hasMore"]) == (10, 10, 37, True)
    assert any(link["rel"] == "next" for link in page["links"])
    department = (await netsuite.get("/services/rest/record/v1/department/eid:CC-1900")).json()
    assert department["isInactive"] is True and department["subsidiary"]["id"] == "1"
    missing = await netsuite.get("/services/rest/record/v1/employee/99999")
    assert missing.status_code == 404
    assert missing.json()["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_ID"


@pytest.mark.parametrize(("method", "path", "answered"), [
    ("GET", "/services/rest/record/v1/account", 200),
    ("POST", "/services/rest/record/v1/vendorBill/1001/!transform/vendorPayment", 404),   # no such bill
], ids=["read", "bill-payment"])
async def test_more_requests_in_flight_than_the_limit_get_429(tmp_path, method, path, answered):
    async with serve(create_app(tmp_path / "netsuite.db", today=TODAY, concurrency_limit=3)) as base_url:
        http = await authorized_client(base_url)
        await http.put("/_sandbox/faults", json={"latency_ms": 400, "path_pattern": "record"})
        responses = await asyncio.gather(*(http.request(method, path, json={}) for _ in range(6)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [answered] * 3 + [429] * 3
        refused = next(r for r in responses if r.status_code == 429).json()
        assert refused["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
        await http.put("/_sandbox/faults", json={})
        assert (await http.get("/services/rest/record/v1/account")).status_code == 200
        await http.aclose()


async def test_restart_keeps_journals_employee_changes_and_tokens(tmp_path):
    db = tmp_path / "netsuite.db"
    async with serve(create_app(db, today=TODAY)) as base_url:
        http = await authorized_client(base_url)
        await put_journal(http, "exp-R3", journal_body("exp-R3"))
        patched = await http.patch("/services/rest/record/v1/employee/302",
                                   json={"custentity_bank_account_number": "999000111",
                                         "custentity_bic": "BOFAUS3NXXX"})
        assert patched.status_code == 204
        token = http.headers["Authorization"]
        await http.aclose()

    async with serve(create_app(db, today=date(2026, 9, 1))) as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": token}) as http:
            assert (await http.get(f"{JOURNALS}/eid:exp-R3")).status_code == 200
            employee = (await http.get("/services/rest/record/v1/employee/302")).json()
            assert employee["custentity_bank_account_number"] == "999000111"
            # Not re-seeded: the periods are still those of the first start (March open).
            march = await suiteql(http, "SELECT closed FROM accountingperiod WHERE periodname = 'Mar 2026'")
            assert march == [{"links": [], "closed": "F"}]
            assert len(await suiteql(http, "SELECT id FROM transaction")) == 1


def test_a_database_an_older_sandbox_created_is_refused_with_what_to_do(tmp_path):
    db = tmp_path / "netsuite.db"
    with sqlite3.connect(db) as old:
        old.execute("CREATE TABLE vendor (id INTEGER PRIMARY KEY, entityid TEXT)")
    with pytest.raises(OutdatedDatabase, match=r"table vendor lacks .*companyname.*delete it"):
        create_app(db, today=TODAY)
