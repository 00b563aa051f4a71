"""NetSuite's collection envelope: ``links``, ``count``, ``hasMore``, ``items``, ``offset``, ``totalResults``."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import URL

from sandboxes.netsuite.errors import NetSuiteError

MAX_LIMIT = 1000


def paging(limit: str | None, offset: str | None) -> tuple[int, int]:
    """Validated ``(limit, offset)`` query parameters (limit defaults to and tops out at 1000)."""
    try:
        limit_value = MAX_LIMIT if limit in (None, "") else int(limit)
        offset_value = 0 if offset in (None, "") else int(offset)
    except ValueError:
        raise NetSuiteError(400, "The limit and offset query parameters must be integers.",
                            "INVALID_PARAMETER") from None
    if not 1 <= limit_value <= MAX_LIMIT:
        raise NetSuiteError(400, f"The limit must be between 1 and {MAX_LIMIT}.", "INVALID_PARAMETER")
    if offset_value < 0:
        raise NetSuiteError(400, "The offset must not be negative.", "INVALID_PARAMETER")
    return limit_value, offset_value


def envelope(items: list[dict[str, Any]], total: int, limit: int, offset: int, url: URL) -> dict[str, Any]:
    """One page of ``items`` (already sliced) out of ``total``."""
    has_more = offset + len(items) < total
    links = []
    if offset > 0:
        previous = url.include_query_params(limit=limit, offset=max(0, offset - limit))
        links.append({"rel": "previous", "href": str(previous)})
    if has_more:
        links.append({"rel": "next", "href": str(url.include_query_params(limit=limit, offset=offset + limit))})
    links.append({"rel": "self", "href": str(url)})
    return {"links": links, "count": len(items), "hasMore": has_more, "items": items, "offset": offset,
            "totalResults": total}
