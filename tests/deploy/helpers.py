"""Helpers for the deployment tests: credentials of a deployment's own, and what a sandbox accepts."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.netsuite.auth import ASSERTION_TYPE, TOKEN_PATH, SigningKey, client_assertion, dev_only_key
from finsync.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def own_webhook_secret(seed: bytes) -> list[SecretStr]:
    """A secret of the deployment's own (not one of the repository's)."""
    return [SecretStr("whsec_" + base64.b64encode(seed.ljust(32, b"-")).decode())]


def netsuite_key(settings: Settings) -> SigningKey:
    """The key the NetSuite connector signs with under ``settings``."""
    erp = settings.erp
    if erp.private_key_file:
        return SigningKey.from_pem(Path(erp.private_key_file).read_bytes(), str(erp.certificate_id))
    return dev_only_key()


async def token_status(name: str, app: Any, settings: Settings) -> int:
    """Whether the sandbox gives a token to a connector configured with ``settings`` (S/4HANA: lets it in)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        if name == "concur":
            response = await http.post("/oauth2/v0/token", data={
                "grant_type": "client_credentials", "client_id": settings.expense.client_id,
                "client_secret": settings.expense.client_secret.get_secret_value()})
        elif name == "coupa":
            response = await http.post("/oauth2/token", data={
                "grant_type": "client_credentials", "client_id": settings.procurement.client_id,
                "client_secret": settings.procurement.client_secret.get_secret_value(),
                "scope": " ".join(settings.procurement.scopes)})
        elif name == "s4hana":   # a communication user, no token: whether it may read at all
            response = await http.get("/sap/opu/odata/sap/API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic", auth=(
                settings.s4hana.user, settings.s4hana.password.get_secret_value()))
        elif name == "workday":
            payroll = settings.payroll_provider
            response = await http.post(f"/ccx/oauth2/{payroll.tenant}/token", data={
                "grant_type": "refresh_token", "refresh_token": payroll.refresh_token.get_secret_value(),
                "client_id": payroll.client_id, "client_secret": payroll.client_secret.get_secret_value()})
        elif name == "bank":
            response = await http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(
                settings.bank.client_id, settings.bank.client_secret.get_secret_value()))
        else:
            response = await http.post(TOKEN_PATH, data={
                "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": client_assertion(netsuite_key(settings), settings.erp.client_id,
                                                     "http://sandbox" + TOKEN_PATH)})
        return response.status_code


def finsync(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the ``finsync`` command with only the given settings (none from this environment)."""
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    environment = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "FINSYNC_CONFIG": str(empty),
                   "FINSYNC_DATA_DIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-m", "finsync.cli", *args], env=environment, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
