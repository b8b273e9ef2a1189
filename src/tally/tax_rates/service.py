"""Tax rate use cases (coupons_tax_rates.md). Services load, apply rules and flush; the router
commits. Tax rates record no events: `tax_rate.*` is not an emitted event type."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from tally.context import Context
from tally.domain import catalog as rules
from tally.domain.metadata import normalize_metadata
from tally.http.listing import (
    FilterField,
    ListQuery,
    fetch_page,
    filter_conditions,
    metadata_conditions,
    order_by,
    updated_conditions,
)
from tally.models import TaxRate
from tally.tax_rates import repository
from tally.tax_rates.schemas import TaxRateInput, TaxRateUpdate, tax_rate_json

T = TaxRate
FILTERS: dict[str, FilterField] = {
    "id": FilterField(T.public_id),
    "name": FilterField(T.name),
    "currency": FilterField(T.currency, "lower"),
    "value": FilterField(T.value, "decimal"),
    "is_percent": FilterField(T.is_percent, "bool"),
    "inclusive": FilterField(T.inclusive, "bool"),
    "created_at": FilterField(T.created_at, "timestamp"),
    "updated_at": FilterField(T.updated_at, "timestamp"),
}


async def create(ctx: Context, data: TaxRateInput) -> TaxRate:
    chosen = rules.chosen_id(data.id)
    name = rules.rate_name(data.name)
    value = rules.rate_value(data.value, data.is_percent)
    currency = rules.rate_currency(data.currency, data.is_percent, ctx.account.currency)
    metadata = normalize_metadata({} if data.metadata is None else data.metadata)
    public_id = await repository.store.new_id(ctx.session, ctx.account_id, chosen)
    rate = TaxRate(
        account_id=ctx.account_id,
        public_id=public_id,
        name=name,
        currency=currency,
        value=value,
        is_percent=data.is_percent,
        inclusive=data.inclusive,
        metadata_=metadata,
        archived=False,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(rate)
    await repository.store.flush(ctx.session, public_id)
    return rate


async def retrieve(ctx: Context, tax_rate_id: str) -> TaxRate:
    return await repository.get_live(ctx.session, ctx.account_id, tax_rate_id)


async def update(ctx: Context, tax_rate_id: str, data: TaxRateUpdate) -> TaxRate:
    """CT6: `name` and `metadata`; everything else in the body was never read."""
    rate = await repository.get_live(ctx.session, ctx.account_id, tax_rate_id, lock=True)
    sent = data.model_fields_set
    before = tax_rate_json(rate)
    if "name" in sent:
        rate.name = rules.rate_name(data.name)
    if "metadata" in sent:
        rate.metadata_ = normalize_metadata({} if data.metadata is None else data.metadata)
    if tax_rate_json(rate) != before:
        rate.updated_at = ctx.now
        await ctx.session.flush()
    return rate


async def archive(ctx: Context, tax_rate_id: str) -> None:
    """CT2: the rate leaves every lookup and its id is free again; documents keep their copy."""
    rate = await repository.get_live(ctx.session, ctx.account_id, tax_rate_id, lock=True)
    rate.archived = True
    rate.updated_at = ctx.now
    await ctx.session.flush()


def list_statement(ctx: Context, query: ListQuery) -> Select[Any]:
    statement = select(TaxRate).where(TaxRate.account_id == ctx.account_id, ~TaxRate.archived)
    statement = statement.where(*filter_conditions(query.filters, FILTERS))
    statement = statement.where(*metadata_conditions(TaxRate.metadata_, query.metadata))
    statement = statement.where(*updated_conditions(query, TaxRate.updated_at))
    return statement


async def list_tax_rates(ctx: Context, query: ListQuery) -> tuple[list[TaxRate], int]:
    ordering = order_by(query.sort, FILTERS, TaxRate.pk)
    return await fetch_page(ctx.session, list_statement(ctx, query), ordering, query.page)
