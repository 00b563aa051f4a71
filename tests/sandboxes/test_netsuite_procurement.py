"""The NetSuite sandbox's requisition-to-pay records over real HTTP: vendors, budgets, purchase
orders as commitments, vendor bills, their reversal and their payment, and what SuiteQL sees."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from sandboxes.kit.jsonio import dumps
from tests.support.netsuite_http import suiteql

RECORD = "/services/rest/record/v1"


async def period_id(http: httpx.AsyncClient, name: str) -> str:
    return (await suiteql(http, f"SELECT id FROM accountingperiod WHERE periodname = '{name}'"))[0]["id"]


# --- vendors -------------------------------------------------------------------------------------
async def test_vendors_are_the_seeded_suppliers_by_number(netsuite):
    listed = (await netsuite.get(f"{RECORD}/vendor")).json()
    assert listed["totalResults"] == 5

    northwind = (await netsuite.get(f"{RECORD}/vendor/eid:SUP-100")).json()
    assert (northwind["entityId"], northwind["externalId"], northwind["companyName"]) == (
        "SUP-100", "SUP-100", "Northwind Office Supply")
    assert (northwind["subsidiary"]["id"], northwind["currency"]["id"], northwind["isInactive"]) == ("1", "1", False)
    assert (northwind["custentity_bank_account_number"], northwind["custentity_routing_number"],
            northwind["custentity_bic"]) == ("4000123456", "021000021", "CHASUS33XXX")
    assert "custentity_iban" not in northwind
    terms = (await netsuite.get(f"{RECORD}/term/{northwind['terms']['id']}")).json()
    assert (terms["name"], terms["daysUntilNetDue"], terms["discountPercent"], terms["daysUntilExpiry"]) == (
        "2% 10 Net 30", 30, 2, 10)
    assert (await netsuite.get(f"{RECORD}/vendor/{northwind['id']}")).json()["entityId"] == "SUP-100"

    inactive = (await netsuite.get(f"{RECORD}/vendor", params={"q": "isInactive IS true"})).json()
    assert [(await netsuite.get(f"{RECORD}/vendor/{item['id']}")).json()["entityId"]
            for item in inactive["items"]] == ["SUP-500"]
    german = (await netsuite.get(f"{RECORD}/vendor", params={"q": 'subsidiary IS "2"', "limit": 1})).json()
    assert (german["count"], german["totalResults"], german["hasMore"]) == (1, 2, True)

    rows = await suiteql(netsuite, "SELECT v.entityid, v.custentity_iban, c.symbol, t.name AS terms "
                                   "FROM vendor v JOIN currency c ON c.id = v.currency "
                                   "JOIN term t ON t.id = v.terms WHERE v.entityid IN ('SUP-200', 'SUP-300') "
                                   "ORDER BY v.entityid")
    assert rows == [
        {"links": [], "entityid": "SUP-200", "custentity_iban": "DE89370400440532013000", "symbol": "EUR",
         "terms": "Net 30"},
        {"links": [], "entityid": "SUP-300", "symbol": "USD", "terms": "Net 45"}]
    assert (await netsuite.get(f"{RECORD}/vendor/eid:SUP-999")).status_code == 404


# --- budgets -------------------------------------------------------------------------------------
BUDGET = ("SELECT b.amount, c.symbol FROM budgets b JOIN currency c ON c.id = b.currency "
          "JOIN account a ON a.id = b.account JOIN department d ON d.id = b.department "
          "JOIN accountingperiod p ON p.id = b.accountingperiod "
          "WHERE a.acctnumber = '{account}' AND d.externalid = '{center}' AND p.periodname = '{period}'")


async def test_a_budget_per_subsidiary_account_department_and_period_that_the_driver_can_change(netsuite):
    assert await suiteql(netsuite, BUDGET.format(account="6310", center="CC-1000", period="Mar 2026")) == [
        {"links": [], "amount": "25000.00", "symbol": "USD"}]
    assert await suiteql(netsuite, BUDGET.format(account="6320", center="CC-4200", period="Jan 2027")) == [
        {"links": [], "amount": "25000.00", "symbol": "EUR"}]
    # Every period the sandbox has, for each active department's three purchasing accounts.
    counted = await suiteql(netsuite, "SELECT COUNT(*) AS n FROM budgets")
    periods = await suiteql(netsuite, "SELECT COUNT(*) AS n FROM accountingperiod")
    assert int(counted[0]["n"]) == 5 * 3 * int(periods[0]["n"])

    march = await period_id(netsuite, "Mar 2026")
    changed = await netsuite.put("/_sandbox/budgets", content=(
        f'{{"subsidiary":{{"id":"1"}},"account":{{"id":"630"}},"department":{{"id":"10"}},'
        f'"accountingPeriod":{{"id":"{march}"}},"amount":1500.50}}'))
    assert changed.status_code == 200, changed.text
    assert await suiteql(netsuite, BUDGET.format(account="6300", center="CC-1000", period="Mar 2026")) == [
        {"links": [], "amount": "1500.50", "symbol": "USD"}]
    assert await suiteql(netsuite, BUDGET.format(account="6300", center="CC-2000", period="Mar 2026")) == [
        {"links": [], "amount": "25000.00", "symbol": "USD"}]

    elsewhere = await netsuite.put("/_sandbox/budgets", json={
        "subsidiary": {"id": "1"}, "account": {"id": "630"}, "department": {"id": "41"},
        "accountingPeriod": {"id": march}, "amount": 10})
    assert elsewhere.status_code == 400
    assert elsewhere.json()["o:errorDetails"][0]["o:errorPath"] == "department"


# --- purchasing documents -------------------------------------------------------------------------
NORTHWIND, LITWARE = "501", "505"        # SUP-100 (US01, USD, 2/10 net 30), SUP-500 (inactive)
OFFICE_EQUIPMENT, IT_HARDWARE, ENGINEERING = "630", "631", "10"


def order(lines: list[tuple[int, str, str, str]], *, vendor: str = NORTHWIND) -> str:
    """A purchase order body; lines are (line, account, department, amount)."""
    return dumps({"entity": {"id": vendor}, "subsidiary": {"id": "1"}, "tranDate": "2026-03-05",
                  "currency": {"id": "1"}, "memo": "Requisition REQ-1",
                  "expense": {"items": [{"line": n, "account": {"id": account}, "department": {"id": department},
                                         "amount": Decimal(value), "memo": f"line {n}"}
                                        for n, account, department, value in lines]}})


def bill(tran_id: str, lines: list[tuple[str, str, str, str | None, int | None]], *, vendor: str = NORTHWIND,
         tran_date: str = "2026-03-12") -> str:
    """A vendor bill body; lines are (account, department, amount, purchase order id, order line)."""
    items = []
    for account, department, value, order_id, order_line in lines:
        item: dict = {"account": {"id": account}, "department": {"id": department}, "amount": Decimal(value)}
        if order_id is not None:
            item.update({"orderDoc": {"id": order_id}, "orderLine": order_line})
        items.append(item)
    return dumps({"entity": {"id": vendor}, "subsidiary": {"id": "1"}, "tranDate": tran_date, "tranId": tran_id,
                  "currency": {"id": "1"}, "memo": f"Invoice {tran_id}", "expense": {"items": items}})


async def put(http: httpx.AsyncClient, record: str, external_id: str, body: str) -> httpx.Response:
    return await http.put(f"{RECORD}/{record}/eid:{external_id}", content=body,
                          headers={"Content-Type": "application/json"})


async def created(response: httpx.Response, record: str) -> str:
    """The id in the Location of a 204 that created or found a record."""
    assert response.status_code == 204, response.text
    location = response.headers["Location"]
    assert f"{RECORD}/{record}/" in location
    return location.rsplit("/", 1)[1]


async def transform(http: httpx.AsyncClient, bill_id: str, into: str, body: dict) -> httpx.Response:
    return await http.post(f"{RECORD}/vendorBill/{bill_id}/!transform/{into}", content=dumps(body),
                           headers={"Content-Type": "application/json"})


async def record(http: httpx.AsyncClient, name: str, record_id: str) -> dict:
    response = await http.get(f"{RECORD}/{name}/{record_id}", params={"expandSubResources": "true"})
    assert response.status_code == 200, response.text
    return response.json()


async def gl(http: httpx.AsyncClient, transaction_id: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """The document's GL lines: (account number, debit, credit, department)."""
    rows = await suiteql(http, "SELECT a.acctnumber, tl.debitforeignamount, tl.creditforeignamount, tl.department "
                               "FROM transactionline tl JOIN account a ON a.id = tl.account "
                               f"WHERE tl.transaction = {transaction_id} ORDER BY tl.linesequencenumber")
    return [(r["acctnumber"], r.get("debitforeignamount"), r.get("creditforeignamount"), r.get("department"))
            for r in rows]


