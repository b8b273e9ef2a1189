"""Events: the record of every change (events_webhooks.md)."""
