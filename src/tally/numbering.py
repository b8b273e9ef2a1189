"""Allocating document numbers from the per-account sequences (C19), safely under concurrency.

The sequence row is locked (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite write
transactions are already serialized), so two concurrent creates can never pick the same
value. The lock is held until the request commits or rolls back; a rollback also undoes
the increment, so failed creates release their number (C19.4).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tally.domain.errors import Conflict
from tally.domain.numbering import (
    DEFAULT_TEMPLATES,
    MAX_TRIES,
    format_number,
    number_key,
    number_taken,
    too_many_tries,
)
from tally.models import Account, Sequence


async def _locked_sequence(session: AsyncSession, account_id: int, kind: str) -> Sequence:
    locked = (
        select(Sequence)
        .where(Sequence.account_id == account_id, Sequence.kind == kind)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    sequence = (await session.execute(locked)).scalar_one_or_none()
    if sequence is not None:
        return sequence  # the usual case: one statement
    # The first number of this kind: create the row (a concurrent first create may win the
    # insert; ours then does nothing) and lock whichever row is there.
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(Sequence)
        .values(account_id=account_id, kind=kind, next_value=1)
        .on_conflict_do_nothing(index_elements=["account_id", "kind"])
    )
    return (await session.execute(locked)).scalar_one()


async def allocate_number(
    session: AsyncSession,
    account: Account,
    kind: str,
    key_column: InstrumentedAttribute[Any],
    account_column: InstrumentedAttribute[Any],
) -> str:
    """The next free number for `kind`; advances the sequence past it."""
    sequence = await _locked_sequence(session, account.id, kind)
    template = (account.number_templates or {}).get(kind, DEFAULT_TEMPLATES[kind])
    candidates = [format_number(template, sequence.next_value + i) for i in range(MAX_TRIES)]
    taken = set(
        await session.scalars(
            select(key_column).where(
                account_column == account.id,
                key_column.in_([number_key(c) for c in candidates]),
            )
        )
    )
    for offset, candidate in enumerate(candidates):
        if number_key(candidate) not in taken:
            sequence.next_value = sequence.next_value + offset + 1
            return candidate
    raise too_many_tries()


async def flush_numbered(
    session: AsyncSession, object_label: str, number: str, *, number_sent: bool
) -> None:
    """Flush a document whose number may collide with a concurrent request's.

    The unique index is the last word when two requests race for one number: a number the
    client chose is "already taken" (C19.3); a generated one (or a parent row deleted
    meanwhile) can only collide with a concurrent change, which the client may retry.
    """
    try:
        await session.flush()
    except IntegrityError as exc:
        if number_sent:
            raise number_taken(object_label, number) from exc
        raise Conflict(
            "This request conflicted with a concurrent change. Please retry it."
        ) from exc
