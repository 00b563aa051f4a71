"""The people around a purchase, played against the Coupa sandbox over HTTP.

Requesters submit requisitions, approvers work their approvals, receivers record receipts,
suppliers send invoices, and the supplier manager puts a supplier on hold. The demo and the
end-to-end tests use this to make things happen in "Coupa" as people would, while finsync
polls. HTTP only: no database access, no finsync imports. It signs in as its own OAuth client
(by default the sandbox's built-in one, so it shares that client's rate-limit bucket).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from sandboxes.coupa.auth import SCOPES, TOKEN_PATH
from sandboxes.kit.jsonio import dumps, loads


@dataclass(frozen=True)
class RequisitionLine:
    """One line as a requester enters it; the account is entity, cost center and GL account."""

    description: str
    quantity: Decimal | str
    unit_price: Decimal | str
    supplier: str                  # supplier number, e.g. SUP-100
    entity: str                    # segment-1, e.g. US01
    cost_center: str               # segment-2, e.g. CC-1000
    gl_account: str                # segment-3, e.g. 6300
    uom: str = "EA"
    need_by: date | None = None

    def body(self) -> dict[str, Any]:
        return {"description": self.description, "quantity": str(self.quantity), "unit-price": str(self.unit_price),
                "uom": {"code": self.uom}, "supplier": {"number": self.supplier},
                "account": {"code": f"{self.entity}-{self.cost_center}-{self.gl_account}", "segment-1": self.entity,
                            "segment-2": self.cost_center, "segment-3": self.gl_account},
                "need-by-date": self.need_by.isoformat() if self.need_by else None}


@dataclass(frozen=True)
class InvoiceLine:
    """One line of a supplier's invoice, against an order line; quantity and price may differ."""

    order_line_id: int
    quantity: Decimal | str
    price: Decimal | str
    description: str = ""

    def body(self) -> dict[str, Any]:
        line: dict[str, Any] = {"order-line-id": self.order_line_id, "quantity": str(self.quantity),
                                "price": str(self.price)}
        if self.description:
            line["description"] = self.description
        return line


class DriverError(RuntimeError):
    """The sandbox refused what the person tried to do (Coupa's errors say why)."""

    def __init__(self, response: httpx.Response) -> None:
        try:
            message = "; ".join(response.json()["errors"]["error"])
        except (ValueError, KeyError, TypeError):
            message = response.text
        super().__init__(f"{response.request.method} {response.request.url.path} -> {response.status_code}: {message}")
        self.status = response.status_code


@dataclass
class CoupaDriver:
    base_url: str
    client_id: str = "finsync"
    client_secret: str = "sandbox-secret"
    requests: int = field(default=0, init=False)   # API calls made with its token: its share of the client's limit
    _http: httpx.AsyncClient = field(init=False)
    _token: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._http = httpx.AsyncClient(base_url=self.base_url.rstrip("/"), timeout=10)

    async def __aenter__(self) -> CoupaDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def token(self) -> str:
        if self._token is None:
            response = await self._http.post(TOKEN_PATH, data={
                "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret,
                "scope": " ".join(sorted(SCOPES))})
            if response.status_code != 200:
                raise DriverError(response)
            self._token = response.json()["access_token"]
        return self._token

    async def _call(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
                    expect: int = 200, admin: bool = False) -> Any:
        headers = {"Accept": "application/json"}
        if not admin:
            headers["Authorization"] = f"Bearer {await self.token()}"
            self.requests += 1
        content = None
        if json_body is not None:
            content, headers["Content-Type"] = dumps(json_body).encode(), "application/json"
        response = await self._http.request(method, path, content=content, params=params, headers=headers)
        if response.status_code != expect:
            raise DriverError(response)
        return loads(response.content) if response.content else None

    # --- the requester ---------------------------------------------------------------------
    async def submit_requisition(self, requester: str, entity: str, currency: str, lines: list[RequisitionLine],
                                 justification: str = "") -> dict[str, Any]:
        """Create and submit a requisition for the employee ``requester`` (e.g. E1001)."""
        return await self._call("POST", "/api/requisitions/new/submit_for_approval", expect=201, json_body={
            "requested-by": {"employee-number": requester}, "ship-to-address": {"location-code": entity},
            "currency": {"code": currency}, "justification": justification,
            "requisition-lines": [line.body() for line in lines]})

    async def requisition(self, requisition_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/api/requisitions/{requisition_id}")

    # --- the approver ----------------------------------------------------------------------
    async def approval_of(self, requisition_id: int) -> dict[str, Any]:
        found = await self._call("GET", "/api/approvals", params={
            "approvable-type": "RequisitionHeader", "approvable-id": requisition_id})
        if not found:
            raise LookupError(f"requisition {requisition_id} has no approval")
        return found[0]

    async def approve(self, requisition_id: int, note: str = "") -> dict[str, Any]:
        return await self._act(requisition_id, "approve", note)

    async def reject(self, requisition_id: int, note: str = "") -> dict[str, Any]:
        return await self._act(requisition_id, "reject", note)

    async def hold(self, requisition_id: int, note: str = "") -> dict[str, Any]:
        return await self._act(requisition_id, "hold", note)

    async def _act(self, requisition_id: int, action: str, note: str) -> dict[str, Any]:
        approval = await self.approval_of(requisition_id)
        return await self._call("PUT", f"/api/approvals/{approval['id']}/{action}",
                                json_body={"note": note} if note else None)

    async def purchase_orders(self, requisition_id: int) -> list[dict[str, Any]]:
        return await self._call("GET", "/api/purchase_orders", params={"requisition-header[id]": requisition_id})

    # --- the receiver ----------------------------------------------------------------------
    async def receive(self, order_line_id: int, quantity: Decimal | str, on: date | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "ReceivingQuantityConsumption", "order-line": {"id": order_line_id},
                                "quantity": str(quantity)}
        if on:
            body["transaction-date"] = on.isoformat()
        return await self._call("POST", "/api/inventory_transactions", json_body=body, expect=201)

    async def void_receipt(self, receipt_id: int) -> dict[str, Any]:
        return await self._call("PUT", f"/api/inventory_transactions/{receipt_id}/void")

    # --- the supplier ----------------------------------------------------------------------
    async def send_invoice(self, supplier: str, invoice_number: str, invoice_date: date, currency: str,
                           lines: list[InvoiceLine]) -> dict[str, Any]:
        return await self._call("POST", "/api/invoices", expect=201, json_body={
            "invoice-number": invoice_number, "invoice-date": invoice_date.isoformat(),
            "supplier": {"number": supplier}, "currency": {"code": currency},
            "invoice-lines": [line.body() for line in lines]})

    # --- the AP approver and the supplier manager (the sandbox's driver routes) --------------
    async def approve_invoice(self, invoice_id: int) -> dict[str, Any]:
        return await self._call("PUT", f"/_sandbox/invoices/{invoice_id}/approve", admin=True)

    async def auto_approve_invoices(self, enabled: bool) -> None:
        await self._call("PUT", "/_sandbox/settings", json_body={"auto-approve-invoices": enabled}, admin=True)

    async def set_supplier(self, supplier: str, *, on_hold: bool | None = None,
                           status: str | None = None) -> dict[str, Any]:
        """Put payments to ``supplier`` (number or id) on hold or release them; make it active or inactive."""
        body: dict[str, Any] = {}
        if on_hold is not None:
            body["on-hold"] = on_hold
        if status is not None:
            body["status"] = status
        return await self._call("PUT", f"/_sandbox/suppliers/{supplier}", json_body=body, admin=True)
