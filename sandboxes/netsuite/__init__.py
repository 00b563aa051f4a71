"""NetSuite sandbox: REST record API (journalEntry writes, reference reads), SuiteQL and M2M
OAuth, state in SQLite. Speaks only NetSuite's shapes."""

from sandboxes.netsuite.app import create_app

__all__ = ["create_app"]
