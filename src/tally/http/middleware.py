"""Pure ASGI middleware for the wire-level conventions.

Starlette lowercases header names; the PHP and Java clients read `Link` and `X-Total-Count`
case-sensitively (C4.9), so the outermost layer restores canonical casing and adds the
headers every API response carries (C2.7).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from tally.http.errors import error_body, unexpected_error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CANONICAL = {
    b"link": b"Link",
    b"x-total-count": b"X-Total-Count",
    b"content-type": b"Content-Type",
    b"content-length": b"Content-Length",
    b"www-authenticate": b"WWW-Authenticate",
    b"cache-control": b"Cache-Control",
    b"retry-after": b"Retry-After",
    b"idempotent-replayed": b"Idempotent-Replayed",
}
API_HEADERS = [
    (b"WWW-Authenticate", b'Basic realm="Invoiced"'),
    (b"Cache-Control", b"no-cache, no-store"),
]
# On every response: no MIME sniffing, no framing, no referrer leaking customer-facing URLs
# (their capability tokens) to other sites. Pages add their own Content-Security-Policy.
SECURITY_HEADERS = [
    (b"X-Content-Type-Options", b"nosniff"),
    (b"X-Frame-Options", b"DENY"),
    (b"Referrer-Policy", b"no-referrer"),
]
# Paths outside the Invoiced API (docs, health, customer-facing pages) keep their own caching.
NON_API_PREFIXES = ("/docs", "/openapi.json", "/health", "/portal", "/redoc")


def is_api_path(path: str) -> bool:
    return not path.startswith(NON_API_PREFIXES)


async def send_json_error(
    send: Send,
    status: int,
    message: str,
    param: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = error_body(status, message, param)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class WireConventions:
    """Canonical header casing, C2.7 headers, trailing-slash tolerance (C1.3), and the JSON
    500 for anything unhandled (so even a bug answers in the Invoiced error shape)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = dict(scope, path=path.rstrip("/") or "/")
            scope["raw_path"] = scope["path"].encode()
        api = is_api_path(scope["path"])

        started = False

        async def send_canonical(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (CANONICAL.get(name.lower(), name), value)
                    for name, value in message.get("headers", [])
                    if not (api and name.lower() in (b"www-authenticate", b"cache-control"))
                ]
                if api:
                    headers.extend(API_HEADERS)
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0].lower() not in present)
                message = dict(message, headers=headers)
            await send(message)

        try:
            await self.app(scope, receive, send_canonical)
        except Exception as exc:
            if started:
                raise  # too late for an error body; the server closes the connection
            body = unexpected_error_body(exc)
            await send_canonical(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_canonical({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """Refuse bodies over the configured size with a JSON 413, and bodies that trickle in
    slower than `read_timeout` seconds with a JSON 408, before anything reads them. The
    body is whole before authentication, rate limiting or any database work starts, so a
    slow client holds none of them."""

    def __init__(self, app: ASGIApp, max_bytes: int, read_timeout: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"The request body exceeds the limit of {self.max_bytes} bytes."
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await send_json_error(send, 413, message)
                    return
        # Buffer the whole body (it is at most max_bytes) so an oversized chunked upload is
        # refused here, not half-way through a handler.
        chunks: list[bytes] = []
        received = 0
        more = scope["method"] not in ("GET", "HEAD")
        try:
            async with asyncio.timeout(self.read_timeout):
                while more:
                    incoming = await receive()
                    if incoming["type"] != "http.request":
                        break
                    chunk = incoming.get("body", b"")
                    received += len(chunk)
                    if received > self.max_bytes:
                        break
                    chunks.append(chunk)
                    more = incoming.get("more_body", False)
        except TimeoutError:
            await send_json_error(send, 408, "The request body was not received in time.")
            return
        if received > self.max_bytes:  # answered outside the read deadline
            await send_json_error(send, 413, message)
            return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
