"""Coupa (Core API, JSON) as finsync's procurement platform.

OAuth2 client credentials with the configured scopes; ``Accept: application/json`` (Coupa's default
is XML) and hyphenated keys. Lists page by ``offset`` at 50, Coupa's most, filtered with
``attr[op]=value``. Coupa's documented integration is polling: ``changes`` reads what changed
(``updated-at[gt]``, ``exported=false``) and ``mark_exported`` acknowledges each change once it
has been handed to its process.

Idempotency: issue, cancel and close answer an order already there with the order unchanged; a
void of a voided invoice changes nothing; a payment written back twice with the same amount,
date and note is recorded once. So every write here can be retried as it is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, date, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from canonical import Money
from canonical.procurement import (
    Invoice,
    ProcurementChange,
    ProcurementChangeKind,
    PurchaseOrder,
    Receipt,
    Requisition,
    Supplier,
)
from connectors.coupa import mapping
from connectors.coupa.problems import VENDOR, not_found, refused, unreadable
from connectors.errors import BusinessRuleError, TransientVendorError, VendorError
from connectors.http import Token, VendorClient, json_decimal, url_path
from finsync.config import ProcurementVendorSettings

TOKEN_PATH = "/oauth2/token"
PAGE_SIZE = 50                        # Coupa's most per call
REFRESH_AFTER = 20 * 3600.0           # Coupa's tokens last 24 h; it advises a new one every 20 h
REFUSALS = (400, 404, 409, 422)       # answered with Coupa's error body: read here, with the document named
# A requisition is finsync's once approved; it stays in these statuses while its orders go on.
APPROVED_REQUISITION = ("approved", "ordered", "partially_received", "received")
# An invoice is finsync's to act on once AP approved it in Coupa, and again if it is voided there.
INVOICE_CHANGES = ("approved", "voided")
WEBHOOK_SUBSCRIPTION = "/api/webhooks/subscription"   # the sandbox's optional events (not Coupa's)

log = logging.getLogger("finsync.connectors.coupa")

_RESOURCE = {ProcurementChangeKind.REQUISITION_APPROVED: "requisitions",
             ProcurementChangeKind.RECEIPT: "inventory_transactions",
             ProcurementChangeKind.INVOICE: "invoices"}
_NAMED = {ProcurementChangeKind.REQUISITION_APPROVED: "requisition",
          ProcurementChangeKind.RECEIPT: "receipt (inventory transaction)",
          ProcurementChangeKind.INVOICE: "invoice"}


def filter_instant(moment: datetime) -> str:
    """An instant as Coupa's filters take it: ISO 8601 in UTC with its offset."""
    return moment.astimezone(UTC).isoformat()


