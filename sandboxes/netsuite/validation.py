"""What NetSuite checks before it saves a transaction, and the errors it answers with.

``parse_journal`` reads a journal entry's body (shape and types); ``check_journal`` checks it
against the account's data. The field readers and checks below it serve the purchasing and
payables documents too. Sandbox assumptions (NetSuite's exact codes and wording are unverified):

| refusal                                   | o:errorCode        | o:errorPath               |
|-------------------------------------------|--------------------|---------------------------|
| mandatory field missing                   | USER_ERROR         | the field                 |
| reference to a record that does not exist | INVALID_KEY_OR_REF | the field                 |
| department of another subsidiary          | INVALID_KEY_OR_REF | line.items[i].department  |
| inactive account / department             | INVALID_FLD_VALUE  | line.items[i].account/... |
| no period covers tranDate                 | INVALID_FLD_VALUE  | tranDate                  |
| period closed ("The accounting period Oct 2026 is closed.") | INVALID_FLD_VALUE | postingPeriod |
| amount not positive / too many decimals   | INVALID_FLD_VALUE  | line.items[i].debit/credit|
| debits != credits ("The journal entry is out of balance ...") | USER_ERROR | line |
| vendor inactive                           | INVALID_FLD_VALUE  | entity                    |
| vendor of another subsidiary / currency   | INVALID_KEY_OR_REF / INVALID_FLD_VALUE | subsidiary / currency |
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from sandboxes.netsuite import tables as t
from sandboxes.netsuite.errors import NetSuiteError


@dataclass(frozen=True)
class LineDraft:
    account: int
    debit: Decimal | None
    credit: Decimal | None
    department: int | None
    memo: str | None


@dataclass(frozen=True)
class JournalDraft:
    external_id: str | None
    subsidiary: int
    tran_date: date
    posting_period: int | None
    currency: int | None
    memo: str | None
    reverses: int | None
    lines: tuple[LineDraft, ...]

    def fingerprint(self) -> str:
        return fingerprint(self)


def fingerprint(draft: Any) -> str:
    """Of a draft dataclass: equal for bodies that say the same thing (``100.0`` and ``100.00`` alike)."""
    def plain(value: Decimal | date) -> str:
        return format(value.normalize(), "f") if isinstance(value, Decimal) else value.isoformat()
    return hashlib.sha256(json.dumps(asdict(draft), default=plain, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class ValidJournal:
    draft: JournalDraft
    posting_period: int
    currency: int
    precision: int        # the currency's decimal places


def _error(detail: str, code: str, path: str) -> NetSuiteError:
    return NetSuiteError(400, detail, code, path)


# --- reading a body's fields -------------------------------------------------------------------
def body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _error("The request body must be a JSON object.", "INVALID_CONTENT", "")
    return body


def external_id_of(body: dict[str, Any], url_external_id: str | None) -> str | None:
    """The record's external id: the upsert URL's, which the body may repeat but not contradict."""
    body_eid = text(body, "externalId", "externalId")
    if url_external_id is not None and body_eid not in (None, url_external_id):
        raise _error("The externalId in the body does not match the one in the URL.", "INVALID_CONTENT", "externalId")
    return url_external_id or body_eid


def ref(body: dict[str, Any], name: str, path: str, label: str, *, required: bool) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _error(f"Please enter value(s) for: {label}.", "USER_ERROR", path)
        return None
    if not isinstance(value, dict) or "id" not in value:
        raise _error(f"Invalid value for field {name}: expected an object with an id.", "INVALID_CONTENT", path)
    try:
        return int(str(value["id"]))
    except ValueError:
        raise _error(f"Invalid {name} reference key {value['id']}.", "INVALID_KEY_OR_REF", path) from None


def required_ref(body: dict[str, Any], name: str, path: str, label: str) -> int:
    found = ref(body, name, path, label, required=True)
    assert found is not None
    return found


def text(body: dict[str, Any], name: str, path: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _error(f"Invalid value for field {name}.", "INVALID_FLD_VALUE", path)
    return value


def amount(item: dict[str, Any], name: str, path: str) -> Decimal | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise _error(f"Invalid value for field {name}: a number is expected.", "INVALID_FLD_VALUE", path)
    return Decimal(value)


def day(body: dict[str, Any], name: str, label: str, *, required: bool) -> date | None:
    raw = body.get(name)
    if raw is None:
        if required:
            raise _error(f"Please enter value(s) for: {label}.", "USER_ERROR", name)
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise _error("Invalid date value.", "INVALID_FLD_VALUE", name) from None


def sublist_items(body: dict[str, Any], name: str, *, minimum: int, what: str) -> list[dict[str, Any]]:
    """The objects of sublist ``name`` (``{"items": [...]}``), at least ``minimum`` of them."""
    sublist = body.get(name)
    items = sublist.get("items") if isinstance(sublist, dict) else None
    if not isinstance(items, list) or len(items) < minimum:
        raise _error(f"{what} needs at least {minimum} line(s) in {name}.items.", "USER_ERROR", name)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _error("Each line must be a JSON object.", "INVALID_CONTENT", f"{name}.items[{i}]")
    return items


def parse_journal(body: Any, external_id: str | None = None) -> JournalDraft:
    """The body as a draft; ``external_id`` is the one in an upsert URL."""
    body = body_object(body)
    external_id = external_id_of(body, external_id)
    tran_date = day(body, "tranDate", "Date", required=True)
    assert tran_date is not None
    lines = []
    for i, item in enumerate(sublist_items(body, "line", minimum=2, what="A journal entry")):
        path = f"line.items[{i}]"
        lines.append(LineDraft(
            account=required_ref(item, "account", f"{path}.account", "Account"),
            debit=amount(item, "debit", f"{path}.debit"),
            credit=amount(item, "credit", f"{path}.credit"),
            department=ref(item, "department", f"{path}.department", "Department", required=False),
            memo=text(item, "memo", f"{path}.memo")))
    return JournalDraft(
        external_id=external_id,
        subsidiary=required_ref(body, "subsidiary", "subsidiary", "Subsidiary"),
        tran_date=tran_date,
        posting_period=ref(body, "postingPeriod", "postingPeriod", "Posting Period", required=False),
        currency=ref(body, "currency", "currency", "Currency", required=False),
        memo=text(body, "memo", "memo"),
        reverses=ref(body, "custbody_finsync_reverses", "custbody_finsync_reverses", "Reverses", required=False),
        lines=tuple(lines))


def check_journal(conn: Connection, draft: JournalDraft) -> ValidJournal:
    """The draft checked against the account's data, with the period and currency resolved."""
    subsidiary = active_subsidiary(conn, draft.subsidiary)
    currency_id = draft.currency if draft.currency is not None else subsidiary["currency"]
    currency = known_currency(conn, currency_id)
    period = posting_period(conn, draft.tran_date, draft.posting_period)
    if draft.reverses is not None:
        original = t.by_id(conn, t.transaction, draft.reverses)
        if original is None:
            raise _error(f"Invalid custbody_finsync_reverses reference key {draft.reverses}.", "INVALID_KEY_OR_REF",
                         "custbody_finsync_reverses")
    debits, credits = Decimal(0), Decimal(0)
    for i, line in enumerate(draft.lines):
        path = f"line.items[{i}]"
        active_account(conn, line.account, f"{path}.account")
        if line.department is not None:
            active_department(conn, line.department, draft.subsidiary, f"{path}.department")
        if (line.debit is None) == (line.credit is None):
            raise _error("Enter either a debit or a credit amount on each line.", "USER_ERROR", path)
        name, value = ("debit", line.debit) if line.debit is not None else ("credit", line.credit or Decimal(0))
        check_amount(value, currency, f"{path}.{name}", name)
        debits += line.debit or 0
        credits += line.credit or 0
    if debits != credits:
        places = currency["currencyprecision"]
        raise _error(f"The journal entry is out of balance: debits total {debits:.{places}f} and credits total "
                     f"{credits:.{places}f} {currency['symbol']}.", "USER_ERROR", "line")
    return ValidJournal(draft=draft, posting_period=period["id"], currency=currency_id,
                        precision=currency["currencyprecision"])


