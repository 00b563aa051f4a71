"""Built-in development credentials serve loopback only.

The defaults in ``finsync/config.py`` let the local stack run with no setup: the webhook secrets
the sandboxes sign with, the client secret the sandboxes accept, and (in the NetSuite connector)
the sandbox's DEV-ONLY key. They are published in this repository, so anyone can sign with them.
Every finsync service that listens (the gateway) or signs (each connector, built through
``connectors/registry.py``) refuses to start with one of them on anything but a loopback
address, in one line that names the setting to provide. The vendor sandboxes apply the same rule
with their own copy (``sandboxes/kit/guard.py``), as they never import finsync.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from pydantic import SecretStr

from finsync.config import (
    BankVendorSettings,
    ErpVendorSettings,
    ExpenseVendorSettings,
    PayrollVendorSettings,
    ProcurementVendorSettings,
    S4HanaVendorSettings,
    VendorSettings,
    WebhookSettings,
)


class BuiltInCredentialRefused(ValueError):
    """A service would use a published development credential beyond loopback."""


def host_of(address: str) -> str:
    """The host in a URL (``http://h:1/x``), a ``host:port``, ``[v6]:port`` or a bare host."""
    if "//" in address:
        return urlsplit(address).hostname or ""
    if address.startswith("["):
        return address[1:].partition("]")[0]
    host, colon, port = address.rpartition(":")
    if colon and port.isdigit() and ":" not in host:
        return host
    return address


def is_loopback(address: str) -> bool:
    host = host_of(address).lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False   # a name other than localhost, or 0.0.0.0 / :: (every interface)


def env_name(setting: str) -> str:
    """``webhooks.expense_secrets`` -> ``FINSYNC_WEBHOOKS__EXPENSE_SECRETS``."""
    return "FINSYNC_" + setting.upper().replace(".", "__")


def refuse_built_in(service: str, addresses: Iterable[str | None], built_in: Sequence[str]) -> None:
    """Refuse if any of ``built_in`` (the settings still holding a development value) would be
    used on an address that is not loopback."""
    beyond = next((a for a in addresses if a is not None and not is_loopback(a)), None)
    if built_in and beyond is not None:
        provide = ", ".join(f"{name} ({env_name(name)})" for name in built_in)
        raise BuiltInCredentialRefused(
            f"{service} refuses to start on {beyond} with built-in development credentials, which are published "
            f"and serve loopback only; provide your own: {provide}")


def _same_secret(a: str, b: str) -> bool:
    return a.removeprefix("whsec_") == b.removeprefix("whsec_")   # the prefix is optional to verifiers


def _holds_default(values: list[SecretStr], defaults: list[SecretStr]) -> bool:
    return any(_same_secret(v.get_secret_value(), d.get_secret_value()) for v in values for d in defaults)


def built_in_webhook_secrets(webhooks: WebhookSettings) -> list[str]:
    """The webhook secret settings that accept a signature made with a built-in secret."""
    fields = WebhookSettings.model_fields
    return [f"webhooks.{name}" for name in ("expense_secrets", "bank_secrets", "procurement_secrets", "s4hana_secrets",
                                            "payroll_secrets")
            if _holds_default(getattr(webhooks, name), fields[name].default)]


def holds_built_in_client_secret(vendor: VendorSettings) -> bool:
    default = VendorSettings.model_fields["client_secret"].default
    return vendor.client_secret.get_secret_value() == default.get_secret_value()


def holds_built_in_password(vendor: S4HanaVendorSettings) -> bool:
    default = S4HanaVendorSettings.model_fields["password"].default
    return vendor.password.get_secret_value() == default.get_secret_value()


def built_in_vendor_secrets(vendor: VendorSettings) -> list[str]:
    """The vendor's settings that still hold a built-in development secret: its client secret, and
    the payroll provider's refresh token."""
    found = [f"{section(vendor)}.client_secret"] if holds_built_in_client_secret(vendor) else []
    if isinstance(vendor, PayrollVendorSettings):
        default = PayrollVendorSettings.model_fields["refresh_token"].default
        if vendor.refresh_token.get_secret_value() == default.get_secret_value():
            found.append(f"{section(vendor)}.refresh_token")
    return found


def section(vendor: VendorSettings) -> str:
    """The settings section a vendor's configuration lives in (``expense``, ``erp``, ``bank``,
    ``procurement``, ``s4hana``, ``payroll_provider``)."""
    sections = {ExpenseVendorSettings: "expense", ErpVendorSettings: "erp", BankVendorSettings: "bank",
                ProcurementVendorSettings: "procurement", S4HanaVendorSettings: "s4hana",
                PayrollVendorSettings: "payroll_provider"}
    return next((name for cls, name in sections.items() if isinstance(vendor, cls)), vendor.kind)


def check_gateway(host: str, webhooks: WebhookSettings) -> None:
    refuse_built_in("the gateway", [host], built_in_webhook_secrets(webhooks))
