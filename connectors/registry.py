"""Build the connector a configuration names (``kind``), so a vendor swap is a config change."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from finsync.config import VendorSettings

KINDS: dict[str, str] = {
    "concur": "connectors.concur:ConcurClient",
    "netsuite": "connectors.netsuite:NetSuiteClient",
    "iso20022-bank": "connectors.bank:BankClient",
}


def build(settings: VendorSettings) -> Any:
    try:
        target = KINDS[settings.kind]
    except KeyError:
        raise ValueError(f"unknown connector kind {settings.kind!r}; known: {', '.join(sorted(KINDS))}") from None
    module, _, name = target.partition(":")
    return getattr(import_module(module), name).from_settings(settings)
