"""Pieces every finance process shares: search attributes, the exception model and its remedies, retry policies."""
