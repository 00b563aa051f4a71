"""The people around an expense report, played against the Concur sandbox over HTTP.

Employees create, submit and recall reports; managers work their approval queue. The demo CLI
and end-to-end tests use this to make things happen in "Concur" the way people would, while
finsync reacts to the webhooks. HTTP only: no database access, no finsync imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from sandboxes.concur.jsonio import dumps, loads


@dataclass(frozen=True)
class Expense:
    """One expense as an employee enters it."""

    type_code: str                 # AIRFR, LODNG, DINNR, TAXIX, ...
    amount: Decimal | str
    currency: str
    transaction_date: date
    vendor: str = ""
    purpose: str = ""
    receipt: bool = True
    cost_center: str | None = None  # overrides the report's cost center
    tax_code: str | None = None     # e.g. DE19: the sandbox works out the reclaimable VAT

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "expenseType": {"id": self.type_code},
            "transactionDate": self.transaction_date.isoformat(),
            "transactionAmount": {"value": Decimal(self.amount), "currencyCode": self.currency},
            "vendor": {"name": self.vendor},
            "businessPurpose": self.purpose,
            "customData": [{"id": "costCenter", "value": self.cost_center}] if self.cost_center else [],
        }
        if self.receipt:
            body["receiptImageId"] = f"IMG-{self.type_code}-{self.transaction_date:%Y%m%d}"
        if self.tax_code:
            body["taxDetails"] = [{"taxCode": self.tax_code}]
        return body


class DriverError(RuntimeError):
    """The sandbox refused what the person tried to do (the v4 errorMessage says why)."""

    def __init__(self, response: httpx.Response) -> None:
        try:
            message = response.json().get("errorMessage") or response.text
        except ValueError:
            message = response.text
        super().__init__(f"{response.request.method} {response.request.url.path} -> {response.status_code}: {message}")
        self.status = response.status_code


@dataclass
class ConcurDriver:
    base_url: str
    client_id: str = "finsync"
    client_secret: str = "sandbox-secret"
    _http: httpx.AsyncClient = field(init=False)
    _token: str | None = field(default=None, init=False)
    _user_ids: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._http = httpx.AsyncClient(base_url=self.base_url.rstrip("/"), timeout=10)

    async def __aenter__(self) -> ConcurDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def token(self) -> str:
        if self._token is None:
            response = await self._http.post("/oauth2/v0/token", data={
                "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret})
            if response.status_code != 200:
                raise DriverError(response)
            self._token = response.json()["access_token"]
        return self._token

    async def _call(self, method: str, path: str, *, json_body: Any = None, params: dict[str, str] | None = None,
                    expect: int = 200) -> Any:
        headers = {"Authorization": f"Bearer {await self.token()}", "Accept": "application/json"}
        content = None
        if json_body is not None:
            content, headers["Content-Type"] = dumps(json_body).encode(), "application/json"
        response = await self._http.request(method, path, content=content, params=params, headers=headers)
        if response.status_code != expect:
            raise DriverError(response)
        return loads(response.content) if response.content else None

    # --- who is who ------------------------------------------------------------------------
    async def user_id(self, employee_id: str) -> str:
        """The Concur userId of an employee (E1001 -> a UUID), via the Identity API."""
        if employee_id not in self._user_ids:
            found = (await self._call("GET", "/profile/identity/v4/Users",
                                      params={"filter": f'employeeNumber eq "{employee_id}"'}))["Resources"]
            if not found:
                raise LookupError(f"no Concur user has employee number {employee_id}")
            self._user_ids[employee_id] = found[0]["id"]
        return self._user_ids[employee_id]

    # --- the employee ----------------------------------------------------------------------
    async def create_report(self, employee_id: str, name: str, currency: str, expenses: list[Expense], *,
                            cost_center: str | None = None, purpose: str = "",
                            report_date: date | None = None) -> str:
        """Create a report with its expenses (not yet submitted); return its reportId."""
        user = await self.user_id(employee_id)
        body: dict[str, Any] = {"name": name, "currencyCode": currency, "businessPurpose": purpose,
                                "reportDate": (report_date or date.today()).isoformat()}
        if cost_center:
            body["customData"] = [{"id": "costCenter", "value": cost_center}]
        created = await self._call("POST", f"/expensereports/v4/users/{user}/context/TRAVELER/reports",
                                   json_body=body, expect=201)
        report_id = created["uri"].rstrip("/").rsplit("/", 1)[-1]
        for expense in expenses:
            await self.add_expense(employee_id, report_id, expense)
        return report_id

    async def add_expense(self, employee_id: str, report_id: str, expense: Expense) -> str:
        user = await self.user_id(employee_id)
        created = await self._call("POST", f"/expensereports/v4/users/{user}/context/TRAVELER/reports/{report_id}/expenses",
                                   json_body=expense.body(), expect=201)
        return created["uri"].rstrip("/").rsplit("/", 1)[-1]

    async def remove_expense(self, employee_id: str, report_id: str, expense_id: str) -> None:
        user = await self.user_id(employee_id)
        await self._call("DELETE", f"/expensereports/v4/users/{user}/context/TRAVELER/reports/{report_id}"
                                   f"/expenses/{expense_id}", expect=204)

    async def submit(self, employee_id: str, report_id: str) -> None:
        user = await self.user_id(employee_id)
        await self._call("PATCH", f"/expensereports/v4/users/{user}/reports/{report_id}/submit", expect=204)

    async def recall(self, employee_id: str, report_id: str, comment: str = "") -> None:
        user = await self.user_id(employee_id)
        await self._call("PATCH", f"/expensereports/v4/users/{user}/context/TRAVELER/reports/{report_id}/recall",
                         json_body={"comment": comment}, expect=204)

    async def read_report(self, employee_id: str, report_id: str) -> dict[str, Any]:
        """The report header, with its expenses under ``"expenses"`` and the workflow comments
        (a send-back's reason, say) under ``"comments"``."""
        user = await self.user_id(employee_id)
        path = f"/expensereports/v4/users/{user}/context/TRAVELER/reports/{report_id}"
        header = await self._call("GET", path)
        header["expenses"] = await self._call("GET", f"{path}/expenses")
        header["comments"] = await self._call("GET", f"{path}/comments")
        return header

    # --- the manager -----------------------------------------------------------------------
    async def manager_queue(self, manager_employee_id: str) -> list[dict[str, Any]]:
        manager = await self.user_id(manager_employee_id)
        return await self._call("GET", f"/expensereports/v4/users/{manager}/context/MANAGER/reportsToApprove")

    async def approve_as_manager(self, manager_employee_id: str, report_id: str, comment: str = "Approved") -> None:
        manager = await self.user_id(manager_employee_id)
        await self._call("PATCH", f"/expensereports/v4/users/{manager}/context/MANAGER/reports/{report_id}/approve",
                         json_body={"comment": comment, "reportSource": "OTHER"}, expect=204)

    async def send_back_as_manager(self, manager_employee_id: str, report_id: str, comment: str) -> None:
        manager = await self.user_id(manager_employee_id)
        await self._call("PATCH", f"/expensereports/v4/users/{manager}/context/MANAGER/reports/{report_id}/sendBack",
                         json_body={"comment": comment, "reportSource": "OTHER"}, expect=204)
