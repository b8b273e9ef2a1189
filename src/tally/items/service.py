"""Item use cases (items.md). Services load, apply rules and flush; the router commits.
Items record no events: `item.*` is not an emitted event type."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select

from tally.context import Context
from tally.domain import catalog as rules
from tally.domain.coerce import parse_bool
from tally.domain.customers import unique_tax_ids
from tally.domain.errors import InvalidRequest
from tally.domain.metadata import normalize_metadata
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
from tally.items import repository
from tally.items.schemas import ItemInput, ItemUpdate, item_json
from tally.models import CatalogItem
from tally.tax_rates import repository as tax_rates
from tally.tax_rates.schemas import tax_rate_json

# Written as given on create, and on update when sent (IT5).
MUTABLE_TEXT = ("description", "type", "avalara_tax_code", "avalara_location_code", "gl_account")

CI = CatalogItem
FILTERS: dict[str, FilterField] = {
    "id": FilterField(CI.public_id),
    "name": FilterField(CI.name),
    "type": FilterField(CI.type),
    "currency": FilterField(CI.currency, "lower"),
    "unit_cost": FilterField(CI.unit_cost, "decimal"),
    "description": FilterField(CI.description),
    "taxable": FilterField(CI.taxable, "bool"),
    "discountable": FilterField(CI.discountable, "bool"),
    "gl_account": FilterField(CI.gl_account),
    "avalara_tax_code": FilterField(CI.avalara_tax_code),
    "avalara_location_code": FilterField(CI.avalara_location_code),
    "created_at": FilterField(CI.created_at, "timestamp"),
    "updated_at": FilterField(CI.updated_at, "timestamp"),
}


async def snapshots(ctx: Context, items: Sequence[CatalogItem]) -> list[dict[str, Any]]:
    """Items as JSON, their tax rates loaded in one query for the whole batch.

    NOTE: like a customer's `taxes`, only live rates are expanded: a rate archived after the
    item was created no longer shows (and can no longer be applied, CT2, CT7).
    """
    ids = sorted({tax_id for item in items for tax_id in item.taxes})
    rates = await tax_rates.live_tax_rates(ctx.session, ctx.account_id, ids)
    expanded = {rate_id: tax_rate_json(rate) for rate_id, rate in rates.items()}
    return [item_json(item, expanded) for item in items]


async def snapshot(ctx: Context, item: CatalogItem) -> dict[str, Any]:
    return (await snapshots(ctx, [item]))[0]


async def _tax_ids(ctx: Context, raw: object) -> list[str]:
    """IT6: existing tax-rate ids, duplicates removed (first kept)."""
    ids = unique_tax_ids(raw)
    found = await tax_rates.live_tax_rates(ctx.session, ctx.account_id, ids)
    for tax_id in ids:
        if tax_id not in found:
            raise InvalidRequest(f"No such tax rate: {tax_id}", "taxes")
    return ids


def _apply_mutable(item: CatalogItem, data: ItemUpdate, *, creating: bool) -> None:
    sent = data.model_fields_set
    if creating or "name" in sent:
        item.name = required_text(data.name, "name")  # IT2
    for field in MUTABLE_TEXT:
        if creating or field in sent:
            setattr(item, field, getattr(data, field))
    if creating or "metadata" in sent:
        # Absent on create, or cleared with "" / null: an empty map (C11.4).
        item.metadata_ = normalize_metadata({} if data.metadata is None else data.metadata)


async def create(ctx: Context, data: ItemInput) -> CatalogItem:
    chosen = rules.chosen_id(data.id)  # IT1
    item = CatalogItem(
        account_id=ctx.account_id,
        archived=False,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    _apply_mutable(item, data, creating=True)
    unit_cost = Decimal(0) if data.unit_cost is None else data.unit_cost
    item.unit_cost = unit_cost
    item.currency = rules.item_currency(data.currency, unit_cost, ctx.account.currency)  # IT4
    item.taxable = data.taxable
    item.discountable = data.discountable
    item.taxes = await _tax_ids(ctx, data.taxes)
    item.public_id = await repository.store.new_id(ctx.session, ctx.account_id, chosen)
    ctx.session.add(item)
    await repository.store.flush(ctx.session, item.public_id)
    return item


async def retrieve(ctx: Context, item_id: str) -> CatalogItem:
    return await repository.get_live(ctx.session, ctx.account_id, item_id)


async def update(ctx: Context, item_id: str, data: ItemUpdate) -> CatalogItem:
    """IT5: only the mutable fields; `id`, prices, flags and taxes were never read."""
    item = await repository.get_live(ctx.session, ctx.account_id, item_id, lock=True)
    before = item_json(item, {})
    _apply_mutable(item, data, creating=False)
    if item_json(item, {}) != before:
        item.updated_at = ctx.now
        await ctx.session.flush()
    return item


async def archive(ctx: Context, item_id: str) -> None:
    """IT7: the item leaves lookups and lists, and its id is free for a new item."""
    item = await repository.get_live(ctx.session, ctx.account_id, item_id, lock=True)
    item.archived = True
    item.updated_at = ctx.now
    await ctx.session.flush()


def list_statement(ctx: Context, query: ListQuery) -> Select[Any]:
    # §4: `archived=1` lists archived items instead of live ones.
    archived = parse_bool(query.param("archived")) is True
    statement = select(CatalogItem).where(
        CatalogItem.account_id == ctx.account_id,
        CatalogItem.archived if archived else ~CatalogItem.archived,
    )
    statement = statement.where(*filter_conditions(query.filters, FILTERS))
    statement = statement.where(*metadata_conditions(CatalogItem.metadata_, query.metadata))
    statement = statement.where(*updated_conditions(query, CatalogItem.updated_at))
    return statement


async def list_items(ctx: Context, query: ListQuery) -> tuple[list[CatalogItem], int]:
    ordering = order_by(query.sort, FILTERS, CatalogItem.pk)
    return await fetch_page(ctx.session, list_statement(ctx, query), ordering, query.page)
