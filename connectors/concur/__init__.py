"""SAP Concur connector: the expense platform (Expense v4, Identity v4, Financial Integration, ESS)."""

from connectors.concur.client import ConcurClient
from connectors.concur.events import parse_status_changed

__all__ = ["ConcurClient", "parse_status_changed"]
