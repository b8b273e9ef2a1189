"""Contact use cases (CT1-CT7)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tally.contacts.schemas import ContactInput, contact_json
from tally.context import Context
from tally.customers import repository as customers
from tally.customers.service import snapshot as customer_snapshot
from tally.domain import customers as rules
from tally.domain.errors import InvalidRequest, NotFound
from tally.domain.text import required_text
from tally.http.listing import FilterField, ListQuery, fetch_page, filter_conditions, order_by
from tally.models import Contact, Customer

FIELDS = (
    "title",
    "department",
    "phone",
    "email",
    "primary",
    "sms_enabled",
    "send_new_invoices",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
)
K = Contact
FILTERS: dict[str, FilterField] = {
    "name": FilterField(K.name),
    "email": FilterField(K.email),
    "primary": FilterField(K.primary, "bool"),
    "sms_enabled": FilterField(K.sms_enabled, "bool"),
    "department": FilterField(K.department),
    "title": FilterField(K.title),
    "phone": FilterField(K.phone),
    "city": FilterField(K.city),
    "state": FilterField(K.state),
    "postal_code": FilterField(K.postal_code),
    "country": FilterField(K.country),
    "created_at": FilterField(K.created_at, "timestamp"),
    "updated_at": FilterField(K.updated_at, "timestamp"),
}


async def event_snapshot(ctx: Context, contact: Contact, customer: Customer) -> dict[str, Any]:
    """EV9: a contact event embeds its customer as an object."""
    return {**contact_json(contact), "customer": await customer_snapshot(ctx, customer)}


async def _get(ctx: Context, customer_id: int, contact_id: int, *, lock: bool = False) -> Contact:
    statement = select(Contact).where(
        Contact.account_id == ctx.account_id,
        Contact.customer_id == customer_id,  # CT5: another customer's contact is 404
        Contact.id == contact_id,
    )
    if lock:
        # Concurrent writers queue here; after a concurrent delete the row is gone (404).
        statement = statement.with_for_update().execution_options(populate_existing=True)
    contact = (await ctx.session.execute(statement)).scalar_one_or_none()
    if contact is None:
        raise NotFound("Contact", contact_id)
    return contact


def _apply(contact: Contact, data: ContactInput, *, creating: bool, default_country: str) -> None:
    sent = data.model_fields_set
    if creating or "name" in sent:
        contact.name = required_text(data.name, "name")
    for field in FIELDS:
        if creating or field in sent:
            setattr(contact, field, getattr(data, field))
    if creating:
        contact.country = rules.country(data.country) or default_country  # CT4
    elif "country" in sent:
        contact.country = rules.country(data.country)


async def create(ctx: Context, customer_id: int, data: ContactInput) -> Contact:
    # Locking the customer serializes concurrent creates, so CT3's limit holds exactly.
    customer = await customers.get(ctx.session, ctx.account_id, customer_id, lock=True)
    count = await ctx.session.scalar(
        select(func.count()).where(
            Contact.account_id == ctx.account_id, Contact.customer_id == customer.id
        )
    )
    if (count or 0) >= rules.MAX_CONTACTS:
        raise InvalidRequest(
            f"The maximum number of contacts ({rules.MAX_CONTACTS}) per customer has been reached."
        )
    contact = Contact(
        account_id=ctx.account_id, customer_id=customer.id, created_at=ctx.now, updated_at=ctx.now
    )
    _apply(contact, data, creating=True, default_country=customer.country)
    ctx.session.add(contact)
    await ctx.session.flush()
    ctx.events.created(
        "contact",
        contact.id,
        await event_snapshot(ctx, contact, customer),
        related=[("customer", customer.id)],
    )
    return contact


async def retrieve(ctx: Context, customer_id: int, contact_id: int) -> Contact:
    await customers.get(ctx.session, ctx.account_id, customer_id)
    return await _get(ctx, customer_id, contact_id)


async def update(ctx: Context, customer_id: int, contact_id: int, data: ContactInput) -> Contact:
    customer = await customers.get(ctx.session, ctx.account_id, customer_id)
    contact = await _get(ctx, customer_id, contact_id, lock=True)
    before = contact_json(contact)
    before_event = await event_snapshot(ctx, contact, customer)
    _apply(contact, data, creating=False, default_country=customer.country)
    if contact_json(contact) != before:
        contact.updated_at = ctx.now
        await ctx.session.flush()
        ctx.events.updated(
            "contact",
            contact.id,
            before_event,
            await event_snapshot(ctx, contact, customer),
            related=[("customer", customer.id)],
        )
    return contact


async def delete_contact(ctx: Context, customer_id: int, contact_id: int) -> None:
    customer = await customers.get(ctx.session, ctx.account_id, customer_id)
    contact = await _get(ctx, customer_id, contact_id, lock=True)
    last_state = await event_snapshot(ctx, contact, customer)
    await ctx.session.delete(contact)
    await ctx.session.flush()
    ctx.events.deleted("contact", contact_id, last_state, related=[("customer", customer.id)])


async def list_contacts(
    ctx: Context, customer_id: int, query: ListQuery
) -> tuple[list[Contact], int]:
    await customers.get(ctx.session, ctx.account_id, customer_id)
    statement = select(Contact).where(
        Contact.account_id == ctx.account_id,
        Contact.customer_id == customer_id,
        *filter_conditions(query.filters, FILTERS),
    )
    return await fetch_page(
        ctx.session, statement, order_by(query.sort, FILTERS, Contact.id), query.page
    )
