"""The Coupa sandbox over real HTTP: scopes, requisition to purchase order, receipts, invoices,
paging and filters, the exported flag, payment write-back, the rate limit, faults and events."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from finsync.config import WebhookSettings
from sandboxes.coupa import create_app
from sandboxes.coupa.auth import SCOPES
from sandboxes.coupa.driver import CoupaDriver, DriverError, InvoiceLine, RequisitionLine
from tests.support.servers import serve

PROCUREMENT_SECRET = WebhookSettings().procurement_secrets[0].get_secret_value()
FAST_RETRIES = [0.2] * 10
START = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)


class Clock:
    """The sandbox's clock, moved by the test: ``updated-at`` reads it."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: int) -> str:
        self.at += timedelta(seconds=seconds)
        return self.at.isoformat()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def coupa(tmp_path: Path, clock: Clock) -> AsyncIterator[str]:
    app = create_app(tmp_path / "coupa.db", clock=clock, rate_per_second=1000, rate_burst=1000,
                     webhook_schedule=FAST_RETRIES)
    async with serve(app) as url:
        yield url


async def token(http: httpx.AsyncClient, scope: str = " ".join(sorted(SCOPES)), *, client_id: str = "finsync",
                secret: str = "sandbox-secret") -> httpx.Response:
    return await http.post("/oauth2/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                  "client_secret": secret, "scope": scope})


@pytest.fixture
async def api(coupa: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=coupa, timeout=10) as http:
        http.headers["Authorization"] = f"Bearer {(await token(http)).json()['access_token']}"
        yield http


@pytest.fixture
async def driver(coupa: str) -> AsyncIterator[CoupaDriver]:
    async with CoupaDriver(coupa) as people:
        yield people


def desks(quantity: str = "10", price: str = "12.3456", supplier: str = "SUP-100") -> RequisitionLine:
    return RequisitionLine("Standing desk", quantity, price, supplier, "US01", "CC-1000", "6300",
                           need_by=date(2026, 4, 1))


async def issued_order(driver: CoupaDriver, api: httpx.AsyncClient, *lines: RequisitionLine,
                       currency: str = "USD") -> tuple[dict, dict]:
    """A requisition approved and its (first) purchase order issued: (requisition, order)."""
    requisition = await driver.submit_requisition("E1001", "US01", currency, list(lines or [desks()]))
    await driver.approve(requisition["id"])
    order = (await driver.purchase_orders(requisition["id"]))[0]
    issued = await api.put(f"/api/purchase_orders/{order['id']}/issue")
    assert issued.status_code == 200, issued.text
    return requisition, issued.json()


async def get(api: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def errors(response: httpx.Response) -> list[str]:
    body = response.json()
    assert set(body) == {"errors"} and set(body["errors"]) == {"error"}, body
    return body["errors"]["error"]


# --- auth and scopes ---------------------------------------------------------------------------

async def test_tokens_carry_the_scopes_asked_for_and_each_route_demands_its_own(coupa: str) -> None:
    async with httpx.AsyncClient(base_url=coupa) as http:
        assert (await token(http, secret="wrong")).json()["error"] == "invalid_client"
        assert (await token(http, "core.payroll.read")).json()["error"] == "invalid_scope"
        assert (await token(http, "")).status_code == 400

        granted = await token(http, "core.invoice.read")
        assert granted.status_code == 200
        assert granted.json()["expires_in"] == 24 * 3600 and granted.json()["scope"] == "core.invoice.read"
        reader = {"Authorization": f"Bearer {granted.json()['access_token']}"}

        missing = await http.get("/api/invoices")
        assert missing.status_code == 401 and "access token" in errors(missing)[0]
        forged = await http.get("/api/invoices", headers={"Authorization": "Bearer forged.token"})
        assert forged.status_code == 401

        assert (await http.get("/api/invoices", headers=reader)).json() == []
        other_object = await http.get("/api/suppliers", headers=reader)
        assert other_object.status_code == 403 and "core.supplier.read" in errors(other_object)[0]
        no_write = await http.post("/api/invoices", headers=reader, json={"invoice-number": "INV-1"})
        assert no_write.status_code == 403 and "core.invoice.write" in errors(no_write)[0]


async def test_an_expired_token_is_refused(tmp_path: Path) -> None:
    async with serve(create_app(tmp_path / "coupa.db", token_lifetime_seconds=-1)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            expired = (await token(http, "core.supplier.read")).json()["access_token"]
            response = await http.get("/api/suppliers", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and errors(response)


# --- requisition to purchase order -------------------------------------------------------------

async def test_an_approved_requisition_becomes_purchase_orders_that_finsync_issues(
        api: httpx.AsyncClient, driver: CoupaDriver, clock: Clock) -> None:
    requisition = await driver.submit_requisition("E1001", "US01", "USD", [
        desks(), RequisitionLine("Monitor arm", "4", "89.90", "SUP-100", "US01", "CC-1000", "6310"),
        RequisitionLine("Freight", "1", "250", "SUP-300", "US01", "CC-1000", "6320")], justification="New team room")
    assert requisition["status"] == "pending_approval" and requisition["total"] == "733.06"
    pending = await get(api, "/api/approvals", **{"approvable-type": "RequisitionHeader", "status": "pending"})
    assert [(a["approvable-id"], a["approver"]["login"]) for a in pending] == [(requisition["id"], "maya.patel")]
    assert await driver.purchase_orders(requisition["id"]) == []

    approved = await driver.approve(requisition["id"])
    assert approved["status"] == "approved" and approved["approval-date"]
    orders = await driver.purchase_orders(requisition["id"])
    assert [(o["supplier"]["number"], o["status"], len(o["order-lines"])) for o in orders] == [
        ("SUP-100", "buyer_hold", 2), ("SUP-300", "buyer_hold", 1)]
    read_back = await get(api, f"/api/requisitions/{requisition['id']}")
    assert read_back["status"] == "approved"
    by_requisition_line = {line["requisition-line-id"]: line for o in orders for line in o["order-lines"]}
    for line in read_back["requisition-lines"]:
        ordered = by_requisition_line[line["id"]]
        assert line["order-line-id"] == ordered["id"]
        assert (ordered["quantity"], ordered["price"], ordered["account"]) == (
            line["quantity"], line["unit-price"], line["account"])

    first = orders[0]
    issued = (await api.put(f"/api/purchase_orders/{first['id']}/issue")).json()
    assert issued["status"] == "issued"
    clock.advance(5)
    again = await api.put(f"/api/purchase_orders/{first['id']}/issue")
    assert again.status_code == 200 and again.json()["updated-at"] == issued["updated-at"]
    assert (await get(api, f"/api/requisitions/{requisition['id']}"))["status"] == "ordered"

    assert (await api.put(f"/api/approvals/{approved['id']}/approve")).status_code == 200   # as it is
    refused = await api.put(f"/api/approvals/{approved['id']}/reject")
    assert refused.status_code == 400 and "approved" in errors(refused)[0]


async def test_a_held_then_rejected_requisition_is_withdrawn_and_orders_nothing(
        api: httpx.AsyncClient, driver: CoupaDriver) -> None:
    requisition = await driver.submit_requisition("E2001", "DE01", "EUR", [
        RequisitionLine("Drill press", "1", "1800", "SUP-200", "DE01", "CC-4100", "6300")])
    assert (await driver.hold(requisition["id"], "Waiting for a second quote"))["status"] == "on_hold"
    assert (await driver.requisition(requisition["id"]))["status"] == "pending_approval"
    rejected = await driver.reject(requisition["id"], "Over budget")
    assert rejected["status"] == "rejected" and rejected["note"] == "Over budget"
    assert (await driver.requisition(requisition["id"]))["status"] == "withdrawn"
    with pytest.raises(DriverError) as refused:
        await driver.approve(requisition["id"])
    assert refused.value.status == 400
    assert await driver.purchase_orders(requisition["id"]) == []


@pytest.mark.parametrize(("change", "words"), [
    (lambda body: body["requisition-lines"][0].update({"unit-price": "1.23456"}), "more than 4 decimal places"),
    (lambda body: body["requisition-lines"][0].update({"quantity": "0"}), "greater than 0"),
    (lambda body: body["requisition-lines"][0].update({"quantity": True}), "decimal number"),
    (lambda body: body["requisition-lines"][0].update({"supplier": {"number": "SUP-999"}}), "SUP-999"),
    (lambda body: body["requisition-lines"][0]["account"].update({"code": "US01-CC-2000-6300"}), "does not match"),
    (lambda body: body.update({"currency": {"code": "XYZ"}}), "ISO 4217"),
    (lambda body: body.update({"requested-by": {"login": "nobody"}}), "nobody"),
    (lambda body: body.update({"requisition-lines": []}), "non-empty list"),
], ids=["price-decimals", "zero-quantity", "not-a-number", "unknown-supplier", "account-mismatch", "currency",
        "requester", "no-lines"])
async def test_a_requisition_that_does_not_hold_together_is_refused_whole(
        api: httpx.AsyncClient, change: Callable[[dict], None], words: str) -> None:
    body = {"requested-by": {"login": "jordan.lee"}, "ship-to-address": {"location-code": "US01"},
            "currency": {"code": "USD"}, "requisition-lines": [desks().body()]}
    change(body)
    # Raw JSON, so a float stays a float on the wire.
    response = await api.post("/api/requisitions/new/submit_for_approval", content=json.dumps(body),
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert len(errors(response)) == 1 and words in errors(response)[0]
    assert await get(api, "/api/requisitions") == []
    assert await get(api, "/api/approvals") == []


# --- receipts ----------------------------------------------------------------------------------

async def test_partial_receipts_add_up_over_receipt_is_allowed_and_a_void_takes_one_back(
        api: httpx.AsyncClient, driver: CoupaDriver, clock: Clock) -> None:
    requisition = await driver.submit_requisition("E1001", "US01", "USD", [desks()])
    await driver.approve(requisition["id"])
    order = (await driver.purchase_orders(requisition["id"]))[0]
    line_id = order["order-lines"][0]["id"]
    with pytest.raises(DriverError) as not_issued:
        await driver.receive(line_id, "1")
    assert not_issued.value.status == 400 and "only an issued order" in str(not_issued.value)
    await api.put(f"/api/purchase_orders/{order['id']}/issue")

    def state() -> Any:
        return asyncio.gather(get(api, f"/api/purchase_orders/{order['id']}"),
                              get(api, f"/api/requisitions/{requisition['id']}"))

    first = await driver.receive(line_id, "3", on=date(2026, 3, 20))
    assert (first["quantity"], first["transaction-date"], first["status"]) == ("3", "2026-03-20", "created")
    assert first["order-line"] == {"id": line_id, "line-num": 1, "order-header-id": order["id"],
                                   "po-number": order["po-number"]}
    second = await driver.receive(line_id, "4.5")
    po, req = await state()
    assert po["order-lines"][0]["received"] == "7.5" and req["status"] == "partially_received"

    await driver.receive(line_id, "5")                      # 12.5 of 10: Coupa lets it through
    po, req = await state()
    assert po["order-lines"][0]["received"] == "12.5" and req["status"] == "received"

    voided = await driver.void_receipt(second["id"])
    assert voided["status"] == "voided"
    clock.advance(5)
    assert (await driver.void_receipt(second["id"]))["updated-at"] == voided["updated-at"]   # as it is
    po, req = await state()
    assert po["order-lines"][0]["received"] == "8" and req["status"] == "partially_received"
    kept = await get(api, "/api/inventory_transactions", **{"order-line[id]": line_id, "status": "created"})
    assert [r["quantity"] for r in kept] == ["3", "5"]


# --- invoices ----------------------------------------------------------------------------------

async def test_an_invoice_may_differ_from_the_order_and_the_line_shows_what_was_invoiced(
        api: httpx.AsyncClient, driver: CoupaDriver) -> None:
    _, order = await issued_order(driver, api, desks("10", "12.3456"))
    line_id = order["order-lines"][0]["id"]
    first = await driver.send_invoice("SUP-100", "NW-5001", date(2026, 3, 25), "USD",
                                      [InvoiceLine(line_id, "4", "12.40", "Standing desks, first delivery")])
    assert first["status"] == "approved" and first["gross-total"] == "49.60"
    assert first["payment-term"]["code"] == "2/10 net 30"
    assert (first["net-due-date"], first["discount-due-date"]) == ("2026-04-24", "2026-04-04")
    assert first["invoice-lines"][0] | {"id": 0} == {
        "id": 0, "line-num": 1, "description": "Standing desks, first delivery", "quantity": "4", "price": "12.40",
        "total": "49.60", "uom": {"code": "EA"}, "order-line-id": line_id, "order-header-id": order["id"],
        "po-number": order["po-number"], "account": order["order-lines"][0]["account"]}
    second = await driver.send_invoice("SUP-100", "NW-5002", date(2026, 3, 28), "USD", [InvoiceLine(line_id, "7", "12.3456")])
    assert second["gross-total"] == "86.42"                 # 86.4192, rounded once at the line

    invoiced = (await get(api, f"/api/purchase_orders/{order['id']}"))["order-lines"][0]
    assert (invoiced["invoiced"], invoiced["invoiced-amount"]) == ("11", "136.02")   # 11 of 10 ordered


@pytest.mark.parametrize(("supplier", "currency", "words"), [
    ("SUP-300", "USD", "another supplier"), ("SUP-100", "EUR", "is in USD")], ids=["supplier", "currency"])
async def test_an_invoice_must_bill_its_own_suppliers_order_in_its_currency(
        api: httpx.AsyncClient, driver: CoupaDriver, supplier: str, currency: str, words: str) -> None:
    _, order = await issued_order(driver, api)
    with pytest.raises(DriverError) as refused:
        await driver.send_invoice(supplier, "X-1", date(2026, 3, 25), currency,
                                  [InvoiceLine(order["order-lines"][0]["id"], "1", "12")])
    assert refused.value.status == 400 and words in str(refused.value)
    assert await get(api, "/api/invoices") == []


async def test_an_invoice_number_is_used_once_per_supplier(api: httpx.AsyncClient, driver: CoupaDriver) -> None:
    _, northwind = await issued_order(driver, api)
    _, fabrikam = await issued_order(driver, api, desks(supplier="SUP-300"))
    bill = [InvoiceLine(northwind["order-lines"][0]["id"], "1", "12.3456")]
    first = await driver.send_invoice("SUP-100", "INV-1001", date(2026, 3, 25), "USD", bill)
    with pytest.raises(DriverError) as duplicate:
        await driver.send_invoice("SUP-100", "INV-1001", date(2026, 3, 26), "USD", bill)
    assert duplicate.value.status == 400 and "already been used" in str(duplicate.value)

    await api.put(f"/api/invoices/{first['id']}/void")
    with pytest.raises(DriverError):                          # a voided invoice keeps its number
        await driver.send_invoice("SUP-100", "INV-1001", date(2026, 3, 26), "USD", bill)
    other = await driver.send_invoice("SUP-300", "INV-1001", date(2026, 3, 25), "USD",
                                      [InvoiceLine(fabrikam["order-lines"][0]["id"], "1", "12.3456")])
    assert other["supplier"]["number"] == "SUP-300"
    assert [i["supplier"]["number"] for i in await get(api, "/api/invoices", **{"invoice-number": "INV-1001"})] == [
        "SUP-100", "SUP-300"]


async def test_an_invoice_waits_for_ap_approval_when_the_driver_says_so(
        api: httpx.AsyncClient, driver: CoupaDriver) -> None:
    _, order = await issued_order(driver, api)
    await driver.auto_approve_invoices(False)
    invoice = await driver.send_invoice("SUP-100", "INV-7", date(2026, 3, 25), "USD",
                                        [InvoiceLine(order["order-lines"][0]["id"], "1", "12.3456")])
    assert invoice["status"] == "pending_approval"
    assert await get(api, "/api/invoices", status="approved") == []
    unpaid = await api.put(f"/api/invoices/{invoice['id']}", json={"paid": True, "payment-date": "2026-04-01"})
    assert unpaid.status_code == 400 and "only an approved invoice" in errors(unpaid)[0]
    assert (await driver.approve_invoice(invoice["id"]))["status"] == "approved"
    assert [i["id"] for i in await get(api, "/api/invoices", status="approved")] == [invoice["id"]]


# --- purchase order moves ----------------------------------------------------------------------

async def test_order_moves_repeat_harmlessly_and_impossible_ones_say_why(
        api: httpx.AsyncClient, driver: CoupaDriver, clock: Clock) -> None:
    _, invoiced = await issued_order(driver, api)
    await driver.send_invoice("SUP-100", "INV-9", date(2026, 3, 25), "USD",
                              [InvoiceLine(invoiced["order-lines"][0]["id"], "1", "12.3456")])
    cancel = await api.put(f"/api/purchase_orders/{invoiced['id']}/cancel")
    assert cancel.status_code == 400 and "has been invoiced" in errors(cancel)[0]
    closed = (await api.put(f"/api/purchase_orders/{invoiced['id']}/close")).json()
    assert closed["status"] == "closed"
    clock.advance(5)
    assert (await api.put(f"/api/purchase_orders/{invoiced['id']}/close")).json()["updated-at"] == closed["updated-at"]
    for move in ("cancel", "issue"):
        refused = await api.put(f"/api/purchase_orders/{invoiced['id']}/{move}")
        assert refused.status_code == 400 and "is closed" in errors(refused)[0]

    requisition = await driver.submit_requisition("E1001", "US01", "USD", [desks()])
    await driver.approve(requisition["id"])
    held = (await driver.purchase_orders(requisition["id"]))[0]
    assert (await api.put(f"/api/purchase_orders/{held['id']}/close")).status_code == 400
    assert (await api.put(f"/api/purchase_orders/{held['id']}/cancel")).json()["status"] == "cancelled"
    assert (await api.put(f"/api/purchase_orders/{held['id']}/cancel")).status_code == 200
    assert (await api.put(f"/api/purchase_orders/{held['id']}/issue")).status_code == 400
    assert (await api.put(f"/api/purchase_orders/{held['id']}/reopen")).status_code == 404
    assert (await api.put("/api/purchase_orders/not-an-id/issue")).status_code == 404


# --- listing -----------------------------------------------------------------------------------

async def test_lists_page_by_50_in_id_order_and_filter(api: httpx.AsyncClient, driver: CoupaDriver,
                                                       clock: Clock) -> None:
    _, order = await issued_order(driver, api, desks("100"))
    line_id = order["order-lines"][0]["id"]
    first_batch_at = clock.advance(60)
    early = [(await driver.receive(line_id, "1"))["id"] for _ in range(30)]
    clock.advance(60)
    late = [(await driver.receive(line_id, "1"))["id"] for _ in range(30)]
    everything = early + late

    page_one = await get(api, "/api/inventory_transactions")
    page_two = await get(api, "/api/inventory_transactions", offset=50)
    assert [r["id"] for r in page_one] == everything[:50] and [r["id"] for r in page_two] == everything[50:]
    assert [r["id"] for r in await get(api, "/api/inventory_transactions", offset=40, limit=15)] == everything[40:55]

    assert [r["id"] for r in await get(api, "/api/inventory_transactions", **{"updated-at[gt]": first_batch_at})] == late
    assert len(await get(api, "/api/inventory_transactions", **{"updated-at[gt_or_eq]": first_batch_at})) == 50
    assert len(await get(api, "/api/inventory_transactions", **{"updated-at[lt]": "2026-03-16"})) == 50

    for receipt_id in late[:5]:
        assert (await api.put(f"/api/inventory_transactions/{receipt_id}?exported=true")).json()["exported"] is True
    unexported = {"exported": "false", "updated-at[gt]": first_batch_at.replace("+00:00", "Z")}
    assert [r["id"] for r in await get(api, "/api/inventory_transactions", **unexported)] == late[5:]

    for receipt_id in early[:3]:
        await driver.void_receipt(receipt_id)
    assert [r["id"] for r in await get(api, "/api/inventory_transactions", **{"status[in]": "voided"})] == early[:3]
    assert len(await get(api, "/api/inventory_transactions", **{"status[in]": "created,voided"})) == 50
    assert len(await get(api, "/api/inventory_transactions", **{"status[not_in]": "voided"}, offset=50)) == 7
    nested = {"order-line[order-header][po-number]": order["po-number"], "limit": 1}
    assert len(await get(api, "/api/inventory_transactions", **nested)) == 1

    by_name = await get(api, "/api/suppliers", **{"name[contains]": "gmbh"})
    assert [s["number"] for s in by_name] == ["SUP-200", "SUP-400"]
    assert [o["id"] for o in await get(api, "/api/purchase_orders", **{"supplier[name][starts_with]": "North"})] == [
        order["id"]]


HOSTILE = [
    "foo=1", "id[gt]=abc", "id=99999999999999999999999", "id[in]=", "updated-at[gt]=nope",
    "updated-at[gt]=0001-01-01T00:00:00%2B05:00", "invoice-date=2026-13-45",
    "status[in]=approved,x%27%29%3B%20DROP%20TABLE%20coupa_invoice%3B--", "status[gt]=approved",
    "supplier[zzz]=1", "supplier=1", "supplier[in]=1", "currency=USD", "exported=maybe",
    "limit=51", "limit=0", "limit=abc", "offset=-1", "fields=%5B%22id%22%5D", "order_by=id", "a%5D%5D=1",
    "status[eq][gt]=x", "status[in]=" + ",".join(["approved"] * 101), "updated-at[blank]=perhaps",
    "paid[contains]=t",
]
LITERAL = [
    ("supplier[name]=%27%20OR%201%3D1%20--", []), ("invoice-number[contains]=%25", ["INV-100%"]),
    ("invoice-number[starts_with]=_", []), ("invoice-number[ends_with]=%5C", []),
    ("invoice-number=INV-1%00", []), ("status[contains]=appr%00oved;", []), ("invoice-number[not_eq]=INV-1", ["INV-100%"]),
    ("updated-at=2026-03-15T10:00:00 00:00", ["INV-1", "INV-100%"]), ("payment-date[blank]=true", ["INV-1", "INV-100%"]),
]


async def test_hostile_filters_are_one_clear_400_or_matched_literally_never_a_500(
        api: httpx.AsyncClient, driver: CoupaDriver) -> None:
    _, order = await issued_order(driver, api)
    line = [InvoiceLine(order["order-lines"][0]["id"], "1", "12.3456")]
    for number in ("INV-1", "INV-100%"):
        await driver.send_invoice("SUP-100", number, date(2026, 3, 25), "USD", line)
    for query in HOSTILE:
        response = await api.get(f"/api/invoices?{query}")
        assert response.status_code == 400, (query, response.text)
        assert len(errors(response)) == 1, query
    for query, numbers in LITERAL:
        response = await api.get(f"/api/invoices?{query}")
        assert response.status_code == 200, (query, response.text)
        assert [i["invoice-number"] for i in response.json()] == numbers, query
    assert len(await get(api, "/api/invoices")) == 2     # the table is still there, whole


# --- exported and updated-at ---------------------------------------------------------------------

async def test_marking_exported_is_bookkeeping_and_every_change_resets_it(
        api: httpx.AsyncClient, driver: CoupaDriver, clock: Clock) -> None:
    requisition, order = await issued_order(driver, api, desks("10"))
    invoice = await driver.send_invoice("SUP-100", "INV-42", date(2026, 3, 25), "USD",
                                        [InvoiceLine(order["order-lines"][0]["id"], "2", "12.3456")])
    clock.advance(5)
    for path in (f"/api/invoices/{invoice['id']}", f"/api/purchase_orders/{order['id']}",
                 f"/api/requisitions/{requisition['id']}"):
        before = await get(api, path)
        marked = await api.put(f"{path}?exported=true")
        assert marked.status_code == 200 and marked.json()["exported"] is True
        assert marked.json()["updated-at"] == before["updated-at"]
    assert await get(api, "/api/invoices", exported="false") == []
    assert (await api.put(f"/api/invoices/{invoice['id']}?exported=yes")).status_code == 400
    with_body = await api.put(f"/api/invoices/{invoice['id']}?exported=true", json={"paid": True})
    assert with_body.status_code == 400 and "its own request" in errors(with_body)[0]

    changed_at = clock.advance(5)
    await driver.receive(order["order-lines"][0]["id"], "2")       # the order's received and the requisition's status move
    for path in (f"/api/purchase_orders/{order['id']}", f"/api/requisitions/{requisition['id']}"):
        after = await get(api, path)
        assert (after["exported"], after["updated-at"]) == (False, changed_at), path

    paid_at = clock.advance(5)
    await api.put(f"/api/invoices/{invoice['id']}", json={"paid": True, "payment-date": "2026-04-04"})
    again = await get(api, "/api/invoices", exported="false")
    assert [(i["id"], i["updated-at"]) for i in again] == [(invoice["id"], paid_at)]


# --- payment write-back ------------------------------------------------------------------------

async def test_a_payment_is_written_back_once_and_a_paid_invoice_cannot_be_voided(
        api: httpx.AsyncClient, driver: CoupaDriver, clock: Clock) -> None:
    _, order = await issued_order(driver, api, desks("10", "50"))
    invoice = await driver.send_invoice("SUP-100", "INV-77", date(2026, 3, 25), "USD",
                                        [InvoiceLine(order["order-lines"][0]["id"], "10", "50")])
    incomplete = await api.put(f"/api/invoices/{invoice['id']}", json={"paid": True})
    assert incomplete.status_code == 400 and "payment-date is required" in errors(incomplete)[0]
    too_precise = await api.put(f"/api/invoices/{invoice['id']}", json={
        "payments": [{"amount-paid": "490.001", "payment-date": "2026-04-04"}]})
    assert too_precise.status_code == 400
    unknown = await api.put(f"/api/invoices/{invoice['id']}", json={"gross-total": "1.00"})
    assert unknown.status_code == 400 and "gross-total" in errors(unknown)[0]

    clock.advance(5)
    payment = {"amount-paid": "490.00", "payment-date": "2026-04-04", "notes": "pain.001 E2E-77, 2% taken"}
    write_back: dict[str, Any] = {"paid": True, "payment-date": "2026-04-04", "payments": [payment]}
    paid = (await api.put(f"/api/invoices/{invoice['id']}", json=write_back)).json()
    assert (paid["paid"], paid["payment-date"]) == (True, "2026-04-04")
    assert paid["payments"] == [{"amount-paid": "490.00", "payment-date": "2026-04-04", "notes": "pain.001 E2E-77, 2% taken"}]

    clock.advance(5)
    payment["amount-paid"] = "490"          # the same payment, written again after a timeout
    retried = (await api.put(f"/api/invoices/{invoice['id']}", json=write_back)).json()
    assert retried["payments"] == paid["payments"] and retried["updated-at"] == paid["updated-at"]

    void = await api.put(f"/api/invoices/{invoice['id']}/void")
    assert void.status_code == 400 and "has been paid" in errors(void)[0]
    assert (await get(api, f"/api/invoices/{invoice['id']}"))["status"] == "approved"


# --- suppliers -----------------------------------------------------------------------------------

async def test_suppliers_carry_terms_entity_and_bank_account_and_can_be_put_on_hold(
        api: httpx.AsyncClient, driver: CoupaDriver, clock: Clock) -> None:
    suppliers = {s["number"]: s for s in await get(api, "/api/suppliers")}
    assert list(suppliers) == ["SUP-100", "SUP-200", "SUP-300", "SUP-400", "SUP-500"]
    contoso = suppliers["SUP-200"]
    assert (contoso["name"], contoso["status"], contoso["on-hold"], contoso["currency"], contoso["content-groups"]) == (
        "Contoso Industrial GmbH", "active", False, {"code": "EUR"}, [{"name": "DE01"}])
    assert contoso["payment-term"] == {"code": "net 30", "days-for-net-payment": 30, "discount-rate": None,
                                       "days-for-discount-payment": None}
    [remit_to] = contoso["remit-to-addresses"]
    assert remit_to["primary"] is True and remit_to["bank-account"] == {
        "iban": "DE89370400440532013000", "account-number": None, "routing-number": None, "bic": "COBADEFFXXX",
        "currency": {"code": "EUR"}}
    assert suppliers["SUP-100"]["remit-to-addresses"][0]["bank-account"]["routing-number"] == "021000021"
    assert suppliers["SUP-100"]["payment-term"]["discount-rate"] == "2"
    assert [s["number"] for s in await get(api, "/api/suppliers", **{"on-hold": "true"})] == ["SUP-300"]
    assert [s["number"] for s in await get(api, "/api/suppliers", status="inactive")] == ["SUP-500"]

    changed_at = clock.advance(30)
    held = await driver.set_supplier("SUP-100", on_hold=True)
    assert (held["on-hold"], held["updated-at"]) == (True, changed_at)
    assert (await get(api, f"/api/suppliers/{held['id']}"))["on-hold"] is True
    assert [s["number"] for s in await get(api, "/api/suppliers", **{"updated-at[gt]": START.isoformat()})] == ["SUP-100"]
    for missing in ("999", "abc", "1.0"):
        response = await api.get(f"/api/suppliers/{missing}")
        assert response.status_code == 404 and errors(response)


# --- rate limit ----------------------------------------------------------------------------------

async def test_the_rate_limit_answers_429_per_client_then_lets_it_through(tmp_path: Path) -> None:
    app = create_app(tmp_path / "coupa.db", rate_per_second=1, rate_burst=1,
                     clients={"busy": "secret-1", "quiet": "secret-2"})
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=15) as http:
        tokens = [(await token(http, "core.supplier.read", client_id=client, secret=secret)).json()["access_token"]
                  for client, secret in (("busy", "secret-1"), ("quiet", "secret-2"))]
        busy, quiet = ({"Authorization": f"Bearer {t}"} for t in tokens)
        burst = await asyncio.gather(*[http.get("/api/suppliers", headers=busy) for _ in range(6)])
        statuses = sorted(r.status_code for r in burst)
        assert 200 in statuses and 429 in statuses, statuses
        limited = next(r for r in burst if r.status_code == 429)
        assert int(limited.headers["retry-after"]) >= 1 and "Rate limit" in errors(limited)[0]
        assert (await http.get("/api/suppliers", headers=quiet)).status_code == 200   # a bucket per client
        assert (await http.get("/_sandbox/health")).status_code == 200                # the driver is never limited
        counted = (await http.get("/_sandbox/rate-limit")).json()
        assert counted["requests"]["client:busy"] == 6 and counted["requests"]["client:quiet"] == 1
        assert counted["refused"] == statuses.count(429) and counted["rate-per-second"] == 1

        deadline = time.monotonic() + 15
        while (await http.get("/api/suppliers", headers=busy)).status_code != 200:
            assert time.monotonic() < deadline, "the busy client was never let through again"
            await asyncio.sleep(0.2)


async def test_the_driver_counts_the_calls_the_sandbox_counts_for_its_client(
        coupa: str, driver: CoupaDriver) -> None:
    """So a benchmark can tell finsync's share of a client both use."""
    created = await driver.submit_requisition("E1001", "US01", "USD", [desks()])
    await driver.approve(created["id"])
    await driver.purchase_orders(created["id"])
    async with httpx.AsyncClient(base_url=coupa) as http:
        counted = (await http.get("/_sandbox/rate-limit")).json()
    assert counted["requests"]["client:finsync"] == driver.requests == 4   # the approval is looked up, then acted on


# --- faults --------------------------------------------------------------------------------------

async def test_faults_from_the_environment_answer_in_coupas_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSYNC_SANDBOX_FAULTS", json.dumps({"coupa": {"maintenance": True, "retry_after_seconds": 9},
                                                             "bank": {"error_rate": 1.0}}))
    async with serve(create_app(tmp_path / "coupa.db")) as url, httpx.AsyncClient(base_url=url) as http:
        down = await http.get("/api/suppliers")
        assert down.status_code == 503 and down.headers["retry-after"] == "9" and "maintenance" in errors(down)[0]
        assert (await http.get("/_sandbox/health")).status_code == 200
        assert (await http.get("/_sandbox/faults")).json()["injected"] == {"maintenance_503": 1}

        await http.put("/_sandbox/faults", json={"error_rate": 1.0, "seed": 1})
        failing = await http.get("/api/suppliers")
        assert failing.status_code in (500, 502, 503) and errors(failing)


async def test_an_invoice_whose_answer_was_lost_was_recorded_and_its_resend_is_refused(
        coupa: str, api: httpx.AsyncClient, driver: CoupaDriver) -> None:
    _, order = await issued_order(driver, api)
    await api.put("/_sandbox/faults", json={"ambiguous_rate": 1.0, "path_pattern": "^/api/invoices$"})
    body = {"invoice-number": "INV-LOST", "invoice-date": "2026-03-25", "supplier": {"number": "SUP-100"},
            "currency": {"code": "USD"}, "invoice-lines": [{"order-line-id": order["order-lines"][0]["id"],
                                                            "quantity": "1", "price": "12.3456"}]}
    with pytest.raises(httpx.HTTPError):
        await api.post("/api/invoices", json=body)
    await api.put("/_sandbox/faults", json={})
    assert [i["invoice-number"] for i in await get(api, "/api/invoices")] == ["INV-LOST"]
    resent = await api.post("/api/invoices", json=body)
    assert resent.status_code == 400 and "already been used" in errors(resent)[0]


# --- events --------------------------------------------------------------------------------------

@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


def signed_with(delivery: Delivery, secret: str) -> bool:
    """Standard Webhooks v1, checked from the spec (not with the sandbox's signer)."""
    msg_id, timestamp = delivery.headers["webhook-id"], delivery.headers["webhook-timestamp"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + delivery.body,
                                         hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(sig, f"v1,{expected}") for sig in delivery.headers["webhook-signature"].split())


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_receipts_and_invoices_send_signed_events_and_marking_exported_sends_none(
        api: httpx.AsyncClient, driver: CoupaDriver) -> None:
    deliveries: list[Delivery] = []
    hooks = FastAPI()

    @hooks.post("/hooks/coupa")
    async def hook(request: Request) -> Response:
        deliveries.append(Delivery(dict(request.headers), await request.body()))
        return Response(status_code=204)

    async with serve(hooks) as hooks_url:
        subscribed = await api.put("/api/webhooks/subscription", json={"endpoint": f"{hooks_url}/hooks/coupa"})
        assert subscribed.status_code == 200
        requisition, order = await issued_order(driver, api)
        line_id = order["order-lines"][0]["id"]
        receipt = await driver.receive(line_id, "2")
        invoice = await driver.send_invoice("SUP-100", "INV-E1", date(2026, 3, 25), "USD",
                                            [InvoiceLine(line_id, "2", "12.3456")])
        await driver.void_receipt(receipt["id"])
        await eventually(lambda: len(deliveries) == 3)
        await api.put(f"/api/invoices/{invoice['id']}?exported=true")
        outbox = (await api.get("/_sandbox/webhooks")).json()
        assert outbox["pending"] + outbox["delivered"] + outbox["dead"] == 3   # marking queued nothing

    assert all(signed_with(d, PROCUREMENT_SECRET) for d in deliveries)
    assert len({d.headers["webhook-id"] for d in deliveries}) == 3
    by_type = {d.event["type"]: d.event for d in deliveries}
    received, voided = by_type["inventory_transaction.created"], by_type["inventory_transaction.updated"]
    invoiced = by_type["invoice.updated"]
    assert voided["data"]["status"] == "voided"
    assert received["data"] | {"updated-at": None} == {
        "id": receipt["id"], "status": "created", "updated-at": None, "order-line-id": line_id,
        "order-header-id": order["id"], "requisition-header-id": requisition["id"]}
    assert invoiced["data"]["id"] == invoice["id"] and invoiced["data"]["requisition-header-ids"] == [requisition["id"]]


# --- restart -------------------------------------------------------------------------------------

async def test_a_restart_keeps_records_and_tokens_and_seeds_once(tmp_path: Path) -> None:
    async with serve(create_app(tmp_path / "coupa.db")) as url, CoupaDriver(url) as people:
        requisition = await people.submit_requisition("E1001", "US01", "USD", [desks()])
        issued = await people.token()
    async with serve(create_app(tmp_path / "coupa.db")) as url, httpx.AsyncClient(base_url=url) as http:
        headers = {"Authorization": f"Bearer {issued}"}
        assert (await http.get(f"/api/requisitions/{requisition['id']}", headers=headers)).json() == requisition
        assert len((await http.get("/api/suppliers", headers=headers)).json()) == 5
