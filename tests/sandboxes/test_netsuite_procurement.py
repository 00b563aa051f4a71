"""The NetSuite sandbox's requisition-to-pay records over real HTTP: vendors, budgets, purchase
orders as commitments, vendor bills, their reversal and their payment, and what SuiteQL sees."""

from __future__ import annotations

import httpx

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
