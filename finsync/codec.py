"""Payload encryption: every payload finsync writes to Temporal, sealed with AES-256-GCM.

An encrypted payload carries ``encoding = binary/encrypted`` and ``encryption-key-id`` in its
metadata; its data is a 12-byte random nonce followed by the ciphertext (with GCM's tag) of the
original Payload, serialized. This is the layout of temporalio/samples-python's ``encryption``
sample, so its tools read ours. Keys form a ring: the active key encrypts, and any key in the ring
decrypts what names it, so history written before a rotation stays readable while its key is
kept. A payload that is not marked encrypted passes through decode as it is: history written
before the codec was turned on stays readable.

The codec runs wherever finsync meets Temporal (``finsync.temporal.data_converter``): the worker,
the gateway, the command line, and the codec server the Web UI decodes through.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from finsync.config import CODEC_KEY_BYTES, CodecSettings, decode_codec_key

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
_SHOWN_ID_CHARS = 64    # a key id in an error is cut here: it comes from the payload, so from anyone


def new_key() -> str:
    """A fresh random key, as configuration holds it (base64)."""
    return base64.b64encode(os.urandom(CODEC_KEY_BYTES)).decode()


class CodecError(ValueError):
    """A payload marked encrypted that this key ring cannot open. The message names the key id, never a key."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise ValueError(f"the active key {active_key_id!r} is not in the key ring ({', '.join(keys)})")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active_key_id = active_key_id

    @classmethod
    def from_settings(cls, codec: CodecSettings) -> EncryptionCodec:
        """The codec the configuration describes (validated there: 32-byte keys, an active one)."""
        keys: dict[str, bytes] = {}
        for key_id, key in codec.keys.items():
            raw = decode_codec_key(key)
            if raw is None:
                raise ValueError(f"temporal.codec.keys: key {key_id} is not base64 of 32 bytes")
            keys[key_id] = raw
        active = codec.active_key
        if active is None:
            raise ValueError("the codec has no active key: set temporal.codec.active_key_id")
        return cls(keys, active)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active_key_id].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self.active_key_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        """The original payload; one not marked encrypted is returned as it is."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        shown = repr(key_id[:_SHOWN_ID_CHARS])
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecError(f"payload encrypted with key {shown}, which is not in the key ring "
                             f"({', '.join(self._ciphers)}): add it to temporal.codec.keys")
        try:
            opened = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
        except (InvalidTag, ValueError):   # ValueError: too short to hold a nonce
            raise CodecError(f"payload under key {shown} does not decrypt: it was altered, or the key "
                             f"configured under that id is not the one it was encrypted with") from None
        return Payload.FromString(opened)
