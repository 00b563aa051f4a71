"""NetSuite OAuth 2.0 machine-to-machine: a JWT client assertion in, a bearer token out.

The client signs a JWT with its private key; NetSuite checks it against the certificate
uploaded for that client under the ``kid`` (certificate id). Registered certificates are a
mapping client id -> certificate id -> PEM (certificate or public key).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sandboxes.kit.tokens import TokenClaims, TokenIssuer

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE = "rest_webservices"
TOKEN_LIFETIME_SECONDS = 3600
MAX_ASSERTION_LIFETIME_SECONDS = 3600
ALGORITHMS = ("PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512")

# DEV-ONLY key pair for the local stack (see dev_keys/README.md): public, so it proves nothing.
DEV_KEY_DIR = Path(__file__).resolve().parent / "dev_keys"
DEV_CLIENT_ID = "finsync"

# Bearer tokens are HMAC-signed so they survive a sandbox restart; this key guards only a sandbox.
_TOKEN_SIGNING_KEY = b"finsync-netsuite-sandbox-bearer-tokens"

Certificates = Mapping[str, Mapping[str, bytes | str]]


class AssertionRejected(Exception):
    """The token request failed; ``error`` is the OAuth error code NetSuite answers with."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


def dev_certificates() -> dict[str, dict[str, bytes]]:
    certificate_id = (DEV_KEY_DIR / "certificate_id.txt").read_text().strip()
    return {DEV_CLIENT_ID: {certificate_id: (DEV_KEY_DIR / "DEV-ONLY-certificate.pem").read_bytes()}}


def _public_key(pem: bytes | str):  # noqa: ANN202 - any cryptography public key type
    data = pem.encode() if isinstance(pem, str) else pem
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


class M2MAuth:
    """Checks client assertions against registered certificates and issues/checks bearer tokens."""

    def __init__(self, certificates: Certificates) -> None:
        self._keys = {client: {kid: _public_key(pem) for kid, pem in certs.items()}
                      for client, certs in certificates.items()}
        self._tokens = TokenIssuer(_TOKEN_SIGNING_KEY, clients={}, lifetime_seconds=TOKEN_LIFETIME_SECONDS)

    def token_for(self, form: Mapping[str, str], token_url: str) -> dict:
        """The token response for a client-credentials request, or AssertionRejected."""
        if form.get("grant_type") != "client_credentials":
            raise AssertionRejected("unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise AssertionRejected("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
        client_id = self._verify(form["client_assertion"], token_url)
        return {"access_token": self._tokens.issue(client_id, SCOPE), "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME_SECONDS}

    def bearer(self, authorization: str | None) -> TokenClaims | None:
        claims = self._tokens.verify(authorization)
        return claims if claims and SCOPE in claims.scope.split() else None

    def _verify(self, assertion: str, token_url: str) -> str:
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AssertionRejected("invalid_request", f"client_assertion is not a JWT: {exc}") from exc
        algorithm, kid, client_id = header.get("alg"), header.get("kid"), unverified.get("iss")
        if algorithm not in ALGORITHMS:
            raise AssertionRejected("invalid_request", f"unsupported JWT alg {algorithm!r}")
        key = self._keys.get(str(client_id), {}).get(str(kid))
        if key is None:
            raise AssertionRejected("invalid_client", f"no certificate {kid!r} is registered for client {client_id!r}")
        try:
            claims = jwt.decode(assertion, key, algorithms=[algorithm], audience=token_url,
                                options={"require": ["iss", "aud", "iat", "exp"]}, leeway=30)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise AssertionRejected("invalid_client", f"client_assertion rejected: {exc}") from exc
        if claims["exp"] - claims["iat"] > MAX_ASSERTION_LIFETIME_SECONDS:
            raise AssertionRejected("invalid_request", "client_assertion may be valid for at most one hour")
        scope = claims.get("scope", [])
        scopes = scope if isinstance(scope, list) else str(scope).replace(",", " ").split()
        if SCOPE not in scopes:
            raise AssertionRejected("invalid_scope", f"scope must include {SCOPE}")
        return str(client_id)
