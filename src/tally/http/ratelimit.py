"""Concurrent in-flight requests per API key (C15), as pure ASGI middleware."""

from __future__ import annotations

from collections import defaultdict

from tally.http.middleware import ASGIApp, Receive, Scope, Send, send_json_error


class ConcurrencyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight: defaultdict[int, int] = defaultdict(int)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal") if scope["type"] == "http" else None
        if principal is None or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        key_id = principal.api_key_id
        if self.in_flight[key_id] >= self.limit:
            await send_json_error(
                send,
                429,
                f"Too many concurrent requests! You can only make {self.limit} "
                "concurrent requests at a time.",
                headers=[(b"retry-after", b"1")],
            )
            return
        self.in_flight[key_id] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[key_id] -= 1
            if not self.in_flight[key_id]:
                del self.in_flight[key_id]
