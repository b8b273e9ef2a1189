"""Payment rules that need no database (transactions_payments.md PY1-PY8).

A payment's `applied_to` is a list of splits. Cash splits (`invoice`, `estimate`, `credit`,
`convenience_fee`) spend the payment's own amount; `applied_credit` and `credit_note` splits
move money the customer already had, so they do not count against it (PY7).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tally.domain import transactions
from tally.domain.credit_ledger import BALANCE
from tally.domain.errors import InvalidRequest
from tally.domain.money import format_money

CASH = ("invoice", "estimate", "credit", "convenience_fee")
TYPES = frozenset({*CASH, "applied_credit", "credit_note"})
DOCUMENT_TYPES = ("invoice", "estimate")
PARAM = "applied_to"


@dataclass(frozen=True)
class Split:
    type: str
    amount: int  # minor units, > 0
    invoice: int | None = None
    estimate: int | None = None
    credit_note: int | None = None
    id: int | None = None  # the transaction behind an existing split (PY11)

    @property
    def counts(self) -> bool:
        """PY7: whether the split spends the payment's own amount."""
        return self.type in CASH

    @property
    def key(self) -> tuple[object, ...]:
        """PY6: what may appear only once per payment: type, document and credit note."""
        return (self.type, self.invoice, self.estimate, self.credit_note)

    def describe(self) -> str:
        for name in ("invoice", "estimate", "credit_note"):
            if getattr(self, name) is not None:
                return f"{name}:{getattr(self, name)}"
        return self.type


def check_split(
    kind: str | None,
    amount: int | None,
    currency: str,
    *,
    invoice: int | None = None,
    estimate: int | None = None,
    credit_note: int | None = None,
    document_type: str | None = None,
    split_id: int | None = None,
) -> Split:
    """PY4: one split's shape, before any document is looked up."""
    if kind is None:
        raise InvalidRequest("Missing `type` parameter", PARAM)
    if kind not in TYPES:
        raise InvalidRequest(f"Invalid payment application type: {kind}", PARAM)
    if amount is None:
        raise InvalidRequest("Missing `amount` parameter", PARAM)
    if amount <= 0:
        raise InvalidRequest(
            "Amount applied to document must be greater than 0. "
            f"Provided: {format_money(amount, currency)}",
            PARAM,
        )
    if kind in CASH:
        if invoice is not None and kind != "invoice":
            raise InvalidRequest("Cannot supply invoice ID to non-invoice splits.", PARAM)
        if estimate is not None and kind != "estimate":
            raise InvalidRequest("Cannot supply estimate ID to non-estimate splits.", PARAM)
        if credit_note is not None:
            raise InvalidRequest("Cannot supply credit note ID to cash splits.", PARAM)
        if kind == "invoice" and invoice is None:
            raise InvalidRequest("Missing `invoice` parameter", PARAM)
        if kind == "estimate" and estimate is None:
            raise InvalidRequest("Missing `estimate` parameter", PARAM)
        return Split(kind, amount, invoice, estimate, None, split_id)
    # applied_credit and credit_note name the document they pay.
    if document_type is None:
        document_type = "invoice" if invoice is not None or estimate is None else "estimate"
    if document_type not in DOCUMENT_TYPES:
        raise InvalidRequest("Document type must be invoice or estimate", PARAM)
    target = invoice if document_type == "invoice" else estimate
    if target is None:
        raise InvalidRequest(f"Missing `{document_type}` parameter", PARAM)
    if kind == "credit_note" and credit_note is None:
        raise InvalidRequest("Missing `credit_note` parameter", PARAM)
    if kind == "applied_credit" and credit_note is not None:
        raise InvalidRequest("Cannot supply credit note ID to applied credit splits.", PARAM)
    if document_type == "invoice":
        return Split(kind, amount, invoice=target, credit_note=credit_note, id=split_id)
    return Split(kind, amount, estimate=target, credit_note=credit_note, id=split_id)


def check_unique(splits: Sequence[Split]) -> None:
    """PY6: each document once per payment."""
    seen: set[tuple[object, ...]] = set()
    for split in splits:
        if split.key in seen:
            raise InvalidRequest(
                "Each document can only be applied once per payment. "
                f"Detected duplicate ({split.describe()})",
                PARAM,
            )
        seen.add(split.key)


def applied(splits: Iterable[Split]) -> int:
    """What the splits take from the payment's own amount (PY7/PY8)."""
    return sum(split.amount for split in splits if split.counts)


def check_total(splits: Sequence[Split], amount: int, currency: str) -> None:
    """PY7: the cash splits together never exceed the payment."""
    total = applied(splits)
    if total > amount:
        raise InvalidRequest(
            f"Total amount applied ({format_money(total, currency)}) cannot exceed the "
            f"payment amount ({format_money(amount, currency)})",
            PARAM,
        )


def check_amount(amount: int | None) -> int:
    """PY1: required, and never negative (0 carries credit-only applications)."""
    if amount is None:
        raise InvalidRequest("Amount is missing", "amount")
    if amount < 0:
        raise InvalidRequest("The amount cannot be less than 0.", "amount")
    return amount


def method(value: str | None) -> str:
    """TX4a, except `balance`: that method marks credit spends, which splits express."""
    chosen = transactions.method(value)
    if chosen == BALANCE:
        raise InvalidRequest(
            "The `balance` method is reserved for credit balance applications.", "method"
        )
    return chosen


def check_document_room(number: str, amount: int, balance: int, currency: str) -> None:
    """Decision: a split pays at most what its document still owes. The excess of a payment
    belongs in a `credit` split or stays unapplied in the payment's balance (PY8); unlike a
    legacy transaction (TX7), a payment never drives an invoice negative."""
    if amount > balance:
        raise InvalidRequest(
            f"The amount applied to {number} ({format_money(amount, currency)}) "
            f"exceeds its balance ({format_money(max(balance, 0), currency)})",
            PARAM,
        )
