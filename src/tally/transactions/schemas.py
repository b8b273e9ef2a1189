"""Transaction request and response shapes, and the function that renders one."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tally.domain.money import exponent, from_minor
from tally.http.validation import (
    Currency,
    Input,
    Metadata,
    Number,
    ObjectId,
    Text,
    Timestamp,
)
from tally.models import Transaction

READ_ONLY_REJECTED: frozenset[str] = frozenset()


class TransactionInput(Input):
    customer: ObjectId = None
    invoice: ObjectId = None
    credit_note: ObjectId = None
    estimate: ObjectId = None
    parent_transaction: ObjectId = None
    date: Timestamp = None
    type: Text = None
    method: Text = None
    status: Text = None
    gateway: Text = Field(default=None, max_length=64)
    gateway_id: Text = Field(default=None, max_length=255)
    currency: Currency = None
    amount: Number = None
    notes: Text = Field(default=None, max_length=10_000)
    failure_reason: Text = Field(default=None, max_length=255)
    metadata: Metadata = None


class RefundInput(Input):
    amount: Number = None


class TransactionOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    object: Literal["transaction"]
    customer: int | dict[str, Any]
    invoice: int | dict[str, Any] | None
    credit_note: int | None
    estimate: int | None
    date: int
    type: Literal["charge", "payment", "refund", "adjustment"]
    method: str
    status: Literal["succeeded", "pending", "failed"]
    gateway: str | None
    gateway_id: str | None
    payment_source: dict[str, Any] | None
    currency: str
    amount: float
    notes: str | None
    failure_reason: str | None
    parent_transaction: int | dict[str, Any] | None
    payment: int | None
    pdf_url: str | None
    metadata: dict[str, str]
    created_at: int
    updated_at: int


def receipt_url(public_base_url: str, account_identifier: str, client_id: str) -> str:
    return f"{public_base_url}/payments/{account_identifier}/{client_id}/pdf"


def transaction_json(
    transaction: Transaction, *, pdf_url: str | None, expanded: dict[str, Any] | None = None
) -> dict[str, Any]:
    expand = expanded or {}
    return {
        "id": transaction.id,
        "object": "transaction",
        "customer": expand.get("customer", transaction.customer_id),
        "invoice": expand.get("invoice", transaction.invoice_id),
        "credit_note": transaction.credit_note_id,
        "estimate": transaction.estimate_id,
        "date": transaction.date,
        "type": transaction.type,
        "method": transaction.method,
        "status": transaction.status,
        "gateway": transaction.gateway,
        "gateway_id": transaction.gateway_id,
        "payment_source": None,  # payment_sources.md
        "currency": transaction.currency,
        "amount": from_minor(transaction.amount, exponent(transaction.currency)),
        "notes": transaction.notes,
        "failure_reason": transaction.failure_reason,
        "parent_transaction": expand.get("parent_transaction", transaction.parent_transaction_id),
        "payment": transaction.payment_id,
        "pdf_url": pdf_url,
        "metadata": dict(transaction.metadata_),
        "created_at": transaction.created_at,
        "updated_at": transaction.updated_at,
    }
