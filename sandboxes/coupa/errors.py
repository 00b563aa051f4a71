"""Coupa's error body, in JSON.

Coupa documents its errors in XML, ``<errors><error>message</error></errors>``. The JSON form
used here, ``{"errors": {"error": ["message", ...]}}``, is unverified: it is the XML translated
key for key, as the reference suggests. Every refusal of the sandbox has this shape, injected
faults and the rate limit included.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandboxes.kit.jsonio import DecimalJSONResponse, dumps


class CoupaError(Exception):
    """A refusal rendered as Coupa's error body."""

    def __init__(self, status: int, *messages: str, headers: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = list(messages)
        self.headers = headers or {}

    def response(self) -> Response:
        return DecimalJSONResponse(error_body(*self.messages), status_code=self.status, headers=self.headers)


def error_body(*messages: str) -> dict:
    return {"errors": {"error": list(messages)}}


def render_error(status: int, retry_after: float | None) -> tuple[bytes, str]:
    """The kit's fault renderer: injected 429/5xx in Coupa's shape."""
    if status == 429:
        message = "Rate limit exceeded. Slow down and retry after the Retry-After interval."
    elif status == 503:
        message = "Coupa is temporarily unavailable for maintenance. Please try again later."
    else:
        message = "An unexpected error occurred. Please try again later."
    return dumps(error_body(message)).encode(), "application/json"


def not_found(kind: str, key: str) -> CoupaError:
    return CoupaError(404, f"No {kind} with id {key} exists.")


def install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(CoupaError)
    async def coupa_error(_request: Request, exc: CoupaError) -> Response:
        return exc.response()

    @api.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return CoupaError(400, f"Invalid request: {where} {first.get('msg', '')}".strip()).response()

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        message = "No such resource." if exc.status_code == 404 else str(exc.detail)
        return CoupaError(exc.status_code, message).response()
