"""The payload codec: AES-256-GCM under a key ring, so a rotated-out key still decodes."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload

from finsync.codec import ENCODING, KEY_ID, CodecError, EncryptionCodec, new_key
from finsync.config import CodecSettings

SECRET = b'{"employee": "Ada Lovelace", "iban": "DE89370400440532013000"}'


def plain(data: bytes = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def keys(*ids: str) -> dict[str, bytes]:
    return {key_id: os.urandom(32) for key_id in ids}


async def test_a_payload_round_trips_and_nothing_of_it_shows_encrypted():
    codec = EncryptionCodec(keys("k1"), "k1")
    [sealed] = await codec.encode([plain()])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"k1"
    assert b"Lovelace" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [plain()]


async def test_the_same_payload_encrypts_differently_each_time():
    codec = EncryptionCodec(keys("k1"), "k1")
    first, second = await codec.encode([plain(), plain()])
    assert first.data[:12] != second.data[:12]      # a fresh nonce each time
    assert first.data != second.data


async def test_after_a_rotation_the_old_key_still_decodes_and_the_new_one_encrypts():
    ring = keys("2026-01", "2026-07")
    before = EncryptionCodec({"2026-01": ring["2026-01"]}, "2026-01")
    [written_before] = await before.encode([plain()])

    after = EncryptionCodec(ring, "2026-07")
    [written_after] = await after.encode([plain()])

    assert written_after.metadata[KEY_ID] == b"2026-07"
    assert await after.decode([written_before, written_after]) == [plain(), plain()]


async def test_a_payload_under_a_key_not_in_the_ring_is_refused_naming_the_key_id():
    [sealed] = await EncryptionCodec(keys("retired"), "retired").encode([plain()])
    ring = keys("current")
    with pytest.raises(CodecError) as refused:
        await EncryptionCodec(ring, "current").decode([sealed])
    assert "'retired'" in str(refused.value)
    assert "current" in str(refused.value)
    assert base64.b64encode(ring["current"]).decode() not in str(refused.value)


async def test_a_tampered_ciphertext_is_refused_naming_the_key_id():
    ring = keys("k1")
    codec = EncryptionCodec(ring, "k1")
    [sealed] = await codec.encode([plain()])
    tampered = bytearray(sealed.data)
    tampered[-1] ^= 0x01
    sealed.data = bytes(tampered)
    with pytest.raises(CodecError, match="key 'k1' does not decrypt"):
        await codec.decode([sealed])


async def test_the_same_key_id_with_another_key_does_not_decrypt():
    [sealed] = await EncryptionCodec(keys("k1"), "k1").encode([plain()])
    with pytest.raises(CodecError, match="'k1'"):
        await EncryptionCodec(keys("k1"), "k1").decode([sealed])


async def test_a_payload_too_short_to_hold_a_nonce_is_refused_not_a_crash():
    codec = EncryptionCodec(keys("k1"), "k1")
    with pytest.raises(CodecError):
        await codec.decode([Payload(metadata={"encoding": ENCODING, KEY_ID: b"k1"}, data=b"short")])


async def test_a_payload_written_before_the_codec_passes_through_decode_unchanged():
    codec = EncryptionCodec(keys("k1"), "k1")
    unencrypted = [plain(), Payload(metadata={"encoding": b"binary/null"}), Payload()]
    assert await codec.decode(unencrypted) == unencrypted


async def test_the_codec_the_configuration_describes():
    key = new_key()
    settings = CodecSettings(enabled=True, keys={"only": SecretStr(key)})
    codec = EncryptionCodec.from_settings(settings)
    [sealed] = await codec.encode([plain()])
    assert sealed.metadata[KEY_ID] == b"only"    # the only key is the active one
    assert await EncryptionCodec({"only": base64.b64decode(key)}, "only").decode([sealed]) == [plain()]
