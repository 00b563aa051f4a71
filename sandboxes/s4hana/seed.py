"""Seed a fresh S/4HANA sandbox from the demo company (seed/company.toml), in SAP's keys.

Runs once, on an empty database. Company codes are the entities' ``s4hana_company_code``; a cost
center keeps the company file's code ("CC-4100") under its entity's company code, blocked when
inactive; GL accounts are the chart's numbers zero-padded to SAP's 10 digits ("0000006500"),
blocked when inactive; posting periods are the company's months (the fiscal year is the calendar
year), open from the current month on.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import func, select

from sandboxes.kit.company import accounting_periods, load_company
from sandboxes.kit.db import session
from sandboxes.s4hana.tables import CompanyCode, CostCenter, GLAccount, PostingPeriod

GL_ACCOUNT_DIGITS = 10


def gl_account_key(number: str) -> str:
    """SAP's internal form of a GL account: numeric ones zero-padded to 10 digits ("6500" ->
    "0000006500"), as SAP's ALPHA conversion does; anything else as given."""
    return number.zfill(GL_ACCOUNT_DIGITS) if number.isdigit() and len(number) <= GL_ACCOUNT_DIGITS else number


def seed_if_empty(engine: Engine, today: date, company: dict[str, Any] | None = None) -> bool:
    """Seed on first creation only; True if it seeded."""
    with session(engine) as db:
        if db.exec(select(func.count()).select_from(CompanyCode)).one():
            return False
        company = company or load_company()
        codes = {e["code"]: e["s4hana_company_code"] for e in company["entities"] if e.get("s4hana_company_code")}
        for entity in company["entities"]:
            if entity["code"] in codes:
                db.add(CompanyCode(company_code=codes[entity["code"]], name=entity["name"],
                                   currency=entity["currency"], country=entity["country"]))
        for center in company["cost_centers"]:
            if center["entity"] in codes:
                db.add(CostCenter(company_code=codes[center["entity"]], cost_center=center["code"], name=center["name"],
                                  blocked=not center.get("active", True)))
        for account in company["accounts"]:
            db.add(GLAccount(gl_account=gl_account_key(account["number"]), name=account["name"],
                             blocked=bool(account.get("inactive"))))
        for period in accounting_periods(today):
            db.add(PostingPeriod(fiscal_year=period.start.year, period=period.start.month, name=period.name,
                                 start=period.start, end=period.end, open=not period.closed))
        db.commit()
    return True
