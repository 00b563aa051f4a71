"""The codec server: the Web UI's ``/encode`` and ``/decode``, for whoever holds a configured token.

The protocol (temporalio/samples-go ``codec-server/protocol.md``): ``POST /decode`` and
``POST /encode`` take ``{"payloads": [...]}``, Temporal's ``Payloads`` in protobuf JSON, and
answer the same shape; the Web UI names the namespace in ``X-Namespace``. This server serves one
namespace, finsync's, and refuses another (403). Bad input is a 4xx with one line of JSON, never
a 5xx: a body that is not ``Payloads`` JSON (400), a payload under a key that is not in the ring
or that does not decrypt (422), a body over 16 MiB (413).

**How a browser proves it holds a token.** What Temporal Web UI 2.54.1 (the one in temporal CLI
1.9.1, ``.venv/bin/temporal``) can send a codec endpoint, read in its code and its settings API:

- Its request is ``fetch(endpoint + "/decode?preserveStorageRefs=true")`` with ``Content-Type:
  application/json`` and ``X-Namespace``, so the browser sends a CORS preflight first.
- "Pass the user access token" adds ``Authorization: Bearer <the UI's own OIDC access token>``,
  to an https endpoint only, and only once the UI has a login. The dev server's UI has none; and
  an OIDC token is not one of ours. So no token of ours can come that way.
- "Include cross-origin credentials" makes the fetch ``credentials: "include"``: the browser
  sends the cookies it holds for the codec server. That is the channel finsync uses. The user
  signs in once at this server's ``/login``, a form that posts the token (never in a URL), and
  gets an HttpOnly cookie; the UI's requests then carry it.
- The UI takes both switches from its server's settings, or from the browser's own Codec Server
  setting when the user overrides them there. ``temporal server start-dev`` sets only the endpoint
  (``--ui-codec-endpoint``; its ``/api/v1/settings`` answers ``IncludeCredentials: false``, and no
  flag changes that). So on the local stack the user ticks it in the UI once: Codec Server, "Use my
  browser setting", this endpoint, "Include cross-origin credentials". A Web UI server of one's
  own sets it for everyone: ``TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true`` (docker/compose.yaml).

Programs send the header: ``temporal workflow show --codec-endpoint <this server> --codec-auth
"Bearer <token>"``. Without a valid cookie or token every request is 401 and nothing is decoded.

The cookie holds HMAC-SHA256(token, "finsync codec session"), not the token: a browser sends a
host's cookies to every port of that host (the Web UI, the gateway, the sandboxes on 127.0.0.1),
and this value opens the codec server only. Taking a token out of ``server_tokens`` ends the
sessions signed in with it. It is ``HttpOnly; SameSite=Strict`` (and ``Secure`` on https), so no
other site's page makes the browser send it: open the Web UI and the codec server under the same
host name (127.0.0.1 with 127.0.0.1, or localhost with localhost).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from finsync.codec import CodecError, EncryptionCodec
from finsync.config import TemporalSettings

COOKIE = "finsync_codec_session"
SESSION_SECONDS = 8 * 3600
MAX_BODY_BYTES = 16 * 1024 * 1024
_SESSION_MESSAGE = b"finsync codec session"
_SHOWN_CHARS = 64   # a namespace from a request, cut in an error


class CodecServerRefused(ValueError):
    """The codec server cannot start with this configuration (one line naming the settings)."""


def check(settings: TemporalSettings) -> None:
    """The codec server needs keys to decode with and tokens to let anyone in."""
    missing = [name for name, given in (("temporal.codec.keys", settings.codec.keys),
                                        ("temporal.codec.server_tokens", settings.codec.server_tokens)) if not given]
    if missing:
        raise CodecServerRefused(
            "the codec server needs " + " and ".join(
                f"{name} ({'FINSYNC_' + name.upper().replace('.', '__')})" for name in missing)
            + "; `finsync codec-key new` makes a key")


def session_value(token: str) -> str:
    return hmac.new(token.encode(), _SESSION_MESSAGE, hashlib.sha256).hexdigest()


def _one_of(candidate: str, accepted: Sequence[str]) -> bool:
    """Constant time per comparison; every accepted value is compared, whichever matches."""
    matches = [hmac.compare_digest(candidate.encode(), value.encode()) for value in accepted]
    return any(matches)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"Cache-Control": "no-store"})


def create_app(settings: TemporalSettings) -> FastAPI:
    check(settings)
    codec = EncryptionCodec.from_settings(settings.codec)
    tokens = [token.get_secret_value() for token in settings.codec.server_tokens]
    sessions = [session_value(token) for token in tokens]
    ui_origins = settings.codec.ui_origins

    app = FastAPI(title="finsync codec server", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(CORSMiddleware, allow_origins=ui_origins, allow_credentials=True, allow_methods=["POST"],
                       allow_headers=["X-Namespace", "Content-Type", "Authorization"], max_age=600)

    def signed_in(request: Request) -> bool:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credential:
            return _one_of(credential.strip(), tokens)
        cookie = request.cookies.get(COOKIE)
        return cookie is not None and _one_of(cookie, sessions)

    async def convert(request: Request, apply: Callable[[Sequence[Payload]], Awaitable[list[Payload]]]) -> Response:
        if not signed_in(request):
            return _error(401, "not signed in: send Authorization: Bearer <token>, or sign in at /login for a session")
        namespace = request.headers.get("x-namespace")
        if namespace is not None and namespace != settings.namespace:
            return _error(403, f"this codec server serves namespace {settings.namespace!r}, "
                               f"not {namespace[:_SHOWN_CHARS]!r}")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, f"the body is over {MAX_BODY_BYTES // (1024 * 1024)} MiB: send fewer payloads at once")
        try:
            parsed = json.loads(body)
            if not isinstance(parsed, dict):
                raise ValueError("not a JSON object")
            given = json_format.ParseDict(parsed, Payloads(), ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, RecursionError) as error:   # ValueError: JSON, UTF-8
            return _error(400, "the body is not {\"payloads\": [...]} in Temporal's protobuf JSON: "
                               + (str(error).splitlines() or [""])[0][:200])
        try:
            answer = Payloads(payloads=await apply(given.payloads))
        except CodecError as error:
            return _error(422, str(error))
        return Response(json_format.MessageToJson(answer, indent=None, always_print_fields_with_no_presence=True),
                        media_type="application/json",
                        headers={"Cache-Control": "no-store"})

    @app.post("/decode")
    async def decode(request: Request) -> Response:
        return await convert(request, codec.decode)

    @app.post("/encode")
    async def encode(request: Request) -> Response:
        return await convert(request, codec.encode)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/")
    async def home() -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    @app.get("/login")
    async def login_form(request: Request) -> HTMLResponse:
        return _page("Sign in to finsync's codec server", _login_form(signed_in(request)))

    @app.post("/login")
    async def login(request: Request) -> HTMLResponse:
        form = parse_qs((await request.body())[:4096].decode(errors="replace"))   # a token is far shorter
        given = form.get("token", [""])[0].strip()
        if not given or not _one_of(given, tokens):
            return _page("Not signed in", "<p>That is not a token this codec server accepts.</p>"
                         + _login_form(False), status=401)
        page = _page("Signed in", _next_steps(settings, str(request.base_url).rstrip("/"), ui_origins))
        page.set_cookie(COOKIE, session_value(given), max_age=SESSION_SECONDS, path="/", httponly=True,
                        secure=request.url.scheme == "https", samesite="strict")
        return page

    @app.post("/logout")
    async def logout() -> HTMLResponse:
        page = _page("Signed out", "<p>This browser no longer decodes through the codec server.</p>"
                     + _login_form(False))
        page.delete_cookie(COOKIE, path="/")
        return page

    return app


def _login_form(signed_in: bool) -> str:
    state = ("<p>This browser is signed in.</p>"
             '<form method="post" action="/logout"><button type="submit">Sign out</button></form>') if signed_in else ""
    return (state + '<form method="post" action="/login">'
            '<label>Token (temporal.codec.server_tokens) <input type="password" name="token" autocomplete="off" '
            'autofocus required></label> <button type="submit">Sign in</button></form>')


def _next_steps(settings: TemporalSettings, endpoint: str, ui_origins: Sequence[str]) -> str:
    links = ", ".join(f'<a href="{html.escape(origin)}">{html.escape(origin)}</a>' for origin in ui_origins)
    return (f"<p>This browser may now decode payloads of namespace {html.escape(settings.namespace)} for "
            f"{SESSION_SECONDS // 3600} hours.</p>"
            f"<p>In the Temporal Web UI ({links}; under this page's host name), once per browser: open the "
            f"<b>Codec Server</b> settings (the icon at the top right), choose <b>Use my browser setting</b>, "
            f"enter <code>{html.escape(endpoint)}</code>, tick <b>Include cross-origin credentials</b> and "
            f"apply. A Web UI server configured with TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true needs none of "
            f"this.</p>")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A page of fixed text; what comes from configuration or the request's URL is escaped."""
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>", status_code=status,
        headers={"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
                 "Referrer-Policy": "no-referrer"})

