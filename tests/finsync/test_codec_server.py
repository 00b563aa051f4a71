"""The codec server the Web UI decodes through: the token, the browser session, CORS, bad input."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from google.protobuf import json_format
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload, Payloads
from typer.testing import CliRunner

from finsync.cli import app
from finsync.codec import EncryptionCodec
from finsync.codec_server import COOKIE, CodecServerRefused, create_app
from finsync.config import CodecSettings, TemporalSettings

KEYS = {"2026-01": os.urandom(32), "2026-07": os.urandom(32)}
TOKENS = ["token-of-the-payroll-controller", "token-being-rotated-in"]
UI = "http://127.0.0.1:8233"
SECRET = b'{"employee": "Ada Lovelace", "net_pay": "4211.07"}'


def settings(tokens: list[str] = TOKENS) -> TemporalSettings:
    return TemporalSettings(namespace="finsync", codec=CodecSettings(
        enabled=True, active_key_id="2026-07", server_tokens=[SecretStr(t) for t in tokens],
        keys={key_id: SecretStr(base64.b64encode(key).decode()) for key_id, key in KEYS.items()}))


def client(tokens: list[str] = TOKENS) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings(tokens))),
                             base_url="http://127.0.0.1:8707")


@pytest.fixture
async def server() -> AsyncIterator[httpx.AsyncClient]:
    async with client() as http:
        yield http


def body(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


def payloads_of(response: httpx.Response) -> list[Payload]:
    return list(json_format.Parse(response.text, Payloads()).payloads)


async def encrypted(key_id: str = "2026-01") -> Payload:
    [sealed] = await EncryptionCodec(KEYS, key_id).encode([Payload(metadata={"encoding": b"json/plain"}, data=SECRET)])
    return sealed


def bearer(token: str = TOKENS[0]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Namespace": "finsync", "Content-Type": "application/json"}


def one_line_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert "\n" not in response.text
    message = response.json()["error"]
    assert isinstance(message, str) and message
    assert "Lovelace" not in response.text
    return message


# --- who may decode ------------------------------------------------------------------------------

async def test_without_a_token_nothing_is_decoded(server: httpx.AsyncClient):
    sealed = await encrypted()
    response = await server.post("/decode", content=body(sealed), headers={"X-Namespace": "finsync"})
    assert "not signed in" in one_line_error(response, 401)


async def test_a_wrong_token_decodes_nothing(server: httpx.AsyncClient):
    response = await server.post("/decode", content=body(await encrypted()), headers=bearer("token-of-someone"))
    one_line_error(response, 401)
    response = await server.post("/decode", content=body(await encrypted()),
                                 headers={**bearer(), "Authorization": f"Basic {TOKENS[0]}"})
    one_line_error(response, 401)


async def test_with_a_token_the_payloads_come_back_decoded_under_either_key(server: httpx.AsyncClient):
    unencrypted = Payload(metadata={"encoding": b"json/plain"}, data=b'"written before the codec"')
    response = await server.post("/decode", content=body(await encrypted("2026-01"), await encrypted("2026-07"),
                                                         unencrypted), headers=bearer())
    assert response.status_code == 200
    assert [p.data for p in payloads_of(response)] == [SECRET, SECRET, unencrypted.data]


async def test_every_configured_token_is_accepted_during_a_rotation(server: httpx.AsyncClient):
    for token in TOKENS:
        response = await server.post("/decode", content=body(await encrypted()), headers=bearer(token))
        assert response.status_code == 200


async def test_what_the_ui_encodes_decodes_to_itself_under_the_active_key(server: httpx.AsyncClient):
    typed = Payload(metadata={"encoding": b"json/plain"}, data=b'{"action": "retry", "resolved_by": "jane.doe"}')
    encoded = await server.post("/encode", content=body(typed), headers=bearer())
    [sealed] = payloads_of(encoded)
    assert sealed.metadata["encryption-key-id"] == b"2026-07"
    assert b"jane.doe" not in sealed.data
    decoded = await server.post("/decode", content=body(sealed), headers=bearer())
    assert payloads_of(decoded) == [typed]
    one_line_error(await server.post("/encode", content=body(typed)), 401)


async def test_another_namespace_is_refused(server: httpx.AsyncClient):
    response = await server.post("/decode", content=body(await encrypted()),
                                 headers={**bearer(), "X-Namespace": "someone-elses"})
    assert "serves namespace 'finsync', not 'someone-elses'" in one_line_error(response, 403)


# --- the browser's session (the Web UI's "include cross-origin credentials") --------------------

async def test_signing_in_gives_a_session_cookie_that_decodes_and_is_not_the_token(server: httpx.AsyncClient):
    refused = await server.post("/login", data={"token": "a guess"})
    assert refused.status_code == 401
    assert COOKIE not in refused.cookies

    signed_in = await server.post("/login", data={"token": TOKENS[1]})
    assert signed_in.status_code == 200
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert TOKENS[1] not in cookie

    response = await server.post("/decode", content=body(await encrypted()), headers={"X-Namespace": "finsync"})
    assert [p.data for p in payloads_of(response)] == [SECRET]

    await server.post("/logout")
    one_line_error(await server.post("/decode", content=body(await encrypted())), 401)


async def test_a_session_ends_when_its_token_is_taken_out_of_the_configuration():
    async with client() as before:
        session = (await before.post("/login", data={"token": TOKENS[0]})).cookies[COOKIE]
    async with client(tokens=[TOKENS[1]]) as after:
        after.cookies.set(COOKIE, session)
        response = await after.post("/decode", content=body(await encrypted()))
    one_line_error(response, 401)


async def test_the_sign_in_pages_never_show_what_was_typed(server: httpx.AsyncClient):
    page = await server.post("/login", data={"token": '<script>alert("x")</script>'})
    assert page.status_code == 401
    assert "<script>" not in page.text and "alert" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert (await server.get("/login")).status_code == 200


# --- CORS: the Web UI's origin only --------------------------------------------------------------

def preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace,authorization"}


async def test_the_web_uis_preflight_is_allowed_with_credentials(server: httpx.AsyncClient):
    for origin in (UI, "http://localhost:8233"):
        response = await server.options("/decode", headers=preflight(origin))
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"
        allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
        assert {"x-namespace", "content-type", "authorization"} <= allowed


async def test_another_origin_is_refused_at_the_preflight_and_cannot_read_an_answer(server: httpx.AsyncClient):
    response = await server.options("/decode", headers=preflight("https://evil.example"))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers

    answer = await server.post("/decode", content=body(await encrypted()),
                               headers={**bearer(), "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in answer.headers


async def test_a_refusal_reaches_the_web_ui_so_it_can_say_why(server: httpx.AsyncClient):
    response = await server.post("/decode", content=body(await encrypted()), headers={"Origin": UI})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == UI


# --- bad input: a 4xx in one line, never a 5xx ---------------------------------------------------

@pytest.mark.parametrize("content", [
    b"not json", b"{", b'{"payloads": "x"}', b'{"payloads": [{"data": "***not base64***"}]}',
    b'{"payloads": [{"metadata": {"encoding": 42}}]}', b"\xff\xfe", b"[]", b"[" * 100_000,
    b'{"payloads": [{"metadata": ' + b'{"a": ' * 50_000 + b"}",
])
async def test_a_body_that_is_not_payloads_is_400(server: httpx.AsyncClient, content: bytes):
    one_line_error(await server.post("/decode", content=content, headers=bearer()), 400)


async def test_no_payloads_is_no_payloads(server: httpx.AsyncClient):
    response = await server.post("/decode", content=b'{"payloads": []}', headers=bearer())
    assert (response.status_code, response.json()) == (200, {"payloads": []})


async def test_a_payload_under_an_unknown_key_or_tampered_is_422_naming_the_key(server: httpx.AsyncClient):
    [foreign] = await EncryptionCodec({"2025-01": os.urandom(32)}, "2025-01").encode([Payload(data=SECRET)])
    message = one_line_error(await server.post("/decode", content=body(foreign), headers=bearer()), 422)
    assert "'2025-01'" in message
    tampered = await encrypted()
    tampered.data = tampered.data[:-1] + bytes([tampered.data[-1] ^ 1])
    message = one_line_error(await server.post("/decode", content=body(tampered), headers=bearer()), 422)
    assert "'2026-01'" in message


async def test_an_oversized_body_is_413(server: httpx.AsyncClient):
    huge = json.dumps({"payloads": [{"data": base64.b64encode(b"x" * (13 * 1024 * 1024)).decode()}]})
    one_line_error(await server.post("/decode", content=huge, headers=bearer()), 413)


# --- starting it ---------------------------------------------------------------------------------

def test_it_refuses_to_start_without_keys_or_tokens():
    with pytest.raises(CodecServerRefused, match=r"temporal.codec.keys \(FINSYNC_TEMPORAL__CODEC__KEYS\) and "
                                                 r"temporal.codec.server_tokens"):
        create_app(TemporalSettings())
    with pytest.raises(CodecServerRefused, match=r"needs temporal.codec.server_tokens"):
        create_app(settings(tokens=[]))


def test_the_command_says_what_is_missing_in_one_line():
    result = CliRunner().invoke(app, ["codec-server"])
    assert result.exit_code == 2
    assert result.stderr.startswith("the codec server needs temporal.codec.keys")
    assert len(result.stderr.splitlines()) == 1


def test_a_new_key_is_a_configuration_line_the_codec_accepts():
    result = CliRunner().invoke(app, ["codec-key", "new", "--id", "2027-01"])
    key_id, _, key = result.stdout.strip().partition(" = ")
    assert key_id == "2027-01"
    assert len(base64.b64decode(json.loads(key))) == 32
    assert CodecSettings(keys={key_id: SecretStr(json.loads(key))}).active_key == "2027-01"
