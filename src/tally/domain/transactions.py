"""Transaction rules (transactions_payments.md TX4-TX8, TX12) that need no database."""

from __future__ import annotations

import re

from tally.domain.errors import InvalidRequest

TYPES = frozenset({"charge", "payment", "refund", "adjustment"})
STATUSES = frozenset({"succeeded", "pending", "failed"})
# TX4a: the backend does not check methods; we accept any short lowercase word.
_METHOD = re.compile(r"[a-z0-9_]{1,32}")


def method(value: str | None) -> str:
    if value is None:
        return "other"
    if not _METHOD.fullmatch(value):
        raise InvalidRequest("Method is invalid", "method")
    return value


def transaction_type(value: str | None) -> str:
    if value is None:
        return "payment"  # Decision: the backend's default
    if value not in TYPES:
        raise InvalidRequest("Type must be one of the allowed values", "type")
    return value


def status(value: str | None) -> str:
    if value is None:
        return "succeeded"
    if value not in STATUSES:
        raise InvalidRequest("Status must be one of the allowed values", "status")
    return value


def check_amount(kind: str, minor: int) -> None:
    """TX4: non-zero; payments, charges and refunds are recorded as positive amounts."""
    if minor == 0:
        raise InvalidRequest("Amount is invalid", "amount")
    if minor < 0 and kind in ("payment", "charge"):
        raise InvalidRequest(
            "Creating negative payments is not allowed. Please use a positive amount or "
            "create a `refund` transaction instead.",
            "amount",
        )
    if minor < 0 and kind == "refund":
        raise InvalidRequest(
            "Creating negative refunds is not allowed. Please use a positive amount or "
            "create a `payment` transaction instead.",
            "amount",
        )


def paid_effect(kind: str, state: str, minor: int) -> int:
    """TX6: how much a transaction adds to its invoice's `amount_paid` (minor units)."""
    if state != "succeeded":
        return 0  # pending and failed transactions move no money
    if kind in ("payment", "charge"):
        return minor
    if kind == "refund":
        return -minor
    return 0


def check_refund(
    original_kind: str, original_status: str, refunded: int, minor: int, original: int
) -> None:
    """TX12: only succeeded charges and payments, and never more than was paid."""
    if original_kind not in ("charge", "payment") or original_status != "succeeded":
        raise InvalidRequest("Only succeeded charges and payments can be refunded.")
    if minor <= 0:
        raise InvalidRequest("Amount is invalid", "amount")
    if refunded + minor > original:
        raise InvalidRequest("The refund amount exceeds the amount available to refund.", "amount")
