"""Three-way match with hand-worked figures: quantities cumulative per order line, price within
both tolerances, amounts in minor units (USD 2 decimals, JPY 0, BHD 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from canonical import Money, ProblemCode
from canonical.procurement import InvoiceStatus
from canonical.procurement_rules import MatchTolerance
from tests.workflows.procurement.documents import invoice, invoice_line, order, order_line, receipt
from workflows.procurement.matching import MatchResult, VarianceKind, hold_problem, match_invoice

# 2 % and USD 5.00 per unit: on 10 monitors at USD 100 the percentage binds (USD 20.00 < USD 50.00).
TOLERANCE = MatchTolerance(price_percent=Decimal(2), price_per_unit=[Money.of("5.00", "USD"), Money.of("1", "JPY"),
                                                                    Money.of("0.010", "BHD")])
EXACT = MatchTolerance()
MONITORS = order(order_line("OL1", 10, "100.00"), order_line("OL2", 3, "12.3456", number=2))


def kinds(result: MatchResult) -> list[tuple[str | None, VarianceKind]]:
    return [(v.invoice_line_id, v.kind) for v in result.variances]


# --- quantity ---------------------------------------------------------------------------------


def test_an_invoice_for_what_was_ordered_received_and_priced_matches():
    result = match_invoice(invoice(invoice_line("L1", "OL1", 10, "100.00")), MONITORS, [receipt("OL1", 10)], [], EXACT)
    assert result.matched and result.variances == []
    line = result.lines[0]
    assert (line.ordered.value, line.received.value, line.invoiced_before.value) == (10, 10, 0)   # type: ignore[union-attr]


def test_billed_before_received_is_held_then_matches_once_the_rest_arrives():
    bill = invoice(invoice_line("L1", "OL1", 10, "100.00"))
    first = match_invoice(bill, MONITORS, [receipt("OL1", 6)], [], TOLERANCE)
    assert kinds(first) == [("L1", VarianceKind.QTY_NOT_RECEIVED)]
    variance = first.variances[0]
    assert (variance.invoiced_to_date.value, variance.received_quantity.value) == (10, 6)   # type: ignore[union-attr]
    assert variance.difference == Money.of("400.00", "USD")   # 4 EA x USD 100.00
    assert "4 EA (USD 400.00) billed before it was received" in variance.message

    later = match_invoice(bill, MONITORS, [receipt("OL1", 6), receipt("OL1", 4, receipt_id="RC-2")], [], TOLERANCE)
    assert later.matched


def test_several_invoices_on_one_order_line_add_up_against_what_was_received_and_ordered():
    received = [receipt("OL1", 6), receipt("OL1", 4, receipt_id="RC-2")]
    first = invoice(invoice_line("L1", "OL1", 4, "100.00"), invoice_id="INV-1")
    second = invoice(invoice_line("L1", "OL1", 6, "100.00"), invoice_id="INV-2")
    assert match_invoice(first, MONITORS, received, [], TOLERANCE).matched
    assert match_invoice(second, MONITORS, received, [first], TOLERANCE).matched

    third = invoice(invoice_line("L1", "OL1", 1, "100.00"), invoice_id="INV-3")
    result = match_invoice(third, MONITORS, received, [first, second], TOLERANCE)
    assert kinds(result) == [("L1", VarianceKind.QTY_NOT_RECEIVED), ("L1", VarianceKind.QTY_OVER_ORDERED)]
    assert result.lines[0].invoiced_before.value == 10   # type: ignore[union-attr]
    assert all(v.difference == Money.of("100.00", "USD") for v in result.variances)
    assert "11 EA invoiced on order line 1 so far, this invoice included, 10 EA ordered" in result.variances[1].message


def test_the_excess_charged_to_an_invoice_is_never_more_than_it_bills():
    """An earlier invoice accepted 8 EA against 5 received; this one bills 2 more: 2 EA are at
    fault here, not the 5 already accepted over what arrived."""
    earlier = invoice(invoice_line("L1", "OL1", 8, "100.00"), invoice_id="INV-1")
    result = match_invoice(invoice(invoice_line("L1", "OL1", 2, "100.00"), invoice_id="INV-2"), MONITORS,
                           [receipt("OL1", 5)], [earlier], TOLERANCE)
    assert kinds(result) == [("L1", VarianceKind.QTY_NOT_RECEIVED)]
    assert result.variances[0].difference == Money.of("200.00", "USD")


def test_a_line_billing_nothing_is_not_charged_with_an_excess_accepted_earlier():
    earlier = invoice(invoice_line("L1", "OL1", 8, "100.00"), invoice_id="INV-1")
    result = match_invoice(invoice(invoice_line("L1", "OL1", 0, "100.00"), invoice_id="INV-2"), MONITORS,
                           [receipt("OL1", 5)], [earlier], TOLERANCE)
    assert result.matched


def test_voided_receipts_voided_invoices_and_the_invoice_itself_are_not_counted():
    bill = invoice(invoice_line("L1", "OL1", 5, "100.00"), invoice_id="INV-2")
    voided_bill = invoice(invoice_line("L1", "OL1", 5, "100.00"), invoice_id="INV-1", status=InvoiceStatus.VOIDED)
    receipts = [receipt("OL1", 5), receipt("OL1", 5, receipt_id="RC-2", voided=True)]
    assert match_invoice(bill, MONITORS, receipts, [voided_bill, bill], TOLERANCE).matched
    assert kinds(match_invoice(bill, MONITORS, receipts[1:], [], TOLERANCE)) == [("L1", VarianceKind.QTY_NOT_RECEIVED)]


def test_two_lines_of_one_invoice_on_the_same_order_line_add_up():
    bill = invoice(invoice_line("L1", "OL1", 6, "100.00"), invoice_line("L2", "OL1", 6, "100.00"))
    result = match_invoice(bill, MONITORS, [receipt("OL1", 12)], [], TOLERANCE)
    assert kinds(result) == [("L2", VarianceKind.QTY_OVER_ORDERED)]
    assert result.variances[0].difference == Money.of("200.00", "USD")   # 12 billed, 10 ordered, L2's 2 EA


def test_the_over_billing_allowance_lets_a_few_percent_more_than_ordered_through():
    kilos = order(order_line("OL1", 100, "2.00", unit="KG"))
    allowance = MatchTolerance(over_billing_percent=Decimal(5))
    received = [receipt("OL1", 110, unit="KG")]
    assert match_invoice(invoice(invoice_line("L1", "OL1", 105, "2.00", unit="KG")), kilos, received, [], allowance).matched
    result = match_invoice(invoice(invoice_line("L1", "OL1", "105.5", "2.00", unit="KG")), kilos, received, [], allowance)
    assert kinds(result) == [("L1", VarianceKind.QTY_OVER_ORDERED)]
    assert result.variances[0].difference == Money.of("1.00", "USD")   # 0.5 KG x USD 2.00
    assert "plus the 5 % over-billing allowance" in result.variances[0].message


# --- price ------------------------------------------------------------------------------------


def test_a_price_within_both_tolerances_matches_and_beyond_the_lesser_is_held():
    received = [receipt("OL1", 10)]
    # USD 101.50 x 10: USD 15.00 more; allowed: 2 % of USD 1,000.00 = USD 20.00, USD 5.00 x 10 = USD 50.00
    assert match_invoice(invoice(invoice_line("L1", "OL1", 10, "101.50")), MONITORS, received, [], TOLERANCE).matched
    # USD 102.50 x 10: USD 25.00 more, beyond USD 20.00
    result = match_invoice(invoice(invoice_line("L1", "OL1", 10, "102.50")), MONITORS, received, [], TOLERANCE)
    assert kinds(result) == [("L1", VarianceKind.PRICE)]
    variance = result.variances[0]
    assert (variance.difference, variance.allowed) == (Money.of("25.00", "USD"), Money.of("20.00", "USD"))
    assert (variance.invoiced_unit_price.amount, variance.ordered_unit_price.amount) == (Decimal("102.50"),   # type: ignore[union-attr]
                                                                                         Decimal("100.00"))
    assert "USD 25.00 more on 10 EA, beyond the price tolerance of USD 20.00" in variance.message


def test_a_percentage_tolerance_never_grants_a_cent_it_does_not_contain():
    # 1 % of USD 100.50 is USD 1.005: USD 1.00 allowed, not USD 1.01
    one_percent = MatchTolerance(price_percent=Decimal(1), price_per_unit=[Money.of("5.00", "USD")])
    pricey = order(order_line("OL1", 1, "100.50"))
    result = match_invoice(invoice(invoice_line("L1", "OL1", 1, "101.51")), pricey, [receipt("OL1", 1)], [], one_percent)
    assert [(v.difference, v.allowed) for v in result.variances] == [(Money.of("1.01", "USD"), Money.of("1.00", "USD"))]
    assert match_invoice(invoice(invoice_line("L1", "OL1", 1, "101.50")), pricey, [receipt("OL1", 1)], [], one_percent).matched


def test_the_absolute_tolerance_binds_when_it_is_the_lesser():
    generous_percent = MatchTolerance(price_percent=Decimal(10), price_per_unit=[Money.of("1.00", "USD")])
    result = match_invoice(invoice(invoice_line("L1", "OL1", 10, "101.50")), MONITORS, [receipt("OL1", 10)], [],
                           generous_percent)
    assert result.variances[0].allowed == Money.of("10.00", "USD")   # USD 1.00 x 10, not 10 % = USD 100.00


def test_a_price_below_the_order_is_paid_as_invoiced():
    assert match_invoice(invoice(invoice_line("L1", "OL1", 10, "90.00")), MONITORS, [receipt("OL1", 10)], [], EXACT).matched


def test_a_price_difference_that_rounds_to_nothing_is_no_variance_even_without_tolerance():
    received = [receipt("OL2", 3)]
    # 3 x 12.3459 = 37.0377 -> USD 37.04, as ordered (3 x 12.3456 = 37.0368 -> USD 37.04)
    assert match_invoice(invoice(invoice_line("L1", "OL2", 3, "12.3459")), MONITORS, received, [], EXACT).matched
    # 3 x 12.349 = 37.047 -> USD 37.05: one cent more
    result = match_invoice(invoice(invoice_line("L1", "OL2", 3, "12.349")), MONITORS, received, [], EXACT)
    assert [(v.kind, v.difference) for v in result.variances] == [(VarianceKind.PRICE, Money.of("0.01", "USD"))]


def test_yen_have_no_minor_unit():
    screws = order(order_line("OL1", 1000, "2.5", currency="JPY"), currency="JPY")
    received = [receipt("OL1", 1000)]
    # 1000 x JPY 2.51 = JPY 2,510, JPY 10 more; allowed: 1 % of JPY 2,500 = JPY 25, JPY 1 x 1000 = JPY 1,000
    one_percent = TOLERANCE.model_copy(update={"price_percent": Decimal(1)})
    bill = invoice(invoice_line("L1", "OL1", 1000, "2.51", currency="JPY"), currency="JPY")
    assert match_invoice(bill, screws, received, [], one_percent).matched
    bill = invoice(invoice_line("L1", "OL1", 1000, "2.53", currency="JPY"), currency="JPY")
    variance = match_invoice(bill, screws, received, [], one_percent).variances[0]
    assert (variance.difference, variance.allowed) == (Money.of(30, "JPY"), Money.of(25, "JPY"))
    assert "JPY 30 more on 1000 EA, beyond the price tolerance of JPY 25" in variance.message


def test_yen_quantity_missing_is_valued_at_the_invoice_price_rounded_once():
    screws = order(order_line("OL1", 1000, "2.5", currency="JPY"), currency="JPY")
    bill = invoice(invoice_line("L1", "OL1", 1000, "2.5", currency="JPY"), currency="JPY")
    variance = match_invoice(bill, screws, [receipt("OL1", 999)], [], EXACT).variances[0]
    assert variance.difference == Money.of(3, "JPY")   # 1 EA x JPY 2.5 = 2.5, rounded half up once


def test_bahraini_dinar_three_decimals_and_fractional_quantities():
    cable = order(order_line("OL1", "2.5", "0.4567", currency="BHD", unit="KG"), currency="BHD")
    received = [receipt("OL1", "2.5", unit="KG")]
    tenth_percent = TOLERANCE.model_copy(update={"price_percent": Decimal("0.1")})
    # 2.5 x 0.4571 = 1.14275 -> BHD 1.143, ordered 2.5 x 0.4567 = 1.14175 -> BHD 1.142: BHD 0.001 more;
    # allowed: 0.1 % of 1.142 = 0.001142 -> BHD 0.001 (rounded down), BHD 0.010 x 2.5 = BHD 0.025
    bill = invoice(invoice_line("L1", "OL1", "2.5", "0.4571", currency="BHD", unit="KG"), currency="BHD")
    assert match_invoice(bill, cable, received, [], tenth_percent).matched
    # 2.5 x 0.4575 = 1.14375 -> BHD 1.144: BHD 0.002 more
    bill = invoice(invoice_line("L1", "OL1", "2.5", "0.4575", currency="BHD", unit="KG"), currency="BHD")
    variance = match_invoice(bill, cable, received, [], tenth_percent).variances[0]
    assert (variance.difference, variance.allowed) == (Money.of("0.002", "BHD"), Money.of("0.001", "BHD"))


def test_an_order_currency_without_an_absolute_tolerance_allows_no_price_variance():
    euros = order(order_line("OL1", 10, "100.00", currency="EUR"), currency="EUR")
    bill = invoice(invoice_line("L1", "OL1", 10, "100.01", currency="EUR"), currency="EUR")
    variance = match_invoice(bill, euros, [receipt("OL1", 10)], [], TOLERANCE).variances[0]
    assert (variance.difference, variance.allowed) == (Money.of("0.10", "EUR"), Money.zero("EUR"))


# --- the document -----------------------------------------------------------------------------


def test_an_invoice_in_another_currency_is_held_once_for_the_document_and_prices_are_not_compared():
    bill = invoice(invoice_line("L1", "OL1", 10, "300.00", currency="EUR"), currency="EUR")
    result = match_invoice(bill, MONITORS, [receipt("OL1", 4)], [], TOLERANCE)
    assert kinds(result) == [(None, VarianceKind.CURRENCY), ("L1", VarianceKind.QTY_NOT_RECEIVED)]
    assert "is in EUR, but purchase order PO-1-N is in USD" in result.variances[0].message


def test_an_invoice_from_another_supplier_is_held():
    bill = invoice(invoice_line("L1", "OL1", 10, "100.00"), supplier_id="SUP-999")
    assert kinds(match_invoice(bill, MONITORS, [receipt("OL1", 10)], [], TOLERANCE)) == [(None, VarianceKind.SUPPLIER)]


def test_a_line_the_order_does_not_have_is_held_at_its_whole_amount():
    bill = invoice(invoice_line("L1", "OL1", 10, "100.00"), invoice_line("L2", None, 1, "25.00"),
                   invoice_line("L3", "OL9", 2, "1.00"))
    result = match_invoice(bill, MONITORS, [receipt("OL1", 10)], [], TOLERANCE)
    assert kinds(result) == [("L2", VarianceKind.NO_ORDER_LINE), ("L3", VarianceKind.NO_ORDER_LINE)]
    assert result.variances[0].difference == Money.of("25.00", "USD")
    assert "names order line OL9, which purchase order PO-1-N does not have" in result.variances[1].message


def test_units_of_measure_that_differ_from_the_order_are_held_not_converted():
    bill = invoice(invoice_line("L1", "OL1", 1, "1000.00", unit="BOX"))
    assert kinds(match_invoice(bill, MONITORS, [receipt("OL1", 10)], [], TOLERANCE)) == [("L1", VarianceKind.UNIT)]
    bill = invoice(invoice_line("L1", "OL1", 10, "100.00"))
    boxed = [receipt("OL1", 9), receipt("OL1", 1, receipt_id="RC-2", unit="BOX")]
    assert kinds(match_invoice(bill, MONITORS, boxed, [], TOLERANCE)) == [("L1", VarianceKind.UNIT),
                                                                          ("L1", VarianceKind.QTY_NOT_RECEIVED)]


def test_an_invoice_for_another_order_is_a_caller_error():
    with pytest.raises(ValueError, match="not PO-2"):
        match_invoice(invoice(invoice_line("L1", "OL1", 1, "1")), order(order_line("OL1", 1, "1"), order_id="PO-2"),
                      [], [], TOLERANCE)


# --- what the workflow keeps and parks with ---------------------------------------------------


def test_a_result_crosses_workflow_history_unchanged():
    result = match_invoice(invoice(invoice_line("L1", "OL1", 10, "102.50")), MONITORS, [receipt("OL1", 6)], [], TOLERANCE)
    converter = pydantic_data_converter.payload_converter
    payloads = converter.to_payloads([result])
    assert b'"matched":false' in payloads[0].data
    assert converter.from_payloads(payloads, [MatchResult]) == [result]


def test_a_held_invoice_parks_with_every_variance_and_what_to_do():
    result = match_invoice(invoice(invoice_line("L1", "OL1", 10, "102.50")), MONITORS, [receipt("OL1", 6)], [], TOLERANCE)
    problem = hold_problem(result)
    assert (problem.code, problem.subject, problem.line_id, problem.system) == (
        ProblemCode.INVOICE_MISMATCH, "INV-1-N", "L1", "procurement")
    assert all(variance.message in problem.reason for variance in result.variances)
    assert "reject the invoice" in problem.reason
    with pytest.raises(ValueError, match="matched"):
        hold_problem(match_invoice(invoice(invoice_line("L1", "OL1", 1, "100.00")), MONITORS, [receipt("OL1", 1)], [],
                                   TOLERANCE))
