"""Workday OAuth 2.0: an API client's refresh token for an access token, and the bearer every other
route demands.

``POST /ccx/oauth2/{tenant}/token`` (form): ``grant_type=refresh_token``, ``refresh_token``,
``client_id``, ``client_secret``. The refresh token is the one registered for the integration
system user (it does not expire, as Workday's "non-expiring refresh tokens"); the access token
answered lasts an hour. Refusals are OAuth's ``{"error", "error_description"}``: a wrong refresh
token is 400 ``invalid_grant``, a wrong client 401 ``invalid_client``. A request to any other
route without a valid, unexpired access token for this tenant gets 401 in Workday's error body.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandboxes.kit.tokens import TokenClaims
from sandboxes.workday.context import workday
from sandboxes.workday.errors import WorkdayError

TOKEN_PATH = "/ccx/oauth2/{tenant}/token"
TOKEN_LIFETIME_SECONDS = 3600

router = APIRouter()


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@router.post(TOKEN_PATH)
async def token(tenant: str, request: Request) -> JSONResponse:
    ctx = workday(request)
    ctx.check_tenant(tenant)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
    if form.get("grant_type") != "refresh_token":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be refresh_token.")
    client_id = form.get("client_id")
    if not ctx.tokens.check_client(client_id, form.get("client_secret")):
        return _oauth_error(401, "invalid_client", "Unknown client_id or wrong client_secret.")
    if not hmac.compare_digest(form.get("refresh_token", "").encode(), ctx.refresh_token.encode()):
        return _oauth_error(400, "invalid_grant", "The refresh token is invalid or was revoked.")
    assert client_id is not None
    return JSONResponse({"access_token": ctx.tokens.issue(client_id, scope=tenant), "token_type": "Bearer",
                         "expires_in": ctx.tokens.lifetime})


def bearer(tenant: str, request: Request) -> TokenClaims:
    """A valid, unexpired access token of this tenant, else a 401 (an unknown tenant: 404)."""
    ctx = workday(request)
    ctx.check_tenant(tenant)
    claims = ctx.tokens.verify(request.headers.get("authorization"))
    if claims is None or claims.scope != tenant:
        raise WorkdayError(401, "invalid or expired access token; request a new one at "
                           f"{TOKEN_PATH.format(tenant=ctx.tenant)}.",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return claims
