"""Connectors: one package per vendor, each an async httpx client that speaks the vendor's API
and translates between its shapes and finsync's canonical models.

``interfaces`` says what a connector of each role must do; ``registry`` builds the one the
configuration names. Base URLs and credentials come from configuration only.
"""