async def open_commitments(http: httpx.AsyncClient) -> dict[tuple[str, str], str]:
    """Open purchase order amounts by (account, department), summed by SuiteQL."""
    rows = await suiteql(http, "SELECT tl.account, tl.department, SUM(tl.foreignamountopen) AS open "
                               "FROM transaction t JOIN transactionline tl ON tl.transaction = t.id "
                               "WHERE t.recordtype = 'purchaseorder' AND t.subsidiary = 1 "
                               "GROUP BY tl.account, tl.department")
    return {(r["account"], r["department"]): r["open"] for r in rows}


def lines_by_number(document: dict) -> dict[int, dict]:
    return {item["line"]: item for item in document["expense"]["items"]}


async def test_a_purchase_order_commits_until_bills_use_it_up_and_closing_releases_the_rest(netsuite):
    po = await created(await put(netsuite, "purchaseOrder", "coupa-po-1", order(
        [(1, OFFICE_EQUIPMENT, ENGINEERING, "100.10"), (2, IT_HARDWARE, ENGINEERING, "200.20")])), "purchaseOrder")
    ordered = await record(netsuite, "purchaseOrder", po)
    assert (ordered["status"]["id"], ordered["total"], ordered["entity"]["id"]) == ("pendingReceipt", 300.30, NORTHWIND)
    assert ordered["tranId"].startswith("PO")
    # Summed exactly (as binary floats, 100.10 + 200.20 would be 300.29999999999995).
    assert await suiteql(netsuite, "SELECT SUM(tl.foreignamountopen) AS open FROM transactionline tl "
                                   f"WHERE tl.transaction = {po}") == [{"links": [], "open": "300.30"}]

    bill_id = await created(await put(netsuite, "vendorBill", "coupa-inv-1", bill(
        "INV-1", [(OFFICE_EQUIPMENT, ENGINEERING, "100.10", po, 1), (IT_HARDWARE, ENGINEERING, "50.00", po, 2)])),
        "vendorBill")
    billed = await record(netsuite, "purchaseOrder", po)
    assert billed["status"]["id"] == "pendingBilling"
    assert {n: (i["amountBilled"], i["amountOpen"], i["isClosed"]) for n, i in lines_by_number(billed).items()} == {
        1: (100.10, 0, False), 2: (50.00, 150.20, False)}
    assert await open_commitments(netsuite) == {(OFFICE_EQUIPMENT, ENGINEERING): "0.00",
                                                (IT_HARDWARE, ENGINEERING): "150.20"}
    # The order is not in the GL; the bill is: budget left = budget - open commitments - actuals.
    actuals = await suiteql(netsuite, "SELECT SUM(tl.foreignamount) AS actual FROM transaction t "
                                      "JOIN transactionline tl ON tl.transaction = t.id JOIN accountingperiod p "
                                      "ON p.id = t.postingperiod WHERE t.posting = 'T' AND tl.account = 631 "
                                      "AND tl.department = 10 AND p.periodname = 'Mar 2026'")
    assert actuals == [{"links": [], "actual": "50.00"}]
    assert (await record(netsuite, "vendorBill", bill_id))["expense"]["items"][1]["orderLine"] == 2

    closed = await netsuite.patch(f"{RECORD}/purchaseOrder/{po}", json={"status": "closed"})
    assert closed.status_code == 204, closed.text
    after = await record(netsuite, "purchaseOrder", po)
    assert after["status"] == {"id": "closed", "refName": "Closed"}
    assert {n: (i["amountBilled"], i["amountOpen"], i["isClosed"]) for n, i in lines_by_number(after).items()} == {
        1: (100.10, 0, True), 2: (50.00, 0, True)}   # billed stays billed: closing releases the rest only
    assert set((await open_commitments(netsuite)).values()) == {"0.00"}
    late = await put(netsuite, "vendorBill", "coupa-inv-2", bill("INV-2", [(IT_HARDWARE, ENGINEERING, "20.00", po, 2)]))
    assert late.status_code == 400
    assert late.json()["o:errorDetails"][0]["o:errorPath"] == "expense.items[0].orderLine"


