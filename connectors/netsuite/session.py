"""What every NetSuite call shares: the M2M token, SuiteQL paging, reading a record by id or
external id, writing one with its refusal read against what was sent, and finsync's codes
resolved to NetSuite internal ids (cached where master data rarely changes).

Master-data keys (sandbox-tested convention, to mirror in a real account): a subsidiary's
``externalId`` is finsync's legal entity code ("US01"); a department's ``externalId`` is the cost
center code ("CC-1000"); accounts are found by ``acctnumber``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Self

import httpx

from canonical import AccountingPeriod, BusinessProblem, LegalEntity, ProblemCode
from connectors.errors import BusinessRuleError, TransientVendorError, VendorError
from connectors.http import Token, VendorClient, exact_json, json_decimal, url_path
from connectors.netsuite import rejections
from connectors.netsuite.auth import (
    ASSERTION_TYPE,
    TOKEN_PATH,
    SigningKey,
    client_assertion,
    signing_key,
)
from connectors.netsuite.rejections import Sent
from finsync.config import ErpVendorSettings

RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"
PAGE_SIZE = 1000


def literal(value: str) -> str:
    """A SuiteQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def literals(values: list[str] | set[str]) -> str:
    return ", ".join(literal(v) for v in sorted(values))


def to_date(day: date) -> str:
    """A SuiteQL date literal."""
    return f"TO_DATE({literal(day.isoformat())}, 'YYYY-MM-DD')"


def _for(document: str | None, reason: str) -> str:
    return f"{document}: {reason}" if document else reason


