"""Deployment tests build their settings explicitly: nothing from the developer's environment or
./finsync.toml reaches them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from finsync.config import settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("FINSYNC_"):
            monkeypatch.delenv(name)
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    monkeypatch.setenv("FINSYNC_CONFIG", str(empty))
    settings.cache_clear()
    yield
    settings.cache_clear()   # what a test loaded stays with it


@pytest.fixture
def own_key_file(tmp_path: Path) -> Path:
    """A NetSuite M2M private key of the deployment's own."""
    path = tmp_path / "netsuite-m2m.pem"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path
