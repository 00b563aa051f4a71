"""The Coupa connector against the Coupa sandbox over real HTTP: documents mapped to canonical with
exact decimals, the order actions and write-backs repeatable, refusals as finance-readable
problems, paging past 50, the rate limit as a transient error, and the poll (changes, exported)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from canonical import Money
from canonical.procurement import (
    InvoiceStatus,
    OrderStatus,
    PaymentTerms,
    ProcurementChangeKind,
    RemitTo,
    SupplierStatus,
)
from connectors.coupa import CoupaClient
from connectors.coupa.client import PAGE_SIZE, REFRESH_AFTER
from connectors.coupa.problems import NOT_FOUND, REFUSED
from connectors.errors import BusinessRuleError, RateLimitedError, TransientVendorError
from finsync.config import ProcurementVendorSettings
from tests.support.coupa import World, approved, coupa_world, desks, invoiced, issued


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with coupa_world(tmp_path / "coupa.db") as built:
        yield built


# --- documents ------------------------------------------------------------------------------------

async def test_a_requisition_and_its_order_keep_four_decimal_prices_and_round_once_per_line(world: World) -> None:
    requisition = await world.driver.submit_requisition("E1001", "US01", "USD", [desks()],
                                                        justification="Desks for the Berlin team")
    req_id = str(requisition["id"])
    assert await world.client.order_for_requisition(req_id) is None   # not approved: no order yet

    mapped = await world.client.get_requisition(req_id)
    (line,) = mapped.lines
    assert (mapped.requisition_id, mapped.source_system, mapped.title, mapped.requested_by, mapped.currency) == (
        req_id, "coupa", "Desks for the Berlin team", "E1001", "USD")
    assert line.unit_price.amount == Decimal("12.3456") and isinstance(line.quantity.value, Decimal)
    assert line.amount == Money.of("37.04", "USD")          # 3 x 12.3456 = 37.0368, rounded once
    assert (line.coding.entity_code, line.coding.cost_center, line.coding.gl_account) == ("US01", "CC-1000", "6300")
    assert line.supplier_id == "1" and line.need_by == date(2026, 4, 1) and mapped.submitted_at is not None

    await world.driver.approve(requisition["id"])
    order = await world.client.order_for_requisition(req_id)
    assert order is not None and order.status is OrderStatus.DRAFT   # buyer_hold: not yet with the supplier
    assert (order.requisition_id, order.supplier_id, order.order_number) == (req_id, "1", f"PO-{1000 + int(order.order_id)}")
    (ordered,) = order.lines
    assert ordered.unit_price.amount == Decimal("12.3456") and ordered.quantity.value == 3
    assert order.total == Money.of("37.04", "USD") and ordered.coding == line.coding


async def test_a_line_of_many_units_at_a_four_decimal_price_is_not_the_sum_of_rounded_units(world: World) -> None:
    requisition = await approved(world, desks(quantity="1000", price="0.0049"))
    mapped = await world.client.get_requisition(str(requisition["id"]))
    assert mapped.total == Money.of("4.90", "USD")            # 1000 x 0.0049; rounded units would make it 0.00


async def test_suppliers_carry_their_entity_terms_and_remit_to_as_entered(world: World) -> None:
    northwind, contoso, fabrikam, tailspin, litware = [await world.client.get_supplier(str(i)) for i in range(1, 6)]
    assert (northwind.number, northwind.entity_code, northwind.currency) == ("SUP-100", "US01", "USD")
    assert northwind.payment_terms == PaymentTerms(net_days=30, discount_percent=Decimal(2), discount_days=10)
    assert northwind.remit_to == RemitTo(holder_name="Northwind Office Supply", bic="CHASUS33XXX",
                                         account_number="4000123456", routing_number="021000021")
    assert contoso.entity_code == "DE01" and contoso.remit_to is not None
    assert contoso.remit_to.iban == "DE89370400440532013000" and contoso.payment_terms == PaymentTerms(net_days=30)
    assert fabrikam.on_hold and fabrikam.status is SupplierStatus.ACTIVE
    assert tailspin.remit_to is not None and tailspin.remit_to.iban == "DE00370400440532013001"  # wrong check digits: kept
    assert litware.status is SupplierStatus.INACTIVE


async def test_order_actions_can_be_repeated_and_a_refusal_names_the_order_in_words(world: World) -> None:
    requisition = await approved(world)
    order = await world.client.order_for_requisition(str(requisition["id"]))
    assert order is not None
    first = await world.client.issue_order(order.order_id)
    again = await world.client.issue_order(order.order_id)
    assert first.status is again.status is OrderStatus.ISSUED
    await world.client.cancel_order(order.order_id)
    await world.client.cancel_order(order.order_id)
    assert (await world.client.order_for_requisition(str(requisition["id"]))).status is OrderStatus.CANCELLED  # type: ignore[union-attr]

    with pytest.raises(BusinessRuleError) as refused:
        await world.client.close_order(order.order_id)
    problem = refused.value.problem
    assert (problem.code, problem.system, problem.vendor_code) == (REFUSED, "procurement", "400")
    assert problem.reason == (f"Coupa refused to close purchase order {order.order_id}: Purchase order "
                              f"{order.order_number} is cancelled; it cannot be closed.")


async def test_an_unknown_document_is_a_problem_naming_it_not_a_crash(world: World) -> None:
    with pytest.raises(BusinessRuleError) as missing:
        await world.client.get_invoice("999")
    assert missing.value.problem.code == NOT_FOUND and "Coupa has no invoice 999" in missing.value.problem.reason
    with pytest.raises(BusinessRuleError) as odd:
        await world.client.get_requisition("../suppliers/1")   # an id is one path segment, never a path
    assert odd.value.problem.code in (NOT_FOUND, REFUSED)


async def test_receipts_partial_and_voided_and_an_order_closed(world: World) -> None:
    _, order = await issued(world)
    line_id = order["order-lines"][0]["id"]
    first = await world.driver.receive(line_id, "2", on=date(2026, 3, 20))
    await world.driver.receive(line_id, "1.5")
    await world.driver.void_receipt(first["id"])

    receipts = await world.client.receipts(str(order["id"]))
    assert [(r.order_id, r.order_line_id, r.quantity.value, r.voided) for r in receipts] == [
        (str(order["id"]), str(line_id), Decimal(2), True), (str(order["id"]), str(line_id), Decimal("1.5"), False)]
    assert receipts[0].received_on == date(2026, 3, 20)
    await world.client.close_order(str(order["id"]))
    await world.client.close_order(str(order["id"]))
    assert (await world.raw(f"/api/purchase_orders/{order['id']}"))["status"] == "closed"


async def test_an_invoice_maps_to_its_order_lines_and_terms_and_is_voided_once(world: World) -> None:
    _, order = await issued(world)
    sent = await invoiced(world, order, quantity="2", price="12.5001")
    invoice = await world.client.get_invoice(str(sent["id"]))
    (line,) = invoice.lines
    assert (invoice.invoice_number, invoice.supplier_id, invoice.order_id, invoice.currency) == (
        "INV-1001", "1", str(order["id"]), "USD")
    assert invoice.status is InvoiceStatus.APPROVED and invoice.invoice_date == date(2026, 3, 25)
    assert line.order_line_id == str(order["order-lines"][0]["id"]) and line.unit_price.amount == Decimal("12.5001")
    assert invoice.total == Money.of("25.00", "USD")        # 25.0002 rounded once
    assert invoice.payment_terms == PaymentTerms(net_days=30, discount_percent=Decimal(2), discount_days=10)

    await world.client.void_invoice(str(sent["id"]), "price not agreed")
    await world.client.void_invoice(str(sent["id"]), "price not agreed")   # repeated: harmless
    assert (await world.client.get_invoice(str(sent["id"]))).status is InvoiceStatus.VOIDED


async def test_a_payment_written_back_twice_is_recorded_once(world: World) -> None:
    _, order = await issued(world)
    sent = await invoiced(world, order)
    for _ in range(2):   # a retry after a lost answer
        await world.client.record_payment(str(sent["id"]), Money.of("36.30", "USD"), date(2026, 4, 4), "finsync FSE-1")
    raw = await world.raw(f"/api/invoices/{sent['id']}")
    assert raw["paid"] is True and raw["payment-date"] == "2026-04-04"
    assert raw["payments"] == [{"amount-paid": "36.30", "payment-date": "2026-04-04", "notes": "finsync FSE-1"}]
    assert (await world.client.get_invoice(str(sent["id"]))).status is InvoiceStatus.PAID

    with pytest.raises(BusinessRuleError) as refused:
        await world.client.void_invoice(str(sent["id"]), "too late")
    assert refused.value.problem.reason == (f"Coupa refused to void invoice {sent['id']}: Invoice INV-1001 has been "
                                            "paid; it cannot be voided.")


async def test_lists_page_past_fifty(world: World) -> None:
    _, order = await issued(world, desks(quantity="100"))
    line_id = order["order-lines"][0]["id"]
    for _ in range(PAGE_SIZE + 3):
        await world.driver.receive(line_id, "1")
    receipts = await world.client.receipts(str(order["id"]))
    assert len(receipts) == PAGE_SIZE + 3 and len({r.receipt_id for r in receipts}) == PAGE_SIZE + 3


# --- the transport ------------------------------------------------------------------------------------

async def test_a_429_is_transient_with_coupas_retry_after(world: World) -> None:
    await world.faults(rate_limit_rate=1.0, rate_limit_burst_seconds=60, retry_after_seconds=30)
    with pytest.raises(RateLimitedError) as limited:
        await world.client.get_supplier("1")
    assert isinstance(limited.value, TransientVendorError) and limited.value.retry_after == 30


async def test_a_short_burst_of_429s_is_waited_out_and_the_read_succeeds(world: World) -> None:
    await world.client.get_supplier("1")   # the token first, outside the burst
    # Seed 13: the first request starts a half-second burst of 429s, the next ones start none.
    injected = await world.faults(rate_limit_rate=0.5, rate_limit_burst_seconds=0.5, retry_after_seconds=1, seed=13)
    assert injected == {}
    supplier = await world.client.get_supplier("1")
    assert supplier.number == "SUP-100"
    assert (await world.faults())["rate_limited_429"] == 1   # the 429 did happen, and was retried


async def test_a_server_error_is_transient(world: World) -> None:
    await world.faults(error_rate=1.0)
    with pytest.raises(TransientVendorError):
        await world.client.get_requisition("1")


async def test_the_token_asks_for_the_configured_scopes_and_is_renewed_before_coupas_24_hours(world: World) -> None:
    narrow = CoupaClient.from_settings(ProcurementVendorSettings(base_url=world.url, scopes=["core.supplier.read"]))
    try:
        assert (await narrow.get_supplier("1")).number == "SUP-100"
        with pytest.raises(TransientVendorError) as forbidden:   # a missing grant is configuration: it retries
            await narrow.get_invoice("1")
        assert forbidden.value.status == 403
        token = await narrow.fetch_token(narrow._http)
        assert token.expires_at - time.monotonic() <= REFRESH_AFTER
    finally:
        await narrow.aclose()


# --- polling -----------------------------------------------------------------------------------------

async def test_changes_resolve_each_receipt_and_invoice_to_its_requisition(world: World) -> None:
    await world.driver.submit_requisition("E1001", "US01", "USD", [desks()])   # pending approval: not finsync's yet
    req_id, order = await issued(world)
    receipt = await world.driver.receive(order["order-lines"][0]["id"], "3")
    invoice = await invoiced(world, order)

    changes = [change async for change in world.client.changes(None)]
    assert [(c.kind, c.requisition_id, c.document_id) for c in changes] == [
        (ProcurementChangeKind.REQUISITION_APPROVED, req_id, req_id),
        (ProcurementChangeKind.RECEIPT, req_id, str(receipt["id"])),
        (ProcurementChangeKind.INVOICE, req_id, str(invoice["id"]))]
    requisition, received, billed = changes
    assert received.receipt is not None and received.receipt.quantity.value == 3
    assert billed.invoice is not None and billed.invoice.invoice_number == "INV-1001"
    assert billed.change_id == f"INVOICE:{invoice['id']}:{datetime.fromisoformat(invoice['updated-at']).isoformat()}"
    assert all(c.source_system == "coupa" and c.occurred_at.tzinfo is not None for c in changes)
    # The same state read twice is the same change.
    assert [c.change_id async for c in world.client.changes(None)] == [c.change_id for c in changes]


async def test_exported_changes_are_not_read_again_until_the_record_changes(world: World) -> None:
    _, order = await issued(world)
    receipt = await world.driver.receive(order["order-lines"][0]["id"], "1")
    for change in [c async for c in world.client.changes(None)]:
        await world.client.mark_exported(change)
    assert [c async for c in world.client.changes(None)] == []
    assert (await world.raw(f"/api/inventory_transactions/{receipt['id']}"))["exported"] is True

    await world.driver.void_receipt(receipt["id"])   # a change: Coupa exports it again (and its requisition moved)
    requisition, voided = [c async for c in world.client.changes(None)]
    assert requisition.kind is ProcurementChangeKind.REQUISITION_APPROVED
    assert voided.kind is ProcurementChangeKind.RECEIPT and voided.receipt is not None and voided.receipt.voided


async def test_changes_after_a_moment_leave_out_what_changed_before(world: World) -> None:
    _, order = await issued(world)
    await world.driver.receive(order["order-lines"][0]["id"], "1")
    moment = world.clock.at
    late = await world.driver.receive(order["order-lines"][0]["id"], "1")
    assert [c.document_id async for c in world.client.changes(moment)] == [str(late["id"])]


async def test_a_record_that_changed_after_it_was_read_is_not_marked_exported(world: World) -> None:
    _, order = await issued(world)
    receipt = await world.driver.receive(order["order-lines"][0]["id"], "1")
    (read,) = [c async for c in world.client.changes(None) if c.kind is ProcurementChangeKind.RECEIPT]
    await world.driver.void_receipt(receipt["id"])          # changed between the read and the mark
    await world.client.mark_exported(read)
    (pending,) = [c async for c in world.client.changes(None) if c.kind is ProcurementChangeKind.RECEIPT]
    assert pending.receipt is not None and pending.receipt.voided   # the void is still to be handed over


async def test_a_webhooks_document_reads_as_the_poll_reads_it(world: World) -> None:
    _, order = await issued(world)
    receipt = await world.driver.receive(order["order-lines"][0]["id"], "1")
    polled = {c.change_id async for c in world.client.changes(None)}
    read = await world.client.change_of(ProcurementChangeKind.RECEIPT, str(receipt["id"]))
    assert read is not None and read.change_id in polled

    await world.driver.auto_approve_invoices(False)
    pending = await invoiced(world, order)
    assert await world.client.change_of(ProcurementChangeKind.INVOICE, str(pending["id"])) is None   # not approved yet
