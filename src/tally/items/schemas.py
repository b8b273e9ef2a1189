"""Item request and response shapes, and the one function that renders an item."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from tally.http.validation import Blankable, Currency, Flag, Input, Metadata, Number, Text
from tally.models import CatalogItem
from tally.tax_rates.schemas import TaxRateOut


class ItemUpdate(Input):
    """PATCH /items/{id}: the fields IT5 lets change. Create-only fields sent here are
    ignored, not refused (IT5)."""

    name: Text = Field(default=None, max_length=255)
    description: Text = None
    type: Text = Field(default=None, max_length=64)
    avalara_tax_code: Text = Field(default=None, max_length=64)
    avalara_location_code: Text = Field(default=None, max_length=64)
    gl_account: Text = Field(default=None, max_length=64)
    metadata: Metadata = None


class ItemInput(ItemUpdate):
    """POST /items (items.md §2)."""

    id: Annotated[
        Text,
        WithJsonSchema(
            {"anyOf": [{"type": "string", "pattern": "^[A-Za-z0-9_:-]{2,64}$"}, {"type": "null"}]}
        ),
    ] = None
    currency: Currency = None
    unit_cost: Number = None
    taxable: Flag = True
    # Tax-rate ids (or tax-rate objects, whose `id` is used), IT6.
    taxes: Annotated[list[Any] | None, Blankable] = None
    discountable: Flag = True


class ItemOut(BaseModel):
    """The item object (items.md §2)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    object: Literal["item"]
    name: str
    currency: str | None
    unit_cost: float
    description: str | None
    type: str | None
    taxable: bool
    taxes: list[TaxRateOut]
    discountable: bool
    avalara_tax_code: str | None
    avalara_location_code: str | None
    gl_account: str | None
    metadata: dict[str, str]
    created_at: int
    updated_at: int


def item_json(item: CatalogItem, tax_rates: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The item object; `taxes` are expanded from `tax_rates` (tax-rate objects by id)."""
    return {
        "id": item.public_id,
        "object": "item",
        "name": item.name,
        "currency": item.currency,
        "unit_cost": item.unit_cost,  # a Decimal, unrounded: 45 prints as 45 (C4.5)
        "description": item.description,
        "type": item.type,
        "taxable": item.taxable,
        "taxes": [tax_rates[t] for t in item.taxes if t in tax_rates],
        "discountable": item.discountable,
        "avalara_tax_code": item.avalara_tax_code,
        "avalara_location_code": item.avalara_location_code,
        "gl_account": item.gl_account,
        "metadata": dict(item.metadata_),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }
