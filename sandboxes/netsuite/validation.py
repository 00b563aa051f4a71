"""What NetSuite checks before it saves a journal entry, and the errors it answers with.

``parse_journal`` reads the body (shape and types); ``check_journal`` checks it against the
account's data. Sandbox assumptions (NetSuite's exact codes and wording are unverified):

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
        """Equal for bodies that say the same thing (``100.0`` and ``100.00`` alike)."""
        def plain(value: Decimal | date) -> str:
            return format(value.normalize(), "f") if isinstance(value, Decimal) else value.isoformat()
        return hashlib.sha256(json.dumps(asdict(self), default=plain, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class ValidJournal:
    draft: JournalDraft
    posting_period: int
    currency: int
    precision: int        # the currency's decimal places


def _error(detail: str, code: str, path: str) -> NetSuiteError:
    return NetSuiteError(400, detail, code, path)


def _ref(body: dict[str, Any], name: str, path: str, label: str, *, required: bool) -> int | None:
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


def _text(body: dict[str, Any], name: str, path: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _error(f"Invalid value for field {name}.", "INVALID_FLD_VALUE", path)
    return value


def _amount(item: dict[str, Any], name: str, path: str) -> Decimal | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise _error(f"Invalid value for field {name}: a number is expected.", "INVALID_FLD_VALUE", path)
    return Decimal(value)


def parse_journal(body: Any, external_id: str | None = None) -> JournalDraft:
    """The body as a draft; ``external_id`` is the one in an upsert URL."""
    if not isinstance(body, dict):
        raise _error("The request body must be a JSON object.", "INVALID_CONTENT", "")
    body_eid = _text(body, "externalId", "externalId")
    if external_id is not None and body_eid not in (None, external_id):
        raise _error("The externalId in the body does not match the one in the URL.", "INVALID_CONTENT", "externalId")
    raw_date = body.get("tranDate")
    if raw_date is None:
        raise _error("Please enter value(s) for: Date.", "USER_ERROR", "tranDate")
    try:
        tran_date = date.fromisoformat(str(raw_date))
    except ValueError:
        raise _error("Invalid date value.", "INVALID_FLD_VALUE", "tranDate") from None
    sublist = body.get("line")
    items = sublist.get("items") if isinstance(sublist, dict) else None
    if not isinstance(items, list) or len(items) < 2:
        raise _error("A journal entry needs at least two lines in line.items.", "USER_ERROR", "line")
    lines = []
    for i, item in enumerate(items):
        path = f"line.items[{i}]"
        if not isinstance(item, dict):
            raise _error("Each line must be a JSON object.", "INVALID_CONTENT", path)
        lines.append(LineDraft(
            account=_ref(item, "account", f"{path}.account", "Account", required=True),  # type: ignore[arg-type]
            debit=_amount(item, "debit", f"{path}.debit"),
            credit=_amount(item, "credit", f"{path}.credit"),
            department=_ref(item, "department", f"{path}.department", "Department", required=False),
            memo=_text(item, "memo", f"{path}.memo")))
    return JournalDraft(
        external_id=external_id or body_eid,
        subsidiary=_ref(body, "subsidiary", "subsidiary", "Subsidiary", required=True),  # type: ignore[arg-type]
        tran_date=tran_date,
        posting_period=_ref(body, "postingPeriod", "postingPeriod", "Posting Period", required=False),
        currency=_ref(body, "currency", "currency", "Currency", required=False),
        memo=_text(body, "memo", "memo"),
        reverses=_ref(body, "custbody_finsync_reverses", "custbody_finsync_reverses", "Reverses", required=False),
        lines=tuple(lines))


def check_journal(conn: Connection, draft: JournalDraft) -> ValidJournal:
    """The draft checked against the account's data, with the period and currency resolved."""
    subsidiary = t.by_id(conn, t.subsidiary, draft.subsidiary)
    if subsidiary is None or subsidiary["isinactive"] == "T":
        raise _error(f"Invalid subsidiary reference key {draft.subsidiary}.", "INVALID_KEY_OR_REF", "subsidiary")
    currency_id = draft.currency if draft.currency is not None else subsidiary["currency"]
    currency = t.by_id(conn, t.currency, currency_id)
    if currency is None:
        raise _error(f"Invalid currency reference key {currency_id}.", "INVALID_KEY_OR_REF", "currency")
    period = _posting_period(conn, draft)
    if draft.reverses is not None:
        original = t.by_id(conn, t.transaction, draft.reverses)
        if original is None:
            raise _error(f"Invalid custbody_finsync_reverses reference key {draft.reverses}.", "INVALID_KEY_OR_REF",
                         "custbody_finsync_reverses")
    debits, credits = Decimal(0), Decimal(0)
    for i, line in enumerate(draft.lines):
        _check_line(conn, line, f"line.items[{i}]", draft.subsidiary, currency)
        debits += line.debit or 0
        credits += line.credit or 0
    if debits != credits:
        places = currency["currencyprecision"]
        raise _error(f"The journal entry is out of balance: debits total {debits:.{places}f} and credits total "
                     f"{credits:.{places}f} {currency['symbol']}.", "USER_ERROR", "line")
    return ValidJournal(draft=draft, posting_period=period["id"], currency=currency_id,
                        precision=currency["currencyprecision"])


