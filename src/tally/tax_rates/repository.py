"""Tax rate queries. Every one is scoped to the account; only live (non-archived) tax rates
are found by id (CT2)."""

from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally.domain.catalog import is_valid_id
from tally.domain.errors import NotFound
from tally.models import TaxRate

OBJECT = "Tax rate"


def _live(account_id: int) -> Select[TaxRate]:
    return select(TaxRate).where(TaxRate.account_id == account_id, ~TaxRate.archived)


async def live_tax_rate(session: AsyncSession, account_id: int, tax_rate_id: str) -> TaxRate | None:
    """The live tax rate with this public id (exact, case-sensitive), or None."""
    if not is_valid_id(tax_rate_id):
        return None  # no stored id has that shape: skip the query
    statement = _live(account_id).where(TaxRate.public_id == tax_rate_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def live_tax_rates(
    session: AsyncSession, account_id: int, ids: list[str]
) -> dict[str, TaxRate]:
    """The live tax rates among `ids`, by public id, in one query; missing ids are absent."""
    wanted = sorted({i for i in ids if is_valid_id(i)})
    if not wanted:
        return {}
    rows = await session.scalars(_live(account_id).where(TaxRate.public_id.in_(wanted)))
    return {rate.public_id: rate for rate in rows}


async def get_live(
    session: AsyncSession, account_id: int, tax_rate_id: str, *, lock: bool = False
) -> TaxRate:
    """The live tax rate, or NotFound (CT2: an archived rate is not found)."""
    if not is_valid_id(tax_rate_id):
        raise NotFound(OBJECT, tax_rate_id)
    statement = _live(account_id).where(TaxRate.public_id == tax_rate_id)
    if lock:
        statement = statement.with_for_update(key_share=True)
    rate = (await session.execute(statement)).scalar_one_or_none()
    if rate is None:
        raise NotFound(OBJECT, tax_rate_id)
    return rate


async def id_in_use(session: AsyncSession, account_id: int, public_id: str) -> bool:
    """CT1: whether a live tax rate already has this id."""
    condition = exists().where(
        TaxRate.account_id == account_id,
        TaxRate.public_id == public_id,
        ~TaxRate.archived,
    )
    return bool(await session.scalar(select(condition)))
