"""Standard Webhooks verification, checked against the sandbox kit's signer (the sending side)."""

from __future__ import annotations

import random
import time

import pytest

from gateway.problems import Problem
from gateway.verify import Verifier
from sandboxes.kit.webhooks import sign

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_Zmluc3luYy1sb2NhbC1jb25jdXItd2ViaG9vay1rZXk="
BODY = b'{"eventType":"statusChanged"}'
NOW = 1_790_000_000


def headers(secrets=(SECRET,), msg_id="msg_1", ts=NOW, body=BODY):
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sign(list(secrets), msg_id, ts, body)}


def verify(h, body=BODY, secrets=(SECRET,), now=NOW):
    return Verifier(list(secrets)).verify(h, body, now=now)


def test_authentic_request_returns_the_webhook_id():
    assert verify(headers()) == "msg_1"


def test_rotation_accepts_any_active_secret_and_any_offered_signature():
    assert verify(headers(secrets=(OLD_SECRET, SECRET))) == "msg_1"
    assert verify(headers(secrets=(OLD_SECRET,)), secrets=(SECRET, OLD_SECRET)) == "msg_1"


@pytest.mark.parametrize("tamper", ["body", "id", "timestamp", "secret"])
def test_forgeries_are_refused_with_401(tamper):
    h, body, secrets = headers(), BODY, (SECRET,)
    if tamper == "body":
        body = BODY.replace(b"status", b"STATUS")
    elif tamper == "id":
        h["webhook-id"] = "msg_2"
    elif tamper == "timestamp":
        h["webhook-timestamp"] = str(NOW + 1)
    else:
        secrets = (OLD_SECRET,)
    with pytest.raises(Problem) as refused:
        verify(h, body, secrets)
    assert refused.value.status == 401 and refused.value.slug == "bad-signature"


@pytest.mark.parametrize("skew", [-301, 301])
def test_stale_or_future_timestamps_are_refused(skew):
    with pytest.raises(Problem) as refused:
        verify(headers(ts=NOW + skew))
    assert refused.value.status == 401 and refused.value.slug == "stale-webhook"


def test_missing_headers_are_a_400():
    with pytest.raises(Problem) as refused:
        verify({"webhook-id": "msg_1"})
    assert refused.value.status == 400


@pytest.mark.parametrize("timestamp", ["9" * 400, "-1", "1790000000.0", "1.79e9", " 1790000000", "1_790_000_000",
                                       "\u0661\u0667\u0669\u0660\u0660\u0660\u0660\u0660\u0660\u0660"])
def test_a_timestamp_is_ascii_unix_seconds_even_when_signed(timestamp):
    """The sender signed exactly this text: it is still not a timestamp (and 400 digits once gave a 500)."""
    h = {"webhook-id": "msg_1", "webhook-timestamp": timestamp,
         "webhook-signature": sign([SECRET], "msg_1", timestamp, BODY)}   # type: ignore[arg-type]
    with pytest.raises(Problem) as refused:
        verify(h, now=time.time())
    assert (refused.value.status, refused.value.slug) == (400, "bad-timestamp")


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", ""])
def test_a_bad_secret_stops_the_verifier_being_built_not_a_request(secret):
    with pytest.raises(ValueError, match="webhook secret"):
        Verifier([secret])


# Header values a hostile or broken sender might send; the signer turns each into a "signature".
HOSTILE_IDS = ["msg_1", "", " ", "é", "msg 1", "\x00", "msg_1\r\nx: y", "\U0001f4a5", "a" * 10_000, "m" * 256]
HOSTILE_TIMESTAMPS = ["9" * 400, "9" * 5000, "-1", "-9" * 300, "1.5", "1e9", "inf", "nan", "0x10", "", " ",
                      "\u0661\u0667\u0669", "1_0", "é", "\x00", "0" * 12, "000000000001790000000"]
HOSTILE_SIGNATURES = ["", "v1,", "v1,é", "v1,\U0001f4a5", "v1," + "A" * 43 + "=", "v1a,abc", "v2,abc", ",", "v1,,",
                      "v1," + "=" * 44, " " * 100, "v1,a " * 500, "v1," + "é" * 43 + "="]


def test_no_header_whatever_its_content_gets_past_verification_as_anything_but_a_4xx():
    """A property over hostile headers: verify returns an id or raises a 4xx Problem, nothing else."""
    rng = random.Random(9457)
    for _ in range(2000):
        msg_id = rng.choice(HOSTILE_IDS)
        now = time.time()
        timestamp = rng.choice([*HOSTILE_TIMESTAMPS, str(int(now))])
        body = rng.choice([b"", BODY, bytes(rng.randrange(256) for _ in range(64))])
        if rng.random() < 0.3:   # a real signature over the hostile values, as a sender with the key would make
            signature = sign([SECRET], msg_id, timestamp, body)   # type: ignore[arg-type]
        else:
            signature = " ".join(rng.choice(HOSTILE_SIGNATURES) for _ in range(rng.randint(1, 3)))
        h = {name: value for name, value in (("webhook-id", msg_id), ("webhook-timestamp", timestamp),
                                             ("webhook-signature", signature)) if rng.random() < 0.95}
        try:
            assert verify(h, body, secrets=rng.choice([(SECRET,), (OLD_SECRET, SECRET)]), now=now) == msg_id
        except Problem as refused:
            assert 400 <= refused.status < 500
