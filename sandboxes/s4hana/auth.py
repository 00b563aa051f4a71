"""The communication user: HTTP Basic, as S/4HANA Cloud's communication arrangements authenticate
an inbound SOAP or OData call (the X.509 alternative is not modelled)."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

REALM = 'Basic realm="SAP NetWeaver Application Server [S4H/100]"'


def communication_user(authorization: str | None, users: Mapping[str, str]) -> str | None:
    """The user an ``Authorization: Basic`` header proves, else None."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not credentials or len(credentials) > 1024:
        return None
    try:
        user, colon, password = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    expected = users.get(user)
    if not colon or expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
        return None
    return user
