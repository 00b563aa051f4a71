"""NetSuite OAuth 2.0 M2M: the signed JWT client assertion, and which key signs it.

NetSuite checks the assertion against the certificate uploaded for the integration under its
certificate id (the JWT ``kid``). Configure ``erp.private_key_file`` and ``erp.certificate_id``.
When both are unset the connector falls back to the sandbox's DEV-ONLY key pair, so the local
stack runs with no setup; that key (configured or not) signs for loopback addresses only
(finsync/guards.py), so a real tenant can never be called with a published key.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from finsync import guards
from finsync.config import ErpVendorSettings

log = logging.getLogger(__name__)

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 3600   # NetSuite's maximum
DEV_KEY_DIR = Path(__file__).resolve().parents[2] / "sandboxes" / "netsuite" / "dev_keys"
_EC_ALGORITHMS = {256: "ES256", 384: "ES384", 521: "ES512"}


@dataclass(frozen=True)
class SigningKey:
    private_key_pem: bytes
    certificate_id: str
    algorithm: str      # PS256 for an RSA key (NetSuite no longer takes RS256 here), ES* for EC

    @classmethod
    def from_pem(cls, pem: bytes, certificate_id: str) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            algorithm = "PS256"
        elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size in _EC_ALGORITHMS:
            algorithm = _EC_ALGORITHMS[key.curve.key_size]
        else:
            raise ValueError("NetSuite M2M needs an RSA or an EC (P-256/384/521) private key")
        return cls(pem, certificate_id, algorithm)

    def public_key_der(self) -> bytes:
        key = serialization.load_pem_private_key(self.private_key_pem, password=None)
        return key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)


def dev_only_key() -> SigningKey:
    return SigningKey.from_pem((DEV_KEY_DIR / "DEV-ONLY-private-key.pem").read_bytes(),
                               (DEV_KEY_DIR / "certificate_id.txt").read_text().strip())


def signing_key(settings: ErpVendorSettings) -> SigningKey:
    """The configured key, else the DEV-ONLY sandbox key; the DEV-ONLY key for loopback URLs only."""
    dev = dev_only_key()
    if settings.private_key_file and settings.certificate_id:
        key = SigningKey.from_pem(Path(settings.private_key_file).read_bytes(), settings.certificate_id)
    elif settings.private_key_file or settings.certificate_id:
        raise ValueError("NetSuite M2M needs both erp.private_key_file and erp.certificate_id")
    else:
        key = dev
    if key.public_key_der() == dev.public_key_der():
        guards.refuse_built_in("the NetSuite connector", [settings.base_url, settings.token_url],
                               ["erp.private_key_file", "erp.certificate_id"])
        _warn_dev_key(settings.base_url)
    return key


@functools.cache
def _warn_dev_key(base_url: str) -> None:
    """Once per process and URL: the guard and the client both ask for the key."""
    log.warning("NetSuite connector signs with the DEV-ONLY sandbox key (loopback %s)", base_url)


def client_assertion(key: SigningKey, client_id: str, token_url: str) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "scope": ["rest_webservices"], "aud": token_url, "iat": now,
              "exp": now + ASSERTION_LIFETIME_SECONDS}
    return jwt.encode(claims, key.private_key_pem, algorithm=key.algorithm, headers={"kid": key.certificate_id})
