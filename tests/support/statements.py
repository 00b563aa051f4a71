"""The official camt.053.001.08 schema (tests/support/iso20022/README.md says where it comes from),
for tests to hold the bank sandbox's statements to it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

CAMT053_XSD = Path(__file__).resolve().parent / "iso20022" / "camt.053.001.08.xsd"


@cache
def camt053_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(CAMT053_XSD)))


def schema_errors(document: bytes) -> list[str]:
    """What makes ``document`` an invalid camt.053.001.08; empty if it is valid."""
    schema = camt053_schema()
    if schema.validate(etree.fromstring(document, etree.XMLParser(huge_tree=True))):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]
