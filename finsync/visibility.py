"""Temporal visibility queries built from user input, safely.

A filter value is checked against the shape of what it names (a legal entity code, a process
name) and is still quoted as a literal: nothing a user types can change the query's meaning.
"""

from __future__ import annotations

import re

ENTITY_CODE = re.compile(r"[A-Z0-9]{2,12}")        # US01, DE01
PROCESS_NAME = re.compile(r"[a-z][a-z0-9_]{1,31}")  # expense


class BadFilter(ValueError):
    """A filter value that is not a code of the expected shape; its message is one line."""


def checked(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise BadFilter(f"{what} {value!r} is not a valid code (expected {pattern.pattern})")
    return value


def literal(value: str) -> str:
    """A string literal for a visibility query (the server's SQL dialect escapes with a backslash)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
