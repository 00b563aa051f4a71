"""Pieces every finance process shares: search attributes, exception parking, retry policies."""
