"""Coupa (Core API, OAuth2 client credentials) as finsync's procurement platform."""

from connectors.coupa.client import CoupaClient

__all__ = ["CoupaClient"]
