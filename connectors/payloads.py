"""What is wrong with a payload, said in one line that never repeats the payload."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SHOWN = 3


def one_line(errors: Sequence[Mapping[str, Any]]) -> str:
    """Where and what, for the first few of pydantic's ``errors()``. The offending values are
    left out (they may be huge, or crafted): field names and rules are enough to fix a sender."""
    problems = [f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}" for item in errors[:SHOWN]]
    more = len(errors) - SHOWN
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")
