"""Talking to the NetSuite sandbox over real HTTP in tests: a signed M2M assertion, a bearer
token, SuiteQL rows."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import httpx
import jwt

DEV_KEYS = Path(__file__).resolve().parents[2] / "sandboxes" / "netsuite" / "dev_keys"
DEV_KID = (DEV_KEYS / "certificate_id.txt").read_text().strip()
DEV_PRIVATE_KEY = (DEV_KEYS / "DEV-ONLY-private-key.pem").read_bytes()
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
SUITEQL = "/services/rest/query/v1/suiteql"
TODAY = date(2026, 3, 15)            # the sandbox's day of creation in tests: March open, February and before closed


def assertion(base_url: str, *, key: bytes = DEV_PRIVATE_KEY, kid: str = DEV_KID, lifetime: int = 3600) -> str:
    now = int(time.time())
    claims = {"iss": "finsync", "scope": ["rest_webservices"], "aud": base_url + TOKEN_PATH,
              "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, key, algorithm="PS256", headers={"kid": kid})


async def request_token(http: httpx.AsyncClient, client_assertion: str) -> httpx.Response:
    return await http.post(TOKEN_PATH, data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion})


async def authorized_client(base_url: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=base_url, timeout=10)
    response = await request_token(http, assertion(base_url))
    http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return http


async def suiteql(http: httpx.AsyncClient, q: str) -> list[dict]:
    response = await http.post(SUITEQL, json={"q": q}, headers={"Prefer": "transient"})
    assert response.status_code == 200, response.text
    return response.json()["items"]
