"""A bank taking ISO 20022 credit transfers (pain.001 in; pain.002 and camt.054 out)."""

from sandboxes.bank.app import create_app

__all__ = ["create_app"]
