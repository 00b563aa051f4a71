"""Seed a fresh Coupa sandbox from the demo company (seed/company.toml), in Coupa's shapes.

Runs once, on an empty database:
- each legal entity is a ship-to address whose ``location-code`` is the entity code;
- each employee is a user (``login`` the part of the e-mail before the @, ``employee-number`` the
  employee id, the manager kept for the approval chain);
- each supplier keeps its ``number`` (SUP-100, ...), which the ERP sandbox knows it by too, with
  one primary remit-to carrying its bank account. Its entity is its content group.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from sandboxes.coupa import tables as t
from sandboxes.coupa.amounts import PaymentTerm
from sandboxes.coupa.clock import stamp


def seed_if_empty(engine: Engine, company: dict[str, Any], now: datetime) -> bool:
    """Seed on first creation only; True if it seeded."""
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(t.address)).scalar_one():
            return False
        _seed(conn, company, stamp(now))
    return True


def _seed(conn: Connection, company: dict[str, Any], now: str) -> None:
    entities = company["entities"]
    conn.execute(insert(t.address), [
        {"id": i, "name": e["name"], "location_code": e["code"], "country_code": e["country"]}
        for i, e in enumerate(entities, start=1)])
    country = {e["code"]: e["country"] for e in entities}

    people = company["employees"]
    user_id = {p["id"]: i for i, p in enumerate(people, start=1)}
    for person in people:   # every user first, then who manages whom
        first, _, last = person["name"].partition(" ")
        conn.execute(insert(t.user).values(
            id=user_id[person["id"]], login=person["email"].split("@")[0], email=person["email"],
            employee_number=person["id"], firstname=first, lastname=last, active=True))
    for person in people:
        if person.get("manager"):
            conn.execute(t.user.update().where(t.user.c.id == user_id[person["id"]])
                         .values(manager_id=user_id[person["manager"]]))

    for i, s in enumerate(company["suppliers"], start=1):
        PaymentTerm.parse(s["payment_terms"])   # a seed typo fails here, not on the first invoice
        conn.execute(insert(t.supplier).values(
            id=i, number=s["number"], name=s["name"], status=s["status"], on_hold=s["on_hold"], entity=s["entity"],
            currency=s["currency"], payment_term=s["payment_terms"], created_at=now, updated_at=now))
        conn.execute(insert(t.remit_to).values(
            supplier_id=i, code=f"{s['number']}-01", name=s["name"], is_primary=True, active=True,
            country_code=country[s["entity"]], currency=s["currency"], iban=s.get("iban"),
            account_number=s.get("account_number"), routing_number=s.get("routing_number"), bic=s.get("bic")))
