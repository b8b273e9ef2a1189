"""Customer queries. Every one is scoped to the account."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exists, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally.domain.customers import MAX_HIERARCHY_LEVELS
from tally.domain.errors import NotFound
from tally.domain.numbering import number_key
from tally.models import Customer


async def get(
    session: AsyncSession,
    account_id: int,
    customer_id: int,
    *,
    lock: bool | Literal["share", "update"] = False,
) -> Customer:
    if not lock and (loaded := _loaded(session, account_id, customer_id)) is not None:
        return loaded  # the same object the query below would return, without the query
    statement = select(Customer).where(
        Customer.account_id == account_id, Customer.id == customer_id
    )
    if lock == "share":
        # FOR KEY SHARE: the customer must still exist when a new document referencing it
        # commits; a concurrent delete (FOR UPDATE) waits for us, or we for it.
        statement = statement.with_for_update(read=True, key_share=True)
    elif lock == "update":
        statement = statement.with_for_update()  # FOR UPDATE: before a delete
    elif lock:
        # FOR NO KEY UPDATE: exclusive for writers, yet compatible with the key-share locks
        # that foreign-key checks take (a contact insert, a child's parent_customer).
        statement = statement.with_for_update(key_share=True)
    if lock:
        # A row read earlier in this session is refreshed once we hold the lock.
        statement = statement.execution_options(populate_existing=True)
    customer = (await session.execute(statement)).scalar_one_or_none()
    if customer is None:
        raise NotFound("Customer", customer_id)
    return customer


def _loaded(session: AsyncSession, account_id: int, customer_id: int) -> Customer | None:
    """The customer if this session already holds it, fully loaded and not being deleted.

    An unlocked SELECT by id returns the session's own object unchanged (no
    populate_existing), so reusing it only saves the round trip.
    """
    sync = session.sync_session
    found = sync.identity_map.get(sync.identity_key(Customer, customer_id))
    if not isinstance(found, Customer):
        return None
    state = inspect(found)
    if state.unloaded or state.deleted or found in sync.deleted:
        return None
    return found if found.account_id == account_id else None


async def number_in_use(
    session: AsyncSession, account_id: int, number: str, *, except_id: int | None = None
) -> bool:
    condition = [Customer.account_id == account_id, Customer.number_key == number_key(number)]
    if except_id is not None:
        condition.append(Customer.id != except_id)
    return bool(await session.scalar(select(exists().where(*condition))))


async def ancestor_chain(session: AsyncSession, account_id: int, customer_id: int) -> list[int]:
    """The customer followed by its ancestors, nearest first (bounded: CU10 allows 5 levels)."""
    chain = [customer_id]
    current: int | None = customer_id
    while current is not None and len(chain) <= MAX_HIERARCHY_LEVELS + 1:
        current = await session.scalar(
            select(Customer.parent_customer_id).where(
                Customer.account_id == account_id, Customer.id == current
            )
        )
        if current is None or current in chain:
            break
        chain.append(current)
    return chain


async def subtree_height(session: AsyncSession, account_id: int, customer_id: int) -> int:
    """Levels of sub-customers below a customer (0 for none), one query per level."""
    height = 0
    level = [customer_id]
    while level and height <= MAX_HIERARCHY_LEVELS:
        level = list(
            await session.scalars(
                select(Customer.id).where(
                    Customer.account_id == account_id, Customer.parent_customer_id.in_(level)
                )
            )
        )
        if level:
            height += 1
    return height


async def children(session: AsyncSession, account_id: int, customer_id: int) -> list[Customer]:
    return list(
        await session.scalars(
            select(Customer)
            .where(Customer.account_id == account_id, Customer.parent_customer_id == customer_id)
            .order_by(Customer.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    )
