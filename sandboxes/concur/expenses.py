"""Expense v4 expenses: what an employee claims on a report, converted and taxed as Concur does."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from sandboxes.concur import workflow
from sandboxes.concur.access import check_context, report_for
from sandboxes.concur.amounts import quantize
from sandboxes.concur.auth import require_token
from sandboxes.concur.bodies import NewExpense, parse
from sandboxes.concur.catalog import EXPENSE_TYPES, TAX_RATES
from sandboxes.concur.context import base_url, concur
from sandboxes.concur.errors import ConcurApiError, now_iso
from sandboxes.concur.jsonio import ConcurJSONResponse, read_json
from sandboxes.concur.models import ConcurExchangeRate, ConcurExpense
from sandboxes.concur.views import expense_view, expenses_of
from sandboxes.kit.db import session

router = APIRouter(dependencies=[Depends(require_token)])

V4 = "/expensereports/v4"


def exchange_rate(db: Session, body: NewExpense, report_currency: str) -> Decimal:
    """Transaction -> report currency: 1, the rate sent, or Concur's rate for the day."""
    source = body.transactionAmount.currencyCode
    if source == report_currency:
        return Decimal(1)
    if body.exchangeRate is not None:
        return body.exchangeRate.value
    rates = db.exec(select(ConcurExchangeRate).where(
        ConcurExchangeRate.from_currency == source, ConcurExchangeRate.to_currency == report_currency)
        .order_by(ConcurExchangeRate.effective)).all()
    day = body.transactionDate.isoformat()
    applicable = [r for r in rates if r.effective <= day] or rates[:1]
    if not applicable:
        raise ConcurApiError(400, f"There is no exchange rate from {source} to {report_currency}; send exchangeRate.",
                             [{"id": "exchangeRate", "message": "no rate known", "source": "exchangeRate"}])
    return Decimal(applicable[-1].rate)


def reclaimable_tax(body: NewExpense) -> tuple[str | None, Decimal | None]:
    """The VAT part of the gross amount: as sent, or from the tax code's rate."""
    if not body.taxDetails:
        return None, None
    detail, gross = body.taxDetails[0], body.transactionAmount
    if detail.reclaimableAmount is not None:
        if detail.reclaimableAmount.currencyCode != gross.currencyCode:
            raise ConcurApiError(400, "The reclaimable tax must be in the transaction currency.",
                                 [{"id": "taxDetails", "message": "currency mismatch", "source": "taxDetails"}])
        return detail.taxCode, quantize(detail.reclaimableAmount.value, gross.currencyCode)
    rate = TAX_RATES.get(detail.taxCode)
    if rate is None:
        raise ConcurApiError(400, f"Unknown tax code {detail.taxCode}.",
                             [{"id": "taxDetails", "message": "unknown tax code", "source": "taxDetails.taxCode"}])
    return detail.taxCode, quantize(gross.value * rate / (1 + rate), gross.currencyCode)


@router.post(V4 + "/users/{user_id}/context/{context}/reports/{report_id}/expenses")
async def create_expense(user_id: str, context: str, report_id: str, request: Request) -> ConcurJSONResponse:
    check_context(context, ("TRAVELER", "PROXY"))
    body = parse(NewExpense, await read_json(request))
    if body.expenseType.id not in EXPENSE_TYPES:
        raise ConcurApiError(400, f"Unknown expense type {body.expenseType.id}.",
                             [{"id": "expenseType", "message": f"use one of {', '.join(EXPENSE_TYPES)}",
                               "source": "expenseType.id"}])
    with session(concur(request).engine) as db:
        report = report_for(db, user_id, context, report_id)
        if report.approval_status_id not in workflow.EDITABLE:
            raise ConcurApiError(409, f"Report {report_id} is submitted; expenses can only change while it is "
                                      "not submitted or sent back.")
        amount = body.transactionAmount
        gross = quantize(amount.value, amount.currencyCode)
        rate = exchange_rate(db, body, report.currency_code)
        tax_code, tax = reclaimable_tax(body)
        if tax is not None and abs(tax) > abs(gross):
            raise ConcurApiError(400, "The reclaimable tax exceeds the transaction amount.",
                                 [{"id": "taxDetails", "message": "too large", "source": "taxDetails"}])
        expense = ConcurExpense(
            expense_id=uuid.uuid4().hex[:20].upper(), report_id=report_id, seq=len(expenses_of(db, report_id)) + 1,
            expense_type_code=body.expenseType.id, transaction_date=body.transactionDate.isoformat(),
            transaction_amount=str(gross), transaction_currency=amount.currencyCode, exchange_rate=str(rate),
            posted_amount=str(quantize(gross * rate, report.currency_code)), vendor_name=body.vendor.name,
            business_purpose=body.businessPurpose, receipt_image_id=body.receiptImageId,
            custom_data=json.dumps([c.model_dump() for c in body.customData]), tax_code=tax_code,
            reclaimable_tax=None if tax is None else str(tax))
        report.modified_at = now_iso()
        db.add(expense)
        db.add(report)
        db.commit()
    uri = f"{base_url(request)}{V4}/users/{user_id}/context/{context}/reports/{report_id}/expenses/{expense.expense_id}"
    return ConcurJSONResponse({"uri": uri}, status_code=201)


@router.get(V4 + "/users/{user_id}/context/{context}/reports/{report_id}/expenses")
async def list_expenses(user_id: str, context: str, report_id: str, request: Request) -> ConcurJSONResponse:
    # Sandbox simplification: the list carries every field of an expense (real Concur lists a
    # summary and has the details at .../expenses/{expenseId}, also served here).
    with session(concur(request).engine) as db:
        report = report_for(db, user_id, context, report_id)
        return ConcurJSONResponse([expense_view(e, report, base_url(request), context)
                                   for e in expenses_of(db, report_id)])


@router.get(V4 + "/users/{user_id}/context/{context}/reports/{report_id}/expenses/{expense_id}")
async def read_expense(user_id: str, context: str, report_id: str, expense_id: str,
                       request: Request) -> ConcurJSONResponse:
    with session(concur(request).engine) as db:
        report = report_for(db, user_id, context, report_id)
        expense = db.get(ConcurExpense, expense_id)
        if expense is None or expense.report_id != report_id:
            raise ConcurApiError(404, f"Expense {expense_id} not found on report {report_id}.")
        return ConcurJSONResponse(expense_view(expense, report, base_url(request), context))


@router.delete(V4 + "/users/{user_id}/context/{context}/reports/{report_id}/expenses/{expense_id}")
async def delete_expense(user_id: str, context: str, report_id: str, expense_id: str, request: Request) -> Response:
    check_context(context, ("TRAVELER", "PROXY"))
    with session(concur(request).engine) as db:
        report = report_for(db, user_id, context, report_id)
        expense = db.get(ConcurExpense, expense_id)
        if expense is None or expense.report_id != report_id:
            raise ConcurApiError(404, f"Expense {expense_id} not found on report {report_id}.")
        if report.approval_status_id not in workflow.EDITABLE:
            raise ConcurApiError(409, f"Report {report_id} is submitted; its expenses cannot be removed.")
        db.delete(expense)
        db.commit()
    return Response(status_code=204)
