"""Workday as finsync's payroll provider (connectors.interfaces.PayrollProvider).

OAuth 2.0: the API client's refresh token (registered for an integration system user) is traded
for an access token at ``/ccx/oauth2/{tenant}/token``. Pay runs come from the payroll REST API,
results, control totals and bank details from RaaS reports the integration user shares, one-off
pay inputs go to the payroll REST API (see sandboxes/workday for every shape and assumption).

The results report is read by page: ``offset`` and ``limit`` of a run version's rows, which a
finalized version never changes, so a cursor (the next row's offset, as text) resumes exactly, in
another process too, and a page read again (a retry after a 5xx) holds the same rows. Bank details
are read the same way from the Worker_Payment_Elections report, never a call per worker; one
employee paid again after a rejection is read alone, from the worker's payment elections.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from canonical import Money
from canonical.payroll import Payee, PayrollRunEvent, PayrollRunRef, RegisterTotals, ResultPage
from connectors.errors import NotFoundError, VendorError
from connectors.http import Token, VendorClient, json_decimal, url_path
from connectors.workday import mapping
from connectors.workday.problems import VENDOR, not_found, other_entity, refused, unreadable
from finsync.config import PayrollVendorSettings

TOKEN_PATH = "/ccx/oauth2/{tenant}/token"
TOKEN_LIFETIME = 3600.0               # when Workday's answer does not say
REST_PAGE = 100                       # Workday's REST APIs' most per call
REPORT_PAGE = 10_000                  # the sandbox's most per report call
REFUSALS = (400, 404, 409, 422)
Item = TypeVar("Item")


class WorkdayClient(VendorClient):
    vendor = VENDOR

    def __init__(self, base_url: str, *, tenant: str, report_owner: str, client_id: str, client_secret: str,
                 refresh_token: str, token_url: str | None = None, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, timeout=timeout, transport=transport)
        self._token_url = token_url or f"{self.base_url}{url_path(TOKEN_PATH, tenant=tenant)}"
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._workers = url_path("/ccx/api/v1/{tenant}/workers", tenant=tenant)
        self._subscription = url_path("/ccx/api/v1/{tenant}/webhooks/subscription", tenant=tenant)
        self._payroll = url_path("/ccx/api/payroll/v1/{tenant}", tenant=tenant)
        self._reports = url_path("/ccx/service/customreport2/{tenant}/{owner}", tenant=tenant, owner=report_owner)

    @classmethod
    def from_settings(cls, settings: PayrollVendorSettings, *,
                      transport: httpx.AsyncBaseTransport | None = None) -> WorkdayClient:
        return cls(settings.base_url, tenant=settings.tenant, report_owner=settings.report_owner,
                   client_id=settings.client_id, client_secret=settings.client_secret.get_secret_value(),
                   refresh_token=settings.refresh_token.get_secret_value(), token_url=settings.token_url,
                   timeout=settings.timeout_seconds, transport=transport)

    # --- VendorClient hooks ----------------------------------------------------------------
    async def fetch_token(self, http: httpx.AsyncClient) -> Token:
        body = await self.post_token_form(http, self._token_url, {
            "grant_type": "refresh_token", "refresh_token": self._refresh_token, "client_id": self._client_id,
            "client_secret": self._client_secret}, refused="Workday refused finsync's API client or refresh token",
            check="payroll_provider.client_id, client_secret and refresh_token")
        return Token(body["access_token"], time.monotonic() + float(body.get("expires_in") or TOKEN_LIFETIME))

    def rejection(self, response: httpx.Response) -> VendorError:
        return refused("carry out finsync's request", response)

    # --- pay runs ---------------------------------------------------------------------------
    async def run(self, run_id: str) -> PayrollRunEvent:
        """NotFoundError for a run Workday does not have, or has not announced (a Draft)."""
        body = await self._read(url_path(self._payroll + "/payRuns/{id}", id=run_id), {}, f"pay run {run_id}",
                                missing=lambda what: NotFoundError(VENDOR, f"Workday has no {what}"))
        event = self._mapped(f"pay run {run_id}", lambda b: mapping.run_event(mapping.WorkdayRun.model_validate(b)), body)
        if event is None:
            raise NotFoundError(VENDOR, f"pay run {run_id} is a Draft: nothing has been announced of it yet")
        return event

    async def changed_runs(self, since: datetime | None) -> AsyncIterator[PayrollRunEvent]:
        params = {"updatedFrom": since.astimezone(UTC).isoformat()} if since else {}
        offset = 0
        while True:
            body = await self._read(self._payroll + "/payRuns", {**params, "limit": REST_PAGE, "offset": offset},
                                    "pay runs")
            runs = self._mapped("pay run list", lambda b: [mapping.WorkdayRun.model_validate(r) for r in b["data"]],
                                body)
            for run in runs:
                event = self._mapped(f"pay run {run.id}", mapping.run_event, run)
                if event is not None:
                    yield event
            offset += len(runs)
            if not runs or offset >= int(body["total"]):
                return

    # --- results, totals, payees -------------------------------------------------------------
    async def results_page(self, run: PayrollRunRef, cursor: str | None, page_size: int) -> ResultPage:
        offset = _offset(cursor)
        what = f"payroll results of pay run {run.run_id} version {run.version}"
        body = await self._report("Payroll_Results_by_Cost_Center", {
            "Pay_Run_ID": run.run_id, "Version": run.version, "offset": offset, "limit": _limit(page_size)}, what)
        if body.get("version") != run.version:
            raise unreadable(what, f"the report answered version {str(body.get('version'))[:20]}")
        rows = self._mapped(what, mapping.result_rows, body["Report_Entry"])
        total = self._mapped(what, lambda b: int(b["total"]), body)
        return ResultPage(rows=rows, next_cursor=_next(what, offset, len(rows), total), total_rows=total)

    async def control_totals(self, run: PayrollRunRef) -> list[RegisterTotals]:
        what = f"control totals of pay run {run.run_id} version {run.version}"
        body = await self._report("Payroll_Register_Control_Totals", {"Pay_Run_ID": run.run_id, "Version": run.version},
                                  what)
        return self._mapped(what, lambda b: [mapping.register_totals(e) for e in b["Report_Entry"]], body)

    async def payees_page(self, entity: str, cursor: str | None, page_size: int) -> tuple[list[Payee], str | None]:
        offset = _offset(cursor)
        what = f"payment elections of {entity}"
        body = await self._report("Worker_Payment_Elections", {
            "Legal_Entity": entity, "offset": offset, "limit": _limit(page_size)}, what)
        payees = self._mapped(what, lambda b: [mapping.payee(e) for e in b["Report_Entry"]], body)
        return payees, _next(what, offset, len(payees), self._mapped(what, lambda b: int(b["total"]), body))

    async def payee(self, entity: str, worker_id: str) -> Payee | None:
        """The worker first (unknown: not found; of another entity: refused, its bank details unread),
        then its payment elections, mapped as the report's row would be."""
        what = f"worker {worker_id}"
        worker = await self._read(url_path(self._workers + "/{id}", id=worker_id), {}, what)
        employer = self._mapped(what, lambda b: str(b["company"]["id"]), worker)
        if employer != entity:
            raise other_entity(worker_id, employer, entity)
        what = f"payment elections of worker {worker_id}"
        body = await self._read(url_path(self._workers + "/{id}/paymentElections", id=worker_id), {}, what)
        return self._mapped(what, lambda b: mapping.worker_payee(worker, b["data"]), body)

    # --- writes -------------------------------------------------------------------------------
    async def add_pay_input(self, worker_id: str, component: str, amount: Money, reference: str) -> None:
        """Once per reference: a repeat is answered with the input it made (200), never a second one."""
        doing = f"add pay input {reference} of {amount} for worker {worker_id}"
        response = await self.request("POST", self._payroll + "/payInputs", ok=(200, 201, *REFUSALS), json={
            "worker": worker_id, "payComponent": component, "amount": format(amount.amount, "f"),
            "currency": amount.currency, "reference": reference})
        if response.status_code not in (200, 201):
            raise refused(doing, response)

    async def subscribe_webhook(self, endpoint: str) -> None:
        """Have the sandbox post its Standard Webhooks events to ``endpoint`` (a sandbox addition)."""
        response = await self.request("PUT", self._subscription, ok=(200, *REFUSALS), json={"endpoint": endpoint})
        if response.status_code != 200:
            raise refused("subscribe finsync's gateway to its events", response)

    # --- transport helpers ---------------------------------------------------------------------
    async def _report(self, name: str, prompts: dict[str, Any], what: str) -> dict[str, Any]:
        return await self._read(f"{self._reports}/{name}", {"format": "json", **prompts}, what)

    async def _read(self, path: str, params: dict[str, Any], what: str,
                    missing: Callable[[str], VendorError] = not_found) -> dict[str, Any]:
        response = await self.request("GET", path, ok=(200, *REFUSALS), params=params)
        if response.status_code == 404:
            raise missing(what)
        if response.status_code != 200:
            raise refused(f"read {what}", response)
        try:
            body = json_decimal(response)
        except ValueError as error:
            raise unreadable(what, "the answer is not JSON") from error
        if not isinstance(body, dict):
            raise unreadable(what, "the answer is not a JSON object")
        return body

    @staticmethod
    def _mapped(what: str, convert: Callable[[Any], Item], body: Any) -> Item:
        try:
            return convert(body)
        except (ValidationError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise unreadable(what, error) from error


def _offset(cursor: str | None) -> int:
    """A cursor this client handed out: the offset of the next row, as digits."""
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 12):
        raise ValueError(f"{cursor[:40]!r} is not a Workday report cursor")
    return int(cursor)


def _limit(page_size: int) -> int:
    if page_size < 1:
        raise ValueError(f"a page holds at least one row, not {page_size}")
    return min(page_size, REPORT_PAGE)


def _next(what: str, offset: int, got: int, total: int) -> str | None:
    if offset + got >= total:
        return None
    if got == 0:   # the report says there is more, but sends nothing: reading on would never end
        raise unreadable(what, f"no rows at {offset} of {total}")
    return str(offset + got)

