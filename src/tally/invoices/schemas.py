"""Invoice request and response shapes, and the functions that render an invoice."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from tally.domain.money import from_minor
from tally.http.validation import (
    Blankable,
    Currency,
    Input,
    Metadata,
    Number,
    ObjectId,
    OptionalFlag,
    Text,
    Timestamp,
)

# Sent on create or update, these are refused rather than ignored (C3.9, invoices.md §2).
READ_ONLY_REJECTED = frozenset(
    {
        "subtotal",
        "total",
        "balance",
        "paid",
        "status",
        "viewed",
        "amount_paid",
        "amount_credited",
        "attempt_count",
        "date_paid",
        "created_at",
        "updated_at",
    }
)
RateList = Annotated[list[Any] | None, Blankable]


class LineInput(Input):
    id: ObjectId = None
    catalog_item: Text = None
    type: Text = Field(default=None, max_length=64)
    name: Text = Field(default=None, max_length=255)
    description: Text = Field(default=None, max_length=10_000)
    quantity: Number = None
    unit_cost: Number = None
    discountable: OptionalFlag = None
    taxable: OptionalFlag = None
    discounts: RateList = None
    taxes: RateList = None
    metadata: Metadata = None


class InvoiceInput(Input):
    customer: Any = None  # an id, or an object with `id` (or without: created first)
    name: Text = Field(default=None, max_length=255)
    number: Text = Field(default=None, max_length=32)
    currency: Currency = None
    autopay: OptionalFlag = None
    payment_terms: Text = Field(default=None, max_length=255)
    date: Timestamp = None
    due_date: Timestamp = None
    purchase_order: Text = Field(default=None, max_length=32)
    draft: OptionalFlag = None
    closed: OptionalFlag = None
    sent: OptionalFlag = None
    # EM11, create only (write-only): email the invoice once it is saved.
    send: OptionalFlag = None
    items: RateList = None
    notes: Text = Field(default=None, max_length=10_000)
    discounts: RateList = None
    taxes: RateList = None
    # A list, or a flat number (R19), like `tax` and `discount`.
    shipping: Annotated[Any, Blankable] = None
    tax: Number = None
    discount: Number = None
    ship_to: Annotated[dict[str, Any] | None, Blankable] = None
    chase: OptionalFlag = None
    needs_attention: OptionalFlag = None
    late_fees: OptionalFlag = None
    disabled_payment_methods: Annotated[list[str] | None, Blankable] = None
    calculate_taxes: OptionalFlag = None
    attachments: Annotated[list[Any] | None, Blankable] = None  # write-only file ids
    metadata: Metadata = None


class AppliedOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    object: Literal["discount", "tax", "shipping"]
    amount: float
    coupon: dict[str, Any] | None = None
    expires: int | None = None
    tax_rate: dict[str, Any] | None = None
    shipping_rate: None = None
    updated_at: int | None = None


class LineOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    object: Literal["line_item"]
    catalog_item: str | dict[str, Any] | None
    type: str | None
    name: str
    description: str | None
    quantity: float
    unit_cost: float
    amount: float
    discountable: bool
    discounts: list[AppliedOut]
    taxable: bool
    taxes: list[AppliedOut]
    metadata: dict[str, str]
    created_at: int
    updated_at: int


class InvoiceOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    object: Literal["invoice"]
    customer: int | dict[str, Any]
    name: str
    number: str
    currency: str
    autopay: bool
    payment_terms: str | None
    date: int
    due_date: int | None
    purchase_order: str | None
    draft: bool
    closed: bool
    paid: bool
    status: Literal["draft", "not_sent", "sent", "viewed", "past_due", "pending", "paid", "voided"]
    attempt_count: int
    next_payment_attempt: int | None
    subscription: int | None
    items: list[LineOut]
    notes: str | None
    subtotal: float
    discounts: list[AppliedOut]
    taxes: list[AppliedOut]
    shipping: list[AppliedOut]
    total: float
    balance: float
    ship_to: dict[str, Any] | None
    payment_plan: int | None
    payment_source: dict[str, Any] | None
    url: str | None
    payment_url: str | None
    pdf_url: str | None
    csv_url: str | None
    chase: bool
    next_chase_on: int | None
    needs_attention: bool
    late_fees: bool
    metadata: dict[str, str]
    created_at: int
    updated_at: int


class RateFields(Protocol):
    """What rendering reads of an applied rate: an `AppliedRate` row, or a read-only view."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def amount(self) -> int: ...
    @property
    def rate(self) -> dict[str, Any] | None: ...
    @property
    def expires(self) -> int | None: ...
    @property
    def updated_at(self) -> int: ...


class LineFields(Protocol):
    """What rendering reads of a line: a `LineItem` row, or a read-only view (whose
    quantity and unit cost may already be JSON fragments)."""

    @property
    def id(self) -> int: ...
    @property
    def catalog_item(self) -> str | None: ...
    @property
    def type(self) -> str | None: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def quantity(self) -> object: ...
    @property
    def unit_cost(self) -> object: ...
    @property
    def amount(self) -> int: ...
    @property
    def discountable(self) -> bool: ...
    @property
    def taxable(self) -> bool: ...
    @property
    def metadata_(self) -> Mapping[str, str]: ...
    @property
    def created_at(self) -> int: ...
    @property
    def updated_at(self) -> int: ...


# How an amount in minor units is written: an exact Decimal (event snapshots compare these
# as numbers), or a ready JSON fragment on the response path.
Money = Callable[[int, int], Any]


def applied_json(rate: RateFields, exp: int, money: Money = from_minor) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": rate.id,
        "object": rate.kind,
        "amount": money(rate.amount, exp),
    }
    if rate.kind == "discount":
        result["coupon"] = rate.rate
        result["expires"] = rate.expires
    elif rate.kind == "tax":
        result["tax_rate"] = rate.rate
    else:
        result["shipping_rate"] = None
    result["updated_at"] = rate.updated_at
    return result


def line_json(
    line: LineFields,
    rates: Sequence[RateFields],
    exp: int,
    catalog: Mapping[str, dict[str, Any] | None] | None = None,
    money: Money = from_minor,
) -> dict[str, Any]:
    catalog_item: str | dict[str, Any] | None = line.catalog_item
    if catalog is not None and line.catalog_item is not None:
        catalog_item = catalog.get(line.catalog_item)  # IT10: null once the item is gone
    return {
        "id": line.id,
        "object": "line_item",
        "catalog_item": catalog_item,
        "type": line.type,
        "name": line.name,
        "description": line.description,
        "quantity": line.quantity,
        "unit_cost": line.unit_cost,
        "amount": money(line.amount, exp),
        "discountable": line.discountable,
        "discounts": [applied_json(r, exp, money) for r in rates if r.kind == "discount"],
        "taxable": line.taxable,
        "taxes": [applied_json(r, exp, money) for r in rates if r.kind == "tax"],
        "metadata": dict(line.metadata_),
        "created_at": line.created_at,
        "updated_at": line.updated_at,
    }
