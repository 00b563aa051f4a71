"""Columns sealed at rest with the payload codec's key ring: an employee's name and bank account in
the integration store are as unreadable without the key as they are in Temporal's history.

A sealed value is ``sealed:v1:`` and the base64 of the codec's encrypted payload (finsync/codec.py),
so it names its key and a rotated-out key still opens it while the ring keeps it. A value written
before sealing was turned on has no prefix and reads as it is.
"""

from __future__ import annotations

import base64

from temporalio.api.common.v1 import Payload

from finsync.codec import EncryptionCodec
from finsync.config import CodecSettings

PREFIX = "sealed:v1:"


class FieldSealer:
    def __init__(self, codec: EncryptionCodec) -> None:
        self.codec = codec

    @classmethod
    def from_settings(cls, codec: CodecSettings) -> FieldSealer | None:
        """A sealer where payload encryption is on ([temporal.codec] enabled); None where it is off."""
        return cls(EncryptionCodec.from_settings(codec)) if codec.enabled else None

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