async def test_closing_one_line_releases_that_line_and_billing_the_rest_bills_the_order_fully(netsuite):
    po = await created(await put(netsuite, "purchaseOrder", "coupa-po-2", order(
        [(1, OFFICE_EQUIPMENT, ENGINEERING, "900.00"), (2, OFFICE_EQUIPMENT, "20", "400.00")])), "purchaseOrder")
    response = await netsuite.patch(f"{RECORD}/purchaseOrder/{po}",
                                    json={"expense": {"items": [{"line": 2, "isClosed": True}]}})
    assert response.status_code == 204, response.text
    assert (await record(netsuite, "purchaseOrder", po))["status"]["id"] == "pendingReceipt"
    assert await open_commitments(netsuite) == {(OFFICE_EQUIPMENT, ENGINEERING): "900.00",
                                                (OFFICE_EQUIPMENT, "20"): "0.00"}
    await created(await put(netsuite, "vendorBill", "coupa-inv-3", bill(
        "INV-3", [(OFFICE_EQUIPMENT, ENGINEERING, "900.00", po, 1)])), "vendorBill")
    assert (await record(netsuite, "purchaseOrder", po))["status"]["id"] == "closed"

    whole = await created(await put(netsuite, "purchaseOrder", "coupa-po-3", order(
        [(1, IT_HARDWARE, ENGINEERING, "75.00")])), "purchaseOrder")
    await created(await put(netsuite, "vendorBill", "coupa-inv-4", bill(
        "INV-4", [(IT_HARDWARE, ENGINEERING, "75.00", whole, 1)])), "vendorBill")
    assert (await record(netsuite, "purchaseOrder", whole))["status"]["id"] == "fullyBilled"
    unknown = await netsuite.patch(f"{RECORD}/purchaseOrder/{whole}",
                                   json={"expense": {"items": [{"line": 7, "isClosed": True}]}})
    assert unknown.status_code == 400


