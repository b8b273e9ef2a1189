"""Event type names (events_webhooks.md §4) and actor ids (§2)."""

from __future__ import annotations

from typing import Any

EMITTED = frozenset(
    {
        "charge.failed",
        "charge.pending",
        "charge.succeeded",
        "contact.created",
        "contact.updated",
        "contact.deleted",
        "credit_note.created",
        "credit_note.updated",
        "credit_note.deleted",
        "credit_note.viewed",
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "customer.merged",
        "email.sent",
        "email.not_sent",
        "estimate.created",
        "estimate.updated",
        "estimate.deleted",
        "estimate.viewed",
        "estimate.approved",
        "invoice.created",
        "invoice.updated",
        "invoice.deleted",
        "invoice.viewed",
        "invoice.paid",
        "line_item.created",
        "line_item.updated",
        "line_item.deleted",
        "note.created",
        "note.updated",
        "note.deleted",
        "payment.created",
        "payment.updated",
        "payment.deleted",
        "payment_plan.created",
        "payment_plan.updated",
        "payment_plan.deleted",
        "payment_source.created",
        "payment_source.updated",
        "payment_source.deleted",
        "refund.created",
        "subscription.created",
        "subscription.updated",
        "subscription.deleted",
        "task.created",
        "task.updated",
        "task.deleted",
        "task.completed",
        "transaction.created",
        "transaction.updated",
        "transaction.deleted",
    }
)
# Object names accepted by `type=` and `related_to=` (EV12).
OBJECT_NAMES = frozenset(name.split(".", 1)[0] for name in EMITTED) | {
    "card",
    "bank_account",
    "plan",
    "item",
    "coupon",
    "tax_rate",
}
# `payment_source` matches cards and bank accounts (EV12).
OBJECT_ALIASES = {"payment_source": ("payment_source", "card", "bank_account")}

ACTOR_API = -3
ACTOR_SCHEDULER = -2
ACTOR_CUSTOMER = -1
# `from=` values (EV12); `team` means any real user id (> 0).
FROM_ACTORS = {"customer": ACTOR_CUSTOMER, "invoiced": ACTOR_SCHEDULER, "api": ACTOR_API}


def actor_json(user_id: int) -> dict[str, Any]:
    """The `user` of an event: a synthetic user for API, scheduler and portal actions."""
    return {
        "id": user_id,
        "first_name": None,
        "last_name": None,
        "email": None,
        "two_factor_enabled": False,
        "registered": True,
        "created_at": None,
        "updated_at": None,
    }
