"""NetSuite's side of requisition-to-pay (``ProcurementErp``): the budget left per cost center and
account, purchase orders as commitments, the vendor bills that relieve them, and the bills'
credits and payments.

Suppliers are vendors whose ``entityId`` is the supplier number. Every write is keyed by finsync's
external id: purchase orders and bills are upserted (``PUT …/eid:``; the same body again changes
nothing), and with ``lookup_first`` a bill is read back before it is written again. A credit or a
payment is a transform of its bill (``POST vendorBill/{id}/!transform/…``), so a retry looks the
credit or payment up by its own external id before posting again.

Budget (the ``budgets`` table: one amount per subsidiary, account, department and period, in the
subsidiary's currency): what a period has left is its budget, less what purchase orders dated in
it still commit (their lines' open amounts), less what posted to it (bills, credits, journals).
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from canonical import BusinessProblem, Money, PostedJournal, ProblemCode
from canonical.procurement import (
    BillPayment,
    BillReversal,
    BudgetCheck,
    BudgetLine,
    BudgetRequest,
    Coding,
    Commitment,
    CommitmentLine,
    PostedBill,
    PostedBillPayment,
    PostedCommitment,
    VendorBill,
)
from connectors.errors import BusinessRuleError, TransientVendorError, VendorRejectedError
from connectors.http import url_path
from connectors.netsuite.rejections import Sent, SentLine
from connectors.netsuite.session import RECORD, NetSuiteSession, literal, to_date

log = logging.getLogger(__name__)

# Sums per (subsidiary, account, department) for the codings asked about, each as exact decimal text.
BUDGETS = ("SELECT b.subsidiary, b.account, b.department, b.amount FROM budgets b "
           "WHERE b.accountingperiod = {period} AND ({codings})")
COMMITTED = ("SELECT tl.subsidiary, tl.account, tl.department, SUM(tl.foreignamountopen) AS amount "
             "FROM transaction t JOIN transactionline tl ON tl.transaction = t.id "
             "WHERE t.recordtype = 'purchaseorder' AND t.trandate >= {start} AND t.trandate <= {end} AND ({codings}) "
             "GROUP BY tl.subsidiary, tl.account, tl.department")
ACTUALS = ("SELECT tl.subsidiary, tl.account, tl.department, SUM(tl.foreignamount) AS amount "
           "FROM transaction t JOIN transactionline tl ON tl.transaction = t.id "
           "WHERE t.posting = 'T' AND t.postingperiod = {period} AND ({codings}) "
           "GROUP BY tl.subsidiary, tl.account, tl.department")

# A purchase order's lines are numbered by position, 1, 2, ... in the commitment's order (as
# NetSuite numbers lines itself), and each line's memo ends with the platform's key for it: a bill
# knows only that key, and finds the line it relieves by reading the order back.
_KEY_OPENS = " (order line "

CodingKey = tuple[str, str, str]    # NetSuite ids: subsidiary, account, department


def order_line_memo(line: CommitmentLine) -> str:
    return f"{line.description}{_KEY_OPENS}{line.line_key})"


def order_line_key(memo: str) -> str | None:
    """The platform's key an order line's memo ends with (None: not a line finsync wrote)."""
    _, found, key = memo.rpartition(_KEY_OPENS)
    return key[:-1] if found and key.endswith(")") else None


def _matching(alias: str, keys: set[CodingKey]) -> str:
    return " OR ".join(f"({alias}.subsidiary = {literal(s)} AND {alias}.account = {literal(a)} "
                       f"AND {alias}.department = {literal(d)})" for s, a, d in sorted(keys))


def _money(value: Any, currency: str) -> Money:
    return Money.of(Decimal(str(value)), currency)


class NetSuiteProcurement(NetSuiteSession):
    # --- reads -------------------------------------------------------------------------------
    async def check_budget(self, request: BudgetRequest) -> BudgetCheck:
        period = await self._period(request.on)
        if period is None or period.erp_id is None:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code=ProblemCode.PERIOD_MISSING, system="erp", subject=request.on.isoformat(),
                reason=f"No NetSuite accounting period covers {request.on}: its budget cannot be read."))
        codings = [coding for coding, _ in request.lines]
        entities = {code: await self._entity(code) for code in sorted({c.entity_code for c in codings})}
        accounts = await self.account_ids(c.gl_account for c in codings)
        departments = await self.department_ids(c.cost_center for c in codings)
        keys: dict[Coding, CodingKey] = {
            c: (entities[c.entity_code].erp_id or "", accounts[c.gl_account], departments[c.cost_center])
            for c in codings}
        wanted = set(keys.values())
        budgets = await self._sums(BUDGETS.format(period=literal(period.erp_id), codings=_matching("b", wanted)))
        committed = await self._sums(COMMITTED.format(start=to_date(period.start), end=to_date(period.end),
                                                      codings=_matching("tl", wanted)))
        actuals = await self._sums(ACTUALS.format(period=literal(period.erp_id), codings=_matching("tl", wanted)))
        lines = []
        for coding, requested in request.lines:
            currency = entities[coding.entity_code].functional_currency
            if requested.currency != currency:
                raise VendorRejectedError(self.vendor, BusinessProblem(
                    code="BUDGET_CURRENCY", system="finsync", subject=requested.currency,
                    reason=f"The budget of {coding.entity_code} is kept in {currency}; finsync cannot check a request "
                           f"in {requested.currency} against it."))
            key = keys[coding]
            lines.append(BudgetLine(   # a coding with no budget row has no budget: 0
                coding=coding, requested=requested, budget=_money(budgets.get(key, 0), currency),
                committed=_money(committed.get(key, 0), currency), actual=_money(actuals.get(key, 0), currency)))
        return BudgetCheck(lines=lines)

    async def _sums(self, query: str) -> dict[CodingKey, Decimal]:
        return {(row["subsidiary"], row["account"], row["department"]): Decimal(row["amount"])
                for row in await self.suiteql(query) if "amount" in row}

    async def supplier_known(self, supplier_number: str, entity_code: str) -> bool:
        entity = await self._entity(entity_code)
        rows = await self.suiteql(f"SELECT id FROM vendor WHERE entityid = {literal(supplier_number)} "
                                  f"AND isinactive = 'F' AND subsidiary = {literal(entity.erp_id or '')}")
        return bool(rows)

    async def _vendor_id(self, supplier_number: str, document: str) -> str:
        """The vendor's internal id, active or not (NetSuite itself refuses an inactive one)."""
        rows = await self.suiteql(f"SELECT id FROM vendor WHERE entityid = {literal(supplier_number)}")
        if not rows:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code=ProblemCode.SUPPLIER_UNKNOWN_IN_ERP, system="erp", subject=supplier_number,
                reason=f"{document}: supplier {supplier_number} is not a NetSuite vendor (no vendor has that ID)."))
        return str(rows[0]["id"])

    async def _bill(self, bill_erp_id: str, what: str) -> dict[str, Any]:
        bill = await self.record("vendorBill", bill_erp_id)
        if bill is None:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code="BILL_NOT_FOUND", system="erp", subject=bill_erp_id,
                reason=f"{what}: vendor bill {bill_erp_id} is not in NetSuite."))
        return bill

    async def _read_back(self, record: str, external_id: str) -> dict[str, Any]:
        found = await self.record_by_external_id(record, external_id)
        if found is None:
            raise TransientVendorError(self.vendor, f"NetSuite accepted {record} {external_id} but does not return it yet")
        return found

    # --- commitments ---------------------------------------------------------------------------
    async def create_commitment(self, commitment: Commitment) -> PostedCommitment:
        document = f"Commitment for purchase order {commitment.order_number}"
        entity = await self._entity(commitment.entity_code)
        vendor = await self._vendor_id(commitment.supplier_number, document)
        currency = await self._currency_id(commitment.currency)
        accounts = await self.account_ids((line.coding.gl_account for line in commitment.lines), document=document)
        departments = await self.department_ids((line.coding.cost_center for line in commitment.lines),
                                                document=document)
        body = {"externalId": commitment.external_id, "entity": {"id": vendor}, "subsidiary": {"id": entity.erp_id},
                "tranDate": commitment.order_date.isoformat(), "currency": {"id": currency}, "memo": commitment.memo,
                "expense": {"items": [
                    {"line": number, "account": {"id": accounts[line.coding.gl_account]},
                     "department": {"id": departments[line.coding.cost_center]}, "amount": line.amount.amount,
                     "memo": order_line_memo(line)}
                    for number, line in enumerate(commitment.lines, start=1)]}}
        await self.write("PUT", url_path(RECORD + "/purchaseOrder/eid:{id}", id=commitment.external_id), body, Sent(
            document=document, entity=commitment.entity_code, posting_date=commitment.order_date,
            supplier=commitment.supplier_number,
            lines=tuple(SentLine(account=line.coding.gl_account, cost_center=line.coding.cost_center)
                        for line in commitment.lines)))
        order = await self._read_back("purchaseOrder", commitment.external_id)
        return PostedCommitment(external_id=commitment.external_id, erp_id=order["id"], document_number=order["tranId"])

    async def release_commitment(self, external_id: str) -> None:
        order = await self.record_by_external_id("purchaseOrder", external_id)
        if order is None:
            log.warning("commitment %s is not in NetSuite: nothing to release", external_id)
            return
        if order["status"]["id"] == "closed":
            return
        await self.write("PATCH", url_path(RECORD + "/purchaseOrder/{id}", id=order["id"]), {"status": "closed"},
                         Sent(document=f"Release of purchase order {order['tranId']}"))

    # --- bills ---------------------------------------------------------------------------------
    async def post_bill(self, bill: VendorBill, *, lookup_first: bool = False) -> PostedBill:
        if lookup_first and (found := await self.record_by_external_id("vendorBill", bill.external_id)) is not None:
            return await self._posted_bill(found)
        document = f"Vendor bill for invoice {bill.invoice_number} from {bill.supplier_number}"
        order = await self.record_by_external_id("purchaseOrder", bill.commitment_external_id)
        if order is None:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code="COMMITMENT_MISSING", system="erp", subject=bill.commitment_external_id,
                reason=f"{document}: its purchase order (commitment {bill.commitment_external_id}) is not in NetSuite, "
                       "so the bill cannot relieve it."))
        order_lines = {order_line_key(item.get("memo", "")): item["line"] for item in order["expense"]["items"]}
        unknown = next((line.order_line_key for line in bill.lines if line.order_line_key not in order_lines), None)
        if unknown is not None:
            raise VendorRejectedError(self.vendor, BusinessProblem(
                code="ORDER_LINE_UNKNOWN", system="finsync", subject=unknown,
                reason=f"{document}: order line {unknown} is not on purchase order {order['tranId']} in NetSuite."))
        period = await self._period(bill.posting_date)
        if period is None:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code=ProblemCode.PERIOD_MISSING, system="erp", subject=bill.posting_date.isoformat(),
                reason=f"{document}: no NetSuite accounting period covers {bill.posting_date}: set it up, or change the "
                       "date."))
        entity = await self._entity(bill.entity_code)
        vendor = await self._vendor_id(bill.supplier_number, document)
        currency = await self._currency_id(bill.currency)
        accounts = await self.account_ids((line.coding.gl_account for line in bill.lines), document=document)
        departments = await self.department_ids((line.coding.cost_center for line in bill.lines), document=document)
        # The bill is dated as the invoice (NetSuite's terms and aging run from it) and posts to the
        # period of finsync's posting date.
        body = {"externalId": bill.external_id, "entity": {"id": vendor}, "subsidiary": {"id": entity.erp_id},
                "tranDate": bill.invoice_date.isoformat(), "postingPeriod": {"id": period.erp_id},
                "dueDate": bill.due_date.isoformat(), "tranId": bill.invoice_number, "currency": {"id": currency},
                "memo": bill.memo, "expense": {"items": [
                    {"account": {"id": accounts[line.coding.gl_account]},
                     "department": {"id": departments[line.coding.cost_center]}, "amount": line.amount.amount,
                     "memo": line.description, "orderDoc": {"id": order["id"]},
                     "orderLine": order_lines[line.order_line_key]}
                    for line in bill.lines]}}
        await self.write("PUT", url_path(RECORD + "/vendorBill/eid:{id}", id=bill.external_id), body, Sent(
            document=document, entity=bill.entity_code, posting_date=bill.posting_date, supplier=bill.supplier_number,
            reference=bill.invoice_number,
            lines=tuple(SentLine(account=line.coding.gl_account, cost_center=line.coding.cost_center,
                                 order_line=line.order_line_key) for line in bill.lines)))
        return await self._posted_bill(await self._read_back("vendorBill", bill.external_id))

    async def _posted_bill(self, record: dict[str, Any]) -> PostedBill:
        currency = (await self.currencies())[record["currency"]["id"]]
        return PostedBill(external_id=record["externalId"], erp_id=record["id"], document_number=record["tranId"],
                          amount=_money(record["total"], currency))

    async def reverse_bill(self, reversal: BillReversal, *, lookup_first: bool = False) -> PostedJournal:
        """A vendor credit of the whole bill, applied to it; its order lines are committed again."""
        if lookup_first and (found := await self.record_by_external_id("vendorCredit", reversal.external_id)) is not None:
            return await self._posted_credit(found)
        bill = await self._bill(reversal.bill_erp_id, f"Reversal {reversal.external_id}")
        body = {"externalId": reversal.external_id, "tranDate": reversal.on.isoformat(), "memo": reversal.memo}
        await self.write("POST", url_path(RECORD + "/vendorBill/{id}/!transform/vendorCredit", id=bill["id"]), body,
                         Sent(document=f"Reversal of vendor bill {bill['tranId']}", posting_date=reversal.on,
                              entity=await self.entity_code(bill["subsidiary"]["id"]), reference=bill["tranId"]))
        return await self._posted_credit(await self._read_back("vendorCredit", reversal.external_id))

    async def _posted_credit(self, record: dict[str, Any]) -> PostedJournal:
        currency = (await self.currencies())[record["currency"]["id"]]
        return PostedJournal(external_id=record["externalId"], erp_id=record["id"], document_number=record["tranId"],
                             entity=await self.entity_code(record["subsidiary"]["id"]),
                             posting_date=date.fromisoformat(record["tranDate"]), amount=_money(record["total"], currency))

    async def pay_bill(self, payment: BillPayment, *, lookup_first: bool = False) -> PostedBillPayment:
        """Dr payable (amount + discount), Cr the bank's GL account (amount), Cr discounts received."""
        if lookup_first and (found := await self.record_by_external_id("vendorPayment", payment.external_id)) is not None:
            return PostedBillPayment(external_id=payment.external_id, erp_id=found["id"], document_number=found["tranId"])
        bill = await self._bill(payment.bill_erp_id, f"Payment {payment.external_id}")
        document = f"Payment {payment.external_id} of vendor bill {bill['tranId']}"
        currency = (await self.currencies())[bill["currency"]["id"]]
        if payment.amount.currency != currency:
            raise VendorRejectedError(self.vendor, BusinessProblem(
                code="CURRENCY_MISMATCH", system="finsync", subject=payment.amount.currency,
                reason=f"{document}: the payment is in {payment.amount.currency}, the bill in {currency}."))
        bank = (await self.account_ids([payment.bank_gl_account], document=document))[payment.bank_gl_account]
        body: dict[str, Any] = {"externalId": payment.external_id, "tranDate": payment.paid_on.isoformat(),
                                "account": {"id": bank}, "amount": payment.amount.amount}
        if not payment.discount.is_zero:
            body["discountAmount"] = payment.discount.amount
        await self.write("POST", url_path(RECORD + "/vendorBill/{id}/!transform/vendorPayment", id=bill["id"]), body,
                         Sent(document=document, posting_date=payment.paid_on,
                              entity=await self.entity_code(bill["subsidiary"]["id"]), reference=bill["tranId"]))
        paid = await self._read_back("vendorPayment", payment.external_id)
        return PostedBillPayment(external_id=payment.external_id, erp_id=paid["id"], document_number=paid["tranId"])