async def test_a_bill_upserted_twice_is_posted_once_and_books_the_payable(netsuite):
    po = await created(await put(netsuite, "purchaseOrder", "coupa-po-4", order(
        [(1, OFFICE_EQUIPMENT, ENGINEERING, "1000.00")])), "purchaseOrder")
    body = bill("INV-77", [(OFFICE_EQUIPMENT, ENGINEERING, "1000.00", po, 1)])
    first = await put(netsuite, "vendorBill", "coupa-inv-77", body)
    second = await put(netsuite, "vendorBill", "coupa-inv-77", body)
    bill_id = await created(first, "vendorBill")
    assert second.headers["Location"] == first.headers["Location"]

    assert len(await suiteql(netsuite, "SELECT id FROM transaction WHERE recordtype = 'vendorbill'")) == 1
    assert await gl(netsuite, bill_id) == [("2010", None, "1000.00", None), ("6300", "1000.00", None, ENGINEERING)]
    posted = await record(netsuite, "vendorBill", bill_id)
    assert (posted["tranId"], posted["status"]["id"], posted["total"], posted["amountRemaining"]) == (
        "INV-77", "open", 1000, 1000)
    assert (posted["dueDate"], posted["postingPeriod"]["refName"], posted["account"]["id"]) == (
        "2026-04-11", "Mar 2026", "201")   # net 30 from the vendor's terms; the payable account
    assert lines_by_number(await record(netsuite, "purchaseOrder", po))[1]["amountBilled"] == 1000   # once, not twice

    changed = await put(netsuite, "vendorBill", "coupa-inv-77",
                        bill("INV-77", [(OFFICE_EQUIPMENT, ENGINEERING, "990.00", po, 1)]))
    assert await created(changed, "vendorBill") == bill_id
    assert await gl(netsuite, bill_id) == [("2010", None, "990.00", None), ("6300", "990.00", None, ENGINEERING)]
    assert lines_by_number(await record(netsuite, "purchaseOrder", po))[1]["amountOpen"] == 10


