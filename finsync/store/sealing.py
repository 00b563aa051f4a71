"""Columns sealed at rest with the payload codec's key ring: an employee's name and bank account in
the integration store are as unreadable without the key as they are in Temporal's history.

A sealed value is ``sealed:v1:`` and the base64 of the codec's encrypted payload (finsync/codec.py),
so it names its key and a rotated-out key still opens it while the ring keeps it. A value written
before sealing was turned on has no prefix and reads as it is.
"""

from __future__ import annotations

import base64
from typing import Protocol

from temporalio.api.common.v1 import Payload

PREFIX = "sealed:v1:"


class PayloadCipher(Protocol):
    """finsync.codec.EncryptionCodec, which the worker hands in (the store sits below Temporal's runtime)."""

    def encrypt(self, payload: Payload) -> Payload: ...

    def decrypt(self, payload: Payload) -> Payload: ...


class FieldSealer:
    def __init__(self, codec: PayloadCipher) -> None:
        self.codec = codec

    def seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        sealed = self.codec.encrypt(Payload(data=value.encode()))
        return PREFIX + base64.b64encode(sealed.SerializeToString()).decode()

    def open(self, value: str | None) -> str | None:
        """The value as it was sealed (CodecError if its key is not in the ring); an unsealed one as it is."""
        if value is None or not value.startswith(PREFIX):
            return value
        sealed = Payload.FromString(base64.b64decode(value.removeprefix(PREFIX)))
        return self.codec.decrypt(sealed).data.decode()
