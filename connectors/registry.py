"""Build the connector a configuration names (``kind``), so a vendor swap is a config change."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from finsync import guards
from finsync.config import ErpVendorSettings, S4HanaVendorSettings, VendorSettings

KINDS: dict[str, str] = {
    "concur": "connectors.concur:ConcurClient",
    "netsuite": "connectors.netsuite:NetSuiteClient",
    "s4hana": "connectors.s4hana:S4HanaClient",
    "iso20022-bank": "connectors.bank:BankClient",
    "coupa": "connectors.coupa:CoupaClient",
    "workday": "connectors.workday:WorkdayClient",
}


def refuse_built_in_credentials(settings: VendorSettings) -> None:
    """A connector signs with a built-in development credential on loopback only (finsync/guards.py):
    NetSuite's is the DEV-ONLY key, S/4HANA's the communication user's default password, the other
    vendors' the default client secret (and Workday's default refresh token)."""
    if settings.kind == "netsuite" and isinstance(settings, ErpVendorSettings):
        from connectors.netsuite.auth import signing_key

        signing_key(settings)     # refuses the DEV-ONLY key itself, as a direct construction must too
    elif isinstance(settings, S4HanaVendorSettings):
        if guards.holds_built_in_password(settings):
            guards.refuse_built_in(f"the {settings.kind} connector", [settings.base_url],
                                   [f"{guards.section(settings)}.password"])
    else:
        guards.refuse_built_in(f"the {settings.kind} connector", [settings.base_url, settings.token_url],
                               guards.built_in_vendor_secrets(settings))


def build(settings: VendorSettings) -> Any:
    try:
        target = KINDS[settings.kind]
    except KeyError:
        raise ValueError(f"unknown connector kind {settings.kind!r}; known: {', '.join(sorted(KINDS))}") from None
    refuse_built_in_credentials(settings)
    module, _, name = target.partition(":")
    return getattr(import_module(module), name).from_settings(settings)
