"""The per-request unit of work: a service Context plus the request, and the one commit."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import Response

from tally.config import Settings
from tally.context import Context
from tally.domain.errors import InvalidRequest, NotFound
from tally.domain.pagination import link_header
from tally.events.recorder import store_events
from tally.http.auth import Principal
from tally.http.idempotency import STATE_CLAIM, STATE_DONE, complete_in_transaction
from tally.http.listing import ListQuery
from tally.jsonenc import dumps

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# ASCII digits that fit a 64-bit id (str.isdigit() would also accept "²").
_PATH_ID = re.compile(r"[0-9]{1,18}")


def request_base_url(request: Request, settings: Settings) -> str:
    """C20.1: configured base URL, else the one the client used."""
    if settings.api_base_url:
        return settings.api_base_url.rstrip("/")
    scheme = request.url.scheme
    host = request.headers.get("host") or request.url.netloc
    if settings.trust_proxy_headers:
        scheme = request.headers.get("x-forwarded-proto", scheme).split(",")[0].strip()
        host = request.headers.get("x-forwarded-host", host).split(",")[0].strip()
    return f"{scheme}://{host}"


def public_base_url(base_url: str, settings: Settings) -> str:
    """C18: customer-facing links live under /portal unless configured elsewhere."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    return f"{base_url}/portal"


@dataclass(kw_only=True)
class RequestContext(Context):
    request: Request
    api_key_id: int
    base_url: str

    def _pretty(self) -> bool:
        return self.request.headers.get("user-agent", "").startswith("curl")

    async def respond(self, status: int, payload: Any | None = None) -> Response:
        """Record events, store the idempotent response, commit once, then answer."""
        body = b"" if status == 204 else dumps(payload, pretty=self._pretty())
        if self.request.method not in READ_METHODS:
            await store_events(self.session, self.account_id, self.now, self.actor, self.events)
            claim = self.request.scope.get("state", {}).get(STATE_CLAIM)
            if claim is not None:
                await complete_in_transaction(self.session, claim, status, "application/json", body)
            await self.session.commit()
            if claim is not None:
                self.request.scope["state"][STATE_DONE] = True
        if status == 204:
            return Response(status_code=204)
        return Response(body, status_code=status, media_type="application/json")

    def list_response(self, items: list[Any], total: int, query: ListQuery) -> Response:
        headers = {
            "X-Total-Count": str(total),
            "Link": link_header(
                self.base_url, self.request.url.path, query.pairs, query.page, total
            ),
        }
        return Response(
            dumps(items, pretty=self._pretty()),
            status_code=200,
            media_type="application/json",
            headers=headers,
        )


def parse_id(raw: str, object_name: str) -> int:
    """C1.5: a path id that is not an integer is simply not found."""
    if not _PATH_ID.fullmatch(raw):
        raise NotFound(object_name, raw)
    return int(raw)


async def request_context(request: Request) -> AsyncIterator[RequestContext]:
    """FastAPI dependency: one session (a write session for unsafe methods) per request."""
    state = request.app.state
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None:  # only reachable if a route is mounted outside the auth middleware
        raise InvalidRequest("Missing API key")
    write = request.method not in READ_METHODS
    base_url = request_base_url(request, state.settings)
    async with state.database.session(write=write) as session:
        yield RequestContext(
            request=request,
            session=session,
            account=principal.account,
            api_key_id=principal.api_key_id,
            now=state.clock.now(),
            base_url=base_url,
            public_base_url=public_base_url(base_url, state.settings),
        )
