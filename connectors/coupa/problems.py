"""Coupa refusals in words finance can act on.

Coupa answers a refusal with ``{"errors": {"error": ["message", ...]}}`` (the JSON form of its
documented ``<errors><error>`` XML). Its messages already say why ("Purchase order PO-1001 is
closed; it cannot be cancelled."); finsync adds what it was doing and to which document.
"""

from __future__ import annotations

from typing import Any

import httpx

from canonical import BusinessProblem
from connectors.errors import BusinessRuleError
from connectors.payloads import why

VENDOR = "coupa"
REFUSED = "COUPA_REFUSED"              # Coupa would not do it (a document's state, a rule)
NOT_FOUND = "COUPA_NOT_FOUND"          # the document is not in Coupa (deleted, or a wrong id)
UNREADABLE = "COUPA_DOCUMENT_UNREADABLE"   # Coupa sent a document finsync cannot take as it is
SHOWN = 300                             # characters of Coupa's own words kept in a reason


def messages(response: httpx.Response) -> str:
    """Coupa's error messages in one line, else the start of the body."""
    try:
        body: Any = response.json()
        found = body["errors"]["error"]
    except (ValueError, KeyError, TypeError):
        return " ".join(response.text.split())[:SHOWN] or f"HTTP {response.status_code}"
    found = found if isinstance(found, list) else [found]
    return " ".join(" ".join(str(m).split()) for m in found)[:SHOWN] or f"HTTP {response.status_code}"


def refused(doing: str, response: httpx.Response) -> BusinessRuleError:
    """``doing``: what finsync asked, naming the document ("cancel purchase order 12")."""
    said = messages(response).rstrip(".")
    return BusinessRuleError(VENDOR, BusinessProblem(
        code=REFUSED, system="procurement", vendor_code=str(response.status_code),
        reason=f"Coupa refused to {doing}: {said}."), status=response.status_code)


def not_found(what: str) -> BusinessRuleError:
    """``what``: the document, e.g. "invoice 12"."""
    return BusinessRuleError(VENDOR, BusinessProblem(
        code=NOT_FOUND, system="procurement", subject=what,
        reason=f"Coupa has no {what}; it may have been deleted, or finsync holds a wrong id."))


def unreadable(what: str, error: Exception) -> BusinessRuleError:
    return BusinessRuleError(VENDOR, BusinessProblem(
        code=UNREADABLE, system="procurement", subject=what,
        reason=f"Coupa's {what} cannot be taken as it is ({why(error)[:SHOWN]}); correct it in Coupa, then retry."))

