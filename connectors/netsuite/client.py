"""NetSuite as finsync's ERP: SuiteQL for reference data, journalEntry upserts by external id.

Master-data keys (sandbox-tested convention, to mirror in a real account): a subsidiary's
``externalId`` is finsync's legal entity code ("US01"); a department's ``externalId`` is the cost
center code ("CC-1000"); accounts are found by ``acctnumber``; employees by ``entityId``
("E1001"), with reimbursement bank details in ``custentity_iban`` /
``custentity_bank_account_number`` / ``custentity_bic``. A reversing entry points at the
original through the custom body field ``custbody_finsync_reverses``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

import httpx
from pydantic import ValidationError

from canonical import (
    AccountingPeriod,
    BankAccount,
    BusinessProblem,
    CodingContext,
    CodingRequest,
    CostCenter,
    Employee,
    FxRate,
    GLAccount,
    JournalEntry,
    LegalEntity,
    Money,
    PostedJournal,
    ProblemCode,
    Side,
)
from connectors.errors import (
    BusinessRuleError,
    TransientVendorError,
    VendorError,
    VendorRejectedError,
)
from connectors.http import Token, VendorClient, exact_json, json_decimal, url_path
from connectors.interfaces import LedgerJournal, LedgerLine
from connectors.netsuite import rejections
from connectors.netsuite.auth import (
    ASSERTION_TYPE,
    TOKEN_PATH,
    SigningKey,
    client_assertion,
    signing_key,
)
from finsync.config import ErpVendorSettings

log = logging.getLogger(__name__)

RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"
PAGE_SIZE = 1000
IDS_PER_QUERY = 200    # external ids named in one SuiteQL IN list

# Every document that posts to the GL (journal entries, vendor bills, credits and payments; not
# purchase orders, which only commit) with its lines, one row per line, in a stable order for
# paging. (The sandbox keeps each line's account on transactionline; an account keeps it on
# transactionaccountingline, as noted in sandboxes/netsuite/tables.py.)
JOURNAL_LINES = (
    "SELECT t.id, t.tranid, t.externalid, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandateiso, t.subsidiary, "
    "t.currency, a.acctnumber, tl.debitforeignamount, tl.creditforeignamount "
    "FROM transaction t JOIN transactionline tl ON tl.transaction = t.id JOIN account a ON a.id = tl.account "
    "WHERE t.posting = 'T' AND ({condition}) ORDER BY t.id, tl.linesequencenumber")


def literal(value: str) -> str:
    """A SuiteQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def literals(values: list[str] | set[str]) -> str:
    return ", ".join(literal(v) for v in sorted(values))


def to_date(day: date) -> str:
    """A SuiteQL date literal."""
    return f"TO_DATE({literal(day.isoformat())}, 'YYYY-MM-DD')"


