"""Lookups shared by the resources with user-chosen string ids that are archived, never
deleted: catalog items, coupons and tax rates (items.md IT1-IT7, coupons_tax_rates.md CT1-CT2).

Only live rows are found by id; an archived row's id is free for a new one. Every query is
scoped to the account.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from sqlalchemy import Select, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tally.domain import catalog as rules
from tally.domain.errors import NotFound
from tally.models import CatalogItem, Coupon, TaxRate

Row = TypeVar("Row", CatalogItem, Coupon, TaxRate)
# Tries at a random id that no live row uses (IT1); 62^6 ids make a second try rare.
ID_TRIES = 10


class LiveIds(Generic[Row]):
    def __init__(self, model: type[Row], object_name: str) -> None:
        self.model: type[Row] = model
        self.object_name = object_name

    def _live(self, account_id: int) -> Select[Row]:
        model = self.model
        return select(model).where(model.account_id == account_id, ~model.archived)

    async def find(self, session: AsyncSession, account_id: int, public_id: str) -> Row | None:
        """The live row with this id (exact, case-sensitive), or None."""
        if not rules.is_valid_id(public_id):
            return None  # no stored id has that shape: skip the query
        statement = self._live(account_id).where(self.model.public_id == public_id)
        return (await session.execute(statement)).scalar_one_or_none()

    async def find_many(
        self, session: AsyncSession, account_id: int, ids: Sequence[str]
    ) -> dict[str, Row]:
        """The live rows among `ids`, by id, in one query; missing ids are absent."""
        wanted = sorted({i for i in ids if rules.is_valid_id(i)})
        if not wanted:
            return {}
        rows = await session.scalars(self._live(account_id).where(self.model.public_id.in_(wanted)))
        return {row.public_id: row for row in rows}

    async def get(
        self, session: AsyncSession, account_id: int, public_id: str, *, lock: bool = False
    ) -> Row:
        """The live row, or NotFound: an archived row is not found (IT7, CT2)."""
        if not rules.is_valid_id(public_id):
            raise NotFound(self.object_name, public_id)
        statement = self._live(account_id).where(self.model.public_id == public_id)
        if lock:
            statement = statement.with_for_update(key_share=True).execution_options(
                populate_existing=True
            )
        row = (await session.execute(statement)).scalar_one_or_none()
        if row is None:
            raise NotFound(self.object_name, public_id)
        return row

    async def in_use(self, session: AsyncSession, account_id: int, public_id: str) -> bool:
        model = self.model
        condition = exists().where(
            model.account_id == account_id, model.public_id == public_id, ~model.archived
        )
        return bool(await session.scalar(select(condition)))

    async def new_id(self, session: AsyncSession, account_id: int, chosen: str | None) -> str:
        """The client's id if no live row uses it (IT3, CT1), else a fresh random one (IT1)."""
        if chosen is not None:
            if await self.in_use(session, account_id, chosen):
                raise rules.already_exists(chosen)
            return chosen
        candidate = rules.generate_id()
        for _ in range(ID_TRIES):
            if not await self.in_use(session, account_id, candidate):
                return candidate
            candidate = rules.generate_id()
        raise rules.already_exists(candidate)

    @staticmethod
    async def flush(session: AsyncSession, public_id: str) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:
            # The partial unique index decides when two requests create one id at once.
            raise rules.already_exists(public_id) from exc


items = LiveIds(CatalogItem, "Item")
coupons = LiveIds(Coupon, "Coupon")
tax_rates = LiveIds(TaxRate, "Tax rate")
