"""SAP S/4HANA Cloud: journal entries over SOAP, read back over OData (see client.py)."""

from connectors.s4hana.client import S4HanaClient

__all__ = ["S4HanaClient"]
