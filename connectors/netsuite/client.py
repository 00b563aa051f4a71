"""NetSuite as finsync's ERP: SuiteQL for reference data, journalEntry upserts by external id, and
(through connectors/netsuite/procurement.py) the requisition-to-pay side.

Master-data keys beyond the session's (connectors/netsuite/session.py): employees by ``entityId``
("E1001"), with reimbursement bank details in ``custentity_iban`` /
``custentity_bank_account_number`` / ``custentity_bic``. A reversing entry points at the
original through the custom body field ``custbody_finsync_reverses``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

from pydantic import ValidationError

from canonical import (
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
    Side,
)
from connectors.errors import BusinessRuleError, TransientVendorError, VendorRejectedError
from connectors.http import exact_json, url_path
from connectors.interfaces import LedgerJournal, LedgerLine
from connectors.netsuite.procurement import NetSuiteProcurement
from connectors.netsuite.rejections import Sent
from connectors.netsuite.session import RECORD, literal, literals, to_date

log = logging.getLogger(__name__)

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


class NetSuiteClient(NetSuiteProcurement):
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
        await self.write("PUT", url_path(RECORD + "/journalEntry/eid:{id}", id=entry.external_id), body,
                         Sent.journal(entry))
        posted = await self.find_journal(entry.external_id)
        if posted is None:
            raise TransientVendorError(self.vendor, f"NetSuite accepted journal {entry.external_id} "
                                                    "but does not return it yet")
        return posted

    async def find_journal(self, external_id: str) -> PostedJournal | None:
        record = await self.record_by_external_id("journalEntry", external_id)
        if record is None:
            return None
        currency = (await self.currencies())[record["currency"]["id"]]
        debits = sum((Decimal(item.get("debit", 0)) for item in record.get("line", {}).get("items", [])), Decimal(0))
        return PostedJournal(external_id=external_id, erp_id=record["id"], document_number=record["tranId"],
                             entity=await self.entity_code(record["subsidiary"]["id"]),
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
        accounts = await self.account_ids(line.account for line in entry.lines)
        centers = await self.department_ids(line.cost_center for line in entry.lines if line.cost_center)
        items = []
        for line in entry.lines:
            item: dict[str, Any] = {"account": {"id": accounts[line.account]},
                                    "debit" if line.side is Side.DEBIT else "credit": line.amount.amount}
            if line.cost_center:
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
