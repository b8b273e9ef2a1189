"""`POST /_test/clock` and `POST /_test/jobs/{name}/run` (C23.2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.context import Context
from tally.domain.coerce import parse_decimal, parse_timestamp
from tally.domain.errors import InvalidRequest, NotFound
from tally.http.body import read_body
from tally.http.context import RequestContext, request_context

router = APIRouter(tags=["test hooks"], include_in_schema=False)
# Periodic jobs register here as they arrive (C23.1); a job takes the request context.
JOBS: dict[str, Callable[[Context], Awaitable[object]]] = {}


@router.post("/_test/clock")
async def set_clock(request: Request, ctx: RequestContext = Depends(request_context)) -> Response:
    raw = (await read_body(request)).get("now")
    if raw is None or raw == "":
        raise InvalidRequest("Now is missing", "now")
    now = parse_timestamp(raw)
    if now is None and (exact := parse_decimal(raw)) is not None:
        now = int(exact)  # tests often send time.time(); sub-second precision is dropped
    if now is None:
        raise InvalidRequest("Now is invalid", "now")
    request.app.state.clock.set(now)
    return await ctx.respond(200, {"now": now})


@router.post("/_test/jobs/{name}/run")
async def run_job(name: str, ctx: RequestContext = Depends(request_context)) -> Response:
    job = JOBS.get(name)
    if job is None:
        raise NotFound("Job", name)
    await job(ctx)
    return await ctx.respond(200, {"job": name, "ran": True})
