"""Vendor sandboxes: local HTTP servers that behave like the real vendor APIs.

A sandbox speaks only its vendor's shapes. It must never import finsync's canonical models or
connectors, so that it catches a connector's mistakes instead of sharing them.
"""
