"""A Coupa sandbox, its connector and its people, for tests that need Coupa's documents (the
connector's, the poller's, the gateway's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from connectors import registry
from connectors.coupa import CoupaClient
from finsync.config import ProcurementVendorSettings
from sandboxes.coupa import create_app
from sandboxes.coupa.driver import CoupaDriver, InvoiceLine, RequisitionLine
from tests.support.servers import serve

START = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)


class Clock:
    """A sandbox's clock: each change is stamped a second after the last, unless a test moves it."""

    def __init__(self, start: datetime = START) -> None:
        self.at = start

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


@dataclass
class World:
    url: str
    client: CoupaClient
    driver: CoupaDriver
    clock: Clock

    async def faults(self, **config: Any) -> dict[str, int]:
        async with httpx.AsyncClient(base_url=self.url) as http:
            (await http.put("/_sandbox/faults", json=config)).raise_for_status()
            return (await http.get("/_sandbox/faults")).json()["injected"]

    async def raw(self, path: str) -> Any:
        """A record as Coupa has it, read past the connector."""
        return await self.driver._call("GET", path)


@asynccontextmanager
async def coupa_world(db: Path) -> AsyncIterator[World]:
    """The Coupa sandbox on a loopback port (its clock pinned, its rate limit out of the way), the
    connector built as the worker builds it, and the people who use Coupa."""
    clock = Clock()
    app = create_app(db, clock=clock, rate_per_second=1000, rate_burst=1000)
    async with serve(app) as url:
        client = registry.build(ProcurementVendorSettings(base_url=url))
        async with CoupaDriver(url) as driver:
            yield World(url, client, driver, clock)
        await client.aclose()


def desks(quantity: str = "3", price: str = "12.3456", supplier: str = "SUP-100") -> RequisitionLine:
    return RequisitionLine("Standing desk", quantity, price, supplier, "US01", "CC-1000", "6300",
                           need_by=date(2026, 4, 1))


async def approved(world: World, *lines: RequisitionLine, currency: str = "USD") -> dict[str, Any]:
    requisition = await world.driver.submit_requisition("E1001", "US01", currency, list(lines or [desks()]),
                                                        justification="Desks for the Berlin team")
    await world.driver.approve(requisition["id"])
    return requisition


async def issued(world: World, *lines: RequisitionLine) -> tuple[str, dict[str, Any]]:
    """An approved requisition's order, issued: (requisition id, the order as Coupa has it)."""
    requisition = await approved(world, *lines)
    order = await world.client.order_for_requisition(str(requisition["id"]))
    assert order is not None
    await world.client.issue_order(order.order_id)
    return str(requisition["id"]), await world.raw(f"/api/purchase_orders/{order.order_id}")


async def invoiced(world: World, order: dict[str, Any], number: str = "INV-1001", quantity: str = "3",
                   price: str = "12.3456") -> dict[str, Any]:
    line = order["order-lines"][0]
    return await world.driver.send_invoice("SUP-100", number, date(2026, 3, 25), "USD",
                                           [InvoiceLine(line["id"], quantity, price)])
