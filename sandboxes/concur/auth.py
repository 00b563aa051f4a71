"""Concur OAuth2 (``/oauth2/v0/token``) and the bearer check every API route makes.

Sandbox simplification: any valid token may act for any user. Real Concur ties user tokens to
their user and company tokens to the scopes the app was granted.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import or_, select

from sandboxes.concur.context import base_url, concur
from sandboxes.concur.errors import ConcurApiError
from sandboxes.concur.models import ConcurUser
from sandboxes.kit.db import session
from sandboxes.kit.tokens import TokenClaims

SCOPE = ("openid expense.report.read expense.report.readwrite expense.report.workflow.action "
         "FISVC events.topic.read identity.user.core.read identity.user.enterprise.read")

router = APIRouter()


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@router.post("/oauth2/v0/token")
async def token(request: Request) -> JSONResponse:
    ctx = concur(request)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    grant = form.get("grant_type", "")
    client_id = form.get("client_id")
    if not ctx.access_tokens.check_client(client_id, form.get("client_secret")):
        return oauth_error(401, "invalid_client", "Unknown client_id or wrong client_secret.")
    assert client_id is not None
    if grant == "refresh_token":
        claims = ctx.refresh_tokens.verify(f"Bearer {form.get('refresh_token', '')}")
        if claims is None or claims.client_id != client_id:
            return oauth_error(400, "invalid_grant", "The refresh token is invalid or expired.")
    elif grant == "password":
        # Sandbox simplification: the user must exist; the password is not checked.
        username = form.get("username", "")
        with session(ctx.engine) as db:
            user = db.exec(select(ConcurUser).where(
                or_(ConcurUser.email == username, ConcurUser.employee_number == username))).first()
        if user is None:
            return oauth_error(400, "invalid_grant", "Incorrect credentials.")
    elif grant != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", f"Grant type {grant!r} is not supported.")
    return JSONResponse({
        "expires_in": str(ctx.access_tokens.lifetime),   # a string, as Concur sends it
        "scope": SCOPE,
        "token_type": "Bearer",
        "access_token": ctx.access_tokens.issue(client_id, SCOPE),
        "refresh_token": ctx.refresh_tokens.issue(client_id, "refresh"),
        "geolocation": base_url(request),
    })


def require_token(request: Request) -> TokenClaims:
    """FastAPI dependency: a valid, unexpired bearer token, else a 401 in the v4 shape."""
    claims = concur(request).access_tokens.verify(request.headers.get("authorization"))
    if claims is None:
        raise ConcurApiError(401, "The access token is missing, invalid or expired.")
    return claims
