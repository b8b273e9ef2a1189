"""Invoice status (invoices.md S1-S11): the first matching rule wins."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = frozenset(
    {"draft", "not_sent", "sent", "viewed", "past_due", "pending", "paid", "voided"}
)


@dataclass(frozen=True)
class StatusFacts:
    voided: bool
    draft: bool
    paid: bool
    pending: bool
    autopay: bool
    due_date: int | None
    attempt_count: int
    viewed: bool
    sent: bool
    installment_past_due: bool = False  # S7, payment plans (payment_plans.md)


def invoice_status(facts: StatusFacts, now: int) -> str:
    if facts.voided:
        return "voided"  # S1
    if facts.draft:
        return "draft"  # S2
    if facts.paid:
        return "paid"  # S3
    if facts.pending:
        return "pending"  # S5
    if facts.autopay and facts.due_date is None and facts.attempt_count > 0:
        return "past_due"  # S6
    if facts.installment_past_due:
        return "past_due"  # S7
    if facts.due_date is not None and facts.due_date < now:
        return "past_due"  # S8
    if facts.viewed:
        return "viewed"  # S9
    if facts.sent:
        return "sent"  # S10
    return "not_sent"  # S11


def is_paid(balance: int, draft: bool, voided: bool) -> bool:
    """R13."""
    return balance <= 0 and not draft and not voided
