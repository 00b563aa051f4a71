"""BankClient: ISO 20022 credit transfers over a bank's corporate API (``connectors.interfaces.Bank``).

A payment is keyed by its MsgId and EndToEndId; a payment batch (one file, many transfers) by its
MsgId. The bank refuses a repeated MsgId or EndToEndId (409 DUPL); the client answers that with
what the bank already holds, so a retry never pays twice.

A payroll's file of tens of thousands of transfers is uploaded streamed from disk, and answered
in numbers (``FileAcknowledgement``); its rejected transactions are read a page at a time.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx

from canonical.bank_reconciliation import account_key
from canonical.money import Money
from canonical.payment import (
    BatchAcknowledgement,
    FileAcknowledgement,
    GroupStatusReport,
    PaymentBatch,
    PaymentFileTotals,
    PaymentInstruction,
    PaymentState,
    PaymentStatusReport,
    RejectionPage,
    StatusCount,
    TransactionRejection,
    reason_text,
)
from canonical.problems import BusinessProblem
from canonical.statement import BankStatement
from connectors.bank.camt053 import parse_statements
from connectors.bank.pain001 import build_batch_pain001, build_pain001
from connectors.bank.pain002 import parse_file_status, parse_status_report
from connectors.bank.status import payment_state
from connectors.errors import NotFoundError, TransientVendorError, VendorError, VendorRejectedError
from connectors.http import Token, VendorClient, json_decimal, url_path
from finsync.config import BankVendorSettings

# The bank's ISO status reason code on a refused file -> (finsync code, what it means for finance).
_REFUSALS = {
    "FF01": ("PAYMENT_FILE_INVALID", "The bank refused the payment file as invalid ISO 20022, "
                                     "a finsync mapping defect to report to IT"),
    "DU04": ("PAYMENT_FILE_INVALID", "The bank refused the payment file for a repeated EndToEndId, "
                                     "a finsync mapping defect to report to IT"),
    "AM10": ("PAYMENT_TOTALS_MISMATCH", "The bank refused the payment file because its totals do not "
                                        "match its transactions, a finsync mapping defect to report to IT"),
    "AM18": ("PAYMENT_TOTALS_MISMATCH", "The bank refused the payment file because its transaction count "
                                        "is wrong, a finsync mapping defect to report to IT"),
    "AM01": ("PAYMENT_AMOUNT_INVALID", "The bank refused a zero payment amount; check the amount to pay"),
    "AM11": ("PAYMENT_AMOUNT_INVALID", "The bank does not pay in this currency; check the payment currency"),
    "AM12": ("PAYMENT_AMOUNT_INVALID", "The bank refused the payment amount; check it against the "
                                       "currency's decimals"),
    "AC01": ("BANK_ACCOUNT_INVALID", "The bank refused the beneficiary account; check the employee's "
                                     "bank details"),
}


UPLOAD_CHUNK = 1024 * 1024
# A file of 50,000 transfers is some 30 MB, and the bank checks all of it before it answers.
UPLOAD_TIMEOUT = httpx.Timeout(10.0, read=120.0, write=120.0)
REJECTIONS_PER_PAGE = 1000
Held = TypeVar("Held", BatchAcknowledgement, FileAcknowledgement)


class _FileBody:
    """A file's bytes as a request body, read from disk a chunk at a time: never whole in memory.
    Each sending reads it afresh, so the retry after a refreshed token sends it all again."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with self.path.open("rb") as file:
            while chunk := await asyncio.to_thread(file.read, UPLOAD_CHUNK):
                yield chunk


