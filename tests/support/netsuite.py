"""A NetSuite sandbox whose chart of accounts also holds the company's bank accounts, for tests that
book against them (the demo company's seed has no bank GL accounts yet)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sandboxes.kit.company import load_company
from sandboxes.kit.db import sqlite_engine
from sandboxes.netsuite import create_app
from sandboxes.netsuite.seed import seed_if_empty
from sandboxes.netsuite.tables import create_tables

# The GL accounts of finsync's default [bank] debtor_accounts (finsync/config.py).
BANK_ACCOUNTS = [{"number": "1010", "name": "Operating Account USD", "type": "Bank", "netsuite_id": "101"},
                 {"number": "1020", "name": "Operating Account EUR", "type": "Bank", "netsuite_id": "102"}]


def netsuite_with_bank_accounts(db_path: Path, today: date):  # noqa: ANN201 - the sandbox's ASGI app
    """The sandbox app on ``db_path``, seeded first with the bank accounts added (it seeds only an empty one)."""
    company = load_company()
    company["accounts"] = [*company["accounts"], *BANK_ACCOUNTS]
    engine = sqlite_engine(db_path)
    create_tables(engine)
    seed_if_empty(engine, today, company)
    engine.dispose()
    return create_app(db_path, today=today)
