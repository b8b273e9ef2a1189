"""Tax rate request and response shapes, and the one function that renders a tax rate."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tally.domain.catalog import shown_currency
from tally.http.validation import Currency, Flag, Input, Metadata, Number, Text
from tally.models import TaxRate


class TaxRateInput(Input):
    """POST /tax_rates (coupons_tax_rates.md §3)."""

    id: Text = None
    name: Text = Field(default=None, max_length=255)
    currency: Currency = None
    value: Number = None
    is_percent: Flag = True
    inclusive: Flag = False
    metadata: Metadata = None


class TaxRateUpdate(Input):
    """PATCH /tax_rates/{id}: only `name` and `metadata` change; create-only fields sent here
    are ignored, not refused (CT6)."""

    name: Text = Field(default=None, max_length=255)
    metadata: Metadata = None


class TaxRateOut(BaseModel):
    """The tax rate object (coupons_tax_rates.md §3)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    object: Literal["tax_rate"]
    name: str
    currency: str | None
    value: float
    is_percent: bool
    inclusive: bool
    metadata: dict[str, str]
    created_at: int
    updated_at: int


def tax_rate_json(rate: TaxRate) -> dict[str, Any]:
    return {
        "id": rate.public_id,
        "object": "tax_rate",
        "name": rate.name,
        "currency": shown_currency(rate.currency, rate.is_percent),  # CT5
        "value": rate.value,  # a Decimal: whole values are written as integers (CT19, C4.5)
        "is_percent": rate.is_percent,
        "inclusive": rate.inclusive,
        "metadata": dict(rate.metadata_),
        "created_at": rate.created_at,
        "updated_at": rate.updated_at,
    }
