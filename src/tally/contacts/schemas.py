"""Contact request and response shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tally.http.validation import Country, Email, Flag, Input, OptionalFlag, Text
from tally.models import Contact

READ_ONLY_REJECTED: frozenset[str] = frozenset()


class ContactInput(Input):
    name: Text = Field(default=None, max_length=255)
    title: Text = Field(default=None, max_length=255)
    department: Text = Field(default=None, max_length=255)
    phone: Text = Field(default=None, max_length=64)
    email: Email = None
    primary: Flag = True
    sms_enabled: OptionalFlag = None
    send_new_invoices: Flag = False
    address1: Text = Field(default=None, max_length=255)
    address2: Text = Field(default=None, max_length=255)
    city: Text = Field(default=None, max_length=255)
    state: Text = Field(default=None, max_length=255)
    postal_code: Text = Field(default=None, max_length=32)
    country: Country = None


class ContactOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    object: Literal["contact"]
    customer: int
    name: str
    title: str | None
    department: str | None
    phone: str | None
    email: str | None
    primary: bool
    sms_enabled: bool | None
    send_new_invoices: bool
    address1: str | None
    address2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None
    created_at: int
    updated_at: int


def contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "object": "contact",
        "customer": contact.customer_id,
        "name": contact.name,
        "title": contact.title,
        "department": contact.department,
        "phone": contact.phone,
        "email": contact.email,
        "primary": contact.primary,
        "sms_enabled": contact.sms_enabled,
        "send_new_invoices": contact.send_new_invoices,
        "address1": contact.address1,
        "address2": contact.address2,
        "city": contact.city,
        "state": contact.state,
        "postal_code": contact.postal_code,
        "country": contact.country,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }
