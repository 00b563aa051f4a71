"""Where the bank pushes its reports: one subscriber endpoint, kept across restarts."""

from __future__ import annotations

from sandboxes.bank.tables import WebhookSubscription
from sandboxes.kit.webhooks import Subscription

subscription = Subscription(WebhookSubscription.__table__)  # type: ignore[attr-defined]
