"""Coupon request and response shapes, and the one function that renders a coupon."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tally.domain.catalog import shown_currency
from tally.http.validation import (
    Currency,
    Flag,
    Input,
    Integer,
    Metadata,
    Number,
    Text,
    Timestamp,
)
from tally.models import Coupon


class CouponUpdate(Input):
    """PATCH /coupons/{id}: the fields CT6 lets change. Create-only fields sent here are
    ignored, not refused (CT6)."""

    name: Text = Field(default=None, max_length=255)
    exclusive: Flag = False
    expiration_date: Timestamp = None
    max_redemptions: Integer = None
    duration: Integer = None
    metadata: Metadata = None


class CouponInput(CouponUpdate):
    """POST /coupons (coupons_tax_rates.md §2)."""

    id: Text = None
    currency: Currency = None
    value: Number = None
    is_percent: Flag = True


class CouponOut(BaseModel):
    """The coupon object (coupons_tax_rates.md §2)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    object: Literal["coupon"]
    name: str
    currency: str | None
    value: float
    is_percent: bool
    exclusive: bool
    expiration_date: int | None
    max_redemptions: int
    duration: int
    metadata: dict[str, str]
    created_at: int
    updated_at: int


def coupon_json(coupon: Coupon) -> dict[str, Any]:
    return {
        "id": coupon.public_id,
        "object": "coupon",
        "name": coupon.name,
        "currency": shown_currency(coupon.currency, coupon.is_percent),  # CT5
        "value": coupon.value,  # a Decimal: whole values are written as integers (CT19, C4.5)
        "is_percent": coupon.is_percent,
        "exclusive": coupon.exclusive,
        "expiration_date": coupon.expiration_date,
        "max_redemptions": coupon.max_redemptions,
        "duration": coupon.duration,
        "metadata": dict(coupon.metadata_),
        "created_at": coupon.created_at,
        "updated_at": coupon.updated_at,
    }
