"""First-run state: the demo company's employees as Concur users, and Concur's exchange rates."""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from sandboxes.concur.errors import now_iso
from sandboxes.concur.models import ConcurExchangeRate, ConcurSetting, ConcurUser
from sandboxes.kit.company import fx_rate_rows
from sandboxes.kit.db import session


def user_id_for(employee_id: str) -> str:
    """Concur user ids are UUIDs; the sandbox derives them so they are stable across databases."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"concur:{employee_id}"))


def seed(engine: Engine, company: dict[str, Any], today: date) -> None:
    """Fill an empty database; leave an existing one exactly as it is."""
    with session(engine) as db:
        if db.exec(select(ConcurSetting)).first() is not None:
            return
        db.add(ConcurSetting(key="company_id", value=str(uuid.uuid5(uuid.NAMESPACE_URL, "concur:company:finsync-demo"))))
        db.add(ConcurSetting(key="token_signing_key", value=secrets.token_hex(32)))
        created = now_iso()
        for employee in company.get("employees", []):
            given, _, family = employee["name"].partition(" ")
            manager = employee.get("manager")
            db.add(ConcurUser(
                user_id=user_id_for(employee["id"]), employee_number=employee["id"], given_name=given,
                family_name=family, email=employee["email"], company_code=employee["entity"],
                cost_center=employee.get("cost_center"), manager_user_id=user_id_for(manager) if manager else None,
                created_at=created))
        for row in fx_rate_rows(company, today):
            db.add(ConcurExchangeRate(from_currency=row["from"], to_currency=row["to"], rate=row["rate"],
                                      effective=row["effective"].isoformat()))
        db.commit()


def setting(engine: Engine, key: str) -> str:
    with session(engine) as db:
        row = db.get(ConcurSetting, key)
    if row is None:
        raise LookupError(f"sandbox setting {key} is missing; the database was not seeded")
    return row.value
