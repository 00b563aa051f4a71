"""Workday's error body: ``{"error": "...", "errors": [{"error": "..."}]}`` (the REST APIs' shape as
clients parse it; unverified in detail), for every refusal of the sandbox, injected faults included.
The OAuth token endpoint answers in OAuth's own ``{"error", "error_description"}`` (see auth.py)."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException


class WorkdayError(Exception):
    """A refusal rendered as Workday's error body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        return JSONResponse(error_body(self.message), status_code=self.status, headers=self.headers)


def error_body(message: str) -> dict:
    return {"error": message, "errors": [{"error": message}]}


def render_error(status: int, retry_after: float | None) -> tuple[bytes, str]:
    """The kit's fault renderer: injected 429/5xx in Workday's shape."""
    message = {429: "Too many requests; retry after the Retry-After interval.",
               503: "The tenant is unavailable for maintenance; try again later."}.get(
        status, "An unexpected error occurred; try again later.")
    return json.dumps(error_body(message)).encode(), "application/json"


def not_found(kind: str, key: str) -> WorkdayError:
    return WorkdayError(404, f"No {kind} with id {key[:60]!r} exists.")


def install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(WorkdayError)
    async def workday_error(_request: Request, exc: WorkdayError) -> Response:
        return exc.response()

    @api.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return WorkdayError(400, f"invalid request: {where} {first.get('msg', '')}".strip()).response()

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        message = "No such resource." if exc.status_code == 404 else str(exc.detail)
        return WorkdayError(exc.status_code, message).response()
