"""Read a camt.053 end-of-day statement (BkToCstmrStmt) into canonical BankStatements.

Streamed with lxml's iterparse: each transaction (TxDtls) is read and dropped as it ends, so a
batch entry of 50,000 transactions never sits in memory as one tree. Elements are found by local
name, so camt.053.001.02 to .08+ read alike (v08+ wraps the entry status as ``Sts/Cd``).

What the file states is kept as stated; nothing is trusted as a sum: the transaction summary
(TxsSummry) is not read at all, and the reconciliation adds the entries up itself.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from lxml import etree

from canonical.money import Money
from canonical.statement import BankStatement, BatchReference, CreditDebit, StatementEntry, StatementTransaction
from connectors.bank.xmlread import amount, checked_identifier, find, identifier, iso_date, iso_datetime, text

WHAT = "camt.053"
# Balance types, most preferred first (finance-practice.md §5): where the day starts and ends.
_OPENING = ("OPBD", "PRCD", "ITBD")
_CLOSING = ("CLBD", "ITBD")
_TAGS = ("{*}BkToCstmrStmt", "{*}Stmt", "{*}Ntry", "{*}TxDtls")


def _local(element: etree._Element) -> str:
    return str(element.tag).rpartition("}")[2]


def _drop_earlier(element: etree._Element, tag: str) -> None:
    """Free the finished siblings named ``tag`` before ``element`` (the parser keeps building the tree)."""
    previous = element.getprevious()
    while previous is not None and _local(previous) == tag:
        element.getparent().remove(previous)  # type: ignore[union-attr]
        previous = element.getprevious()


def _direction(value: str | None, what: str) -> CreditDebit:
    try:
        return CreditDebit(value or "")
    except ValueError:
        raise ValueError(f"{what}: CdtDbtInd {value!r} is neither CRDT nor DBIT") from None


def _count(value: str | None, what: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise ValueError(f"{what}: {value!r} is not a number")
    return int(value)


def _children(element: etree._Element | None) -> dict[str, etree._Element]:
    """The element's children by local name (the first of each): one pass, for the transaction
    lines, read 50,000 times in a payroll batch."""
    found: dict[str, etree._Element] = {}
    if element is not None:
        for child in element:
            if isinstance(child.tag, str):   # not a comment or processing instruction
                found.setdefault(_local(child), child)
    return found


def _stripped(element: etree._Element | None) -> str | None:
    value = element.text.strip() if element is not None and element.text else None
    return value or None


def _transaction(tx: etree._Element, what: str) -> StatementTransaction:
    parts = _children(tx)
    references, details = _children(parts.get("Refs")), _children(parts.get("AmtDtls"))
    end_to_end_id = checked_identifier(_stripped(references.get("EndToEndId")), "Refs/EndToEndId", what)
    what = f"{what} {end_to_end_id or 'transaction'}"
    booked_node = parts.get("Amt")
    if booked_node is None:
        booked_node = _children(details.get("TxAmt")).get("Amt")
    instructed_node = _children(details.get("InstdAmt")).get("Amt")
    booked = amount(booked_node, what)
    same = (booked is not None and instructed_node is not None and booked_node is not None
            and (instructed_node.text, instructed_node.get("Ccy")) == (booked_node.text, booked_node.get("Ccy")))
    reason = _children(_children(parts.get("RtrInf")).get("Rsn"))
    # Every field is checked above (identifiers, Money): built without validating it all again.
    return StatementTransaction.model_construct(
        end_to_end_id=end_to_end_id,
        message_id=checked_identifier(_stripped(references.get("MsgId")), "Refs/MsgId", what),
        payment_info_id=checked_identifier(_stripped(references.get("PmtInfId")), "Refs/PmtInfId", what),
        amount=booked,
        instructed=booked if same else amount(instructed_node, what),   # one Money when nothing was converted
        bank_reference=_stripped(references.get("AcctSvcrRef")),
        return_reason=_stripped(reason.get("Cd")) or _stripped(reason.get("Prtry")))


def _bank_transaction_code(entry: etree._Element) -> str | None:
    domain = find(entry, "BkTxCd/Domn")
    if domain is not None:
        return "/".join(part or "" for part in (text(domain, "Cd"), text(domain, "Fmly/Cd"), text(domain, "Fmly/SubFmlyCd")))
    return text(entry, "BkTxCd/Prtry/Cd")


def _batch(entry: etree._Element, what: str) -> BatchReference | None:
    batch = find(entry, "NtryDtls/Btch")
    if batch is None:
        return None
    direction = text(batch, "CdtDbtInd")
    return BatchReference(
        message_id=identifier(batch, "MsgId", what), payment_info_id=identifier(batch, "PmtInfId", what),
        count=_count(text(batch, "NbOfTxs"), f"{what} Btch/NbOfTxs"), total=amount(find(batch, "TtlAmt"), what),
        direction=_direction(direction, what) if direction else None)


def _entry(entry: etree._Element, transactions: list[StatementTransaction], index: int) -> StatementEntry:
    reference = text(entry, "AcctSvcrRef") or text(entry, "NtryRef")
    what = f"{WHAT} entry {reference or index}"
    booked = amount(find(entry, "Amt"), what)
    if booked is None:
        raise ValueError(f"{what} has no amount")
    if len(transactions) == 1 and transactions[0].amount is None:   # one transaction may state it once, on the entry
        transactions = [transactions[0].model_copy(update={"amount": booked})]
    reversal = text(entry, "RvslInd")
    return StatementEntry(
        amount=booked, direction=_direction(text(entry, "CdtDbtInd"), what),
        status=text(entry, "Sts/Cd") or text(entry, "Sts") or "",
        reversal=reversal in ("true", "1"),
        booking_date=iso_date(text(entry, "BookgDt/Dt") or text(entry, "BookgDt/DtTm"), f"{what} BookgDt"),
        value_date=iso_date(text(entry, "ValDt/Dt") or text(entry, "ValDt/DtTm"), f"{what} ValDt"),
        bank_reference=reference, bank_transaction_code=_bank_transaction_code(entry), batch=_batch(entry, what),
        transactions=transactions, additional_info=text(entry, "AddtlNtryInf"))


def _balances(statement: etree._Element, what: str) -> dict[str, Money]:
    """Each balance type's first balance, signed (DBIT: overdrawn)."""
    found: dict[str, Money] = {}
    for balance in statement.iterfind("{*}Bal"):
        code = text(balance, "Tp/CdOrPrtry/Cd") or text(balance, "Tp/CdOrPrtry/Prtry") or ""
        value = amount(find(balance, "Amt"), f"{what} balance {code}")
        if value is None:
            raise ValueError(f"{what}: balance {code} has no amount")
        if _direction(text(balance, "CdtDbtInd"), f"{what} balance {code}") is CreditDebit.DEBIT:
            value = -value
        found.setdefault(code, value)
    return found