class CoupaClient(VendorClient):
    vendor = VENDOR
    source_system = mapping.SOURCE_SYSTEM

    def __init__(self, base_url: str, *, client_id: str, client_secret: str, scopes: list[str],
                 token_url: str | None = None, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, timeout=timeout, transport=transport)
        self._token_url = token_url or f"{self.base_url}{TOKEN_PATH}"
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = " ".join(scopes)

    @classmethod
    def from_settings(cls, settings: ProcurementVendorSettings, *,
                      transport: httpx.AsyncBaseTransport | None = None) -> CoupaClient:
        return cls(settings.base_url, client_id=settings.client_id,
                   client_secret=settings.client_secret.get_secret_value(), scopes=settings.scopes,
                   token_url=settings.token_url, timeout=settings.timeout_seconds, transport=transport)

    # --- VendorClient hooks ----------------------------------------------------------------
    async def fetch_token(self, http: httpx.AsyncClient) -> Token:
        body = await self.post_token_form(http, self._token_url, {
            "grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret,
            "scope": self._scopes}, refused="Coupa refused finsync's client credentials or scopes",
            check="procurement.client_id, client_secret and scopes")
        lifetime = min(float(body.get("expires_in") or REFRESH_AFTER), REFRESH_AFTER)
        return Token(body["access_token"], time.monotonic() + lifetime)

    def rejection(self, response: httpx.Response) -> VendorError:
        return refused("carry out finsync's request", response)

    # --- transport helpers -----------------------------------------------------------------
    async def _document(self, method: str, path: str, *, doing: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """One record from a read or a write; Coupa's refusal of it named as ``doing`` on ``what``."""
        response = await self.request(method, path, ok=(200, *REFUSALS), **kwargs)
        if response.status_code == 404:
            raise not_found(what)
        if response.status_code != 200:
            raise refused(doing, response)
        return json_decimal(response)

    async def _record(self, resource: str, record_id: str, what: str) -> dict[str, Any]:
        return await self._document("GET", url_path("/api/{resource}/{id}", resource=resource, id=record_id),
                                    doing=f"show {what}", what=what)

    async def _list(self, resource: str, filters: dict[str, str]) -> AsyncIterator[dict[str, Any]]:
        """Every record the filters select, page by page in id order (a short page is the last)."""
        offset = 0
        while True:
            page = await self._document("GET", f"/api/{resource}", doing=f"list {resource}", what=resource,
                                        params={**filters, "offset": str(offset), "limit": str(PAGE_SIZE)})
            if not isinstance(page, list):
                raise TransientVendorError(VENDOR, f"Coupa's {resource} list was not a list")
            for record in page:
                yield record
            if len(page) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    @staticmethod
    def _mapped(what: str, convert: Any, body: dict[str, Any]) -> Any:
        try:
            return convert(body)
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            raise unreadable(what, error) from error

    # --- ProcurementPlatform: documents ------------------------------------------------------
    async def get_requisition(self, requisition_id: str) -> Requisition:
        what = f"requisition {requisition_id}"
        return self._mapped(what, mapping.requisition, await self._record("requisitions", requisition_id, what))

    async def get_supplier(self, supplier_id: str) -> Supplier:
        what = f"supplier {supplier_id}"
        return self._mapped(what, mapping.supplier, await self._record("suppliers", supplier_id, what))

    async def order_for_requisition(self, requisition_id: str) -> PurchaseOrder | None:
        """The requisition's order; Coupa makes one per supplier and a requisition finsync takes has one."""
        async for body in self._list("purchase_orders", {"requisition-header[id]": requisition_id}):
            return self._mapped(f"the purchase order of requisition {requisition_id}", mapping.purchase_order, body)
        return None

    async def receipts(self, order_id: str) -> list[Receipt]:
        """Every receipt against the order's lines, voided ones included (flagged)."""
        return [self._mapped(f"receipt {body.get('id')}", mapping.receipt, body)
                async for body in self._list("inventory_transactions", {"order-line[order-header-id]": order_id})]

    async def get_invoice(self, invoice_id: str) -> Invoice:
        what = f"invoice {invoice_id}"
        return self._mapped(what, mapping.invoice, await self._record("invoices", invoice_id, what))

    # --- ProcurementPlatform: writes ---------------------------------------------------------
    async def issue_order(self, order_id: str) -> PurchaseOrder:
        what = f"purchase order {order_id}"
        body = await self._order_action(order_id, "issue")
        return self._mapped(what, mapping.purchase_order, body)

    async def cancel_order(self, order_id: str) -> None:
        await self._order_action(order_id, "cancel")

    async def close_order(self, order_id: str) -> None:
        await self._order_action(order_id, "close")

    async def _order_action(self, order_id: str, action: str) -> dict[str, Any]:
        what = f"purchase order {order_id}"
        return await self._document("PUT", url_path("/api/purchase_orders/{id}/{action}", id=order_id, action=action),
                                    doing=f"{action} {what}", what=what)

    async def void_invoice(self, invoice_id: str, reason: str) -> None:
        """Coupa's void takes no reason: finsync keeps it, in the process's timeline and feed."""
        what = f"invoice {invoice_id}"
        await self._document("PUT", url_path("/api/invoices/{id}/void", id=invoice_id), doing=f"void {what}", what=what)

    async def record_payment(self, invoice_id: str, amount: Money, paid_on: date, note: str) -> None:
        """Coupa's payment write-back; the same amount, date and note again is recorded once."""
        what = f"invoice {invoice_id}"
        day = paid_on.isoformat()
        await self._document(
            "PUT", url_path("/api/invoices/{id}", id=invoice_id), doing=f"record the payment of {amount} on {what}",
            what=what, json={"paid": True, "payment-date": day, "payments": [
                {"amount-paid": format(amount.amount, "f"), "payment-date": day, "notes": note}]})

    # --- polling -----------------------------------------------------------------------------
    async def changes(self, since: datetime | None) -> AsyncIterator[ProcurementChange]:
        """Approved requisitions, then receipts, then approved or voided invoices, changed after
        ``since`` and not yet exported, in id order each; a receipt or invoice resolved to its
        requisition through its order (each order read once per poll)."""
        changed = {"exported": "false"}
        if since is not None:
            changed["updated-at[gt]"] = filter_instant(since)
        requisitions = {**changed, "status[in]": ",".join(APPROVED_REQUISITION)}
        async for body in self._list("requisitions", requisitions):
            yield self._change(ProcurementChangeKind.REQUISITION_APPROVED, body, str(body["id"]))
        orders: dict[str, str] = {}
        async for body in self._list("inventory_transactions", changed):
            if (change := await self._readable(self._receipt_change(body, orders))) is not None:
                yield change
        async for body in self._list("invoices", {**changed, "status[in]": ",".join(INVOICE_CHANGES)}):
            if (change := await self._readable(self._invoice_change(body, orders))) is not None:
                yield change

    @staticmethod
    async def _readable(reading: Awaitable[ProcurementChange]) -> ProcurementChange | None:
        """A change finsync cannot read (its document malformed, its order gone) is logged and left
        unexported: it must not hold up the rest of the poll, and Coupa lists it again once it is
        corrected (a correction is a change)."""
        try:
            return await reading
        except BusinessRuleError as refusal:
            log.warning("Coupa change skipped: %s", refusal.problem.reason)
            return None

    async def change_of(self, kind: ProcurementChangeKind, document_id: str) -> ProcurementChange | None:
        """The change a webhook names, read as the poll reads it (the same change id for the same
        version); None for a document the poll would not hand on (an invoice not yet approved)."""
        body = await self._record(_RESOURCE[kind], document_id, f"{_NAMED[kind]} {document_id}")
        if kind is ProcurementChangeKind.RECEIPT:
            return await self._receipt_change(body, {})
        if kind is ProcurementChangeKind.INVOICE:
            return await self._invoice_change(body, {}) if body.get("status") in INVOICE_CHANGES else None
        if body.get("status") not in APPROVED_REQUISITION:
            return None
        return self._change(kind, body, str(body["id"]))

    async def mark_exported(self, change: ProcurementChange) -> None:
        """``PUT /api/{resource}/{id}?exported=true``, for the version handed over only: a record
        that changed since is left for the next poll to hand over (marking it would lose that change)."""
        resource, what = _RESOURCE[change.kind], f"{_NAMED[change.kind]} {change.document_id}"
        current = await self._record(resource, change.document_id, what)
        if mapping.timestamp(current["updated-at"]) != change.occurred_at:
            return
        await self._document("PUT", url_path("/api/{resource}/{id}", resource=resource, id=change.document_id),
                             doing=f"mark {what} exported", what=what, params={"exported": "true"})

    def _change(self, kind: ProcurementChangeKind, body: dict[str, Any], requisition_id: str,
                **documents: Any) -> ProcurementChange:
        updated = mapping.timestamp(body["updated-at"])
        return ProcurementChange(
            change_id=f"{kind.value}:{body['id']}:{updated.isoformat()}", kind=kind, source_system=self.source_system,
            requisition_id=requisition_id, document_id=str(body["id"]), occurred_at=updated, **documents)

    async def _receipt_change(self, body: dict[str, Any], orders: dict[str, str]) -> ProcurementChange:
        receipt: Receipt = self._mapped(f"receipt {body.get('id')}", mapping.receipt, body)
        requisition_id = await self._requisition_of(receipt.order_id, orders)
        return self._change(ProcurementChangeKind.RECEIPT, body, requisition_id, receipt=receipt)

    async def _invoice_change(self, body: dict[str, Any], orders: dict[str, str]) -> ProcurementChange:
        invoice: Invoice = self._mapped(f"invoice {body.get('id')}", mapping.invoice, body)
        requisition_id = await self._requisition_of(invoice.order_id, orders)
        return self._change(ProcurementChangeKind.INVOICE, body, requisition_id, invoice=invoice)

    async def _requisition_of(self, order_id: str, orders: dict[str, str]) -> str:
        if order_id not in orders:
            what = f"purchase order {order_id}"
            orders[order_id] = str((await self._record("purchase_orders", order_id, what))["requisition-header"]["id"])
        return orders[order_id]

    # --- the sandbox's optional events --------------------------------------------------------
    async def subscribe_webhook(self, endpoint: str) -> None:
        """Have the sandbox post its Standard Webhooks events to ``endpoint`` (Coupa itself is polled)."""
        await self._document("PUT", WEBHOOK_SUBSCRIPTION, doing="subscribe finsync's gateway to its events",
                             what="webhook subscription", json={"endpoint": endpoint})
