"""Oracle NetSuite (REST web services + SuiteQL, OAuth 2.0 M2M) as finsync's ERP."""

from connectors.netsuite.client import NetSuiteClient

__all__ = ["NetSuiteClient"]
