"""NetSuite sandbox: REST record API (journal entries, purchase orders, vendor bills, their credits
and payments; reference reads), SuiteQL and M2M OAuth, state in SQLite. Speaks only NetSuite's
shapes."""

from sandboxes.netsuite.app import create_app

__all__ = ["create_app"]
