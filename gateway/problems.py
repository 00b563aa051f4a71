"""RFC 9457 problem details: every refusal says what was wrong, in a machine-readable shape."""

from __future__ import annotations

from fastapi.responses import JSONResponse

PROBLEM_BASE = "https://finsync.dev/problems/"


class Problem(Exception):
    def __init__(self, status: int, slug: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail

    def response(self, instance: str) -> JSONResponse:
        return JSONResponse(
            {"type": PROBLEM_BASE + self.slug, "title": self.title, "status": self.status,
             "detail": self.detail, "instance": instance},
            status_code=self.status, media_type="application/problem+json")