@pytest.mark.parametrize(("earlier", "body", "code", "path", "words"), [
    (None, bill("INV-9", [(OFFICE_EQUIPMENT, ENGINEERING, "10.00", None, None)], vendor=LITWARE),
     "INVALID_FLD_VALUE", "entity", "SUP-500 Litware Inactive Ltd is inactive"),
    (None, bill("INV-9", [(OFFICE_EQUIPMENT, ENGINEERING, "10.00", None, None)], tran_date="2026-02-20"),
     "INVALID_FLD_VALUE", "postingPeriod", "Feb 2026 is closed"),
    (None, bill("INV-9", [(OFFICE_EQUIPMENT, "99", "10.00", None, None)]),
     "INVALID_KEY_OR_REF", "expense.items[0].department", "department reference key 99"),
    (None, bill("INV-9", [("777", ENGINEERING, "10.00", None, None)]),
     "INVALID_KEY_OR_REF", "expense.items[0].account", "account reference key 777"),
    (None, bill("INV-9", [(OFFICE_EQUIPMENT, ENGINEERING, "10.001", None, None)]),
     "INVALID_FLD_VALUE", "expense.items[0].amount", "2 decimal"),
    (None, bill("INV-9", [(OFFICE_EQUIPMENT, ENGINEERING, "10.00", None, None)], vendor="502"),
     "INVALID_KEY_OR_REF", "subsidiary", "not assigned to subsidiary 1"),
    (("coupa-inv-8", bill("INV-9", [(OFFICE_EQUIPMENT, ENGINEERING, "10.00", None, None)])),
     bill("INV-9", [(OFFICE_EQUIPMENT, ENGINEERING, "12.00", None, None)]),
     "DUP_RCRD", "tranId", "already has bill"),
], ids=["inactive-vendor", "closed-period", "unknown-department", "unknown-account", "three-decimals",
        "vendor-of-another-subsidiary", "duplicate-invoice-number"])
async def test_bill_refusals_in_netsuite_error_shape(netsuite, earlier, body, code, path, words):
    if earlier is not None:
        await created(await put(netsuite, "vendorBill", *earlier), "vendorBill")
    response = await put(netsuite, "vendorBill", "coupa-inv-9", body)
    assert response.status_code == 400
    detail = response.json()["o:errorDetails"][0]
    assert (detail["o:errorCode"], detail["o:errorPath"]) == (code, path)
    assert words in detail["detail"]
    assert await suiteql(netsuite, "SELECT id FROM transaction WHERE externalid = 'coupa-inv-9'") == []


async def test_a_vendor_credit_reverses_an_unpaid_bill_and_commits_its_order_again(netsuite):
    po = await created(await put(netsuite, "purchaseOrder", "coupa-po-5", order(
        [(1, OFFICE_EQUIPMENT, ENGINEERING, "500.00")])), "purchaseOrder")
    bill_id = await created(await put(netsuite, "vendorBill", "coupa-inv-5", bill(
        "INV-5", [(OFFICE_EQUIPMENT, ENGINEERING, "500.00", po, 1)])), "vendorBill")
    assert (await record(netsuite, "purchaseOrder", po))["status"]["id"] == "fullyBilled"

    reversal = {"externalId": "cancel-REQ-5", "tranDate": "2026-03-14", "memo": "Requisition cancelled"}
    first = await transform(netsuite, bill_id, "vendorCredit", reversal)
    credit_id = await created(first, "vendorCredit")
    again = await transform(netsuite, bill_id, "vendorCredit", reversal)
    assert again.status_code == 204 and again.headers["Location"] == first.headers["Location"]

    assert await gl(netsuite, credit_id) == [("2010", "500.00", None, None), ("6300", None, "500.00", ENGINEERING)]
    credited = await record(netsuite, "vendorBill", bill_id)
    assert (credited["amountRemaining"], credited["amountPaid"], credited["status"]["id"]) == (0, 0, "paidInFull")
    credit = await record(netsuite, "vendorCredit", credit_id)
    assert (credit["createdFrom"]["id"], credit["total"], credit["apply"]["items"][0]["doc"]["id"]) == (
        bill_id, 500, bill_id)
    reopened = await record(netsuite, "purchaseOrder", po)
    assert (reopened["status"]["id"], lines_by_number(reopened)[1]["amountOpen"]) == ("pendingReceipt", 500)
    assert len(await suiteql(netsuite, "SELECT id FROM transaction WHERE recordtype = 'vendorcredit'")) == 1

    nothing_left = await transform(netsuite, bill_id, "vendorPayment",
                                   {"externalId": "pay-5", "tranDate": "2026-03-15", "account": {"id": "101"},
                                    "amount": Decimal("500.00")})
    assert nothing_left.status_code == 400
    assert nothing_left.json()["o:errorDetails"][0]["o:errorPath"] == "amount"


