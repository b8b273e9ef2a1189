"""Item queries. Every one is scoped to the account; only live (non-archived) items are found
by id (IT7)."""

from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally.domain.catalog import is_valid_id
from tally.domain.errors import NotFound
from tally.models import CatalogItem

OBJECT = "Item"


def _live(account_id: int) -> Select[CatalogItem]:
    return select(CatalogItem).where(CatalogItem.account_id == account_id, ~CatalogItem.archived)


async def live_item(session: AsyncSession, account_id: int, item_id: str) -> CatalogItem | None:
    """The live item with this public id (exact, case-sensitive, IT3), or None."""
    if not is_valid_id(item_id):
        return None  # no stored id has that shape: skip the query
    statement = _live(account_id).where(CatalogItem.public_id == item_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def live_items(
    session: AsyncSession, account_id: int, ids: list[str]
) -> dict[str, CatalogItem]:
    """The live items among `ids`, by public id, in one query; missing ids are absent."""
    wanted = sorted({i for i in ids if is_valid_id(i)})
    if not wanted:
        return {}
    rows = await session.scalars(_live(account_id).where(CatalogItem.public_id.in_(wanted)))
    return {item.public_id: item for item in rows}


async def get_live(
    session: AsyncSession, account_id: int, item_id: str, *, lock: bool = False
) -> CatalogItem:
    """The live item, or NotFound (IT7: an archived item is not found)."""
    if not is_valid_id(item_id):
        raise NotFound(OBJECT, item_id)
    statement = _live(account_id).where(CatalogItem.public_id == item_id)
    if lock:
        statement = statement.with_for_update(key_share=True)
    item = (await session.execute(statement)).scalar_one_or_none()
    if item is None:
        raise NotFound(OBJECT, item_id)
    return item


async def id_in_use(session: AsyncSession, account_id: int, public_id: str) -> bool:
    """IT3: whether a live item already has this id."""
    condition = exists().where(
        CatalogItem.account_id == account_id,
        CatalogItem.public_id == public_id,
        ~CatalogItem.archived,
    )
    return bool(await session.scalar(select(condition)))
