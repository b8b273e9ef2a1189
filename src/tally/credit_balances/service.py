"""Credit balance adjustment use cases (credit_balances.md CB1-CB8)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Select, select

from tally.context import Context
from tally.credit_balances import ledger
from tally.credit_balances.schemas import AdjustmentInput, adjustment_json
from tally.customers import repository as customers
from tally.domain import customers as customer_rules
from tally.domain.coerce import fits_int
from tally.domain.credit_ledger import BALANCE
from tally.domain.errors import InvalidRequest, NotFound
from tally.domain.money import storable_minor
from tally.http.listing import (
    FilterField,
    ListQuery,
    date_range_conditions,
    fetch_page,
    filter_conditions,
    order_by,
    updated_conditions,
)
from tally.models import Transaction

T = Transaction
OBJECT = "Credit balance adjustment"
FILTERS: dict[str, FilterField] = {
    "id": FilterField(T.id, "int"),
    "customer": FilterField(T.customer_id, "int"),
    "currency": FilterField(T.currency, "lower"),
    "date": FilterField(T.date, "timestamp"),
    "created_at": FilterField(T.created_at, "timestamp"),
    "updated_at": FilterField(T.updated_at, "timestamp"),
}
SORTABLE = {**FILTERS, "amount": FilterField(T.amount, "int")}


def _is_adjustment(ctx: Context) -> list[Any]:
    """The transactions that are credit balance adjustments: not a payment's credit split."""
    return [
        T.account_id == ctx.account_id,
        T.type == "adjustment",
        T.invoice_id.is_(None),
        T.credit_note_id.is_(None),
        T.payment_id.is_(None),
        # A pending or failed legacy adjustment moves no credit (TX6): not an adjustment yet.
        T.status == "succeeded",
    ]


async def _get(ctx: Context, adjustment_id: int, *, lock: bool = False) -> Transaction:
    statement = select(T).where(*_is_adjustment(ctx), T.id == adjustment_id)
    if lock:
        statement = statement.with_for_update(key_share=True).execution_options(
            populate_existing=True
        )
    row = (await ctx.session.execute(statement)).scalar_one_or_none()
    if row is None:
        raise NotFound(OBJECT, adjustment_id)
    return row


def _credit(amount: Any, currency: str) -> int:
    """The adjustment's amount in minor units: required, non-zero, storable."""
    if amount is None:
        raise InvalidRequest("Amount is missing", "amount")
    minor = storable_minor(amount, currency)
    if minor == 0 or not fits_int(-minor):  # stored negated
        raise InvalidRequest("Amount is invalid", "amount")
    return minor


def _related(row: Transaction) -> list[tuple[str, int | str]]:
    return [("customer", row.customer_id)]


async def create(ctx: Context, data: AdjustmentInput) -> Transaction:
    if data.customer is None:
        raise InvalidRequest("Customer is missing", "customer")
    try:
        customer = await customers.get(ctx.session, ctx.account_id, data.customer, lock="share")
    except NotFound as exc:
        raise InvalidRequest(f"No such customer: {data.customer}", "customer") from exc
    currency = (
        customer_rules.currency(data.currency) if data.currency else None
    ) or ledger.default_currency(ctx, customer)
    amount = _credit(data.amount, currency)
    await ledger.lock(ctx, customer.id)
    row = Transaction(
        account_id=ctx.account_id,
        customer_id=customer.id,
        date=data.date if data.date is not None else ctx.now,
        type="adjustment",
        method=BALANCE,
        status="succeeded",
        currency=currency,
        amount=-amount,  # TX5: the merchant's sign
        notes=data.notes,
        metadata_={},
        client_id=secrets.token_urlsafe(36),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(row)
    await ledger.verify(ctx, customer.id, currency, param="amount")  # CB4
    # CB8: adjustments are legacy transactions, and their events say so.
    ctx.events.created("transaction", row.id, adjustment_json(row), related=_related(row))
    return row


async def retrieve(ctx: Context, adjustment_id: int) -> Transaction:
    return await _get(ctx, adjustment_id)


async def update(ctx: Context, adjustment_id: int, data: AdjustmentInput) -> Transaction:
    """Only `amount`, `date` and `notes` change; `customer` and `currency` are create-only."""
    sent = data.model_fields_set
    row = await _get(ctx, adjustment_id, lock=True)
    await ledger.lock(ctx, row.customer_id)
    before = adjustment_json(row)
    if "amount" in sent:
        row.amount = -_credit(data.amount, row.currency)
    if "date" in sent and data.date is not None:
        row.date = data.date
    if "notes" in sent:
        row.notes = data.notes
    if adjustment_json(row) == before:
        return row
    row.updated_at = ctx.now
    await ledger.verify(ctx, row.customer_id, row.currency, param="amount")  # CB5
    ctx.events.updated("transaction", row.id, before, adjustment_json(row), related=_related(row))
    return row


async def delete_adjustment(ctx: Context, adjustment_id: int) -> None:
    row = await _get(ctx, adjustment_id, lock=True)
    await ledger.lock(ctx, row.customer_id)
    last_state = adjustment_json(row)
    await ctx.session.delete(row)
    await ledger.verify(ctx, row.customer_id, row.currency, param="amount")  # CB5
    ctx.events.deleted("transaction", adjustment_id, last_state, related=_related(row))


def list_statement(ctx: Context, query: ListQuery) -> Select[Any]:
    statement = select(T).where(
        *_is_adjustment(ctx),
        *filter_conditions(query.filters, FILTERS),
        *updated_conditions(query, T.updated_at),
    )
    statement = statement.where(*date_range_conditions(query, T.date))
    return statement


async def list_adjustments(ctx: Context, query: ListQuery) -> tuple[list[Transaction], int]:
    # `amount` sorts by the credit it gives, the opposite of the stored transaction sign.
    sort = [(name, not desc if name == "amount" else desc) for name, desc in query.sort]
    return await fetch_page(
        ctx.session, list_statement(ctx, query), order_by(sort, SORTABLE, T.id), query.page
    )
