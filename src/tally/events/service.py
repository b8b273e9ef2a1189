"""Reading events (EV12)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from tally.context import Context
from tally.domain.errors import InvalidRequest, NotFound
from tally.domain.event_types import FROM_ACTORS, OBJECT_ALIASES, OBJECT_NAMES
from tally.http.listing import (
    FilterField,
    ListQuery,
    date_range_conditions,
    fetch_page,
    filter_conditions,
)
from tally.models import Event, EventAssociation

FILTERS: dict[str, FilterField] = {
    "type": FilterField(Event.type),
    "user_id": FilterField(Event.user_id, "int"),
    "timestamp": FilterField(Event.timestamp, "timestamp"),
}


def _object_names(name: str) -> tuple[str, ...]:
    if name not in OBJECT_NAMES and name not in OBJECT_ALIASES:
        raise InvalidRequest(f"Invalid object type: {name}")
    return OBJECT_ALIASES.get(name, (name,))


def _conditions(ctx: Context, query: ListQuery) -> list[ColumnElement[bool]]:
    conditions = [Event.account_id == ctx.account_id, *filter_conditions(query.filters, FILTERS)]
    related = query.param("related_to")
    if isinstance(related, str) and related:
        name, _, ident = related.partition(",")
        names = _object_names(name.strip())
        conditions.append(
            Event.id.in_(
                select(EventAssociation.event_id).where(
                    EventAssociation.account_id == ctx.account_id,
                    EventAssociation.object_type.in_(names),
                    EventAssociation.object_id == ident.strip(),
                )
            )
        )
    object_type = query.param("type")
    if isinstance(object_type, str) and object_type:
        conditions.append(Event.object_type.in_(_object_names(object_type.strip())))
    actor = query.param("from")
    if isinstance(actor, str) and actor:
        if actor == "team":
            conditions.append(Event.user_id > 0)
        elif actor in FROM_ACTORS:
            conditions.append(Event.user_id == FROM_ACTORS[actor])
        else:
            raise InvalidRequest(f"Invalid value for `from`: {actor}")
    conditions.extend(date_range_conditions(query, Event.timestamp))
    return conditions


async def list_events(ctx: Context, query: ListQuery) -> tuple[list[Event], int]:
    statement = select(Event).where(*_conditions(ctx, query))
    # EV12: newest first, unlike every other list (C7.9).
    return await fetch_page(ctx.session, statement, [Event.id.desc()], query.page)


async def retrieve(ctx: Context, event_id: int) -> Event:
    event = (
        await ctx.session.execute(
            select(Event).where(Event.account_id == ctx.account_id, Event.id == event_id)
        )
    ).scalar_one_or_none()
    if event is None:
        raise NotFound("Event", event_id)
    return event