async def test_a_bill_with_a_payment_is_neither_reversed_nor_changed(netsuite):
    body = bill("INV-6", [(OFFICE_EQUIPMENT, ENGINEERING, "300.00", None, None)])
    bill_id = await created(await put(netsuite, "vendorBill", "coupa-inv-6", body), "vendorBill")
    await created(await transform(netsuite, bill_id, "vendorPayment", {
        "externalId": "pay-6", "tranDate": "2026-03-15", "account": {"id": "101"}, "amount": Decimal("100.00")}),
        "vendorPayment")

    refused = await transform(netsuite, bill_id, "vendorCredit", {"externalId": "cancel-6", "tranDate": "2026-03-15"})
    assert refused.status_code == 400
    assert "has a payment applied" in refused.json()["o:errorDetails"][0]["detail"]
    changed = await put(netsuite, "vendorBill", "coupa-inv-6",
                        bill("INV-6", [(OFFICE_EQUIPMENT, ENGINEERING, "250.00", None, None)]))
    assert changed.status_code == 400
    assert "cannot change" in changed.json()["o:errorDetails"][0]["detail"]
    assert await created(await put(netsuite, "vendorBill", "coupa-inv-6", body), "vendorBill") == bill_id
    assert await suiteql(netsuite, "SELECT id FROM transaction WHERE recordtype = 'vendorcredit'") == []
    assert (await record(netsuite, "vendorBill", bill_id))["amountRemaining"] == 200


async def test_a_payment_taking_the_discount_books_payable_bank_and_discount_and_zeroes_the_bill(netsuite):
    bill_id = await created(await put(netsuite, "vendorBill", "coupa-inv-10", bill(
        "INV-10", [(OFFICE_EQUIPMENT, ENGINEERING, "1000.00", None, None)])), "vendorBill")
    payment_id = await created(await transform(netsuite, bill_id, "vendorPayment", {
        "externalId": "FSP-INV-10", "tranDate": "2026-03-15", "account": {"id": "101"},
        "amount": Decimal("980.00"), "discountAmount": Decimal("20.00")}), "vendorPayment")

    assert await gl(netsuite, payment_id) == [("1010", None, "980.00", None), ("2010", "1000.00", None, None),
                                              ("4910", None, "20.00", None)]
    paid = await record(netsuite, "vendorBill", bill_id)
    assert (paid["amountRemaining"], paid["amountPaid"], paid["status"]) == (
        0, 1000, {"id": "paidInFull", "refName": "Paid In Full"})
    payment = await record(netsuite, "vendorPayment", payment_id)
    assert (payment["account"]["id"], payment["total"], payment["createdFrom"]["id"]) == ("101", 980, bill_id)
    assert {k: payment["apply"]["items"][0][k] for k in ("amount", "disc")} == {"amount": 980, "disc": 20}
    # The vendor's payable nets to zero across the bill and its payment.
    payable = await suiteql(netsuite, "SELECT SUM(tl.foreignamount) AS net FROM transactionline tl "
                                      "JOIN transaction t ON t.id = tl.transaction WHERE tl.account = 201 "
                                      f"AND t.entity = {NORTHWIND}")
    assert payable == [{"links": [], "net": "0.00"}]


async def test_a_retried_payment_pays_once_and_more_than_remains_is_refused(netsuite):
    bill_id = await created(await put(netsuite, "vendorBill", "coupa-inv-11", bill(
        "INV-11", [(OFFICE_EQUIPMENT, ENGINEERING, "1000.00", None, None)])), "vendorBill")
    payment = {"externalId": "FSP-INV-11-1", "tranDate": "2026-03-15", "account": {"id": "101"},
               "amount": Decimal("400.00")}
    first = await transform(netsuite, bill_id, "vendorPayment", payment)
    retry = await transform(netsuite, bill_id, "vendorPayment", payment)
    await created(first, "vendorPayment")
    assert retry.status_code == 204 and retry.headers["Location"] == first.headers["Location"]
    assert (await record(netsuite, "vendorBill", bill_id))["amountRemaining"] == 600
    assert len(await suiteql(netsuite, "SELECT id FROM transaction WHERE recordtype = 'vendorpayment'")) == 1

    for body, path in [({**payment, "amount": Decimal("450.00")}, "externalId"),
                       ({**payment, "externalId": "FSP-INV-11-2", "amount": Decimal("600.01")}, "amount"),
                       ({**payment, "externalId": "FSP-INV-11-2", "account": {"id": "630"}}, "account")]:
        refused = await transform(netsuite, bill_id, "vendorPayment", body)
        assert refused.status_code == 400, body
        assert refused.json()["o:errorDetails"][0]["o:errorPath"] == path
    assert (await record(netsuite, "vendorBill", bill_id))["amountRemaining"] == 600