def _posting_period(conn: Connection, draft: JournalDraft) -> dict[str, Any]:
    if draft.posting_period is not None:
        period = t.by_id(conn, t.accountingperiod, draft.posting_period)
        if period is None:
            raise _error(f"Invalid postingPeriod reference key {draft.posting_period}.", "INVALID_KEY_OR_REF",
                         "postingPeriod")
    else:
        day = draft.tran_date.isoformat()
        p = t.accountingperiod.c
        found = conn.execute(select(t.accountingperiod).where(
            p.startdate <= day, p.enddate >= day, p.isposting == "T", p.isquarter == "F", p.isyear == "F",
        )).mappings().first()
        if found is None:
            raise _error(f"No accounting period is set up for {day}.", "INVALID_FLD_VALUE", "tranDate")
        period = dict(found)
    ensure_open(period)
    return period


def ensure_open(period: dict[str, Any]) -> None:
    """Nothing posts to, or changes in, a closed period."""
    if period["closed"] == "T" or period["alllocked"] == "T":
        raise _error(f"The accounting period {period['periodname']} is closed.", "INVALID_FLD_VALUE", "postingPeriod")


def _check_line(conn: Connection, line: LineDraft, path: str, subsidiary: int, currency: dict[str, Any]) -> None:
    account = t.by_id(conn, t.account, line.account)
    if account is None:
        raise _error(f"Invalid account reference key {line.account}.", "INVALID_KEY_OR_REF", f"{path}.account")
    if account["isinactive"] == "T":
        raise _error(f"The account {account['accountsearchdisplayname']} is inactive.", "INVALID_FLD_VALUE",
                     f"{path}.account")
    if line.department is not None:
        department = t.by_id(conn, t.department, line.department)
        if department is None or department["subsidiary"] != subsidiary:
            raise _error(f"Invalid department reference key {line.department} for subsidiary {subsidiary}.",
                         "INVALID_KEY_OR_REF", f"{path}.department")
        if department["isinactive"] == "T":
            raise _error(f"The department {department['name']} is inactive.", "INVALID_FLD_VALUE", f"{path}.department")
    if (line.debit is None) == (line.credit is None):
        raise _error("Enter either a debit or a credit amount on each line.", "USER_ERROR", path)
    name, amount = ("debit", line.debit) if line.debit is not None else ("credit", line.credit or Decimal(0))
    places = currency["currencyprecision"]
    if amount <= 0 or amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise _error(f"Invalid {name} amount {amount}: amounts are positive with at most {places} decimal places "
                     f"in {currency['symbol']}.", "INVALID_FLD_VALUE", f"{path}.{name}")
