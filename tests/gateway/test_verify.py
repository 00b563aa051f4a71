"""Standard Webhooks verification, checked against the sandbox kit's signer (the sending side)."""

from __future__ import annotations

import pytest

from gateway.problems import Problem
from gateway.verify import verify
from sandboxes.kit.webhooks import sign

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_Zmluc3luYy1sb2NhbC1jb25jdXItd2ViaG9vay1rZXk="
BODY = b'{"eventType":"statusChanged"}'
NOW = 1_790_000_000


def headers(secrets=(SECRET,), msg_id="msg_1", ts=NOW, body=BODY):
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sign(list(secrets), msg_id, ts, body)}


def test_authentic_request_returns_the_webhook_id():
    assert verify(headers(), BODY, [SECRET], now=NOW) == "msg_1"


def test_rotation_accepts_any_active_secret_and_any_offered_signature():
    assert verify(headers(secrets=(OLD_SECRET, SECRET)), BODY, [SECRET], now=NOW) == "msg_1"
    assert verify(headers(secrets=(OLD_SECRET,)), BODY, [SECRET, OLD_SECRET], now=NOW) == "msg_1"


@pytest.mark.parametrize("tamper", ["body", "id", "timestamp", "secret"])
def test_forgeries_are_refused_with_401(tamper):
    h, body, secrets = headers(), BODY, [SECRET]
    if tamper == "body":
        body = BODY.replace(b"status", b"STATUS")
    elif tamper == "id":
        h["webhook-id"] = "msg_2"
    elif tamper == "timestamp":
        h["webhook-timestamp"] = str(NOW + 1)
    else:
        secrets = [OLD_SECRET]
    with pytest.raises(Problem) as refused:
        verify(h, body, secrets, now=NOW)
    assert refused.value.status == 401 and refused.value.slug == "bad-signature"


@pytest.mark.parametrize("skew", [-301, 301])
def test_stale_or_future_timestamps_are_refused(skew):
    with pytest.raises(Problem) as refused:
        verify(headers(ts=NOW + skew), BODY, [SECRET], now=NOW)
    assert refused.value.status == 401 and refused.value.slug == "stale-webhook"


def test_missing_headers_are_a_400():
    with pytest.raises(Problem) as refused:
        verify({"webhook-id": "msg_1"}, BODY, [SECRET], now=NOW)
    assert refused.value.status == 400