class BankClient(VendorClient):
    vendor = "bank"
    correlation_header = "X-Request-ID"

    def __init__(self, base_url: str, *, client_id: str, client_secret: str, token_url: str | None = None,
                 timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, timeout=timeout, transport=transport)
        self.token_url = token_url or f"{self.base_url}/oauth/token"
        self._client_id = client_id
        self._client_secret = client_secret

    @classmethod
    def from_settings(cls, settings: BankVendorSettings, *,
                      transport: httpx.AsyncBaseTransport | None = None) -> BankClient:
        return cls(settings.base_url, client_id=settings.client_id,
                   client_secret=settings.client_secret.get_secret_value(), token_url=settings.token_url,
                   timeout=settings.timeout_seconds, transport=transport)

    # --- VendorClient hooks ----------------------------------------------------------------
    async def fetch_token(self, http: httpx.AsyncClient) -> Token:
        try:
            response = await http.post(self.token_url, data={"grant_type": "client_credentials"},
                                       auth=(self._client_id, self._client_secret),
                                       headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise TransientVendorError(self.vendor, f"token request to {self.token_url} failed: {exc!r}") from exc
        if response.status_code != 200:
            # Wrong credentials are fixed by configuration; keep retrying until they are.
            raise TransientVendorError(self.vendor, f"token request refused (HTTP {response.status_code}): "
                                                    f"{response.text[:200]}", status=response.status_code)
        body = response.json()
        return Token(body["access_token"], time.monotonic() + float(body.get("expires_in", 3600)))

    def rejection(self, response: httpx.Response) -> VendorError:
        try:
            problem = json_decimal(response)
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        vendor_code = str(problem.get("code") or "")
        code, meaning = _REFUSALS.get(vendor_code, ("BANK_REJECTED", "The bank refused the payment instruction"))
        detail = problem.get("detail") or response.text[:300]
        errors = problem.get("errors") or []
        if errors:
            detail = f"{detail}; first error: {errors[0]}"
        return VendorRejectedError(self.vendor, BusinessProblem(
            code=code, reason=f"{meaning} ({detail}).", system="bank", vendor_code=vendor_code or None),
            status=response.status_code)

    # --- connectors.interfaces.Bank ----------------------------------------------------------
    async def send_payment(self, instruction: PaymentInstruction, *, lookup_first: bool = False) -> PaymentStatusReport:
        if lookup_first:
            existing = await self.payment_status(instruction.message_id, instruction.end_to_end_id)
            if existing.state is not PaymentState.UNKNOWN:
                return self._same_payment(instruction, existing)
        response = await self.request("POST", "/v1/payments", ok=(202, 409), content=build_pain001(instruction),
                                      headers={"Content-Type": "application/xml"})
        body = json_decimal(response)
        if response.status_code == 409:
            if body.get("code") != "DUPL":
                raise self.rejection(response)
            original_message_id = body.get("messageId") or instruction.message_id
            existing = await self.payment_status(original_message_id, instruction.end_to_end_id)
            return self._same_payment(instruction, existing)
        code = body["status"]
        return PaymentStatusReport(message_id=body["messageId"], end_to_end_id=instruction.end_to_end_id,
                                   state=payment_state(code), bank_status_code=code, amount=instruction.amount,
                                   source="submission")

    async def send_batch(self, batch: PaymentBatch, *, lookup_first: bool = False) -> BatchAcknowledgement:
        """One file for the whole batch, keyed by its MsgId: a repeat (409 DUPL, or the read-back
        by MsgId before a retry) answers with what the bank holds, never paying twice."""
        held, body = await self._submit(
            batch.message_id, f"the {batch.count} payments of file {batch.message_id}",
            lambda message_id: self._batch_at_bank(batch, message_id), lookup_first=lookup_first,
            content=build_batch_pain001(batch), headers={"Content-Type": "application/xml"})
        if held is not None:
            return held
        code = body["status"]
        return BatchAcknowledgement(message_id=body["messageId"], reports=[
            PaymentStatusReport(message_id=body["messageId"], end_to_end_id=tx.end_to_end_id,
                                payment_info_id=group.payment_info_id, state=payment_state(code), bank_status_code=code,
                                amount=tx.amount, source="submission")
            for group, tx in batch.transfers()])

    async def send_batch_file(self, totals: PaymentFileTotals, path: str | os.PathLike[str], *,
                              lookup_first: bool = False) -> FileAcknowledgement:
        """Upload the pain.001 at ``path`` (``totals`` are its own, as written), streamed from disk;
        answered in numbers. Keyed by its MsgId: a repeat (409 DUPL, or the read-back by MsgId
        before a retry) answers with the bank's word on the file it holds, never paying twice."""
        path = Path(path)
        held, body = await self._submit(
            totals.message_id, f"the {totals.count} payments of file {totals.message_id}",
            lambda message_id: self._file_at_bank(totals, message_id), lookup_first=lookup_first,
            content=_FileBody(path), timeout=UPLOAD_TIMEOUT,
            headers={"Content-Type": "application/xml", "Content-Length": str(path.stat().st_size)})
        if held is not None:
            return held
        code = body["status"]
        return FileAcknowledgement.counted(
            {payment_state(code): StatusCount(count=totals.count, control_sum=totals.control_sum)},
            message_id=body["messageId"], group_status=code, count=totals.count, control_sum=totals.control_sum,
            source="submission")

    async def _submit(self, message_id: str, paying: str, at_bank: Callable[[str], Awaitable[Held | None]], *,
                      lookup_first: bool, **request: Any) -> tuple[Held | None, dict[str, Any]]:
        """Send a payment file once, keyed by its MsgId: (what the bank already holds, as
        ``at_bank`` reads it, or None) and the bank's answer to the file it took. What it holds is
        read first on a retry (``lookup_first``), or after a refusal as a repeat (409 DUPL) under
        the MsgId the bank names; a repeat it does not hold is a reused id."""
        if lookup_first:
            existing = await at_bank(message_id)
            if existing is not None:
                return existing, {}
        response = await self.request("POST", "/v1/payments", ok=(202, 409), **request)
        body = json_decimal(response)
        if response.status_code != 409:
            return None, body
        if body.get("code") != "DUPL":
            raise self.rejection(response)
        existing = await at_bank(body.get("messageId") or message_id)
        if existing is None:   # refused as a repeat, yet not there: the bank contradicts itself
            raise self._reused(message_id, paying)
        return existing, body

    async def file_status(self, message_id: str) -> FileAcknowledgement | None:
        """The bank's word on the file ``message_id`` in numbers; None if it has no such file."""
        response = await self.request("GET", url_path("/v1/payments/{message}/status", message=message_id),
                                      params={"limit": 0}, allow_404=True)
        if response.status_code == 404:
            return None
        try:
            return parse_file_status(response.content)
        except ValueError as error:
            raise TransientVendorError(self.vendor, f"status report of {message_id} is unreadable: {error}") from None

    async def rejections(self, message_id: str, cursor: str | None = None, *,
                         limit: int = REJECTIONS_PER_PAGE) -> RejectionPage:
        """One page of the file's rejected transactions, from ``cursor`` (None: the first page);
        the page names the cursor of the next (None: it was the last)."""
        params: dict[str, str | int] = {"limit": limit} if cursor is None else {"limit": limit, "cursor": cursor}
        response = await self.request("GET", url_path("/v1/payments/{message}/status", message=message_id),
                                      params=params, allow_404=True)
        if response.status_code == 404:
            raise VendorRejectedError(self.vendor, BusinessProblem(
                code="PAYMENT_FILE_UNKNOWN", system="bank",
                reason=f"The bank holds no payment file {message_id}, so it has rejected none of its payments."),
                status=404)
        try:
            reports = parse_status_report(response.content)
        except ValueError as error:
            raise TransientVendorError(self.vendor, f"status report of {message_id} is unreadable: {error}") from None
        next_page = response.links.get("next", {}).get("url")
        return RejectionPage(message_id=message_id, next_cursor=httpx.URL(next_page).params.get("cursor")
                             if next_page else None, rejections=[
            TransactionRejection(end_to_end_id=r.end_to_end_id, payment_info_id=r.payment_info_id,
                                 reason_code=r.reason_code, reason_text=r.reason_text, amount=r.amount)
            for r in reports if isinstance(r, PaymentStatusReport) and r.state is PaymentState.REJECTED])

    async def _file_at_bank(self, totals: PaymentFileTotals, message_id: str) -> FileAcknowledgement | None:
        """The bank's word on the file ``message_id``; None if it has none. A file that is not the
        one ``totals`` describe (another MsgId, count or sum) means a MsgId or EndToEndId was reused."""
        existing = await self.file_status(message_id)
        if existing is not None and not existing.holds(totals):
            raise self._reused(message_id, f"the {totals.count} payments of file {totals.message_id}")
        return existing

    async def _batch_at_bank(self, batch: PaymentBatch, message_id: str) -> BatchAcknowledgement | None:
        """The bank's word on each of the batch's transfers, read from its status report on the file
        ``message_id``; None if it has no such file. A file that is not this batch (other transfers,
        other amounts) means a MsgId or EndToEndId was reused."""
        response = await self.request("GET", url_path("/v1/payments/{message}/status", message=message_id),
                                      allow_404=True)
        if response.status_code == 404:
            return None
        try:
            reports = parse_status_report(response.content)
        except ValueError as error:
            raise TransientVendorError(self.vendor, f"status report of {message_id} is unreadable: {error}") from None
        by_transaction = {r.end_to_end_id: r for r in reports if isinstance(r, PaymentStatusReport)}
        by_group = [r for r in reports if isinstance(r, GroupStatusReport)]
        acknowledged = []
        for group, tx in batch.transfers():
            report = by_transaction.pop(tx.end_to_end_id, None)
            if report is None:
                covering = next((r for r in by_group if r.covers(group.payment_info_id)), None)
                report = covering.for_transaction(tx.end_to_end_id, group.payment_info_id, tx.amount, "lookup") \
                    if covering else None
            if report is None or (report.amount is not None and report.amount != tx.amount):
                raise self._reused(message_id, f"{tx.amount} to {tx.creditor.holder_name} ({tx.end_to_end_id})")
            acknowledged.append(report.model_copy(update={"source": "lookup"}))
        if by_transaction:   # the bank's file holds transfers this batch does not
            raise self._reused(message_id, f"the {batch.count} payments of file {batch.message_id}")
        return BatchAcknowledgement(message_id=message_id, reports=acknowledged)

    async def payment_status(self, message_id: str, end_to_end_id: str) -> PaymentStatusReport:
        """The transaction as the bank has it. Once settled, ``debited`` is what left the account
        (in its currency) and ``exchange_rate`` the bank's, if it converted. A transaction rejected
        after it had been booked was sent back: RETURNED, ``debited`` being what came back."""
        response = await self.request("GET", url_path("/v1/payments/{message}/transactions/{transaction}",
                                                  message=message_id, transaction=end_to_end_id), allow_404=True)
        if response.status_code == 404:
            return PaymentStatusReport(message_id=message_id, end_to_end_id=end_to_end_id,
                                       state=PaymentState.UNKNOWN, source="lookup")
        body = json_decimal(response)
        code, reason = body["status"], body.get("reasonCode")
        state = payment_state(code)
        if state is PaymentState.REJECTED and (body.get("return") or body.get("bookingDate")):
            state = PaymentState.RETURNED
        booking = body.get("return") if state is PaymentState.RETURNED else body.get("debit")
        booking_date = (booking or body).get("bookingDate")
        return PaymentStatusReport(
            message_id=body["messageId"], end_to_end_id=body["endToEndId"], state=state,
            bank_status_code=code, reason_code=reason, reason_text=reason_text(reason) if reason else None,
            amount=Money.of(body["amount"], body["currency"]),
            debited=Money.of(booking["amount"], booking["currency"]) if booking else None,
            exchange_rate=Decimal(booking["exchangeRate"]) if booking and booking.get("exchangeRate") else None,
            booking_date=date.fromisoformat(booking_date) if booking_date else None,
            bank_reference=(booking or body).get("bankReference"), source="lookup")

    async def statement(self, account: str, day: date) -> BankStatement:
        """The end-of-day statement (camt.053) of one of the company's accounts (IBAN, or account
        number) for ``day``; today's holds what is booked so far. ``NotFoundError`` if the bank
        has none (an account it does not hold, a day not yet ended)."""
        response = await self.request("GET", url_path("/v1/accounts/{account}/statements/{day}", account=account,
                                                       day=day.isoformat()),
                                      allow_404=True, headers={"Accept": "application/xml"})
        if response.status_code == 404:
            raise NotFoundError(self.vendor, f"no statement of account {account} for {day}: {response.text[:200]}",
                                status=404)
        try:
            found = [one for one in parse_statements(response.content)
                     if account_key(one.account_id) == account_key(account)]
            if len(found) != 1:
                raise ValueError(f"it holds {len(found)} statements of account {account}, not one")
        except ValueError as error:
            raise VendorRejectedError(self.vendor, BusinessProblem(
                code="BANK_STATEMENT_UNREADABLE", system="bank", subject=account,
                reason=(f"The bank's statement of account {account} for {day} cannot be read ({error}): ask the "
                        f"bank to send it again, or report it to IT if it persists."))) from None
        return found[0]

    async def subscribe_webhook(self, endpoint: str) -> None:
        """Have the bank push status reports and debit notifications to ``endpoint``."""
        await self.request("PUT", "/v1/webhooks/subscription", json={"endpoint": endpoint})

    def _same_payment(self, instruction: PaymentInstruction, existing: PaymentStatusReport) -> PaymentStatusReport:
        """The bank's payment under these keys must be this one; a different or missing one means
        an id was reused, and paying again under a new id would need a person's decision."""
        different = existing.amount is not None and existing.amount != instruction.amount
        if existing.state is PaymentState.UNKNOWN or different:
            raise self._reused(existing.message_id, instruction.creditor.holder_name)
        return existing

    def _reused(self, message_id: str, paying: str) -> VendorRejectedError:
        return VendorRejectedError(self.vendor, BusinessProblem(
            code="PAYMENT_ID_REUSED", system="bank", vendor_code="DUPL",
            reason=(f"The bank already holds a different payment under message id {message_id}; "
                    f"finsync reused a payment id, a defect to report to IT before paying {paying}.")))
