"""SAP Concur sandbox: Expense v4, Identity v4, Financial Integration v4, Event Subscription Service.

Where the real API is undocumented or cannot be matched, the sandbox assumes:
- any valid token may act for any user (real Concur ties user tokens to their user);
- ``statusId`` in an approve body must name the report's current status when sent;
- a report may be recalled until it is paid, even after approval (real Concur: until approved);
- an expense's reclaimable VAT is ``taxDetails[{taxCode, reclaimableAmount}]``, worked out from
  the tax code's rate when not sent; receipt images are not uploaded, any ``receiptImageId`` goes;
- the expense list carries every field of an expense (real Concur lists a summary);
- FI lists accept ``docStatus=READY|ACKNOWLEDGED``; FI per-item codes other than 0 and 101 and the
  posting/payment confirmation answers are guesses (shapes follow public integration code);
- ``Concur-Signature`` is an HMAC placeholder; Standard Webhooks headers carry the real check;
- the Expense v3 report read is trimmed to the fields finsync needs (the owner's login id).
"""

from sandboxes.concur.app import create_app

__all__ = ["create_app"]
