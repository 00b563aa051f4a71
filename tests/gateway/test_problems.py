"""The framework's own refusals (no such endpoint, wrong method, invalid request) are problem+json."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from gateway import problems


def app_with_problems() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/reports/{number}")
    async def report(number: int, limit: int = 10) -> dict:
        return {"number": number, "limit": limit}

    return app


async def answer(method: str, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app_with_problems()), base_url="http://gateway") as http:
        return await http.request(method, url)


async def test_a_request_that_does_not_validate_is_a_422_problem_naming_the_fields_not_echoing_them():
    response = await answer("GET", "/reports/not-a-number?limit=<script>")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/invalid-request") and problem["instance"] == "/reports/not-a-number"
    assert "path.number" in problem["detail"] and "query.limit" in problem["detail"]
    assert "<script>" not in problem["detail"] and "not-a-number" not in problem["detail"]


async def test_not_found_and_method_not_allowed_are_problems():
    missing, wrong_method = await answer("GET", "/nothing"), await answer("DELETE", "/reports/1")
    assert (missing.status_code, missing.json()["type"]) == (404, "https://finsync.dev/problems/not-found")
    assert (wrong_method.status_code, wrong_method.json()["type"]) == (405, "https://finsync.dev/problems/method-not-allowed")
    assert wrong_method.headers["allow"] == "GET" and "GET" in wrong_method.json()["detail"]
    assert all(r.headers["content-type"] == "application/problem+json" for r in (missing, wrong_method))