# --- checks against the account's data ---------------------------------------------------------
def active_subsidiary(conn: Connection, subsidiary_id: int) -> dict[str, Any]:
    subsidiary = t.by_id(conn, t.subsidiary, subsidiary_id)
    if subsidiary is None or subsidiary["isinactive"] == "T":
        raise _error(f"Invalid subsidiary reference key {subsidiary_id}.", "INVALID_KEY_OR_REF", "subsidiary")
    return subsidiary


def known_currency(conn: Connection, currency_id: int) -> dict[str, Any]:
    currency = t.by_id(conn, t.currency, currency_id)
    if currency is None:
        raise _error(f"Invalid currency reference key {currency_id}.", "INVALID_KEY_OR_REF", "currency")
    return currency


@dataclass(frozen=True)
class VendorParty:
    """Who a purchasing document is with, and in what: the vendor, its subsidiary and currency."""

    vendor: dict[str, Any]
    subsidiary: int
    currency: dict[str, Any]


def vendor_party(conn: Connection, vendor_id: int, subsidiary_id: int | None, currency_id: int | None) -> VendorParty:
    """An active vendor, in its own subsidiary and currency (the document's default to them)."""
    vendor = t.by_id(conn, t.vendor, vendor_id)
    if vendor is None:
        raise _error(f"Invalid entity reference key {vendor_id}.", "INVALID_KEY_OR_REF", "entity")
    name = f"{vendor['entityid']} {vendor['companyname']}"
    if vendor["isinactive"] == "T":
        raise _error(f"The vendor {name} is inactive.", "INVALID_FLD_VALUE", "entity")
    subsidiary = active_subsidiary(conn, subsidiary_id if subsidiary_id is not None else vendor["subsidiary"])
    if subsidiary["id"] != vendor["subsidiary"]:
        raise _error(f"The vendor {name} is not assigned to subsidiary {subsidiary['id']}.", "INVALID_KEY_OR_REF",
                     "subsidiary")
    currency = known_currency(conn, currency_id if currency_id is not None else vendor["currency"])
    if currency["id"] != vendor["currency"]:
        vendor_currency = known_currency(conn, vendor["currency"])
        raise _error(f"The vendor {name} is paid in {vendor_currency['symbol']}, not {currency['symbol']}.",
                     "INVALID_FLD_VALUE", "currency")
    return VendorParty(vendor=vendor, subsidiary=subsidiary["id"], currency=currency)


