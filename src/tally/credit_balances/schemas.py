"""Credit balance adjustment shapes (credit_balances.md §2).

An adjustment is stored as a legacy `adjustment` transaction without an invoice, in the
merchant's sign convention (TX5): the adjustment +50 is the transaction -50.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tally.domain.money import exponent, from_minor
from tally.http.validation import Currency, Input, Number, ObjectId, Text, Timestamp
from tally.models import Transaction


class AdjustmentInput(Input):
    customer: ObjectId = None
    currency: Currency = None
    amount: Number = None
    date: Timestamp = None
    notes: Text = Field(default=None, max_length=10_000)


class AdjustmentOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    object: Literal["credit_balance_adjustment"]
    customer: int
    currency: str
    amount: float
    date: int
    notes: str | None
    created_at: int
    updated_at: int


def adjustment_json(transaction: Transaction) -> dict[str, Any]:
    return {
        "id": transaction.id,
        "object": "credit_balance_adjustment",
        "customer": transaction.customer_id,
        "currency": transaction.currency,
        "amount": from_minor(-transaction.amount, exponent(transaction.currency)),
        "date": transaction.date,
        "notes": transaction.notes,
        "created_at": transaction.created_at,
        "updated_at": transaction.updated_at,
    }
