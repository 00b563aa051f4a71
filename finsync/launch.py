"""What each finsync command checks before it starts a service, and the vendor sandboxes it runs
with finsync's own credentials.

No service starts with a built-in development credential beyond loopback: the gateway's and the
connectors' checks raise ``finsync.guards.BuiltInCredentialRefused``, a sandbox's own check
``sandboxes.kit.guard.SandboxCredentialRefused``; both are one line naming the settings to provide.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from connectors import registry
from finsync import guards
from finsync.config import ErpVendorSettings, Settings
from sandboxes.kit.faults import FaultConfig
from sandboxes.kit.guard import Credential, refuse_built_in

SANDBOX_ROLES = {"concur": "expense", "netsuite": "erp", "bank": "bank", "coupa": "procurement", "s4hana": "s4hana",
                 "workday": "payroll_provider"}
# The webhook secrets each role's sandbox signs with (webhooks.<name>), where not "<role>_secrets".
WEBHOOK_SECRETS = {"payroll_provider": "payroll_secrets"}


def check_gateway(settings: Settings) -> None:
    guards.check_gateway(settings.gateway.host, settings.webhooks)
    registry.refuse_built_in_credentials(settings.expense)   # it reads a new report's header for its summary
    registry.refuse_built_in_credentials(settings.procurement)   # it reads the document a procurement event names


def check_worker(settings: Settings) -> None:
    for vendor in (settings.expense, settings.erp, settings.bank, settings.procurement, settings.s4hana,
                   settings.payroll_provider):
        registry.refuse_built_in_credentials(vendor)


def sandbox_app(name: str, settings: Settings, host: str, employees: int | None = None) -> Any:
    """Sandbox ``name``'s ASGI app, accepting what finsync's connectors send and signing webhooks
    as finsync's gateway verifies them; refused beyond loopback while any of those is built in.
    ``employees``: the Workday sandbox's workforce (else what it had, else its default)."""
    module = import_module(f"sandboxes.{name}.app")
    kwargs: dict[str, Any] = {"faults": FaultConfig.from_env(name)}
    if name == "netsuite":
        published = _public_pems(import_module("sandboxes.netsuite.auth").dev_certificates())
        kwargs["clients"] = certificates = _netsuite_certificates(settings.erp)
        in_use = published if certificates is None else _public_pems(certificates)
        credentials = [Credential(setting, in_use, published) for setting in ("erp.private_key_file", "erp.certificate_id")]
    elif name == "s4hana":
        # The communication user the connector logs on as; confirmations signed as the gateway verifies them.
        secrets = [s.get_secret_value() for s in settings.webhooks.s4hana_secrets]
        kwargs["webhook_secrets"] = secrets
        kwargs["users"] = {settings.s4hana.user: settings.s4hana.password.get_secret_value()}
        credentials = [
            Credential("webhooks.s4hana_secrets", _unprefixed(secrets), _unprefixed(module.DEFAULT_WEBHOOK_SECRETS)),
            Credential("s4hana.password", kwargs["users"].values(), module.DEFAULT_USERS.values())]
    else:
        role = SANDBOX_ROLES[name]
        vendor = getattr(settings, role)
        secrets_name = WEBHOOK_SECRETS.get(role, f"{role}_secrets")
        secrets = [s.get_secret_value() for s in getattr(settings.webhooks, secrets_name)]
        kwargs["webhook_secrets"] = secrets
        kwargs["clients"] = {vendor.client_id: vendor.client_secret.get_secret_value()}
        credentials = [
            Credential(f"webhooks.{secrets_name}", _unprefixed(secrets), _unprefixed(module.DEFAULT_WEBHOOK_SECRETS)),
            Credential(f"{role}.client_secret", kwargs["clients"].values(), module.DEFAULT_CLIENTS.values())]
    if name == "bank":
        # How long the bank takes to decide a payment (the benchmark sets 0).
        kwargs["settle_after_seconds"] = float(os.environ.get("FINSYNC_SANDBOX_BANK_SETTLE_SECONDS", "1.0"))
    if name == "coupa" and os.environ.get("FINSYNC_SANDBOX_COUPA_RATE_PER_SECOND"):
        # Requests a second per client, Coupa's 25 unless set: the benchmark lifts it, because its
        # people (warehouse, supplier) would otherwise share finsync's client, as they do not in Coupa.
        kwargs["rate_per_second"] = float(os.environ["FINSYNC_SANDBOX_COUPA_RATE_PER_SECOND"])
    if name == "workday":
        payroll = settings.payroll_provider
        kwargs.update(tenant=payroll.tenant, report_owner=payroll.report_owner,
                      refresh_token=payroll.refresh_token.get_secret_value(), employees=employees)
        credentials.append(Credential("payroll_provider.refresh_token", [kwargs["refresh_token"]],
                                      module.DEFAULT_REFRESH_TOKENS))
    refuse_built_in(name, host, credentials, env_prefix="FINSYNC_")
    return module.create_app(settings.data_dir / "sandboxes" / f"{name}.db", **kwargs)


async def register_s4hana_confirmations(base_url: str, endpoint: str) -> str:
    """Point the S/4HANA sandbox's asynchronous confirmations at ``endpoint`` (the gateway's), as an
    administrator sets up a tenant's communication arrangement; a real tenant is only told about.
    One line saying which it was."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        try:
            health = (await http.get("/_sandbox/health")).json()
        except (httpx.HTTPError, ValueError):
            health = None
        if not (isinstance(health, dict) and health.get("sandbox") == "s4hana"):
            return f"s4hana: enter {endpoint} as the confirmation endpoint in the tenant's communication arrangement"
        (await http.put("/_sandbox/callbacks", json={"endpoint": endpoint})).raise_for_status()
    return f"s4hana confirmations go to {endpoint}"


def _unprefixed(secrets: list[str]) -> list[str]:
    return [s.removeprefix("whsec_") for s in secrets]   # the prefix is optional to verifiers


def _netsuite_certificates(erp: ErpVendorSettings) -> dict[str, dict[str, str]] | None:
    """The configured key's public half under its certificate id; None: the sandbox's DEV-ONLY one."""
    if erp.private_key_file and erp.certificate_id:
        return {erp.client_id: {erp.certificate_id: _public_pem(Path(erp.private_key_file).read_bytes())}}
    if erp.private_key_file or erp.certificate_id:
        raise ValueError("NetSuite M2M needs both erp.private_key_file and erp.certificate_id")
    return None


def _public_pems(certificates: Mapping[str, Mapping[str, bytes | str]]) -> set[str]:
    return {_public_pem(pem) for by_id in certificates.values() for pem in by_id.values()}


def _public_pem(pem: bytes | str) -> str:
    """The SubjectPublicKeyInfo PEM of a private key, a public key or a certificate."""
    data = pem.encode() if isinstance(pem, str) else pem
    public: Any
    if b"BEGIN CERTIFICATE" in data:
        public = x509.load_pem_x509_certificate(data).public_key()
    elif b"PRIVATE KEY" in data:
        public = serialization.load_pem_private_key(data, password=None).public_key()
    else:
        public = serialization.load_pem_public_key(data)
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
