"""Ids from data never change the path a connector calls: each is one whole, encoded segment."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from connectors.bank import BankClient
from connectors.concur import ConcurClient
from connectors.errors import BusinessRuleError
from connectors.http import url_path
from connectors.netsuite import NetSuiteClient
from finsync.config import BankVendorSettings, ErpVendorSettings, ExpenseVendorSettings
from sandboxes.bank import create_app as create_bank
from sandboxes.concur import create_app as create_concur
from sandboxes.netsuite import create_app as create_netsuite
from tests.support.servers import serve

# Each would move a request elsewhere on the vendor's API if it were pasted in as it is.
HOSTILE = ["../../oauth2/v0/token", "a/b", "x?user=ALL", "x#fragment", "%2e%2e%2F", "..%2F", "a b", "é/\x00"]


def segments(raw_path: bytes) -> list[str]:
    path, _, _query = raw_path.partition(b"?")
    return [unquote(part) for part in path.decode("ascii").split("/")]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_stays_one_segment_of_the_path(value: str):
    built = url_path("/reports/{report}/expenses", report=value)
    assert built.isascii() and "?" not in built and "#" not in built
    assert segments(built.encode()) == ["", "reports", value, "expenses"]


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_a_value_that_would_still_change_the_path_is_refused(value: str):
    with pytest.raises(ValueError, match="path segment"):
        url_path("/reports/{report}/expenses", report=value)


@asynccontextmanager
async def recorded(app: Any) -> AsyncIterator[tuple[str, list[bytes]]]:
    """Serve a vendor sandbox, keeping each request's path exactly as it arrived (undecoded)."""
    seen: list[bytes] = []

    async def recording(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            seen.append(scope["raw_path"] + (b"?" + scope["query_string"] if scope["query_string"] else b""))
        await app(scope, receive, send)

    async with serve(recording) as url:
        yield url, seen


async def test_every_connector_sends_a_hostile_id_inside_its_own_segment(tmp_path: Path):
    async with recorded(create_concur(tmp_path / "concur.db")) as (url, seen):
        concur = ConcurClient.from_settings(ExpenseVendorSettings(base_url=url))
        for value in HOSTILE:
            with pytest.raises(BusinessRuleError):   # the sandbox has no such report
                await concur.get_report(value, owner_ref=value)
        await concur.aclose()
    reads = [segments(p) for p in seen if b"/token" not in p]
    for value in HOSTILE:
        assert ["", "expensereports", "v4", "users", value, "context", "TRAVELER", "reports", value] in reads
        assert ["", "api", "v3.0", "expense", "reports", value] in reads

    async with recorded(create_bank(tmp_path / "bank.db")) as (url, seen):
        bank = BankClient.from_settings(BankVendorSettings(base_url=url))
        for value in HOSTILE:
            assert (await bank.payment_status(value, value)).state == "UNKNOWN"
        await bank.aclose()
    reads = [segments(p) for p in seen if b"/token" not in p]
    assert reads == [["", "v1", "payments", value, "transactions", value] for value in HOSTILE]

    async with recorded(create_netsuite(tmp_path / "netsuite.db")) as (url, seen):
        erp = NetSuiteClient.from_settings(ErpVendorSettings(base_url=url))
        for value in HOSTILE:
            assert await erp.find_journal(value) is None
        await erp.aclose()
    reads = [segments(p) for p in seen if b"/token" not in p]
    assert reads == [["", "services", "rest", "record", "v1", "journalEntry", f"eid:{value}"] for value in HOSTILE]
    assert all(p.endswith(b"?expandSubResources=true") for p in seen if b"/token" not in p)
