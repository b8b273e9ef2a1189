"""Customer request and response shapes, and the one function that renders a customer."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, WithJsonSchema

from tally.domain.customers import CUSTOMER_TYPES
from tally.http.validation import (
    Blankable,
    Country,
    Currency,
    Email,
    Flag,
    Input,
    Integer,
    Metadata,
    Number,
    ObjectId,
    OptionalFlag,
    Text,
)
from tally.models import Customer

# Sent on create or update, these are refused rather than ignored (C3.9, customers.md §2).
READ_ONLY_REJECTED = frozenset(
    {"credit_balance", "statement_pdf_url", "sign_up_url", "created_at", "updated_at"}
)


class CustomerInput(Input):
    """Fields a client may write. Which ones were sent matters on PATCH (`model_fields_set`)."""

    name: Text = Field(default=None, max_length=255)
    # `external_id` is accepted as an alias of `number` (CU2).
    number: Text = Field(
        default=None, max_length=32, validation_alias=AliasChoices("number", "external_id")
    )
    email: Email = None
    type: Annotated[
        Text, WithJsonSchema({"anyOf": [{"enum": [*sorted(CUSTOMER_TYPES), ""]}, {"type": "null"}]})
    ] = None
    autopay: OptionalFlag = None
    autopay_delay_days: Integer = None
    payment_terms: Text = Field(default=None, max_length=255)
    attention_to: Text = Field(default=None, max_length=255)
    address1: Text = Field(default=None, max_length=255)
    address2: Text = Field(default=None, max_length=255)
    city: Text = Field(default=None, max_length=255)
    state: Text = Field(default=None, max_length=255)
    postal_code: Text = Field(default=None, max_length=32)
    country: Country = None
    language: Text = None
    currency: Currency = None
    chase: Flag = True
    chasing_cadence: Integer = None
    next_chase_step: Integer = None
    phone: Text = Field(default=None, max_length=64)
    credit_hold: Flag = False
    credit_limit: Number = Field(default=None, ge=0)
    owner: Integer = None
    taxable: Flag = True
    taxes: Annotated[list[Any] | None, Blankable] = None
    tax_id: Text = Field(default=None, max_length=64)
    avalara_entity_use_code: Text = Field(default=None, max_length=64)
    avalara_exemption_number: Text = Field(default=None, max_length=64)
    parent_customer: ObjectId = None
    notes: Text = Field(default=None, max_length=10_000)
    sign_up_page: Integer = None
    ach_gateway: Integer = None
    cc_gateway: Integer = None
    disabled_payment_methods: Annotated[list[str] | None, Blankable] = None
    active: Flag = True
    metadata: Metadata = None


class TaxRateRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    object: Literal["tax_rate"]


class CustomerOut(BaseModel):
    """The customer object (customers.md §2); documents the response and is used in tests."""

    model_config = ConfigDict(extra="forbid")

    id: int
    object: Literal["customer"]
    name: str
    number: str
    email: str | None
    type: Literal["company", "person", "government", "non_profit"]
    autopay: bool
    autopay_delay_days: int | None
    payment_terms: str | None
    payment_source: dict[str, Any] | None
    attention_to: str | None
    address1: str | None
    address2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str
    language: str | None
    currency: str | None
    chase: bool
    chasing_cadence: int | None
    next_chase_step: int | None
    phone: str | None
    credit_hold: bool
    credit_limit: float | None
    owner: int | None
    taxable: bool
    taxes: list[TaxRateRef]
    tax_id: str | None
    avalara_entity_use_code: str | None
    avalara_exemption_number: str | None
    parent_customer: int | None
    notes: str | None
    sign_up_page: int | None
    sign_up_url: str | None
    statement_pdf_url: str
    ach_gateway: int | None
    cc_gateway: int | None
    active: bool
    credit_balance: float
    metadata: dict[str, str]
    created_at: int
    updated_at: int


class BalanceOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str
    total_outstanding: float
    due_now: float
    past_due: bool
    open_credit_notes: float
    available_credits: float
    history: list[dict[str, Any]]


def customer_json(
    customer: Customer,
    public_base_url: str,
    account_identifier: str,
    tax_rates: Mapping[str, dict[str, Any]] | None = None,
    credit_balance: Decimal = Decimal(0),
) -> dict[str, Any]:
    """`credit_balance` is in the customer's default currency (credit_balances.md CB3)."""
    rates = tax_rates or {}
    return {
        "id": customer.id,
        "object": "customer",
        "name": customer.name,
        "number": customer.number,
        "email": customer.email,
        "type": customer.type,
        "autopay": customer.autopay,
        "autopay_delay_days": customer.autopay_delay_days,
        "payment_terms": customer.payment_terms,
        "payment_source": None,  # payment sources arrive with payment_sources.md
        "attention_to": customer.attention_to,
        "address1": customer.address1,
        "address2": customer.address2,
        "city": customer.city,
        "state": customer.state,
        "postal_code": customer.postal_code,
        "country": customer.country,
        "language": customer.language,
        "currency": customer.currency,
        "chase": customer.chase,
        "chasing_cadence": customer.chasing_cadence,
        "next_chase_step": customer.next_chase_step,
        "phone": customer.phone,
        "credit_hold": customer.credit_hold,
        "credit_limit": customer.credit_limit,
        "owner": customer.owner,
        "taxable": customer.taxable,
        "taxes": [rates[t] for t in customer.taxes if t in rates],
        "tax_id": customer.tax_id,
        "avalara_entity_use_code": customer.avalara_entity_use_code,
        "avalara_exemption_number": customer.avalara_exemption_number,
        "parent_customer": customer.parent_customer_id,
        "notes": customer.notes,
        "sign_up_page": customer.sign_up_page,
        "sign_up_url": (
            f"{public_base_url}/sign_up/{account_identifier}/{customer.sign_up_page}"
            if customer.sign_up_page is not None
            else None
        ),
        "statement_pdf_url": (
            f"{public_base_url}/statements/{account_identifier}/{customer.client_id}/pdf"
        ),
        "ach_gateway": customer.ach_gateway,
        "cc_gateway": customer.cc_gateway,
        "active": customer.active,
        "credit_balance": credit_balance,
        "metadata": dict(customer.metadata_),
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }
