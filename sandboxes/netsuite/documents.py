"""What every transaction the sandbox writes shares: one internal id space, a document number per
record type, lookup by ``{id}`` or ``eid:{externalId}``, exact amounts, and the fingerprint of the
body an upsert last accepted (so the same body again changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from sandboxes.netsuite import tables as t
from sandboxes.netsuite.errors import NetSuiteError, not_found
from sandboxes.netsuite.records import href, ref_value

FIRST_ID = 1001


@dataclass(frozen=True)
class Posting:
    """One line of a transaction that posts: a debit (amount > 0) or a credit (amount < 0)."""

    account: int
    amount: Decimal
    department: int | None = None
    memo: str | None = None
    mainline: bool = False
    order_doc: int | None = None
    order_line: int | None = None


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def find(conn: Connection, recordtype: str, key: str) -> int | None:
    """The internal id for ``{id}`` or ``eid:{externalId}``, if such a transaction of that type exists."""
    c = t.transaction.c
    if key.startswith("eid:"):
        condition = c.externalid == key[len("eid:"):]
    elif key.isdigit():
        condition = c.id == int(key)
    else:
        return None
    return conn.execute(select(c.id).where(condition, c.recordtype == recordtype)).scalar_one_or_none()


def header(conn: Connection, recordtype: str, key: str) -> dict[str, Any]:
    """The transaction's header row, or NetSuite's 404."""
    found = find(conn, recordtype, key)
    row = t.by_id(conn, t.transaction, found) if found is not None else None
    if row is None:
        raise not_found()
    return row


def insert_header(conn: Connection, recordtype: str, type_: str, values: dict[str, Any],
                  number_prefix: str | None = None) -> int:
    """A new transaction, numbered ``{prefix}000001`` onwards per record type when a prefix is given."""
    c = t.transaction.c
    new_id = (conn.execute(select(func.max(c.id))).scalar_one() or FIRST_ID - 1) + 1
    if number_prefix is not None:
        number = conn.execute(select(func.count()).where(c.recordtype == recordtype)).scalar_one() + 1
        values = {**values, "tranid": f"{number_prefix}{number:06d}"}
    stamp = now()
    conn.execute(insert(t.transaction).values(id=new_id, recordtype=recordtype, type=type_, createddate=stamp,
                                              lastmodifieddate=stamp, **values))
    return new_id


def update_header(conn: Connection, transaction_id: int, **values: Any) -> None:
    conn.execute(update(t.transaction).where(t.transaction.c.id == transaction_id)
                 .values(**values, lastmodifieddate=now()))


def write_postings(conn: Connection, transaction_id: int, subsidiary: int, precision: int,
                   postings: list[Posting]) -> None:
    """The lines, numbered from 0 in order, each with its side's amount and its signed amount."""
    def side(value: Decimal) -> str | None:
        return money(value, precision) if value > 0 else None

    conn.execute(insert(t.transactionline), [
        {"transaction": transaction_id, "id": i, "linesequencenumber": i, "account": p.account,
         "debitforeignamount": side(p.amount), "creditforeignamount": side(-p.amount),
         "foreignamount": money(p.amount, precision), "department": p.department, "subsidiary": subsidiary,
         "memo": p.memo, "mainline": "T" if p.mainline else "F", "orderdoc": p.order_doc, "orderline": p.order_line}
        for i, p in enumerate(postings)])


def lines_of(conn: Connection, transaction_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(t.transactionline).where(t.transactionline.c.transaction == transaction_id)
                        .order_by(t.transactionline.c.linesequencenumber)).mappings().all()
    return [dict(row) for row in rows]


def precision_of(conn: Connection, currency_id: int) -> int:
    currency = t.by_id(conn, t.currency, currency_id)
    assert currency is not None
    return int(currency["currencyprecision"])


def money(value: Decimal, precision: int) -> str:
    """An amount as the exact decimal text the tables keep, to the currency's places."""
    return str(value.quantize(Decimal(1).scaleb(-precision)))


def decimal(value: str | None) -> Decimal:
    return Decimal(value) if value is not None else Decimal(0)


def account_id(conn: Connection, number: str) -> int:
    """The internal id of a chart-of-accounts number the sandbox books to by itself (2010, 4910)."""
    found = conn.execute(select(t.account.c.id).where(t.account.c.acctnumber == number)).scalar_one_or_none()
    if found is None:
        raise NetSuiteError(400, f"Account {number} is not in this account's chart of accounts.", "INVALID_KEY_OR_REF")
    return int(found)


def stored_fingerprint(conn: Connection, transaction_id: int) -> str | None:
    return conn.execute(select(t.journal_request.c.fingerprint)
                        .where(t.journal_request.c.transaction == transaction_id)).scalar_one_or_none()


def remember_fingerprint(conn: Connection, transaction_id: int, fingerprint: str) -> None:
    if stored_fingerprint(conn, transaction_id) is None:
        conn.execute(insert(t.journal_request).values(transaction=transaction_id, fingerprint=fingerprint))
    else:
        conn.execute(update(t.journal_request).where(t.journal_request.c.transaction == transaction_id)
                     .values(fingerprint=fingerprint))


# --- rendering ---------------------------------------------------------------------------------
def render_header(conn: Connection, row: dict[str, Any], record: str, base_url: str) -> dict[str, Any]:
    """The fields every transaction record shows (null ones left out)."""
    body: dict[str, Any] = {
        "links": [{"rel": "self", "href": href(base_url, record, row["id"])}],
        "id": str(row["id"]), "tranId": row["tranid"], "tranDate": row["trandate"],
        "subsidiary": ref_value(base_url, "subsidiary", row["subsidiary"]),
        "currency": ref_value(base_url, "currency", row["currency"]),
        "createdDate": row["createddate"], "lastModifiedDate": row["lastmodifieddate"],
    }
    if row["postingperiod"] is not None:
        period = t.by_id(conn, t.accountingperiod, row["postingperiod"]) or {}
        body["postingPeriod"] = {**ref_value(base_url, "accountingPeriod", row["postingperiod"]),
                                 "refName": period.get("periodname")}
    if row["entity"] is not None:
        body["entity"] = ref_value(base_url, "vendor", row["entity"])
    for field, column in (("externalId", "externalid"), ("memo", "memo"), ("dueDate", "duedate")):
        if row[column] is not None:
            body[field] = row[column]
    return body


def expense_item(line: dict[str, Any], base_url: str, amount: Decimal) -> dict[str, Any]:
    """A line of a document's ``expense`` sublist: its number, account, amount, department and memo."""
    item: dict[str, Any] = {"links": [], "line": line["id"], "account": ref_value(base_url, "account", line["account"]),
                            "amount": amount}
    if line["department"] is not None:
        item["department"] = ref_value(base_url, "department", line["department"])
    if line["memo"] is not None:
        item["memo"] = line["memo"]
    return item


def sublist(self_href: str, name: str, items: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A sublist as NetSuite shows it: its link, and its lines only when asked to expand."""
    links = [{"rel": "self", "href": f"{self_href}/{name}"}]
    if items is None:
        return {"links": links}
    return {"links": links, "count": len(items), "hasMore": False, "items": items, "offset": 0,
            "totalResults": len(items)}