def _statement(statement: etree._Element, entries: list[StatementEntry], header: etree._Element | None) -> BankStatement:
    statement_id = identifier(statement, "Id", WHAT)
    if statement_id is None:
        raise ValueError(f"{WHAT}: a statement has no Id")
    what = f"{WHAT} statement {statement_id}"
    account_id = text(statement, "Acct/Id/IBAN") or text(statement, "Acct/Id/Othr/Id")
    if account_id is None:
        raise ValueError(f"{what} names no account")
    balances = _balances(statement, what)
    opening = next((balances[code] for code in _OPENING if code in balances), None)
    closing = next((balances[code] for code in _CLOSING if code in balances), None)
    if opening is None or closing is None:
        raise ValueError(f"{what} lacks an opening (OPBD) or closing (CLBD) booked balance")
    created = text(statement, "CreDtTm") or (text(header, "CreDtTm") if header is not None else None)
    return BankStatement(
        statement_id=statement_id,
        sequence_number=_count(text(statement, "ElctrncSeqNb"), f"{what} ElctrncSeqNb"),
        created_at=iso_datetime(created, f"{what} CreDtTm"),
        period_start=iso_datetime(text(statement, "FrToDt/FrDtTm"), f"{what} FrDtTm"),
        period_end=iso_datetime(text(statement, "FrToDt/ToDtTm"), f"{what} ToDtTm"),
        account_id=account_id.replace(" ", "").upper(),
        currency=text(statement, "Acct/Ccy") or opening.currency,
        opening_balance=opening, closing_balance=closing, entries=entries)


def _events(document: bytes | str) -> Iterator[tuple[str, etree._Element]]:
    if isinstance(document, str):
        document = document.encode()
    # Never resolve entities or fetch anything a document points at.
    events = etree.iterparse(io.BytesIO(document), events=("start", "end"), tag=_TAGS, resolve_entities=False,
                             no_network=True, load_dtd=False)
    try:
        yield from events
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"{WHAT} is not well-formed XML: {exc}") from None


def parse_statements(document: bytes | str) -> list[BankStatement]:
    """Every statement (Stmt) in the document, in its order."""
    statements: list[BankStatement] = []
    entries: list[StatementEntry] = []
    transactions: list[StatementTransaction] = []
    message: etree._Element | None = None
    for event, element in _events(document):
        tag = _local(element)
        if event == "start":
            if tag == "BkToCstmrStmt":
                root = element.getparent()
                if root is None or _local(root) != "Document" or root.getparent() is not None:
                    raise ValueError(f"{WHAT} must be Document/BkToCstmrStmt")
                message = element
            elif tag == "Stmt":
                entries = []
            elif tag == "Ntry":
                transactions = []
            continue
        if tag == "TxDtls":
            transactions.append(_transaction(element, f"{WHAT} entry {len(entries) + 1}"))
            element.clear()
            _drop_earlier(element, "TxDtls")
        elif tag == "Ntry":
            entries.append(_entry(element, transactions, len(entries) + 1))
            element.clear()
            _drop_earlier(element, "Ntry")
        elif tag == "Stmt":
            statements.append(_statement(element, entries, find(message, "GrpHdr") if message is not None else None))
            element.clear()
            _drop_earlier(element, "Stmt")
    if message is None:
        raise ValueError(f"{WHAT} must be Document/BkToCstmrStmt")
    return statements
