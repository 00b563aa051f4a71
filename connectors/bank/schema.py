"""Checking a pain.001 file against the official pain.001.001.09 XSD (the one sepaxml ships).

The file is validated as it is read (libxml2's streaming schema check behind lxml's iterparse)
and each transaction is dropped once read, so a file of 50,000 transactions is checked in about
a second in flat memory. It stops at the first violation, which it names; libxml2 knows no line
number while streaming, so the message names the element instead.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import IO

import sepaxml
from lxml import etree

from connectors.bank.pain001 import MESSAGE_NAME, NAMESPACE

SCHEMA_FILE = Path(sepaxml.__file__).resolve().parent / "schemas" / f"{MESSAGE_NAME}.xsd"


class InvalidPaymentFile(ValueError):
    """The file is not a valid pain.001.001.09: a finsync mapping defect, never to be sent."""


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE)))


def validate_pain001(source: str | os.PathLike[str] | IO[bytes]) -> None:
    """Check ``source`` (a path or a binary file) against the XSD; ``InvalidPaymentFile`` naming
    the first violation if it is not valid."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    try:
        for _, transaction in etree.iterparse(source, events=("end",), tag=f"{{{NAMESPACE}}}CdtTrfTxInf",
                                              schema=_schema(), resolve_entities=False, no_network=True):
            transaction.clear(keep_tail=True)
            while transaction.getprevious() is not None:   # what was read before it is checked already
                del transaction.getparent()[0]
    except etree.XMLSyntaxError as error:
        raise InvalidPaymentFile(f"not a valid {MESSAGE_NAME}: {error.msg}") from None
