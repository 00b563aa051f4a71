"""Workflows: deterministic process code. No I/O, clocks, randomness or threads here."""
