"""journalEntry records: create, upsert by external id, read back in NetSuite's REST shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from sandboxes.netsuite import documents
from sandboxes.netsuite import tables as t
from sandboxes.netsuite.errors import NetSuiteError, not_found
from sandboxes.netsuite.records import href, ref_value
from sandboxes.netsuite.validation import ValidJournal, check_journal, ensure_open, parse_journal

RECORD = "journalEntry"
RECORDTYPE = "journalentry"


def find(conn: Connection, key: str) -> int | None:
    """The internal id for ``{id}`` or ``eid:{externalId}``, if such a journal exists."""
    return documents.find(conn, RECORDTYPE, key)


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
    if documents.stored_fingerprint(conn, existing) == draft.fingerprint():
        return existing
    header = t.by_id(conn, t.transaction, existing)
    assert header is not None
    period = t.by_id(conn, t.accountingperiod, header["postingperiod"])
    assert period is not None
    ensure_open(period)   # an entry in a closed period cannot change
    valid = check_journal(conn, draft)
    documents.update_header(conn, existing, **_header_values(valid))
    conn.execute(delete(t.transactionline).where(t.transactionline.c.transaction == existing))
    _write_lines(conn, existing, valid)
    documents.remember_fingerprint(conn, existing, draft.fingerprint())
    return existing


def _header_values(valid: ValidJournal) -> dict[str, Any]:
    draft = valid.draft
    return {"externalid": draft.external_id, "trandate": draft.tran_date.isoformat(),
            "postingperiod": valid.posting_period, "subsidiary": draft.subsidiary, "currency": valid.currency,
            "memo": draft.memo, "custbody_finsync_reverses": draft.reverses}


def _insert(conn: Connection, valid: ValidJournal) -> int:
    new_id = documents.insert_header(conn, RECORDTYPE, "Journal", _header_values(valid), number_prefix="JE")
    _write_lines(conn, new_id, valid)
    documents.remember_fingerprint(conn, new_id, valid.draft.fingerprint())
    return new_id


def _write_lines(conn: Connection, transaction_id: int, valid: ValidJournal) -> None:
    documents.write_postings(conn, transaction_id, valid.draft.subsidiary, valid.precision, [
        documents.Posting(account=line.account, amount=line.debit if line.debit is not None else -(line.credit or Decimal(0)),
                          department=line.department, memo=line.memo)
        for line in valid.draft.lines])


def render(conn: Connection, journal_id: int, base_url: str, *, expand: bool) -> dict[str, Any]:
    """The entry as ``GET /record/v1/journalEntry/{id}`` returns it; lines only with ``expandSubResources``."""
    header = t.by_id(conn, t.transaction, journal_id)
    if header is None:
        raise not_found()
    body = documents.render_header(conn, header, RECORD, base_url)
    body["approved"] = header["approved"] == "T"
    if header["custbody_finsync_reverses"] is not None:
        body["custbody_finsync_reverses"] = ref_value(base_url, RECORD, header["custbody_finsync_reverses"])
    items = [_render_line(row, base_url) for row in documents.lines_of(conn, journal_id)] if expand else None
    body["line"] = documents.sublist(href(base_url, RECORD, journal_id), "line", items)
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
