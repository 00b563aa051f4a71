"""SuiteQL: one read-only SELECT run on the sandbox's tables, answered as NetSuite answers it.

Safety does not rest on parsing: the statement runs under an SQLite authorizer that allows
reading the SuiteQL tables and nothing else (no writes, pragmas, attaches or internal tables).
Results look like NetSuite's: lower-case keys, every value a string, nulls left out, booleans
'T'/'F', and date columns in the account's date format (M/D/YYYY, NetSuite's default);
``TO_CHAR(col, 'YYYY-MM-DD')`` and ``TO_DATE('2026-03-01', 'YYYY-MM-DD')`` work as in SuiteQL.
``SUM`` adds exactly, as NetSuite's database does: amounts are decimal text here, which SQLite's
own SUM would add as binary floats.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from sandboxes.netsuite.errors import NetSuiteError
from sandboxes.netsuite.tables import SUITEQL_TABLES

_SELECT = re.compile(r"^\s*select\b", re.IGNORECASE)
_LITERAL = re.compile(r"('(?:[^']|'')*')")
# TRANSACTION is an SQLite keyword but a SuiteQL table (and a transactionline column): quote it.
_TRANSACTION = re.compile(r'(?<![\w"])transaction(?![\w"])', re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_COLUMNS = frozenset({"startdate", "enddate", "trandate", "effectivedate", "duedate"})
_FORMAT_TOKENS = [("YYYY", "%Y"), ("HH24", "%H"), ("MM", "%m"), ("DD", "%d"), ("MI", "%M"), ("SS", "%S")]


def invalid_query(reason: str) -> NetSuiteError:
    return NetSuiteError(400, "Invalid search query. Detailed unprocessed description follows. "
                              f"Search error occurred: {reason}", "INVALID_PARAMETER")


def run(engine: Engine, query: Any) -> list[dict[str, str]]:
    """All result rows of ``query`` (the caller pages them)."""
    if not isinstance(query, str) or not _SELECT.match(query):
        raise invalid_query("Only a single SELECT statement is supported.")
    statement = "".join(part if part.startswith("'") else _TRANSACTION.sub('"transaction"', part)
                        for part in _LITERAL.split(query))
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection), "the sandbox's SuiteQL runs on SQLite"
        _add_functions(raw)
        raw.set_authorizer(_authorize)
        try:
            cursor = raw.execute(statement)
            names = [d[0].lower() for d in cursor.description or []]
            rows = cursor.fetchall()
        except (sqlite3.Error, ValueError) as exc:
            raise invalid_query(str(exc)) from exc
        finally:
            raw.set_authorizer(None)
    return [{name: _text(name, value) for name, value in zip(names, row, strict=True) if value is not None}
            for row in rows]


def _authorize(action: int, table: str | None, _column: str | None, _db: str | None, _trigger: str | None) -> int:
    if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_READ and table in SUITEQL_TABLES:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _text(name: str, value: Any) -> str:
    if name in DATE_COLUMNS and isinstance(value, str) and _ISO_DATE.match(value):
        day = date.fromisoformat(value)
        return f"{day.month}/{day.day}/{day.year}"
    return value if isinstance(value, str) else str(value)


def _strftime_format(oracle_format: str) -> str:
    result = oracle_format.upper()
    for token, directive in _FORMAT_TOKENS:
        result = result.replace(token, directive)
    return result


def _to_char(value: Any, oracle_format: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and (_ISO_DATE.match(value) or "T" in value):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime(_strftime_format(oracle_format))
    return str(value)


def _to_date(value: Any, oracle_format: str) -> str | None:
    if value is None:
        return None
    return datetime.strptime(str(value), _strftime_format(oracle_format)).date().isoformat()


class _ExactSum:
    """SUM over decimal text: exact, and null when every value is null (as SQL's SUM)."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: Any) -> None:
        if value is not None:
            self.total = (self.total or Decimal(0)) + Decimal(str(value))

    def finalize(self) -> str | None:
        return None if self.total is None else format(self.total, "f")


def _add_functions(raw: sqlite3.Connection) -> None:
    raw.create_aggregate("SUM", 1, _ExactSum)  # type: ignore[arg-type]
    raw.create_function("TO_CHAR", 2, _to_char, deterministic=True)
    raw.create_function("TO_DATE", 2, _to_date, deterministic=True)
    raw.create_function("NVL", 2, lambda a, b: b if a is None else a, deterministic=True)