async def test_a_payment_whose_answer_is_lost_is_paid_once_when_retried(netsuite):
    bill_id = await created(await put(netsuite, "vendorBill", "coupa-inv-12", bill(
        "INV-12", [(OFFICE_EQUIPMENT, ENGINEERING, "250.00", None, None)])), "vendorBill")
    await netsuite.put("/_sandbox/faults", json={"ambiguous_rate": 1.0, "path_pattern": "transform"})
    payment = {"externalId": "FSP-INV-12", "tranDate": "2026-03-15", "account": {"id": "101"},
               "amount": Decimal("250.00")}
    with pytest.raises(httpx.HTTPError):
        await transform(netsuite, bill_id, "vendorPayment", payment)
    assert (await netsuite.get("/_sandbox/faults")).json()["injected"] == {"dropped_response": 1}
    await netsuite.put("/_sandbox/faults", json={})

    await created(await transform(netsuite, bill_id, "vendorPayment", payment), "vendorPayment")
    assert len(await suiteql(netsuite, "SELECT id FROM transaction WHERE recordtype = 'vendorpayment'")) == 1
    assert (await record(netsuite, "vendorBill", bill_id))["status"]["id"] == "paidInFull"


async def test_every_document_balances_and_orders_stay_out_of_the_ledger(netsuite):
    po = await created(await put(netsuite, "purchaseOrder", "coupa-po-13", order(
        [(1, OFFICE_EQUIPMENT, ENGINEERING, "1234.56"), (2, IT_HARDWARE, "30", "99.99")])), "purchaseOrder")
    first = await created(await put(netsuite, "vendorBill", "coupa-inv-13", bill(
        "INV-13", [(OFFICE_EQUIPMENT, ENGINEERING, "1234.56", po, 1), (IT_HARDWARE, "30", "99.99", po, 2)])),
        "vendorBill")
    await created(await transform(netsuite, first, "vendorCredit", {"externalId": "c-13", "tranDate": "2026-03-15"}),
                  "vendorCredit")
    second = await created(await put(netsuite, "vendorBill", "coupa-inv-14", bill(
        "INV-14", [(OFFICE_EQUIPMENT, ENGINEERING, "1234.56", po, 1), (IT_HARDWARE, "30", "99.99", po, 2)])),
        "vendorBill")
    await created(await transform(netsuite, second, "vendorPayment", {
        "externalId": "p-14", "tranDate": "2026-03-15", "account": {"id": "101"},
        "amount": Decimal("1307.93"), "discountAmount": Decimal("26.62")}), "vendorPayment")

    sides = await suiteql(netsuite, "SELECT t.recordtype, SUM(tl.debitforeignamount) AS debits, "
                                    "SUM(tl.creditforeignamount) AS credits, SUM(tl.foreignamount) AS net "
                                    "FROM transaction t JOIN transactionline tl ON tl.transaction = t.id "
                                    "WHERE t.posting = 'T' GROUP BY t.id, t.recordtype ORDER BY t.id")
    assert [s["recordtype"] for s in sides] == ["vendorbill", "vendorcredit", "vendorbill", "vendorpayment"]
    assert all(s["debits"] == s["credits"] and Decimal(s["net"]) == 0 for s in sides), sides
    assert await suiteql(netsuite, "SELECT t.posting, COUNT(tl.debitforeignamount) AS debits, "
                                   "COUNT(tl.creditforeignamount) AS credits FROM transaction t "
                                   f"JOIN transactionline tl ON tl.transaction = t.id WHERE t.id = {po} "
                                   "GROUP BY t.posting") == [{"links": [], "posting": "F", "debits": "0",
                                                              "credits": "0"}]
    listed = (await netsuite.get(f"{RECORD}/vendorBill")).json()
    assert [item["id"] for item in listed["items"]] == [first, second]
    assert (await netsuite.get(f"{RECORD}/journalEntry")).json()["totalResults"] == 0
