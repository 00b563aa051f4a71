"""Three-way match properties (hypothesis): the price rule against exact fractions, and any split
of one order line over invoices and receipts against the cumulative rule."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from canonical import Money, currency_exponent
from canonical.procurement_rules import MatchTolerance
from tests.workflows.procurement.documents import invoice, invoice_line, order, order_line, receipt
from workflows.procurement.matching import VarianceKind, match_invoice

PROPERTY = settings(max_examples=150, deadline=None)
CURRENCIES = st.sampled_from(["USD", "JPY", "BHD"])


def minor(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-currency_exponent(currency))


@PROPERTY
@given(currency=CURRENCIES, order_minor=st.integers(0, 10**6), quantity=st.integers(1, 500),
       percent=st.decimals(0, 25, places=2), per_unit_minor=st.integers(0, 5000), data=st.data())
def test_a_price_inside_both_tolerances_always_matches_and_outside_either_never_does(
        currency: str, order_minor: int, quantity: int, percent: Decimal, per_unit_minor: int, data: st.DataObject):
    """On whole minor units nothing rounds, so the rule is checked against exact fractions: the
    line costs ``quantity x increase`` more, allowed at most ``percent`` of the ordered value and
    ``quantity x per_unit``. Half the increases are drawn at the edge of the tolerance."""
    by_percent = Fraction(quantity * order_minor) * Fraction(percent) / 100
    by_amount = quantity * per_unit_minor
    edge = math.ceil(min(by_percent, Fraction(by_amount)) / quantity)   # the smallest increase per unit at or past the edge
    increase_minor = data.draw(st.one_of(st.integers(1, 5000), st.integers(max(1, edge - 1), edge + 1)))
    difference = quantity * increase_minor
    inside = difference <= by_percent and difference <= by_amount

    ordered_price, billed_price = minor(order_minor, currency), minor(order_minor + increase_minor, currency)
    tolerance = MatchTolerance(price_percent=percent, price_per_unit=[Money(amount=minor(per_unit_minor, currency),
                                                                            currency=currency)])
    result = match_invoice(invoice(invoice_line("L1", "OL1", quantity, billed_price, currency=currency), currency=currency),
                           order(order_line("OL1", quantity, ordered_price, currency=currency), currency=currency),
                           [receipt("OL1", quantity)], [], tolerance)
    assert result.matched == inside
    if not result.matched:
        [variance] = result.variances
        assert variance.kind is VarianceKind.PRICE
        assert variance.difference == Money(amount=minor(difference, currency), currency=currency)


PRICES = st.decimals(0, 10_000, places=6)
QUANTITIES = st.decimals(0, 1000, places=4)


@PROPERTY
@given(currency=CURRENCIES, ordered_price=PRICES, billed=st.lists(PRICES, min_size=2, max_size=2), quantity=QUANTITIES,
       percent=st.decimals(0, 25, places=2), per_unit=st.integers(0, 5000))
def test_a_higher_price_never_turns_a_held_invoice_into_a_match(currency: str, ordered_price: Decimal,
                                                                billed: list[Decimal], quantity: Decimal, percent: Decimal,
                                                                per_unit: int):
    """Off the grid (six-decimal prices, fractional quantities) amounts round once per line; the
    rule stays monotone, and a price at or below the order's always matches."""
    tolerance = MatchTolerance(price_percent=percent, price_per_unit=[Money(amount=minor(per_unit, currency),
                                                                            currency=currency)])
    the_order = order(order_line("OL1", quantity, ordered_price, currency=currency), currency=currency)

    def matched(price: Decimal) -> bool:
        bill = invoice(invoice_line("L1", "OL1", quantity, price, currency=currency), currency=currency)
        return match_invoice(bill, the_order, [receipt("OL1", quantity)], [], tolerance).matched

    lower, higher = sorted(billed)
    assert matched(higher) <= matched(lower)
    assert matched(min(lower, ordered_price))


QTY = st.decimals(Decimal("0.0001"), 50, places=4)


@PROPERTY
@given(ordered=st.decimals(1, 100, places=4), invoiced=st.lists(QTY, min_size=1, max_size=6),
       received=st.lists(QTY, min_size=0, max_size=6), allowance=st.sampled_from([Decimal(0), Decimal(5), Decimal("12.5")]))
def test_splitting_one_order_line_over_invoices_matches_iff_the_cumulative_is_received_and_ordered(
        ordered: Decimal, invoiced: list[Decimal], received: list[Decimal], allowance: Decimal):
    """Each invoice is matched with the earlier ones accepted; the i-th matches iff everything
    billed up to it is at most what was received and the ordered plus the allowance."""
    the_order = order(order_line("OL1", ordered, "3.333333"))
    receipts = [receipt("OL1", quantity, receipt_id=f"RC-{i}") for i, quantity in enumerate(received)]
    bills = [invoice(invoice_line("L1", "OL1", quantity, "3.333333"), invoice_id=f"INV-{i}")
             for i, quantity in enumerate(invoiced)]
    limit = ordered * (1 + allowance / 100)
    for i, bill in enumerate(bills):
        to_date = sum(invoiced[:i + 1], Decimal(0))
        result = match_invoice(bill, the_order, receipts, bills[:i], MatchTolerance(over_billing_percent=allowance))
        assert result.matched == (to_date <= sum(received, Decimal(0)) and to_date <= limit)
        assert result.lines[0].invoiced_before.value == to_date - invoiced[i]   # type: ignore[union-attr]

    # the rest arrives later: matched again, each invoice is held only for what exceeds the order
    everything = [*receipts, receipt("OL1", sum(invoiced, Decimal(0)), receipt_id="RC-late")]
    for i, bill in enumerate(bills):
        result = match_invoice(bill, the_order, everything, bills[:i], MatchTolerance(over_billing_percent=allowance))
        assert result.matched == (sum(invoiced[:i + 1], Decimal(0)) <= limit)
        assert all(v.kind is VarianceKind.QTY_OVER_ORDERED for v in result.variances)
