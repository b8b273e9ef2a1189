"""Customer use cases. Services load, apply domain rules and flush; the router commits."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError

from tally.context import Context
from tally.credit_balances import ledger
from tally.customers import repository
from tally.customers.schemas import CustomerInput, customer_json
from tally.domain import customers as rules
from tally.domain.coerce import INT32_MAX, INT32_MIN, fits_int, parse_bool, parse_int
from tally.domain.errors import InvalidRequest, NotFound
from tally.domain.metadata import normalize_metadata
from tally.domain.money import exponent, from_minor
from tally.domain.numbering import number_taken
from tally.domain.text import required_text
from tally.http.listing import (
    FilterField,
    ListQuery,
    fetch_page,
    filter_conditions,
    metadata_conditions,
    order_by,
    updated_conditions,
)
from tally.invoices.repository import open_condition, status_expression
from tally.locks import lock_account_scope
from tally.models import Customer, Invoice, Payment, Transaction
from tally.numbering import allocate_number, flush_numbered
from tally.tax_rates.repository import live_tax_rates
from tally.tax_rates.schemas import tax_rate_json

# Written as given on create, and on update when sent.
PLAIN_FIELDS = (
    "email",
    "autopay_delay_days",
    "attention_to",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
    "chase",
    "chasing_cadence",
    "next_chase_step",
    "phone",
    "credit_hold",
    "credit_limit",
    "owner",
    "taxable",
    "tax_id",
    "avalara_entity_use_code",
    "avalara_exemption_number",
    "notes",
    "sign_up_page",
    "ach_gateway",
    "cc_gateway",
    "active",
)

C = Customer
FILTERS: dict[str, FilterField] = {
    "id": FilterField(C.id, "int"),
    "name": FilterField(C.name),
    "number": FilterField(C.number),
    "email": FilterField(C.email),
    "type": FilterField(C.type, choices=rules.CUSTOMER_TYPES),
    "autopay": FilterField(C.autopay, "bool"),
    "autopay_delay_days": FilterField(C.autopay_delay_days, "int"),
    "payment_terms": FilterField(C.payment_terms),
    "currency": FilterField(C.currency, "lower"),
    "country": FilterField(C.country),
    "state": FilterField(C.state),
    "city": FilterField(C.city),
    "postal_code": FilterField(C.postal_code),
    "address1": FilterField(C.address1),
    "address2": FilterField(C.address2),
    "attention_to": FilterField(C.attention_to),
    "phone": FilterField(C.phone),
    "tax_id": FilterField(C.tax_id),
    "taxable": FilterField(C.taxable, "bool"),
    "chase": FilterField(C.chase, "bool"),
    "chasing_cadence": FilterField(C.chasing_cadence, "int"),
    "credit_hold": FilterField(C.credit_hold, "bool"),
    "credit_limit": FilterField(C.credit_limit, "decimal"),
    "owner": FilterField(C.owner, "int"),
    "parent_customer": FilterField(C.parent_customer_id, "int"),
    "language": FilterField(C.language, "lower"),
    "active": FilterField(C.active, "bool"),
    "created_at": FilterField(C.created_at, "timestamp"),
    "updated_at": FilterField(C.updated_at, "timestamp"),
}


async def render(ctx: Context, customers: Sequence[Customer]) -> list[dict[str, Any]]:
    """Customers as JSON, their tax rates expanded (CU9) with one query for all of them."""
    ids = sorted({tax for customer in customers for tax in customer.taxes})
    rates: dict[str, dict[str, Any]] = {}
    if ids:
        found = await live_tax_rates(ctx.session, ctx.account_id, ids)
        rates = {key: tax_rate_json(rate) for key, rate in found.items()}
    credits = await ledger.balances(ctx, customers)
    return [
        customer_json(
            customer,
            ctx.public_base_url,
            ctx.account.identifier,
            rates,
            from_minor(credits[customer.id], exponent(ledger.default_currency(ctx, customer))),
        )
        for customer in customers
    ]


async def render_by_id(ctx: Context, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Customers as JSON keyed by id, for `expand=customer` on a page of documents."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = list(
        await ctx.session.scalars(
            select(Customer).where(Customer.account_id == ctx.account_id, Customer.id.in_(wanted))
        )
    )
    return dict(zip([c.id for c in rows], await render(ctx, rows), strict=True))


async def snapshot(ctx: Context, customer: Customer) -> dict[str, Any]:
    return (await render(ctx, [customer]))[0]


async def _apply(ctx: Context, customer: Customer, data: CustomerInput, *, creating: bool) -> None:
    sent = data.model_fields_set
    account = ctx.account

    if creating or "name" in sent:
        customer.name = required_text(data.name, "name")
    for field in PLAIN_FIELDS:
        if creating or field in sent:
            setattr(customer, field, getattr(data, field))

    if creating or "type" in sent:
        customer.type = rules.customer_type(data.type, account.default_customer_type)
    if creating or "country" in sent:
        customer.country = rules.country(data.country) or account.country
    if creating or "language" in sent:
        customer.language = rules.language(data.language)
    if creating or "currency" in sent:
        customer.currency = rules.currency(data.currency)

    if creating:
        autopay = (
            bool(data.autopay)
            if "autopay" in sent
            else (account.default_collection_mode == "autopay")
        )
    else:
        autopay = customer.autopay if data.autopay is None else data.autopay
    rules.check_autopay_supported(autopay, account.autopay_supported)
    customer.autopay = autopay
    customer.payment_terms = rules.payment_terms_after_change(
        autopay=autopay,
        terms_sent="payment_terms" in sent,
        terms=data.payment_terms,
        current_terms=customer.payment_terms,
        account_terms=account.payment_terms,
        creating=creating,
    )

    if creating or "taxes" in sent:
        taxes = rules.unique_tax_ids(data.taxes)
        found = await live_tax_rates(ctx.session, ctx.account_id, taxes) if taxes else {}
        for tax_id in taxes:
            if tax_id not in found:
                raise InvalidRequest(f"No such tax rate: {tax_id}", "taxes")  # CU9
        customer.taxes = taxes
    if creating or "disabled_payment_methods" in sent:
        customer.disabled_payment_methods = rules.string_list(
            data.disabled_payment_methods, "disabled_payment_methods"
        )
    if creating or "metadata" in sent:
        # Absent on create, or cleared with "" / null: an empty map (C11.4).
        customer.metadata_ = normalize_metadata({} if data.metadata is None else data.metadata)

    if "parent_customer" in sent:
        await _set_parent(ctx, customer, data.parent_customer)

    if creating or "number" in sent:
        await _set_number(ctx, customer, data.number, creating=creating)


async def _set_parent(ctx: Context, customer: Customer, parent_id: int | None) -> None:
    if parent_id is None:
        customer.parent_customer_id = None
        return
    param = "parent_customer"
    # The depth and cycle checks read a chain other requests may be editing: one at a time.
    await lock_account_scope(ctx.session, ctx.account_id, "customer-hierarchy")
    try:
        await repository.get(ctx.session, ctx.account_id, parent_id)
    except NotFound as exc:
        raise InvalidRequest(f"No such customer: {parent_id}", param) from exc
    chain = await repository.ancestor_chain(ctx.session, ctx.account_id, parent_id)
    height = 0
    if customer.id is not None:
        height = await repository.subtree_height(ctx.session, ctx.account_id, customer.id)
    rules.check_parent(customer.id, parent_id, chain, height)
    customer.parent_customer_id = parent_id


async def _set_number(
    ctx: Context, customer: Customer, number: str | None, *, creating: bool
) -> None:
    if number:
        if await repository.number_in_use(
            ctx.session, ctx.account_id, number, except_id=customer.id
        ):
            raise number_taken("customer", number)
        customer.number = number
        if customer.id is not None:
            # Settle a race for this number now, before any later query autoflushes it.
            await flush_numbered(ctx.session, "customer", number, number_sent=True)
    elif creating:
        customer.number = await allocate_number(
            ctx.session, ctx.account, "customer", Customer.number_key, Customer.account_id
        )
    # On update, an empty number keeps the current one.


async def create(ctx: Context, data: CustomerInput) -> Customer:
    customer = Customer(
        account_id=ctx.account_id,
        client_id=secrets.token_urlsafe(36),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await _apply(ctx, customer, data, creating=True)
    ctx.session.add(customer)
    await flush_numbered(ctx.session, "customer", customer.number, number_sent=bool(data.number))
    ctx.events.created(
        "customer", customer.id, await snapshot(ctx, customer), related=[("customer", customer.id)]
    )
    return customer


async def retrieve(ctx: Context, customer_id: int) -> Customer:
    return await repository.get(ctx.session, ctx.account_id, customer_id)


async def update(ctx: Context, customer_id: int, data: CustomerInput) -> Customer:
    customer = await repository.get(ctx.session, ctx.account_id, customer_id, lock=True)
    before = await snapshot(ctx, customer)
    before_methods = list(customer.disabled_payment_methods)
    had_autopay = customer.autopay
    await _apply(ctx, customer, data, creating=False)
    if had_autopay and not customer.autopay:
        await _stop_autopay_invoices(ctx, customer)
    after = await snapshot(ctx, customer)
    # CU18: updated_at moves only when a stored value changed.
    if after != before or customer.disabled_payment_methods != before_methods:
        customer.updated_at = ctx.now
        await flush_numbered(
            ctx.session, "customer", customer.number, number_sent="number" in data.model_fields_set
        )
        ctx.events.updated(
            "customer",
            customer.id,
            before,
            await snapshot(ctx, customer),
            related=[("customer", customer.id)],
        )
    return customer


async def delete_customer(ctx: Context, customer_id: int) -> None:
    # FOR UPDATE waits for any invoice being created for this customer (it holds KEY SHARE),
    # so the check below sees it.
    customer = await repository.get(ctx.session, ctx.account_id, customer_id, lock="update")
    # CU14: documents block deletion (credit notes, estimates and subscriptions
    # join this check when those resources arrive).
    has_documents = await ctx.session.scalar(
        select(
            exists().where(Invoice.account_id == ctx.account_id, Invoice.customer_id == customer.id)
            | exists().where(
                Transaction.account_id == ctx.account_id, Transaction.customer_id == customer.id
            )
            | exists().where(
                Payment.account_id == ctx.account_id, Payment.customer_id == customer.id
            )
        )
    )
    if has_documents:
        raise InvalidRequest("Customers with transactions cannot be deleted")
    last_state = await snapshot(ctx, customer)
    # Sub-customers lose their parent: a visible change, so it is recorded like any update.
    for child in await repository.children(ctx.session, ctx.account_id, customer.id):
        before = await snapshot(ctx, child)
        child.parent_customer_id = None
        child.updated_at = ctx.now
        ctx.events.updated(
            "customer",
            child.id,
            before,
            await snapshot(ctx, child),
            related=[("customer", child.id)],
        )
    await ctx.session.flush()
    await ctx.session.delete(customer)  # contacts go with it (ON DELETE CASCADE)
    try:
        await ctx.session.flush()
    except IntegrityError as exc:  # a document referencing it committed meanwhile
        raise InvalidRequest("Customers with transactions cannot be deleted") from exc
    ctx.events.deleted("customer", customer_id, last_state, related=[("customer", customer_id)])


async def _stop_autopay_invoices(ctx: Context, customer: Customer) -> None:
    """CU8: open AutoPay invoices stop being collected automatically (due dates stay)."""
    # NOTE: imported here because invoices.service renders customers through this module.
    from tally.invoices.service import stop_autopay

    await stop_autopay(ctx, customer.id)


def _special_conditions(
    query: ListQuery, now: int, account_currency: str
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    payment_source = parse_bool(query.param("payment_source"))
    if payment_source is True:
        conditions.append(false())  # no customer has a default payment source yet
    owner = parse_int(query.param("owner"))
    if owner is not None:
        if owner == -1:
            conditions.append(C.owner.is_(None))
        elif fits_int(owner, INT32_MIN, INT32_MAX):
            conditions.append(C.owner == owner)
        else:
            conditions.append(false())  # no stored owner id can be that large
    open_balance = parse_bool(query.param("open_balance"))
    if open_balance is not None:
        owing = exists().where(
            Invoice.account_id == C.account_id, Invoice.customer_id == C.id, open_condition(now)
        )
        conditions.append(owing if open_balance else ~owing)
    has_credit = parse_bool(query.param("balance"))  # credit balance > 0, or = 0
    if has_credit is not None:
        credit = ledger.credit_of_customer(account_currency, now)
        conditions.append(credit > 0 if has_credit else credit == 0)
    return conditions or [true()]


def list_statement(ctx: Context, query: ListQuery) -> Select[Any]:
    statement = select(Customer).where(Customer.account_id == ctx.account_id)
    statement = statement.where(*filter_conditions(query.filters, FILTERS))
    statement = statement.where(*metadata_conditions(Customer.metadata_, query.metadata))
    statement = statement.where(*_special_conditions(query, ctx.now, ctx.account.currency))
    statement = statement.where(*updated_conditions(query, Customer.updated_at))
    return statement


async def list_customers(ctx: Context, query: ListQuery) -> tuple[list[Customer], int]:
    ordering = order_by(query.sort, FILTERS, Customer.id)
    return await fetch_page(ctx.session, list_statement(ctx, query), ordering, query.page)


async def balance_currency(ctx: Context, customer: Customer) -> str:
    """CB1 when no currency is asked for: the customer's, else that of its latest issued
    invoice, else the account's. Balances and statements both follow it."""
    if customer.currency:
        return customer.currency
    latest = await ctx.session.scalar(
        select(Invoice.currency)
        .where(
            Invoice.account_id == ctx.account_id,
            Invoice.customer_id == customer.id,
            Invoice.draft.is_(False),
            Invoice.voided.is_(False),
        )
        .order_by(Invoice.date.desc(), Invoice.id.desc())
        .limit(1)
    )
    return latest or ctx.account.currency


