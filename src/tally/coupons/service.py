"""Coupon use cases (coupons_tax_rates.md). Services load, apply rules and flush; the router
commits. Coupons record no events: `coupon.*` is not an emitted event type."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from tally.context import Context
from tally.coupons import repository
from tally.coupons.schemas import CouponInput, CouponUpdate, coupon_json
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
from tally.models import Coupon

C = Coupon
FILTERS: dict[str, FilterField] = {
    "id": FilterField(C.public_id),
    "name": FilterField(C.name),
    "currency": FilterField(C.currency, "lower"),
    "value": FilterField(C.value, "decimal"),
    "is_percent": FilterField(C.is_percent, "bool"),
    "exclusive": FilterField(C.exclusive, "bool"),
    "expiration_date": FilterField(C.expiration_date, "timestamp"),
    "max_redemptions": FilterField(C.max_redemptions, "int"),
    "duration": FilterField(C.duration, "int"),
    "created_at": FilterField(C.created_at, "timestamp"),
    "updated_at": FilterField(C.updated_at, "timestamp"),
}


def _apply_mutable(coupon: Coupon, data: CouponUpdate, sent: set[str], creating: bool) -> None:
    """The fields CT6 lets PATCH change; on create every one is written (defaults included)."""
    if creating or "name" in sent:
        coupon.name = rules.rate_name(data.name)
    if creating or "exclusive" in sent:
        coupon.exclusive = data.exclusive
    if creating or "expiration_date" in sent:
        coupon.expiration_date = data.expiration_date
    if creating or "max_redemptions" in sent:
        coupon.max_redemptions = rules.non_negative(data.max_redemptions, "max_redemptions")
    if creating or "duration" in sent:
        coupon.duration = rules.non_negative(data.duration, "duration")
    if creating or "metadata" in sent:
        coupon.metadata_ = normalize_metadata({} if data.metadata is None else data.metadata)


async def create(ctx: Context, data: CouponInput) -> Coupon:
    chosen = rules.chosen_id(data.id)
    coupon = Coupon(
        account_id=ctx.account_id,
        archived=False,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    _apply_mutable(coupon, data, set(data.model_fields_set), creating=True)
    coupon.value = rules.rate_value(data.value, data.is_percent)
    coupon.is_percent = data.is_percent
    coupon.currency = rules.rate_currency(data.currency, data.is_percent, ctx.account.currency)
    coupon.public_id = await repository.store.new_id(ctx.session, ctx.account_id, chosen)
    ctx.session.add(coupon)
    await repository.store.flush(ctx.session, coupon.public_id)
    return coupon


async def retrieve(ctx: Context, coupon_id: str) -> Coupon:
    return await repository.get_live(ctx.session, ctx.account_id, coupon_id)


async def update(ctx: Context, coupon_id: str, data: CouponUpdate) -> Coupon:
    """CT6: name, metadata and the redemption fields; everything else was never read."""
    coupon = await repository.get_live(ctx.session, ctx.account_id, coupon_id, lock=True)
    before = coupon_json(coupon)
    _apply_mutable(coupon, data, set(data.model_fields_set), creating=False)
    if coupon_json(coupon) != before:
        coupon.updated_at = ctx.now
        await ctx.session.flush()
    return coupon


async def archive(ctx: Context, coupon_id: str) -> None:
    """CT2: the coupon leaves every lookup and its id is free again; documents keep their
    copy."""
    coupon = await repository.get_live(ctx.session, ctx.account_id, coupon_id, lock=True)
    coupon.archived = True
    coupon.updated_at = ctx.now
    await ctx.session.flush()


def list_statement(ctx: Context, query: ListQuery) -> Select[Any]:
    statement = select(Coupon).where(Coupon.account_id == ctx.account_id, ~Coupon.archived)
    statement = statement.where(*filter_conditions(query.filters, FILTERS))
    statement = statement.where(*metadata_conditions(Coupon.metadata_, query.metadata))
    statement = statement.where(*updated_conditions(query, Coupon.updated_at))
    return statement


async def list_coupons(ctx: Context, query: ListQuery) -> tuple[list[Coupon], int]:
    ordering = order_by(query.sort, FILTERS, Coupon.pk)
    return await fetch_page(ctx.session, list_statement(ctx, query), ordering, query.page)
