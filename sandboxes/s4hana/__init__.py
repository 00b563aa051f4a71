"""SAP S/4HANA Cloud sandbox: journal entries posted over SOAP (the synchronous
``JournalEntryCreateRequestConfirmation_In`` and the asynchronous
``JournalEntryBulkCreationRequest_In``, whose confirmation goes to a registered callback),
reversed by reference document, and read back over OData; company codes, cost centers, GL
accounts and posting periods from the demo company; state in SQLite. Speaks only SAP's shapes.

Where SAP's behaviour is unpublished, the sandbox assumes (each module says more): the reversal
message (messages.py), the log messages' type ids and wording (posting.py), the OData view of the
asynchronous messages' status (odata.py), Standard Webhooks signatures on the callback
(app.py), and references of up to 128 characters.
"""

from sandboxes.s4hana.app import create_app

__all__ = ["create_app"]
