"""What is wrong with a payload, said in one line that never repeats the payload."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

SHOWN = 3


def one_line(errors: Sequence[Mapping[str, Any]]) -> str:
    """Where and what, for the first few of pydantic's ``errors()``. The offending values are
    left out (they may be huge, or crafted): field names and rules are enough to fix a sender."""
    problems = [f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}" for item in errors[:SHOWN]]
    more = len(errors) - SHOWN
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")


def why(error: Exception | str) -> str:
    """Why a vendor's document could not be mapped, in one line: the fields and rules pydantic
    names, the key that was missing, or the error's first line."""
    if isinstance(error, ValidationError):
        return "; ".join((".".join(str(p) for p in e["loc"]) + ": " if e["loc"] else "")
                         + e["msg"].removeprefix("Value error, ") for e in error.errors()[:SHOWN])
    if isinstance(error, KeyError):
        return f"it has no {error.args[0]}"
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__