async def balance(ctx: Context, customer_id: int, currency: str | None) -> dict[str, Any]:
    """customers.md §5, computed from the invoices (CB1-CB6)."""
    customer = await repository.get(ctx.session, ctx.account_id, customer_id)
    chosen = (rules.currency(currency) if currency else None) or await balance_currency(
        ctx, customer
    )
    mine = [Invoice.account_id == ctx.account_id, Invoice.customer_id == customer.id]
    status = status_expression(ctx.now)
    open_in_currency = [*mine, Invoice.currency == chosen, open_condition(ctx.now)]
    outstanding = await ctx.session.scalar(
        select(func.coalesce(func.sum(Invoice.balance), 0)).where(*open_in_currency)
    )
    # CB3: pending invoices wait; AutoPay invoices are collected unless already past due.
    due_now = await ctx.session.scalar(
        select(func.coalesce(func.sum(Invoice.balance), 0)).where(
            *open_in_currency,
            status != "pending",
            or_(Invoice.autopay.is_(False), status == "past_due"),
        )
    )
    past_due = await ctx.session.scalar(
        select(
            exists().where(
                *mine, Invoice.draft.is_(False), Invoice.voided.is_(False), status == "past_due"
            )
        )
    )
    exp = exponent(chosen)
    zero = Decimal(0)
    return {
        "currency": chosen,
        "total_outstanding": from_minor(int(outstanding or 0), exp),
        "due_now": from_minor(int(due_now or 0), exp),
        "past_due": bool(past_due),
        # Credit notes arrive with their own issue.
        "open_credit_notes": zero,
        "available_credits": from_minor(await ledger.balance(ctx, customer.id, chosen), exp),
        "history": [
            {"timestamp": point.date, "currency": chosen, "balance": from_minor(point.balance, exp)}
            for point in await ledger.history(ctx, customer.id, chosen)
        ],
    }
