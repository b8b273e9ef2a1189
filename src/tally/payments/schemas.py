"""Payment request and response shapes, and the functions that render them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tally.domain.credit_ledger import BALANCE
from tally.domain.money import exponent, from_minor
from tally.http.validation import (
    Blankable,
    Currency,
    Input,
    Metadata,
    Number,
    ObjectId,
    Text,
    Timestamp,
)
from tally.models import Payment, Transaction
from tally.transactions.schemas import receipt_url


class SplitInput(Input):
    id: ObjectId = None
    type: Text = None
    amount: Number = None
    invoice: ObjectId = None
    estimate: ObjectId = None
    credit_note: ObjectId = None
    document_type: Text = None


class PaymentInput(Input):
    customer: ObjectId = None
    date: Timestamp = None
    currency: Currency = None
    amount: Number = None
    method: Text = None
    ach_sender_id: Text = Field(default=None, max_length=255)
    reference: Text = Field(default=None, max_length=255)
    source: Text = Field(default=None, max_length=64)
    notes: Text = Field(default=None, max_length=10_000)
    metadata: Metadata = None
    # A list of splits (JSON, or `applied_to[0][type]=...` in a form); checked by the service.
    applied_to: Annotated[Any, Blankable] = None
    attachments: Annotated[list[Any] | None, Blankable] = None


class SplitOut(BaseModel):
    id: int
    type: Literal["invoice", "credit", "applied_credit", "convenience_fee"]
    amount: float
    invoice: int | None = None
    document_type: Literal["invoice"] | None = None


class PaymentOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    object: Literal["payment"]
    customer: int | dict[str, Any] | None
    date: int
    currency: str
    amount: float
    balance: float
    matched: bool | None
    voided: bool
    method: str
    ach_sender_id: str | None
    reference: str | None
    source: str
    notes: str | None
    charge: dict[str, Any] | None
    applied_to: list[SplitOut] | None = None  # only with include=applied_to (PY17)
    pdf_url: str | None
    surcharge_percentage: float
    metadata: dict[str, str]
    created_at: int
    updated_at: int


def split_type(transaction: Transaction) -> str:
    """Which kind of split a payment-owned transaction is (PY9 in reverse)."""
    if transaction.type == "adjustment":
        return "credit"
    if transaction.method == BALANCE:
        return "applied_credit"
    if transaction.invoice_id is not None:
        return "invoice"
    return "convenience_fee"


def split_json(transaction: Transaction) -> dict[str, Any]:
    """PY17: one split as the API shows it, amounts positive."""
    kind = split_type(transaction)
    out: dict[str, Any] = {
        "id": transaction.id,
        "type": kind,
        "amount": from_minor(abs(transaction.amount), exponent(transaction.currency)),
    }
    if kind == "applied_credit":
        out["document_type"] = "invoice"
    if transaction.invoice_id is not None:
        out["invoice"] = transaction.invoice_id
    return out


def payment_pdf_url(public_base_url: str, account_identifier: str, payment: Payment) -> str | None:
    """PY8: a receipt exists once the payment is fully applied to a known customer."""
    if payment.voided or payment.balance != 0 or payment.customer_id is None:
        return None
    return receipt_url(public_base_url, account_identifier, payment.client_id)


def payment_json(
    payment: Payment,
    *,
    pdf_url: str | None,
    applied_to: Sequence[Transaction] | None = None,
    customer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    exp = exponent(payment.currency)
    out: dict[str, Any] = {
        "id": payment.id,
        "object": "payment",
        "customer": customer if customer is not None else payment.customer_id,
        "date": payment.date,
        "currency": payment.currency,
        "amount": from_minor(payment.amount, exp),
        "balance": from_minor(payment.balance, exp),
        "matched": None,  # cash-match suggestions are not computed (B2)
        "voided": payment.voided,
        "method": payment.method,
        "ach_sender_id": payment.ach_sender_id,
        "reference": payment.reference,
        "source": payment.source,
        "notes": payment.notes,
        "charge": None,  # gateway charges arrive with payment_sources.md
        "pdf_url": pdf_url,
        "surcharge_percentage": Decimal(0),
        "metadata": dict(payment.metadata_),
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
    }
    if applied_to is not None:
        out["applied_to"] = [split_json(t) for t in applied_to]
    return out
