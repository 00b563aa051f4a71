"""Concur's error bodies: the v4 shape for API refusals, its own shape for 429, SCIM for identity."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ConcurApiError(Exception):
    """A refusal rendered as a v4 error body."""

    def __init__(self, status: int, message: str, validation_errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.validation_errors = validation_errors or []


class ScimError(Exception):
    """A refusal from the Identity v4 (SCIM) API, which has its own error shape."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_text(status: int) -> str:
    """``"409 - Conflict"``, as Concur writes ``httpStatus``."""
    try:
        return f"{status} - {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def v4_error_body(status: int, message: str, path: str,
                  validation_errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"errorId": uuid.uuid4().hex, "errorMessage": message, "httpStatus": status_text(status),
            "path": path, "timestamp": now_iso(), "validationErrors": validation_errors or []}


def rate_limit_body() -> dict[str, Any]:
    return {"timestamp": now_iso(), "httpStatus": status_text(429),
            "error": {"id": "security.rate.limit.reached", "message": "Too many requests"}}


def render_error(status: int, retry_after: float | None) -> tuple[bytes, str]:
    """Bodies for the fault injector, which answers before any route (so no path is known)."""
    if status == 429:
        body = rate_limit_body()
    elif status == 503:
        body = v4_error_body(status, "The service is down for maintenance; try again in a few minutes.", "")
    else:
        body = v4_error_body(status, "An internal error occurred; try again later.", "")
    return json.dumps(body).encode(), "application/json"


def install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ConcurApiError)
    async def concur_error(request: Request, exc: ConcurApiError) -> JSONResponse:
        return JSONResponse(v4_error_body(exc.status, exc.message, request.url.path, exc.validation_errors),
                            status_code=exc.status)

    @api.exception_handler(ScimError)
    async def scim_error(request: Request, exc: ScimError) -> JSONResponse:
        body: dict[str, Any] = {"schemas": [SCIM_ERROR_SCHEMA], "status": str(exc.status), "detail": exc.detail}
        if exc.scim_type:
            body["scimType"] = exc.scim_type
        return JSONResponse(body, status_code=exc.status)

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"id": str(err.get("type", "invalid")), "message": str(err.get("msg", "")),
                   "source": ".".join(str(p) for p in err.get("loc", ()))} for err in exc.errors()]
        return JSONResponse(v4_error_body(400, "The request is not valid.", request.url.path, errors), status_code=400)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = "No such resource." if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(v4_error_body(exc.status_code, message, request.url.path), status_code=exc.status_code)
