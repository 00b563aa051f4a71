"""A sandbox's built-in credentials serve loopback only.

Each sandbox starts with credentials published in this repository (the webhook secrets it signs
with, the ``finsync`` client's secret, NetSuite's DEV-ONLY certificate), so the local stack runs
with no setup. Anyone can sign or authenticate with them, so a sandbox listening beyond loopback
must be given its own. finsync's services follow the same rule (finsync/guards.py); this is the
sandboxes' own copy, as they never import finsync.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable
from dataclasses import dataclass


class SandboxCredentialRefused(ValueError):
    """A sandbox would listen beyond loopback with a credential from this repository."""


@dataclass(frozen=True)
class Credential:
    setting: str                 # what its launcher sets to replace it, e.g. "webhooks.expense_secrets"
    in_use: Collection[str]      # what the sandbox would run with
    built_in: Collection[str]    # the sandbox's published values


def listens_on_loopback(host: str) -> bool:
    """``host`` as given to the server: a name, an IPv4 or an IPv6 address (0.0.0.0 is every interface)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_built_in(sandbox: str, host: str, credentials: Iterable[Credential], env_prefix: str = "") -> None:
    """One line naming every credential still built in, if ``host`` is not loopback.
    ``env_prefix``: how the launcher reads settings from the environment (``FINSYNC_``)."""
    if listens_on_loopback(host):
        return
    built_in = [c.setting for c in credentials if set(c.in_use) & set(c.built_in)]
    if built_in:
        provide = ", ".join(f"{name} ({env_prefix}{name.upper().replace('.', '__')})" if env_prefix else name
                            for name in built_in)
        raise SandboxCredentialRefused(
            f"the {sandbox} sandbox refuses to start on {host} with built-in development credentials, which are "
            f"published and serve loopback only; provide your own: {provide}")
