"""Bearer tokens a sandbox issues and checks.

Tokens are HMAC-signed (client id, scope, expiry), so they survive a sandbox restart without
a token table, as a real vendor's tokens survive its deploys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class TokenClaims:
    client_id: str
    scope: str
    expires_at: int


class TokenIssuer:
    def __init__(self, signing_key: bytes, clients: dict[str, str], lifetime_seconds: int = 3600) -> None:
        self._key = signing_key
        self._clients = clients          # client_id -> client_secret
        self.lifetime = lifetime_seconds

    def check_client(self, client_id: str | None, client_secret: str | None) -> bool:
        expected = self._clients.get(client_id or "")
        return expected is not None and hmac.compare_digest(expected, client_secret or "")

    def issue(self, client_id: str, scope: str = "") -> str:
        claims = {"sub": client_id, "scope": scope, "exp": int(time.time()) + self.lifetime,
                  "jti": secrets.token_hex(6)}
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def verify(self, authorization: str | None) -> TokenClaims | None:
        """Claims of a valid, unexpired ``Bearer`` token, else None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = authorization[len("Bearer "):].strip()
        body, _, signature = token.partition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        if claims.get("exp", 0) < time.time():
            return None
        return TokenClaims(claims["sub"], claims.get("scope", ""), claims["exp"])

    def _sign(self, body: str) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, body.encode(), hashlib.sha256).digest()).decode().rstrip("=")
