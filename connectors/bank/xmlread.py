"""Reading a bank's ISO 20022 XML safely and without caring which version it is.

Elements are found by local name (``{*}Tag``), so pain.002.001.03 to .12 and camt.054.001.02
to .08+ read alike; the version differences that matter are handled where they occur.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from lxml import etree

from canonical.money import Money


def parse_document(document: bytes | str, message_element: str, what: str) -> etree._Element:
    """The ``Document/<message_element>`` element, or ValueError saying what is wrong."""
    if isinstance(document, str):
        document = document.encode()
    # Never resolve entities or fetch anything a document points at.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"{what} is not well-formed XML: {exc}") from None
    message = root.find(f"{{*}}{message_element}")
    if etree.QName(root).localname != "Document" or message is None:
        raise ValueError(f"{what} must be Document/{message_element}, got <{etree.QName(root).localname}>")
    return message


def _path(path: str) -> str:
    return "/".join(f"{{*}}{part}" for part in path.split("/"))


def find(node: etree._Element, path: str) -> etree._Element | None:
    """The element at ``path`` (local names separated by '/')."""
    return node.find(_path(path))


def text(node: etree._Element, path: str) -> str | None:
    """Stripped text at ``path``, or None if absent or empty."""
    found = node.find(_path(path))
    if found is None or found.text is None or not found.text.strip():
        return None
    return found.text.strip()


# ISO 20022 Max35Text: 1 to 35 characters. Control characters are refused too: these ids travel
# on into logs, the store and the exception queue.
_MAX35_TEXT = re.compile(r"[^\x00-\x1f\x7f]{1,35}")


def identifier(node: etree._Element, path: str, what: str) -> str | None:
    """A Max35Text identifier (MsgId, EndToEndId) at ``path``, or None if absent; ValueError if
    it is not one."""
    return checked_identifier(text(node, path), path, what)


def checked_identifier(value: str | None, path: str, what: str) -> str | None:
    """``value`` (found at ``path``) if it is a Max35Text identifier or None; ValueError if it is not one."""
    if value is not None and not _MAX35_TEXT.fullmatch(value):
        raise ValueError(f"{what}: {path} is not an ISO 20022 Max35Text (1 to 35 characters, no control characters)")
    return value


def amount(node: etree._Element | None, what: str) -> Money | None:
    """An ``Amt``-style element (decimal text, ``Ccy`` attribute) as Money."""
    if node is None:
        return None
    try:
        return Money.of(node.text or "", node.get("Ccy") or "")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: amount {node.text!r} {node.get('Ccy')!r} is not valid: {exc}") from None


def iso_date(value: str | None, what: str) -> date | None:
    """An ISODate, or the date part of an ISODateTime."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"{what}: {value!r} is not an ISO date") from None


def iso_datetime(value: str | None, what: str) -> datetime | None:
    """ISO 20022 ISODateTime. One without an offset (local time, the bank does not say where) is
    taken as UTC: finsync's timestamps always carry a zone, and it uses only the date of these."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what}: {value!r} is not an ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
