"""`POST /_test/clock` and `POST /_test/jobs/{name}/run` (C23.2)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.domain.coerce import parse_decimal, parse_timestamp
from tally.domain.errors import InvalidRequest, NotFound
from tally.http.auth import Principal
from tally.http.body import read_body
from tally.http.context import RequestContext, request_context
from tally.jobs.catalog import HANDLERS
from tally.jobs.queue import JobRun
from tally.jsonenc import dumps

router = APIRouter(tags=["test hooks"], include_in_schema=False)
# `POST /_test/jobs/due/run` runs every queued job of the caller's account that is due now.
DUE = "due"


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
async def run_job(name: str, request: Request) -> Response:
    """Run a job now, for the caller's account only, and wait for it.

    No request session here: jobs open their own write transactions, and on SQLite a
    request holding one would wait on itself."""
    principal: Principal = request.scope["state"]["principal"]
    state = request.app.state
    account_id = principal.account.id
    if name == DUE:
        ran = await state.worker.run_due(account_id=account_id)
        return Response(dumps({"job": name, "ran": ran}), media_type="application/json")
    handler = HANDLERS.get(name)
    if handler is None:
        raise NotFound("Job", name)
    await handler(
        JobRun(
            id=None,
            name=name,
            account_id=account_id,
            payload={},
            attempts=1,
            max_attempts=1,
            now=state.clock.now(),
            database=state.database,
            settings=state.settings,
        )
    )
    return Response(dumps({"job": name, "ran": 1}), media_type="application/json")
