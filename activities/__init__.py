"""Activities: thin, idempotent steps that touch the outside world through connectors.

Each module holds one vendor role's activities as methods of a class that is given its
connector at worker start, so the same code runs against a sandbox or a real tenant.
"""
