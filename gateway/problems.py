"""RFC 9457 problem details: every refusal says what was wrong, in a machine-readable shape.

That includes the answers the web framework gives by itself (no such endpoint, wrong method, a
request that does not validate): ``install`` makes those problem+json too.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from connectors.payloads import one_line

PROBLEM_BASE = "https://finsync.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class ProblemDetails(BaseModel):
    """The body of every refusal (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str


class Problem(Exception):
    def __init__(self, status: int, slug: str, title: str, detail: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers

    def response(self, instance: str) -> JSONResponse:
        details = ProblemDetails(type=PROBLEM_BASE + self.slug, title=self.title, status=self.status,
                                 detail=self.detail, instance=instance)
        return JSONResponse(details.model_dump(), status_code=self.status, media_type=MEDIA_TYPE, headers=self.headers)


def install(app: FastAPI) -> None:
    """Answer the framework's own refusals as problems."""

    @app.exception_handler(HTTPException)
    async def http_problem(request: Request, error: HTTPException) -> JSONResponse:
        title = HTTPStatus(error.status_code).phrase
        detail = {404: "there is no such endpoint; webhooks go to POST /webhooks/expense, /webhooks/bank, "
                       "/webhooks/procurement, /webhooks/payroll and /callbacks/s4hana/journal-entry",
                  405: f"this endpoint accepts {(error.headers or {}).get('Allow', 'other methods')}"}.get(
            error.status_code, str(error.detail))
        slug = title.lower().replace(" ", "-")
        return Problem(error.status_code, slug, title, detail, error.headers).response(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return Problem(422, "invalid-request", "Invalid request", one_line(error.errors())).response(request.url.path)
