"""Turns a request's coalesced events into rows, inside the request's transaction (EV1)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tally.domain.events import EventBuffer
from tally.models import Event, EventAssociation


async def store_events(
    session: AsyncSession, account_id: int, now: int, actor: int, buffer: EventBuffer
) -> list[Event]:
    pending = buffer.drain()
    if not pending:
        return []
    rows: list[Event] = []
    for item in pending:
        data: dict[str, object] = {"object": item.object}
        previous = item.previous
        if previous is not None:
            data["previous"] = previous
        rows.append(
            Event(
                account_id=account_id,
                type=item.type,
                timestamp=now,
                object_type=item.object_type,
                object_id=str(item.object_id),
                data=data,
                user_id=actor,
            )
        )
    session.add_all(rows)
    await session.flush()
    for row, item in zip(rows, pending, strict=True):
        links = {(item.object_type, str(item.object_id))}
        links.update((kind, str(ident)) for kind, ident in item.related)
        session.add_all(
            EventAssociation(
                event_id=row.id, account_id=account_id, object_type=kind, object_id=ident
            )
            for kind, ident in sorted(links)
        )
    return rows
