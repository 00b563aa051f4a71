"""journalEntry records: create, upsert by external id, read back in NetSuite's REST shape."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from sandboxes.netsuite import tables as t
from sandboxes.netsuite.errors import NetSuiteError, not_found
from sandboxes.netsuite.records import href, ref_value
from sandboxes.netsuite.validation import ValidJournal, check_journal, ensure_open, parse_journal

RECORD = "journalEntry"
FIRST_ID = 1001


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def find(conn: Connection, key: str) -> int | None:
    """The internal id for ``{id}`` or ``eid:{externalId}``, if such a journal exists."""
    c = t.transaction.c
    if key.startswith("eid:"):
        condition = c.externalid == key[len("eid:"):]
    elif key.isdigit():
        condition = c.id == int(key)
    else:
        return None
    return conn.execute(select(c.id).where(condition, c.recordtype == "journalentry")).scalar_one_or_none()


def create(conn: Connection, body: Any) -> int:
    """``POST /record/v1/journalEntry``: a new entry; an external id already in use is refused."""
    draft = parse_journal(body)
    if draft.external_id is not None and find(conn, f"eid:{draft.external_id}") is not None:
        # Sandbox assumption: NetSuite's duplicate-record refusal, as a REST 400.
        raise NetSuiteError(400, f"A journalEntry record with external ID {draft.external_id} already exists.",
                            "DUP_RCRD", "externalId")
    return _insert(conn, check_journal(conn, draft))


def upsert(conn: Connection, external_id: str, body: Any) -> int:
    """``PUT /record/v1/journalEntry/eid:{externalId}``: create, or update; an identical body changes nothing."""
    draft = parse_journal(body, external_id)
    existing = find(conn, f"eid:{external_id}")
    if existing is None:
        return _insert(conn, check_journal(conn, draft))
    stored = conn.execute(select(t.journal_request.c.fingerprint)
                          .where(t.journal_request.c.transaction == existing)).scalar_one_or_none()
    if stored == draft.fingerprint():
        return existing
    header = t.by_id(conn, t.transaction, existing)
    assert header is not None
    period = t.by_id(conn, t.accountingperiod, header["postingperiod"])
    assert period is not None
    ensure_open(period)   # an entry in a closed period cannot change
    valid = check_journal(conn, draft)
    conn.execute(update(t.transaction).where(t.transaction.c.id == existing).values(
        **_header_values(valid), lastmodifieddate=_now()))
    conn.execute(delete(t.transactionline).where(t.transactionline.c.transaction == existing))
    _write_lines(conn, existing, valid)
    conn.execute(update(t.journal_request).where(t.journal_request.c.transaction == existing)
                 .values(fingerprint=draft.fingerprint()))
    return existing


def _header_values(valid: ValidJournal) -> dict[str, Any]:
    draft = valid.draft
    return {"externalid": draft.external_id, "trandate": draft.tran_date.isoformat(),
            "postingperiod": valid.posting_period, "subsidiary": draft.subsidiary, "currency": valid.currency,
            "memo": draft.memo, "custbody_finsync_reverses": draft.reverses}


def _insert(conn: Connection, valid: ValidJournal) -> int:
    c = t.transaction.c
    new_id = (conn.execute(select(func.max(c.id))).scalar_one() or FIRST_ID - 1) + 1
    number = conn.execute(select(func.count()).where(c.recordtype == "journalentry")).scalar_one() + 1
    now = _now()
    conn.execute(insert(t.transaction).values(
        id=new_id, tranid=f"JE{number:06d}", recordtype="journalentry", type="Journal", createddate=now,
        lastmodifieddate=now, **_header_values(valid)))
    _write_lines(conn, new_id, valid)
    conn.execute(insert(t.journal_request).values(transaction=new_id, fingerprint=valid.draft.fingerprint()))
    return new_id


def _write_lines(conn: Connection, transaction_id: int, valid: ValidJournal) -> None:
    unit = Decimal(1).scaleb(-valid.precision)

    def amount(value: Decimal | None) -> str | None:
        return None if value is None else str(value.quantize(unit))

    conn.execute(insert(t.transactionline), [
        {"transaction": transaction_id, "id": i, "linesequencenumber": i, "account": line.account,
         "debitforeignamount": amount(line.debit), "creditforeignamount": amount(line.credit),
         "department": line.department, "subsidiary": valid.draft.subsidiary, "memo": line.memo}
        for i, line in enumerate(valid.draft.lines)])


def render(conn: Connection, journal_id: int, base_url: str, *, expand: bool) -> dict[str, Any]:
    """The entry as ``GET /record/v1/journalEntry/{id}`` returns it; lines only with ``expandSubResources``."""
    header = t.by_id(conn, t.transaction, journal_id)
    if header is None:
        raise not_found()
    period = t.by_id(conn, t.accountingperiod, header["postingperiod"]) or {}
    self_href = href(base_url, RECORD, journal_id)
    body: dict[str, Any] = {
        "links": [{"rel": "self", "href": self_href}],
        "id": str(journal_id), "tranId": header["tranid"], "tranDate": header["trandate"],
        "subsidiary": ref_value(base_url, "subsidiary", header["subsidiary"]),
        "currency": ref_value(base_url, "currency", header["currency"]),
        "postingPeriod": {**ref_value(base_url, "accountingPeriod", header["postingperiod"]),
                          "refName": period.get("periodname")},
        "approved": header["approved"] == "T",
        "createdDate": header["createddate"], "lastModifiedDate": header["lastmodifieddate"],
    }
    for field, column in (("externalId", "externalid"), ("memo", "memo")):
        if header[column] is not None:
            body[field] = header[column]
    if header["custbody_finsync_reverses"] is not None:
        body["custbody_finsync_reverses"] = ref_value(base_url, RECORD, header["custbody_finsync_reverses"])
    line_links = [{"rel": "self", "href": f"{self_href}/line"}]
    if not expand:
        body["line"] = {"links": line_links}
        return body
    rows = conn.execute(select(t.transactionline).where(t.transactionline.c.transaction == journal_id)
                        .order_by(t.transactionline.c.linesequencenumber)).mappings().all()
    items = [_render_line(row, base_url) for row in rows]
    body["line"] = {"links": line_links, "count": len(items), "hasMore": False, "items": items, "offset": 0,
                    "totalResults": len(items)}
    return body


def _render_line(row: Any, base_url: str) -> dict[str, Any]:
    item: dict[str, Any] = {"links": [], "line": row["id"], "account": ref_value(base_url, "account", row["account"])}
    if row["debitforeignamount"] is not None:
        item["debit"] = Decimal(row["debitforeignamount"])
    if row["creditforeignamount"] is not None:
        item["credit"] = Decimal(row["creditforeignamount"])
    if row["department"] is not None:
        item["department"] = ref_value(base_url, "department", row["department"])
    if row["memo"] is not None:
        item["memo"] = row["memo"]
    return item
