"""Event routes: read-only (events cannot be created, edited or deleted: 405)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.events import service
from tally.events.schemas import EventOut, event_json
from tally.http.context import RequestContext, parse_id, request_context
from tally.http.docs import list_doc, one_doc
from tally.http.listing import read_list_query

router = APIRouter(tags=["events"])


@router.get("/events", **list_doc(EventOut))
async def list_events(request: Request, ctx: RequestContext = Depends(request_context)) -> Response:
    query = read_list_query(request)
    events, total = await service.list_events(ctx, query)
    return ctx.list_response([event_json(e) for e in events], total, query)


@router.get("/events/{event_id}", **one_doc(EventOut))
async def retrieve_event(event_id: str, ctx: RequestContext = Depends(request_context)) -> Response:
    event = await service.retrieve(ctx, parse_id(event_id, "Event"))
    return await ctx.respond(200, event_json(event))
