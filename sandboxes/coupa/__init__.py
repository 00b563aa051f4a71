"""Coupa sandbox: the Core API's procurement resources (requisitions, approvals, purchase orders,
receipts, invoices, suppliers) with OAuth 2.0 scopes, offset paging, ``attr[op]=value`` filters,
the ``exported`` flag and a leaky-bucket rate limit, state in SQLite. Speaks only Coupa's shapes
(JSON, hyphenated keys, decimals as strings).

Where the real API is undocumented or cannot be matched, the sandbox assumes (each module says
more):
- errors are ``{"errors": {"error": ["..."]}}`` (the documented XML form, in JSON; unverified);
- 429 carries ``Retry-After`` (unverified); the limit is per client;
- a supplier's legal entity is its one content group (``content-groups: [{"name": "US01"}]``);
  the ship-to address's ``location-code`` is the requisition's entity;
- accounts are any three segments (entity, cost center, GL), unchecked against a chart, and any
  supplier may be requisitioned, so finsync's own checks can be exercised;
- a requisition's lines of several suppliers make one purchase order per supplier;
- an approval on hold is ``on_hold``; a rejected requisition is ``withdrawn``;
- receipt body fields (``order-line``, ``quantity``, ``transaction-date``) are unverified;
- order lines show ``received`` and ``invoiced`` (quantities) and ``invoiced-amount`` (an addition);
- an invoice is approved as it arrives unless the driver turns that off;
- marking ``exported`` does not bump ``updated-at``; every other change does and resets it;
- a repeated identical payment write-back is recorded once;
- optional Standard Webhooks events (Coupa's own integration is polling).
"""

from sandboxes.coupa.app import create_app

__all__ = ["create_app"]
