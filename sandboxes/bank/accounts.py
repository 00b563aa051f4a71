"""The bank's account registry: the demo employees' accounts (some of them closed), and the
company's own accounts with their currencies. The generated workforce's accounts (a payroll's
employees, sandboxes/kit/workforce.py) are not registered: the workforce's own rule says which of
them are closed, unless the registry has been told otherwise."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sandboxes.bank.tables import Account, CustomerAccount
from sandboxes.kit.db import session
from sandboxes.kit.workforce import closed_account


def normalise(account_id: str) -> str:
    return account_id.replace(" ", "").upper()


def seed_accounts(engine: Engine, company: dict[str, Any]) -> None:
    """Employees' accounts, once, on a fresh database."""
    with session(engine) as db:
        if db.exec(select(Account).limit(1)).first() is not None:
            return
        for employee in company.get("employees", []):
            account_id = employee.get("iban") or employee.get("account_number")
            if account_id:
                db.add(Account(account_id=normalise(account_id), bic=employee.get("bic", ""),
                               holder_name=employee["name"],
                               closed=bool(employee.get("bank_account_closed", False))))
        db.commit()


def seed_customer_accounts(engine: Engine, company: dict[str, Any]) -> None:
    """The company's own accounts, once, on a fresh table."""
    with session(engine) as db:
        if db.exec(select(CustomerAccount).limit(1)).first() is not None:
            return
        for account in company.get("company_accounts", []):
            db.add(CustomerAccount(account_id=normalise(account.get("iban") or account["account_number"]),
                                   currency=account["currency"], holder_name=account.get("holder", ""),
                                   bic=account.get("bic", "")))
        db.commit()


def account_currency(db: Session, account_id: str) -> str | None:
    """The currency of one of the company's accounts; None for an account the bank does not hold."""
    account = db.get(CustomerAccount, normalise(account_id))
    return account.currency if account is not None else None


def is_closed(db: Session, account_id: str) -> bool:
    """A registered account as registered; a generated employee's as the workforce says; any other
    account is at another bank, and taken to be open."""
    account = db.get(Account, normalise(account_id))
    return account.closed if account is not None else closed_account(account_id)


def closed_among(db: Session, account_ids: Iterable[str]) -> set[str]:
    """Which of ``account_ids`` are closed, as ``is_closed`` tells of each: the registered accounts
    read once, not one query per account (a payroll file names tens of thousands)."""
    registered = {account.account_id: account.closed for account in db.exec(select(Account))}

    def closed(account_id: str) -> bool:
        key = normalise(account_id)
        return registered[key] if key in registered else closed_account(account_id)

    return {account_id for account_id in account_ids if closed(account_id)}


def set_closed(engine: Engine, account_id: str, closed: bool) -> Account:
    """Open or close an account, registering it first if the bank did not know it."""
    with session(engine) as db:
        account = db.get(Account, normalise(account_id)) or Account(account_id=normalise(account_id))
        account.closed = closed
        db.add(account)
        db.commit()
    return account


def list_accounts(engine: Engine) -> list[Account]:
    with session(engine) as db:
        return list(db.exec(select(Account).order_by(Account.account_id)).all())
