"""Idempotency keys (C14), strict form: one execution per (API key, key), across processes.

A request first *claims* its key by inserting a row (the unique constraint arbitrates between
workers). The handler then stores its response in the same database transaction as its
own writes (see `complete_in_transaction`), so a committed change and its stored response
can never be separated by a crash. Responses of requests that wrote nothing (4xx) are
stored afterwards by this middleware. A 5xx releases the claim: its transaction rolled
back, so a retry may safely run again.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tally.clock import Clock
from tally.db import Database
from tally.http.middleware import ASGIApp, Message, Receive, Scope, Send, send_json_error
from tally.models import IdempotentRequest

HEADER = b"idempotency-key"
RETENTION_SECONDS = 24 * 3600
POLL_SECONDS = 0.05
STATE_CLAIM = "idempotency_claim"
STATE_DONE = "idempotency_completed"
PARAM = "Idempotency-Key"


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def complete_in_transaction(
    session: AsyncSession, claim_id: int, status: int, content_type: str, body: bytes
) -> None:
    await session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.id == claim_id)
        .values(response_status=status, response_content_type=content_type, response_body=body)
    )


class IdempotencyKeys:
    def __init__(
        self,
        app: ASGIApp,
        database: Database,
        clock: Clock,
        wait_seconds: float,
        lease_seconds: float,
    ) -> None:
        self.app = app
        self.database = database
        self.clock = clock
        self.wait_seconds = wait_seconds
        self.lease_ms = int(lease_seconds * 1000)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = next((v.decode("latin-1") for k, v in scope["headers"] if k == HEADER), None)
        principal = scope.get("state", {}).get("principal")
        if key is None or principal is None:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method not in ("POST", "PATCH"):
            await send_json_error(
                send,
                400,
                f"Unsupported method: {method}. Idempotency keys can only be used with "
                "POST and PATCH requests.",
                PARAM,
            )
            return
        if len(key) < 6:
            await send_json_error(
                send,
                400,
                "Idempotency key is too short. Must be at least 6 characters long.",
                PARAM,
            )
            return
        if len(key) > 64:
            await send_json_error(
                send,
                400,
                "Idempotency key is too long. Must be no longer than 64 characters.",
                PARAM,
            )
            return

        body = await _read_all(receive)
        print_ = fingerprint(method, scope["path"], scope.get("query_string", b""), body)
        outcome = await self._claim(principal.api_key_id, key, print_)
        if isinstance(outcome, IdempotentRequest):
            await _replay(send, outcome)
            return
        if outcome == "mismatch":
            await send_json_error(
                send,
                400,
                "This idempotency key was already used with different request parameters.",
                PARAM,
            )
            return
        if outcome == "busy":
            await send_json_error(
                send,
                409,
                "A request with this idempotency key is still being processed. "
                "Retry once it has finished.",
                PARAM,
            )
            return
        assert isinstance(outcome, int)
        await self._run(scope, send, body, outcome)

    async def _run(self, scope: Scope, send: Send, body: bytes, claim_id: int) -> None:
        state = scope.setdefault("state", {})
        state[STATE_CLAIM] = claim_id
        captured: dict[str, Any] = {"status": 500, "content_type": "application/json"}
        chunks: list[bytes] = []

        async def receive_once() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        captured["content_type"] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_once, capture)
        finally:
            if not state.get(STATE_DONE):
                await self._finish(
                    claim_id, captured["status"], captured["content_type"], b"".join(chunks)
                )

    async def _finish(self, claim_id: int, status: int, content_type: str, body: bytes) -> None:
        async with self.database.session(write=True) as session:
            if status >= 500:
                await session.execute(
                    delete(IdempotentRequest).where(
                        IdempotentRequest.id == claim_id,
                        IdempotentRequest.response_status.is_(None),
                    )
                )
            else:
                await complete_in_transaction(session, claim_id, status, content_type, body)
            await session.commit()

    async def _claim(self, api_key_id: int, key: str, print_: str) -> int | str | IdempotentRequest:
        """Our claim id, a stored response to replay, "mismatch" or "busy"."""
        deadline = self.clock.time() + self.wait_seconds
        while True:
            now_ms = int(self.clock.time() * 1000)
            async with self.database.session(write=True) as session:
                claim = IdempotentRequest(
                    api_key_id=api_key_id,
                    key=key,
                    fingerprint=print_,
                    claimed_at_ms=now_ms,
                    created_at=now_ms // 1000,
                )
                session.add(claim)
                try:
                    await session.commit()
                    return claim.id
                except IntegrityError:
                    await session.rollback()
                existing = (
                    await session.execute(
                        select(IdempotentRequest).where(
                            IdempotentRequest.api_key_id == api_key_id,
                            IdempotentRequest.key == key,
                        )
                    )
                ).scalar_one_or_none()
                if existing is None:
                    continue  # released between our insert and our read: try again
                if existing.created_at < now_ms // 1000 - RETENTION_SECONDS:
                    await session.execute(
                        delete(IdempotentRequest).where(IdempotentRequest.id == existing.id)
                    )
                    await session.commit()
                    continue
                if existing.fingerprint != print_:
                    return "mismatch"
                if existing.response_status is not None:
                    return existing
                if now_ms - existing.claimed_at_ms > self.lease_ms:
                    # The claimant died without answering; take the claim over atomically.
                    taken = await session.execute(
                        update(IdempotentRequest)
                        .where(
                            IdempotentRequest.id == existing.id,
                            IdempotentRequest.claimed_at_ms == existing.claimed_at_ms,
                            IdempotentRequest.response_status.is_(None),
                        )
                        .values(claimed_at_ms=now_ms)
                    )
                    await session.commit()
                    if getattr(taken, "rowcount", 0) == 1:
                        return existing.id
                    continue
            if self.clock.time() >= deadline:
                return "busy"
            await asyncio.sleep(POLL_SECONDS)


async def _read_all(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _replay(send: Send, stored: IdempotentRequest) -> None:
    body = stored.response_body or b""
    headers = [(b"idempotent-replayed", b"true"), (b"content-length", str(len(body)).encode())]
    if stored.response_content_type and stored.response_status != 204:
        headers.append((b"content-type", stored.response_content_type.encode("latin-1")))
    await send(
        {"type": "http.response.start", "status": stored.response_status, "headers": headers}
    )
    await send({"type": "http.response.body", "body": body})
