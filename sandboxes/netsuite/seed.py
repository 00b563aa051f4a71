"""Seed a fresh NetSuite sandbox from the demo company (seed/company.toml), in NetSuite's shapes.

Runs once, on an empty database. Subsidiary, department and account ids are the
``netsuite_*`` ids the company file gives; currencies, employees, periods, rates, payment terms,
vendors and budgets get ids here.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from sandboxes.kit.company import accounting_periods, fx_rate_rows, load_company
from sandboxes.netsuite import tables as t

# (internal id, ISO code, name, decimal places), as in a typical NetSuite account.
CURRENCIES = [(1, "USD", "US Dollar", 2), (2, "GBP", "British pound", 2), (3, "CAD", "Canadian Dollar", 2),
              (4, "EUR", "Euro", 2), (5, "CHF", "Swiss Franc", 2), (6, "JPY", "Yen", 0)]
FIRST_EMPLOYEE_ID = 301
FIRST_VENDOR_ID = 501
# Every active department's monthly budget on each purchasing account, in its subsidiary's
# currency: a demo requisition of a few thousand fits; ``PUT /_sandbox/budgets`` changes one.
BUDGETED_ACCOUNTS = ("6300", "6310", "6320")
MONTHLY_BUDGET = Decimal("25000.00")
# The company file's payment terms: "2/10 net 30" (2 % if paid in 10 days, due in 30) or "net 30".
_TERMS = re.compile(r"(?:(?P<percent>\d+(?:\.\d+)?)/(?P<discount_days>\d+) )?net (?P<days>\d+)", re.IGNORECASE)


def seed_if_empty(engine: Engine, today: date, company: dict[str, Any] | None = None) -> bool:
    """Seed on first creation only; True if it seeded."""
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(t.subsidiary)).scalar_one():
            return False
        _seed(conn, company or load_company(), today)
    return True


def _seed(conn: Connection, company: dict[str, Any], today: date) -> None:
    conn.execute(insert(t.currency), [
        {"id": cid, "symbol": code, "name": name, "currencyprecision": places}
        for cid, code, name, places in CURRENCIES])
    currency_id = {code: cid for cid, code, _, _ in CURRENCIES}

    entities = company["entities"]
    subsidiary_id = {e["code"]: int(e["netsuite_subsidiary_id"]) for e in entities}
    conn.execute(insert(t.subsidiary), [
        {"id": subsidiary_id[e["code"]], "name": e["name"], "externalid": e["code"],
         "currency": currency_id[e["currency"]], "country": e["country"]} for e in entities])

    centers = company["cost_centers"]
    department_id = {c["code"]: int(c["netsuite_department_id"]) for c in centers}
    conn.execute(insert(t.department), [
        {"id": department_id[c["code"]], "name": c["name"], "externalid": c["code"],
         "subsidiary": subsidiary_id[c["entity"]], "isinactive": "F" if c.get("active", True) else "T"}
        for c in centers])

    conn.execute(insert(t.account), [
        {"id": int(a["netsuite_id"]), "acctnumber": a["number"], "acctname": a["name"],
         "accountsearchdisplayname": f"{a['number']} {a['name']}", "accttype": a["type"],
         "isinactive": "T" if a.get("inactive") else "F"} for a in company["accounts"]])

    periods = accounting_periods(today)
    conn.execute(insert(t.accountingperiod), [
        {"id": i, "periodname": p.name, "startdate": p.start.isoformat(), "enddate": p.end.isoformat(),
         "closed": "T" if p.closed else "F", "alllocked": "T" if p.closed else "F"}
        for i, p in enumerate(periods, start=1)])

    conn.execute(insert(t.currencyrate), [
        {"id": i, "basecurrency": currency_id[r["to"]], "transactioncurrency": currency_id[r["from"]],
         "exchangerate": r["rate"], "effectivedate": r["effective"].isoformat()}
        for i, r in enumerate(fx_rate_rows(company, today), start=1)])

    people = company["employees"]
    employee_id = {p["id"]: FIRST_EMPLOYEE_ID + i for i, p in enumerate(people)}
    rows = []
    for person in people:
        first, _, last = person["name"].partition(" ")
        rows.append({
            "id": employee_id[person["id"]], "entityid": person["id"], "firstname": first, "lastname": last,
            "email": person.get("email"), "subsidiary": subsidiary_id[person["entity"]],
            "department": department_id.get(person.get("cost_center", "")),
            "supervisor": employee_id.get(person.get("manager", "")),
            "custentity_iban": person.get("iban"), "custentity_bank_account_number": person.get("account_number"),
            "custentity_bic": person.get("bic")})
    conn.execute(insert(t.employee), rows)

    suppliers = company.get("suppliers", [])
    term_id = _seed_terms(conn, [s["payment_terms"] for s in suppliers])
    conn.execute(insert(t.vendor), [
        {"id": FIRST_VENDOR_ID + i, "entityid": s["number"], "externalid": s["number"], "companyname": s["name"],
         "subsidiary": subsidiary_id[s["entity"]], "currency": currency_id[s["currency"]],
         "terms": term_id[s["payment_terms"]], "isinactive": "T" if s["status"] == "inactive" else "F",
         "custentity_iban": s.get("iban"), "custentity_bank_account_number": s.get("account_number"),
         "custentity_routing_number": s.get("routing_number"), "custentity_bic": s.get("bic")}
        for i, s in enumerate(suppliers)])

    account_id = {a["number"]: int(a["netsuite_id"]) for a in company["accounts"]}
    entity_currency = {e["code"]: currency_id[e["currency"]] for e in entities}
    budget_rows = [
        {"subsidiary": subsidiary_id[c["entity"]], "account": account_id[number],
         "department": department_id[c["code"]], "accountingperiod": period, "amount": str(MONTHLY_BUDGET),
         "currency": entity_currency[c["entity"]]}
        for c in centers if c.get("active", True) for number in BUDGETED_ACCOUNTS
        for period in range(1, len(periods) + 1)]
    conn.execute(insert(t.budgets), [{"id": i, **row} for i, row in enumerate(budget_rows, start=1)])


def _seed_terms(conn: Connection, written: list[str]) -> dict[str, int]:
    """A term record for each distinct way the company file writes payment terms; their ids by that text."""
    term_id: dict[str, int] = {}
    for text in written:
        if text in term_id:
            continue
        match = _TERMS.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"payment terms {text!r} are not '<percent>/<days> net <days>' or 'net <days>'")
        percent, days = match["percent"], int(match["days"])
        term_id[text] = len(term_id) + 1
        conn.execute(insert(t.term).values(
            id=term_id[text], name=f"{percent}% {match['discount_days']} Net {days}" if percent else f"Net {days}",
            daysuntilnetdue=days, discountpercent=percent,
            daysuntilexpiry=int(match["discount_days"]) if percent else None))
    return term_id
