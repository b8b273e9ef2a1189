"""Coupon queries. Every one is scoped to the account; only live (non-archived) coupons are
found by id (CT2)."""

from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally.domain.catalog import is_valid_id
from tally.domain.errors import NotFound
from tally.models import Coupon

OBJECT = "Coupon"


def _live(account_id: int) -> Select[Coupon]:
    return select(Coupon).where(Coupon.account_id == account_id, ~Coupon.archived)


async def live_coupon(session: AsyncSession, account_id: int, coupon_id: str) -> Coupon | None:
    """The live coupon with this public id (exact, case-sensitive), or None."""
    if not is_valid_id(coupon_id):
        return None  # no stored id has that shape: skip the query
    statement = _live(account_id).where(Coupon.public_id == coupon_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def live_coupons(session: AsyncSession, account_id: int, ids: list[str]) -> dict[str, Coupon]:
    """The live coupons among `ids`, by public id, in one query; missing ids are absent."""
    wanted = sorted({i for i in ids if is_valid_id(i)})
    if not wanted:
        return {}
    rows = await session.scalars(_live(account_id).where(Coupon.public_id.in_(wanted)))
    return {coupon.public_id: coupon for coupon in rows}


async def get_live(
    session: AsyncSession, account_id: int, coupon_id: str, *, lock: bool = False
) -> Coupon:
    """The live coupon, or NotFound (CT2: an archived coupon is not found)."""
    if not is_valid_id(coupon_id):
        raise NotFound(OBJECT, coupon_id)
    statement = _live(account_id).where(Coupon.public_id == coupon_id)
    if lock:
        statement = statement.with_for_update(key_share=True)
    coupon = (await session.execute(statement)).scalar_one_or_none()
    if coupon is None:
        raise NotFound(OBJECT, coupon_id)
    return coupon


async def id_in_use(session: AsyncSession, account_id: int, public_id: str) -> bool:
    """CT1: whether a live coupon already has this id."""
    condition = exists().where(
        Coupon.account_id == account_id,
        Coupon.public_id == public_id,
        ~Coupon.archived,
    )
    return bool(await session.scalar(select(condition)))
