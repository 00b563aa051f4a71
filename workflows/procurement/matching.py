"""Three-way match, per invoice line: the order says what was agreed, receipts what arrived, the
invoice what the supplier bills. Pure: the workflow calls it each time an invoice or a receipt
arrives, and a mismatch puts that invoice on AP hold (INVOICE_MISMATCH) with the lines below.

Quantity is matched cumulatively per order line (finance-practice.md §1, rule 1): everything
invoiced on the line so far, earlier accepted invoices and this one, must not exceed what was
received (receipts voided do not count), nor what was ordered plus an over-billing allowance.
So partial receipts, several invoices per line, and receipts arriving after the invoice (match
again later: the same invoice then passes) all follow from the same figures.

Price: a unit price above the order's passes only within BOTH tolerances, a percentage of the
ordered value and an absolute amount per unit. Oracle's tolerance templates carry both kinds
(§1), because each alone fails somewhere: a percentage lets a large order through with a large
absolute overcharge, an amount per unit is no limit at all on a cheap item. A price below the
order's is paid as invoiced: no variance.

Amounts are compared in minor units (§1, rule 2): the difference is the invoiced line amount
less the ordered value of the same quantity, each rounded once (canonical/quantity.py), and each
allowance is rounded down to the minor unit. So a price difference that costs nothing is no
variance, and a tolerance never lets through a cent it does not contain.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, computed_field

from canonical import BusinessProblem, Money, ProblemCode, currency_exponent
from canonical.procurement import Invoice, InvoiceLine, InvoiceStatus, PurchaseOrder, PurchaseOrderLine, Receipt
from canonical.procurement_rules import MatchTolerance
from canonical.quantity import Quantity, UnitPrice, extend


class VarianceKind(StrEnum):
    QTY_NOT_RECEIVED = "QTY_NOT_RECEIVED"   # billed on the order line beyond what was received
    QTY_OVER_ORDERED = "QTY_OVER_ORDERED"   # billed on the order line beyond the ordered plus the allowance
    PRICE = "PRICE"                         # unit price above the order's, beyond the tolerance
    NO_ORDER_LINE = "NO_ORDER_LINE"         # a line the order does not have (freight, a line of another order)
    UNIT = "UNIT"                           # billed or received in another unit of measure than ordered
    CURRENCY = "CURRENCY"                   # the invoice is not in the order's currency (document level)
    SUPPLIER = "SUPPLIER"                   # the invoice is from another supplier than the order's (document level)


class LineVariance(BaseModel):
    """One reason an invoice cannot be paid as it stands, with the figures an AP clerk checks."""

    model_config = ConfigDict(frozen=True)

    kind: VarianceKind
    message: str                             # one finance-readable sentence
    invoice_line_id: str | None = None       # None: the whole invoice
    order_line_id: str | None = None
    invoiced_quantity: Quantity | None = None     # on this invoice line
    invoiced_to_date: Quantity | None = None      # on the order line, earlier invoices and this line included
    received_quantity: Quantity | None = None
    ordered_quantity: Quantity | None = None
    invoiced_unit_price: UnitPrice | None = None
    ordered_unit_price: UnitPrice | None = None
    difference: Money | None = None          # what the variance is worth, in the invoice's currency
    allowed: Money | None = None             # PRICE: the tolerance the difference exceeds


class LineMatch(BaseModel):
    """What one invoice line was matched against."""

    model_config = ConfigDict(frozen=True)

    invoice_line_id: str
    order_line_id: str | None                # None: no line of the order
    invoiced: Quantity
    invoiced_before: Quantity | None = None  # on the order line by earlier accepted invoices (and earlier lines of this one)
    received: Quantity | None = None
    ordered: Quantity | None = None
    invoiced_unit_price: UnitPrice
    ordered_unit_price: UnitPrice | None = None


class MatchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_id: str
    invoice_number: str
    order_id: str
    order_number: str
    lines: list[LineMatch]
    variances: list[LineVariance]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def matched(self) -> bool:
        return not self.variances


def match_invoice(invoice: Invoice, order: PurchaseOrder, receipts: list[Receipt], earlier_invoices: list[Invoice],
                  tolerance: MatchTolerance) -> MatchResult:
    """Match ``invoice`` against ``order``.

    ``receipts``: the order's receipts (voided ones and other orders' are not counted).
    ``earlier_invoices``: the invoices already accepted on this order, matched or with their
    variance accepted; voided ones and ``invoice`` itself are left out, so on a re-match the
    caller may pass every invoice it accepted.
    """
    if invoice.order_id != order.order_id:
        raise ValueError(f"invoice {invoice.invoice_number} is for order {invoice.order_id}, not {order.order_id}")
    variances = _document_variances(invoice, order)
    received, receipt_variances = _received(order, receipts)
    invoiced = _invoiced_before(invoice, order, earlier_invoices)
    comparable_prices = invoice.currency == order.currency
    lines: list[LineMatch] = []
    for line in invoice.lines:
        order_line = order.line(line.order_line_id) if line.order_line_id else None
        if order_line is None:
            lines.append(LineMatch(invoice_line_id=line.line_id, order_line_id=line.order_line_id,
                                   invoiced=line.quantity, invoiced_unit_price=line.unit_price))
            variances.append(_no_order_line(line, order))
            continue
        unit = order_line.quantity.unit
        before = Quantity(value=invoiced.get(order_line.line_id, Decimal(0)), unit=unit)
        received_now = Quantity(value=received.get(order_line.line_id, Decimal(0)), unit=unit)
        lines.append(LineMatch(
            invoice_line_id=line.line_id, order_line_id=order_line.line_id, invoiced=line.quantity,
            invoiced_before=before, received=received_now, ordered=order_line.quantity,
            invoiced_unit_price=line.unit_price, ordered_unit_price=order_line.unit_price))
        if line.quantity.unit != unit:
            variances.append(_unit_variance(line, order_line))
            continue
        invoiced[order_line.line_id] = before.value + line.quantity.value
        variances += [variance.model_copy(update={"invoice_line_id": line.line_id})
                      for variance in receipt_variances.get(order_line.line_id, [])]
        variances += _quantity_variances(line, order_line, before, received_now, tolerance)
        if comparable_prices:
            variances += _price_variances(line, order_line, tolerance)
    return MatchResult(invoice_id=invoice.invoice_id, invoice_number=invoice.invoice_number, order_id=order.order_id,
                       order_number=order.order_number, lines=lines, variances=variances)


def hold_problem(result: MatchResult) -> BusinessProblem:
    """What the workflow parks the invoice with: every variance, in one finance-readable reason."""
    if result.matched:
        raise ValueError(f"invoice {result.invoice_number} matched: nothing to hold")
    return BusinessProblem(
        code=ProblemCode.INVOICE_MISMATCH, system="procurement", subject=result.invoice_number,
        line_id=result.variances[0].invoice_line_id,
        reason=(f"Invoice {result.invoice_number} does not match purchase order {result.order_number} and is on AP "
                "hold: " + " ".join(variance.message for variance in result.variances)
                + " Accept the variance (with a reason), reject the invoice, or retry once the missing receipts or a "
                "credit note are in."))


# --- the figures --------------------------------------------------------------------------------


def _received(order: PurchaseOrder, receipts: list[Receipt]) -> tuple[dict[str, Decimal], dict[str, list[LineVariance]]]:
    """Quantity received per order line, in the order line's unit; a receipt in another unit is not
    counted, and every invoice line on that order line says so."""
    received: dict[str, Decimal] = {}
    variances: dict[str, list[LineVariance]] = {}
    for receipt in receipts:
        order_line = order.line(receipt.order_line_id)
        if receipt.voided or receipt.order_id != order.order_id or order_line is None:
            continue
        if receipt.quantity.unit != order_line.quantity.unit:
            variances.setdefault(order_line.line_id, []).append(LineVariance(
                kind=VarianceKind.UNIT, order_line_id=order_line.line_id, received_quantity=receipt.quantity,
                ordered_quantity=order_line.quantity,
                message=(f"Receipt {receipt.receipt_id} on order line {order_line.line_number} is of {receipt.quantity}, "
                         f"the order line is in {order_line.quantity.unit}: it is not counted as received.")))
            continue
        received[order_line.line_id] = received.get(order_line.line_id, Decimal(0)) + receipt.quantity.value
    return received, variances


def _invoiced_before(invoice: Invoice, order: PurchaseOrder, earlier: list[Invoice]) -> dict[str, Decimal]:
    """Quantity already invoiced per order line, in the order line's unit (an accepted line in
    another unit cannot be counted in it)."""
    invoiced: dict[str, Decimal] = {}
    for other in earlier:
        if other.invoice_id == invoice.invoice_id or other.status is InvoiceStatus.VOIDED or other.order_id != order.order_id:
            continue
        for line in other.lines:
            order_line = order.line(line.order_line_id) if line.order_line_id else None
            if order_line is not None and line.quantity.unit == order_line.quantity.unit:
                invoiced[order_line.line_id] = invoiced.get(order_line.line_id, Decimal(0)) + line.quantity.value
    return invoiced


# --- the rules ----------------------------------------------------------------------------------


def _document_variances(invoice: Invoice, order: PurchaseOrder) -> list[LineVariance]:
    variances = []
    if invoice.supplier_id != order.supplier_id:
        variances.append(LineVariance(kind=VarianceKind.SUPPLIER, message=(
            f"Invoice {invoice.invoice_number} is from supplier {invoice.supplier_id}, but purchase order "
            f"{order.order_number} was issued to supplier {order.supplier_id}.")))
    if invoice.currency != order.currency:
        variances.append(LineVariance(kind=VarianceKind.CURRENCY, difference=invoice.total, message=(
            f"Invoice {invoice.invoice_number} is in {invoice.currency}, but purchase order {order.order_number} is in "
            f"{order.currency}: its prices cannot be compared with the order's; ask the supplier for an invoice in "
            f"{order.currency}.")))
    return variances


def _no_order_line(line: InvoiceLine, order: PurchaseOrder) -> LineVariance:
    names = (f"names order line {line.order_line_id}, which purchase order {order.order_number} does not have"
             if line.order_line_id else f"names no line of purchase order {order.order_number}")
    return LineVariance(
        kind=VarianceKind.NO_ORDER_LINE, invoice_line_id=line.line_id, order_line_id=line.order_line_id,
        invoiced_quantity=line.quantity, invoiced_unit_price=line.unit_price, difference=line.amount,
        message=f"Line {line.line_id} ({line.description}) {names}: {line.amount} billed for something never ordered.")


def _unit_variance(line: InvoiceLine, order_line: PurchaseOrderLine) -> LineVariance:
    return LineVariance(
        kind=VarianceKind.UNIT, invoice_line_id=line.line_id, order_line_id=order_line.line_id,
        invoiced_quantity=line.quantity, ordered_quantity=order_line.quantity,
        invoiced_unit_price=line.unit_price, ordered_unit_price=order_line.unit_price,
        message=(f"Line {line.line_id} ({line.description}) bills {line.quantity}, but order line "
                 f"{order_line.line_number} is in {order_line.quantity.unit}: quantities cannot be compared."))


def _quantity_variances(line: InvoiceLine, order_line: PurchaseOrderLine, before: Quantity, received: Quantity,
                        tolerance: MatchTolerance) -> list[LineVariance]:
    """Cumulative on the order line; the excess charged to this line is at most its own quantity
    (an excess accepted on an earlier invoice is not billed again here)."""
    to_date = before + line.quantity
    ordered = order_line.quantity
    allowance = tolerance.over_billing_percent
    checks = [(VarianceKind.QTY_NOT_RECEIVED, received.value, f"{received} received", "before it was received"),
              (VarianceKind.QTY_OVER_ORDERED, ordered.value * (1 + allowance / 100),
               f"{ordered} ordered" + (f" plus the {_percent(allowance)} over-billing allowance" if allowance else ""),
               "beyond the order")]
    variances = []
    for kind, limit, against, what in checks:
        excess = min(line.quantity.value, to_date.value - limit)
        if excess <= 0:
            continue
        difference = Money(amount=excess * line.unit_price.amount, currency=line.unit_price.currency)
        variances.append(LineVariance(
            kind=kind, invoice_line_id=line.line_id, order_line_id=order_line.line_id, invoiced_quantity=line.quantity,
            invoiced_to_date=to_date, received_quantity=received, ordered_quantity=ordered,
            invoiced_unit_price=line.unit_price, ordered_unit_price=order_line.unit_price, difference=difference,
            message=(f"Line {line.line_id} ({line.description}): {to_date} invoiced on order line "
                     f"{order_line.line_number} so far, this invoice included, {against}: "
                     f"{_units(excess, ordered.unit)} ({difference}) billed {what}.")))
    return variances


def _price_variances(line: InvoiceLine, order_line: PurchaseOrderLine, tolerance: MatchTolerance) -> list[LineVariance]:
    if line.unit_price.amount <= order_line.unit_price.amount:
        return []
    billed = line.amount
    ordered_value = extend(line.quantity, order_line.unit_price)
    difference = billed - ordered_value
    currency = billed.currency
    by_percent = _floor(ordered_value.amount * tolerance.price_percent / 100, currency)
    per_unit = tolerance.per_unit(currency)
    by_amount = _floor(line.quantity.value * per_unit.amount, currency)
    allowed = min(by_percent, by_amount)
    if difference <= allowed:
        return []
    return [LineVariance(
        kind=VarianceKind.PRICE, invoice_line_id=line.line_id, order_line_id=order_line.line_id,
        invoiced_quantity=line.quantity, ordered_quantity=order_line.quantity,
        invoiced_unit_price=line.unit_price, ordered_unit_price=order_line.unit_price,
        difference=difference, allowed=allowed,
        message=(f"Line {line.line_id} ({line.description}): billed at {_price(line.unit_price)} per "
                 f"{line.quantity.unit}, ordered at {_price(order_line.unit_price)}: {difference} more on {line.quantity}, "
                 f"beyond the price tolerance of {allowed} ({_percent(tolerance.price_percent)} of the ordered "
                 f"{ordered_value} is {by_percent}, {per_unit} per unit is {by_amount}: the lesser applies)."))]


def _floor(amount: Decimal, currency: str) -> Money:
    """An allowance, rounded down to the minor unit: a tolerance never grants a cent it does not contain."""
    return Money(amount=amount.quantize(Decimal(1).scaleb(-currency_exponent(currency)), rounding=ROUND_FLOOR),
                 currency=currency)


def _price(price: UnitPrice) -> str:
    """At least the currency's decimals (USD 100.00, not USD 100), and every decimal the price has."""
    places = max(currency_exponent(price.currency), -int(price.amount.normalize().as_tuple().exponent))
    return f"{price.currency} {price.amount:,.{places}f}"


def _units(value: Decimal, unit: str) -> str:
    return f"{value.normalize():f} {unit}"


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f} %"