def posting_period(conn: Connection, tran_date: date, period_id: int | None) -> dict[str, Any]:
    """The open period a transaction posts to: the one given, else the one covering ``tran_date``."""
    if period_id is not None:
        period = t.by_id(conn, t.accountingperiod, period_id)
        if period is None:
            raise _error(f"Invalid postingPeriod reference key {period_id}.", "INVALID_KEY_OR_REF",
                         "postingPeriod")
    else:
        found = period_of(conn, tran_date)
        if found is None:
            raise _error(f"No accounting period is set up for {tran_date.isoformat()}.", "INVALID_FLD_VALUE",
                         "tranDate")
        period = found
    ensure_open(period)
    return period


def period_of(conn: Connection, day: date) -> dict[str, Any] | None:
    """The posting month that covers ``day``."""
    p = t.accountingperiod.c
    found = conn.execute(select(t.accountingperiod).where(
        p.startdate <= day.isoformat(), p.enddate >= day.isoformat(), p.isposting == "T", p.isquarter == "F",
        p.isyear == "F",
    )).mappings().first()
    return dict(found) if found else None


def ensure_open(period: dict[str, Any]) -> None:
    """Nothing posts to, or changes in, a closed period."""
    if period["closed"] == "T" or period["alllocked"] == "T":
        raise _error(f"The accounting period {period['periodname']} is closed.", "INVALID_FLD_VALUE", "postingPeriod")


def active_account(conn: Connection, account_id: int, path: str) -> dict[str, Any]:
    account = t.by_id(conn, t.account, account_id)
    if account is None:
        raise _error(f"Invalid account reference key {account_id}.", "INVALID_KEY_OR_REF", path)
    if account["isinactive"] == "T":
        raise _error(f"The account {account['accountsearchdisplayname']} is inactive.", "INVALID_FLD_VALUE", path)
    return account


def active_department(conn: Connection, department_id: int, subsidiary: int, path: str) -> dict[str, Any]:
    department = t.by_id(conn, t.department, department_id)
    if department is None or department["subsidiary"] != subsidiary:
        raise _error(f"Invalid department reference key {department_id} for subsidiary {subsidiary}.",
                     "INVALID_KEY_OR_REF", path)
    if department["isinactive"] == "T":
        raise _error(f"The department {department['name']} is inactive.", "INVALID_FLD_VALUE", path)
    return department


def check_amount(value: Decimal, currency: dict[str, Any], path: str, name: str) -> None:
    """Positive, in whole units of the currency (cents for USD, yen for JPY)."""
    places = currency["currencyprecision"]
    if value <= 0 or value != value.quantize(Decimal(1).scaleb(-places)):
        raise _error(f"Invalid {name} amount {value}: amounts are positive with at most {places} decimal places "
                     f"in {currency['symbol']}.", "INVALID_FLD_VALUE", path)
