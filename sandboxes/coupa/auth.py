"""Coupa OAuth 2.0: client credentials at ``POST /oauth2/token``, and the scope each route demands.

Scopes are ``core.<object>.<read|write>``, space-separated. A client asks for the scopes it needs
and gets exactly those; the sandbox grants every client every scope it knows (in Coupa an admin
picks them per client). Write does not imply read. Tokens last 24 hours.

A missing, forged or expired token gets 401; a valid token without the route's scope gets 403;
both with Coupa's error body (see errors.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from sandboxes.coupa.context import coupa
from sandboxes.coupa.errors import CoupaError
from sandboxes.kit.tokens import TokenClaims

TOKEN_PATH = "/oauth2/token"
TOKEN_LIFETIME_SECONDS = 24 * 3600
OBJECTS = ("requisition", "approval", "purchase_order", "inventory_transaction", "invoice", "supplier")
SCOPES = frozenset(f"core.{obj}.{right}" for obj in OBJECTS for right in ("read", "write"))

router = APIRouter()


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@router.post(TOKEN_PATH)
async def token(request: Request) -> JSONResponse:
    ctx = coupa(request)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials.")
    client_id = form.get("client_id")
    if not ctx.tokens.check_client(client_id, form.get("client_secret")):
        return _oauth_error(401, "invalid_client", "Unknown client_id or wrong client_secret.")
    assert client_id is not None
    requested = form.get("scope", "").split()
    unknown = sorted(set(requested) - SCOPES)
    if not requested or unknown:
        return _oauth_error(400, "invalid_scope", "Ask for one or more of the scopes core.<object>.<read|write>"
                            + (f"; unknown: {' '.join(unknown)}" if unknown else "") + ".")
    scope = " ".join(dict.fromkeys(requested))
    return JSONResponse({"access_token": ctx.tokens.issue(client_id, scope), "token_type": "bearer",
                         "expires_in": ctx.tokens.lifetime, "scope": scope})


def bearer(request: Request) -> TokenClaims:
    """A valid, unexpired bearer token, else a 401."""
    claims = coupa(request).tokens.verify(request.headers.get("authorization"))
    if claims is None:
        raise CoupaError(401, "The access token is missing, invalid or expired. Request a new one at "
                         f"{TOKEN_PATH}.", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return claims


def scope(obj: str, right: str) -> Callable[..., TokenClaims]:
    """A route dependency: a token carrying ``core.<obj>.<right>``, else 401 or 403."""
    needed = f"core.{obj}.{right}"
    assert needed in SCOPES, needed

    def check(claims: TokenClaims = Depends(bearer)) -> TokenClaims:
        if needed not in claims.scope.split():
            raise CoupaError(403, f"The access token does not grant the scope {needed}.",
                             headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'})
        return claims

    return check


def read(obj: str) -> Any:
    return Depends(scope(obj, "read"))


def write(obj: str) -> Any:
    return Depends(scope(obj, "write"))