class NetSuiteClient(VendorClient):
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
    def from_settings(cls, settings: ErpVendorSettings) -> NetSuiteClient:
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

    # --- cached id lookups -------------------------------------------------------------------
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

    # --- Erp ---------------------------------------------------------------------------------
    async def coding_context(self, request: CodingRequest) -> CodingContext:
        entities = await self.entities()
        employee = await self._employee(request.employee_id, entities)
        entity = await self._entity(request.entity_code or employee.entity_code)
        return CodingContext(
            entity=entity, employee=employee,
            cost_centers=await self._cost_centers(set(request.cost_centers), entities),
            accounts=await self._accounts(set(request.accounts)),
            period=await self._period(request.posting_date),
            fx_rates=await self._fx_rates(entity.functional_currency, request.fx_pairs))

    async def _employee(self, employee_id: str, entities: dict[str, LegalEntity]) -> Employee:
        rows = await self.suiteql(
            "SELECT e.id, e.entityid, e.firstname, e.lastname, e.email, e.isinactive, e.subsidiary, "
            "e.custentity_iban, e.custentity_bank_account_number, e.custentity_bic, d.externalid AS costcenter "
            f"FROM employee e LEFT JOIN department d ON d.id = e.department WHERE e.entityid = {literal(employee_id)}")
        if not rows or rows[0].get("subsidiary") not in entities:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code="UNKNOWN_EMPLOYEE", system="erp",
                reason=f"Employee {employee_id} is not in NetSuite (no employee record with that ID)."))
        row = rows[0]
        name = " ".join(p for p in (row.get("firstname"), row.get("lastname")) if p)
        return Employee(employee_id=employee_id, name=name or employee_id, email=row.get("email"),
                        entity_code=entities[row["subsidiary"]].code, cost_center=row.get("costcenter"),
                        active=row.get("isinactive") != "T", bank_account=self._bank_account(row, name),
                        erp_id=row["id"])

    def _bank_account(self, row: dict[str, str], holder: str) -> BankAccount | None:
        """From the custentity fields; None when missing or unusable, which finance must fix."""
        iban, number, bic = (row.get("custentity_iban"), row.get("custentity_bank_account_number"),
                             row.get("custentity_bic"))
        if not bic or not (iban or number):
            return None
        try:
            return BankAccount(holder_name=holder, bic=bic, iban=iban, account_number=number)
        except ValidationError as exc:
            log.warning("employee %s has unusable bank details in NetSuite: %s", row.get("entityid"), exc)
            return None

    async def _cost_centers(self, codes: set[str], entities: dict[str, LegalEntity]) -> dict[str, CostCenter]:
        if not codes:
            return {}
        rows = await self.suiteql("SELECT id, externalid, name, isinactive, subsidiary FROM department "
                                  f"WHERE externalid IN ({literals(codes)})")
        self._department_ids.update({r["externalid"]: r["id"] for r in rows})
        return {r["externalid"]: CostCenter(
            code=r["externalid"], name=r["name"], active=r.get("isinactive") != "T", erp_id=r["id"],
            entity_code=entities[r["subsidiary"]].code if r.get("subsidiary") in entities else None) for r in rows}

    async def _accounts(self, numbers: set[str]) -> dict[str, GLAccount]:
        if not numbers:
            return {}
        rows = await self.suiteql("SELECT id, acctnumber, acctname, isinactive FROM account "
                                  f"WHERE acctnumber IN ({literals(numbers)})")
        self._account_ids.update({r["acctnumber"]: r["id"] for r in rows})
        return {r["acctnumber"]: GLAccount(number=r["acctnumber"], name=r["acctname"],
                                           active=r.get("isinactive") != "T", erp_id=r["id"]) for r in rows}

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

    async def _fx_rates(self, functional: str, pairs: list[tuple[str, date]]) -> list[FxRate]:
        """For each (currency, date): the latest NetSuite rate into ``functional`` effective that day."""
        wanted = [(currency, day) for currency, day in pairs if currency != functional]
        if not wanted:
            return []
        rows = await self.suiteql(
            "SELECT t.symbol, r.exchangerate, TO_CHAR(r.effectivedate, 'YYYY-MM-DD') AS effectiveiso "
            "FROM currencyrate r JOIN currency t ON t.id = r.transactioncurrency "
            f"JOIN currency b ON b.id = r.basecurrency WHERE b.symbol = {literal(functional)} "
            f"AND t.symbol IN ({literals({c for c, _ in wanted})}) "
            f"AND r.effectivedate <= {to_date(max(day for _, day in wanted))}")
        rates: dict[tuple[str, date], FxRate] = {}
        for currency, day in wanted:
            effective = [(date.fromisoformat(r["effectiveiso"]), r) for r in rows if r["symbol"] == currency]
            effective = [(d, r) for d, r in effective if d <= day]
            if effective:
                rate_date, row = max(effective, key=lambda pair: pair[0])
                rates[(currency, rate_date)] = FxRate(from_currency=currency, to_currency=functional,
                                                      rate=Decimal(row["exchangerate"]), rate_date=rate_date,
                                                      source="netsuite")
        return list(rates.values())

    async def post_journal(self, entry: JournalEntry, *, lookup_first: bool = False) -> PostedJournal:
        if lookup_first:
            found = await self.find_journal(entry.external_id)
            if found is not None:
                return found
        body = await self._journal_body(entry)
        response = await self.request(
            "PUT", url_path(RECORD + "/journalEntry/eid:{id}", id=entry.external_id), ok=(204, 400),
            content=exact_json(body), headers={"Content-Type": "application/json"})
        if response.status_code == 400:
            error = rejections.rejection(response, entry)
            error.correlation_id = response.headers.get(self.correlation_header)
            raise error
        posted = await self.find_journal(entry.external_id)
        if posted is None:
            raise TransientVendorError(self.vendor, f"NetSuite accepted journal {entry.external_id} "
                                                    "but does not return it yet")
        return posted

    async def find_journal(self, external_id: str) -> PostedJournal | None:
        response = await self.request("GET", url_path(RECORD + "/journalEntry/eid:{id}", id=external_id),
                                      params={"expandSubResources": "true"}, allow_404=True)
        if response.status_code == 404:
            return None
        record = json_decimal(response)
        entities = await self.entities()
        subsidiary = record["subsidiary"]["id"]
        currency = (await self.currencies())[record["currency"]["id"]]
        debits = sum((Decimal(item.get("debit", 0)) for item in record.get("line", {}).get("items", [])), Decimal(0))
        return PostedJournal(external_id=external_id, erp_id=record["id"], document_number=record["tranId"],
                             entity=entities[subsidiary].code if subsidiary in entities else subsidiary,
                             posting_date=date.fromisoformat(record["tranDate"]),
                             amount=Money.of(debits, currency))

    async def journals_by_external_id(self, external_ids: Collection[str]) -> list[LedgerJournal]:
        wanted = sorted(set(external_ids))
        found: list[LedgerJournal] = []
        for start in range(0, len(wanted), IDS_PER_QUERY):
            chunk = wanted[start:start + IDS_PER_QUERY]
            found += await self._journals(f"t.externalid IN ({literals(chunk)})")
        return found

    async def journals_on(self, entity: str, day: date) -> list[LedgerJournal]:
        subsidiary = (await self._entity(entity)).erp_id
        entered = f"t.createddate >= {to_date(day)} AND t.createddate < {to_date(day + timedelta(days=1))}"
        return await self._journals(f"t.subsidiary = {literal(subsidiary or '')} "
                                    f"AND (t.trandate = {to_date(day)} OR ({entered}))")

    async def _journals(self, condition: str) -> list[LedgerJournal]:
        rows = await self.suiteql(JOURNAL_LINES.format(condition=condition))
        entities, currencies = await self.entities(), await self.currencies()
        journals = []
        for _, lines in groupby(rows, key=lambda row: row["id"]):
            group = list(lines)
            head = group[0]
            currency = currencies[head["currency"]]
            journals.append(LedgerJournal(
                erp_id=head["id"], document_number=head["tranid"], external_id=head.get("externalid"),
                entity=entities[head["subsidiary"]].code if head["subsidiary"] in entities else head["subsidiary"],
                posting_date=date.fromisoformat(head["trandateiso"]), currency=currency,
                lines=[_ledger_line(row, currency) for row in group]))
        return journals

    async def _journal_body(self, entry: JournalEntry) -> dict[str, Any]:
        """The journalEntry body, with finsync's codes resolved to NetSuite internal ids."""
        if len(entry.currencies) != 1 or any(line.entity != entry.entity for line in entry.lines):
            raise VendorRejectedError(self.vendor, BusinessProblem(
                code="UNSUPPORTED_JOURNAL", system="finsync",
                reason=f"Journal {entry.external_id} mixes currencies or entities; a NetSuite journal entry "
                       "has one subsidiary and one currency."))
        entity = await self._entity(entry.entity)
        currency_id = await self._currency_id(next(iter(entry.currencies)))
        accounts = await self._ids(self._account_ids, {line.account for line in entry.lines},
                                   "SELECT id, acctnumber FROM account WHERE acctnumber IN ({values})", "acctnumber")
        centers = await self._ids(self._department_ids, {line.cost_center for line in entry.lines if line.cost_center},
                                  "SELECT id, externalid FROM department WHERE externalid IN ({values})", "externalid")
        items = []
        for line in entry.lines:
            if line.account not in accounts:
                raise BusinessRuleError(self.vendor, BusinessProblem(
                    code=ProblemCode.ACCOUNT_UNKNOWN, system="erp", field="account", subject=line.account,
                    reason=f"GL account {line.account} does not exist in NetSuite: "
                           "map the line to an existing account."))
            item: dict[str, Any] = {"account": {"id": accounts[line.account]},
                                    "debit" if line.side is Side.DEBIT else "credit": line.amount.amount}
            if line.cost_center:
                if line.cost_center not in centers:
                    raise BusinessRuleError(self.vendor, BusinessProblem(
                        code=ProblemCode.COST_CENTER_UNKNOWN, system="erp", field="department",
                        subject=line.cost_center,
                        reason=f"Cost center {line.cost_center} is not a NetSuite department (no department has "
                               "that external ID)."))
                item["department"] = {"id": centers[line.cost_center]}
            if line.memo:
                item["memo"] = line.memo
            items.append(item)
        body: dict[str, Any] = {"externalId": entry.external_id, "subsidiary": {"id": entity.erp_id},
                                "tranDate": entry.posting_date.isoformat(), "currency": {"id": currency_id},
                                "memo": entry.memo, "line": {"items": items}}
        if entry.reverses_external_id:
            original = await self.find_journal(entry.reverses_external_id)
            if original is None:
                raise BusinessRuleError(self.vendor, BusinessProblem(
                    code="REVERSED_JOURNAL_NOT_FOUND", system="erp",
                    reason=f"Journal {entry.reverses_external_id}, which this entry reverses, is not in NetSuite."))
            body["custbody_finsync_reverses"] = {"id": original.erp_id}
        return body

    # --- master data maintenance (demo, tests, finance fixes) --------------------------------
    async def update_employee_bank_details(self, employee_id: str, *, bic: str, iban: str | None = None,
                                           account_number: str | None = None) -> None:
        """Set an employee's reimbursement account (IBAN, or a domestic account number) in NetSuite."""
        BankAccount(holder_name=employee_id, bic=bic, iban=iban, account_number=account_number)  # validates
        rows = await self.suiteql(f"SELECT id FROM employee WHERE entityid = {literal(employee_id)}")
        if not rows:
            raise BusinessRuleError(self.vendor, BusinessProblem(
                code="UNKNOWN_EMPLOYEE", system="erp", reason=f"Employee {employee_id} is not in NetSuite."))
        body = {"custentity_iban": iban.replace(" ", "").upper() if iban else None,
                "custentity_bank_account_number": account_number, "custentity_bic": bic.upper()}
        await self.request("PATCH", url_path(RECORD + "/employee/{id}", id=rows[0]["id"]), ok=(204,),
                           content=exact_json(body), headers={"Content-Type": "application/json"})


def _ledger_line(row: dict[str, Any], currency: str) -> LedgerLine:
    debit = row.get("debitforeignamount")
    side, amount = (Side.DEBIT, debit) if debit is not None else (Side.CREDIT, row.get("creditforeignamount", "0"))
    return LedgerLine(account=row["acctnumber"], side=side, amount=Money.of(Decimal(str(amount)), currency))