class NetSuiteSession(VendorClient):
    vendor = "netsuite"
    # NetSuite has no correlation header of its own and ignores this one; it goes out on every
    # call anyway, so proxies and our own request logs can be joined to a trace.
    correlation_header = "X-Correlation-ID"

    def __init__(self, base_url: str, *, client_id: str, key: SigningKey, token_url: str | None = None,
                 timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, timeout=timeout, transport=transport)
        self.client_id = client_id
        self.token_url = token_url or f"{self.base_url}{TOKEN_PATH}"
        self._key = key
        self._entities: dict[str, LegalEntity] | None = None   # by subsidiary id
        self._currencies: dict[str, str] | None = None          # ISO code by currency id
        self._account_ids: dict[str, str] = {}                  # by account number
        self._department_ids: dict[str, str] = {}               # by cost center code

    @classmethod
    def from_settings(cls, settings: ErpVendorSettings) -> Self:
        return cls(settings.base_url, client_id=settings.client_id, key=signing_key(settings),
                   token_url=settings.token_url, timeout=settings.timeout_seconds)

    # --- transport ---------------------------------------------------------------------------
    async def fetch_token(self, http: httpx.AsyncClient) -> Token:
        form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": client_assertion(self._key, self.client_id, self.token_url)}
        try:
            response = await http.post(self.token_url, data=form)
        except httpx.TransportError as exc:
            raise TransientVendorError(self.vendor, f"token request to {self.token_url} failed: {exc!r}") from exc
        if response.status_code != 200:
            # A refused assertion means key, certificate id or client id need fixing; keep
            # retrying (transient) so the process resumes by itself once they are.
            raise TransientVendorError(self.vendor, f"NetSuite refused the M2M token request "
                                                    f"({response.status_code}): {response.text[:300]}",
                                       status=response.status_code)
        body = response.json()
        return Token(body["access_token"], time.monotonic() + float(body.get("expires_in", 3600)))

    def rejection(self, response: httpx.Response) -> VendorError:
        return rejections.rejection(response)

    async def suiteql(self, query: str) -> list[dict[str, Any]]:
        """All rows of a SuiteQL query (NetSuite sends values as strings, nulls absent), page by page."""
        rows: list[dict[str, Any]] = []
        while True:
            response = await self.request(   # a POST, but only a read
                "POST", SUITEQL, params={"limit": PAGE_SIZE, "offset": len(rows)}, content=exact_json({"q": query}),
                headers={"Prefer": "transient", "Content-Type": "application/json"}, read_only=True)
            page = json_decimal(response)
            rows += [{k: v for k, v in item.items() if k != "links"} for item in page["items"]]
            if not page.get("hasMore") or not page["items"]:
                return rows

    async def record(self, record: str, key: str) -> dict[str, Any] | None:
        """One record with its sublists, by internal id; None if NetSuite has no such record."""
        return await self._read(url_path(RECORD + "/{record}/{id}", record=record, id=key))

    async def record_by_external_id(self, record: str, external_id: str) -> dict[str, Any] | None:
        return await self._read(url_path(RECORD + "/{record}/eid:{id}", record=record, id=external_id))

    async def _read(self, path: str) -> dict[str, Any] | None:
        response = await self.request("GET", path, params={"expandSubResources": "true"}, allow_404=True)
        return None if response.status_code == 404 else json_decimal(response)

    async def write(self, method: str, path: str, body: dict[str, Any], sent: Sent | None) -> httpx.Response:
        """Send one write (NetSuite answers 204); a 400 is its refusal, read against what was ``sent``."""
        response = await self.request(method, path, ok=(204, 400), content=exact_json(body),
                                      headers={"Content-Type": "application/json"})
        if response.status_code == 400:
            error = rejections.rejection(response, sent)
            error.correlation_id = response.headers.get(self.correlation_header)
            raise error
        return response

    # --- finsync's codes as NetSuite ids -------------------------------------------------------
    async def entities(self) -> dict[str, LegalEntity]:
        """Legal entities by subsidiary id (subsidiaries without an externalId are not finsync's)."""
        if self._entities is None:
            rows = await self.suiteql(
                "SELECT s.id, s.externalid, s.name, s.country, c.symbol FROM subsidiary s "
                "JOIN currency c ON c.id = s.currency")
            self._entities = {
                r["id"]: LegalEntity(code=r["externalid"], name=r["name"], functional_currency=r["symbol"],
                                     country=r["country"], erp_id=r["id"])
                for r in rows if r.get("externalid")}
        return self._entities

    async def entity_code(self, subsidiary_id: str) -> str:
        """finsync's code for a subsidiary (its id when it is not one of finsync's)."""
        entities = await self.entities()
        return entities[subsidiary_id].code if subsidiary_id in entities else subsidiary_id

    async def _entity(self, code: str) -> LegalEntity:
        found = next((e for e in (await self.entities()).values() if e.code == code), None)
        if found is None:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code=ProblemCode.ENTITY_UNKNOWN, system="erp", subject=code,
                reason=f"No NetSuite subsidiary has external ID {code}: set it on the subsidiary for entity {code}."))
        return found

    async def currencies(self) -> dict[str, str]:
        """ISO codes by NetSuite currency id."""
        if self._currencies is None:
            self._currencies = {r["id"]: r["symbol"] for r in await self.suiteql("SELECT id, symbol FROM currency")}
        return self._currencies

    async def _currency_id(self, code: str) -> str:
        found = next((cid for cid, symbol in (await self.currencies()).items() if symbol == code), None)
        if found is None:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code="UNKNOWN_CURRENCY", system="erp", reason=f"Currency {code} is not set up in NetSuite."))
        return found

    async def _ids(self, cache: dict[str, str], wanted: set[str], query: str, key: str) -> dict[str, str]:
        missing = wanted - cache.keys()
        if missing:
            for row in await self.suiteql(query.format(values=literals(missing))):
                cache[row[key]] = row["id"]
        return {k: cache[k] for k in wanted if k in cache}

    async def account_ids(self, numbers: Iterable[str], *, document: str | None = None) -> dict[str, str]:
        """Internal ids by GL account number; the first number NetSuite lacks is ACCOUNT_UNKNOWN (for
        ``document``, when one is named)."""
        return await self._known_ids(
            self._account_ids, numbers, "SELECT id, acctnumber FROM account WHERE acctnumber IN ({values})", "acctnumber",
            lambda number: BusinessProblem(
                code=ProblemCode.ACCOUNT_UNKNOWN, system="erp", field="account", subject=number,
                reason=_for(document, f"GL account {number} does not exist in NetSuite: map the line to an existing "
                                      "account.")))

    async def department_ids(self, codes: Iterable[str], *, document: str | None = None) -> dict[str, str]:
        """Internal ids by cost center code; the first code no department has is COST_CENTER_UNKNOWN."""
        return await self._known_ids(
            self._department_ids, codes, "SELECT id, externalid FROM department WHERE externalid IN ({values})",
            "externalid",
            lambda code: BusinessProblem(
                code=ProblemCode.COST_CENTER_UNKNOWN, system="erp", field="department", subject=code,
                reason=_for(document, f"Cost center {code} is not a NetSuite department (no department has that "
                                      "external ID).")))

    async def _known_ids(self, cache: dict[str, str], codes: Iterable[str], query: str, key: str,
                         unknown: Callable[[str], BusinessProblem]) -> dict[str, str]:
        wanted = list(dict.fromkeys(codes))
        found = await self._ids(cache, set(wanted), query, key)
        missing = next((code for code in wanted if code not in found), None)
        if missing is not None:
            raise BusinessRuleError(self.vendor, unknown(missing))
        return found

    async def _period(self, day: date) -> AccountingPeriod | None:
        # Dates are fetched as ISO text: SuiteQL otherwise formats them per account preference.
        rows = await self.suiteql(
            "SELECT id, periodname, TO_CHAR(startdate, 'YYYY-MM-DD') AS startiso, "
            "TO_CHAR(enddate, 'YYYY-MM-DD') AS endiso, closed, alllocked FROM accountingperiod "
            f"WHERE isposting = 'T' AND isquarter = 'F' AND isyear = 'F' AND isadjust = 'F' "
            f"AND startdate <= {to_date(day)} AND enddate >= {to_date(day)}")
        if not rows:
            return None
        row = rows[0]
        return AccountingPeriod(name=row["periodname"], start=date.fromisoformat(row["startiso"]),
                                end=date.fromisoformat(row["endiso"]), erp_id=row["id"],
                                closed=row.get("closed") == "T" or row.get("alllocked") == "T")
