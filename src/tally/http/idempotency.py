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
import secrets
import time
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tally.db import Database
from tally.domain.errors import Conflict
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


@dataclass(frozen=True)
class Claim:
    id: int
    token: str


async def _store(
    session: AsyncSession, claim: Claim, status: int, content_type: str, body: bytes
) -> bool:
    """Store the response if this claim is still the current one (fencing on the token)."""
    result = await session.execute(
        update(IdempotentRequest)
        .where(
            IdempotentRequest.id == claim.id,
            IdempotentRequest.claim_token == claim.token,
            IdempotentRequest.response_status.is_(None),
        )
        .values(response_status=status, response_content_type=content_type, response_body=body)
    )
    return cast(CursorResult[Any], result).rowcount == 1


async def complete_in_transaction(
    session: AsyncSession, claim: Claim, status: int, content_type: str, body: bytes
) -> None:
    """Called by the handler before its commit: its writes and its stored response commit
    together, or not at all."""
    if not await _store(session, claim, status, content_type, body):
        # Our lease expired and a retry took the key over: only one of us may commit.
        raise Conflict(
            "This request outlived its idempotency lease and a retry took over; "
            "nothing was changed by this attempt.",
            PARAM,
        )


class IdempotencyKeys:
    def __init__(
        self, app: ASGIApp, database: Database, wait_seconds: float, lease_seconds: float
    ) -> None:
        self.app = app
        self.database = database
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
        assert isinstance(outcome, Claim)
        await self._run(scope, send, body, outcome)

    async def _run(self, scope: Scope, send: Send, body: bytes, claim: Claim) -> None:
        state = scope.setdefault("state", {})
        state[STATE_CLAIM] = claim
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
                    claim, captured["status"], captured["content_type"], b"".join(chunks)
                )

    async def _finish(self, claim: Claim, status: int, content_type: str, body: bytes) -> None:
        """Store a response that committed nothing (a 4xx), or release the key after a 5xx."""
        async with self.database.session(write=True) as session:
            if status >= 500 or status == 409:
                # Nothing was committed (a failure, or a lost lease): a retry may run again.
                await session.execute(
                    delete(IdempotentRequest).where(
                        IdempotentRequest.id == claim.id,
                        IdempotentRequest.claim_token == claim.token,
                        IdempotentRequest.response_status.is_(None),
                    )
                )
            else:
                await _store(session, claim, status, content_type, body)
            await session.commit()

    async def _claim(
        self, api_key_id: int, key: str, print_: str
    ) -> Claim | str | IdempotentRequest:
        """Our claim, a stored response to replay, "mismatch" or "busy".

        Leases run on the wall clock, not the injectable business clock: moving "now" in a
        test must not expire a request that is still running.
        """
        deadline = time.monotonic() + self.wait_seconds
        while True:
            now_ms = int(time.time() * 1000)
            token = secrets.token_hex(16)
            async with self.database.session(write=True) as session:
                row = IdempotentRequest(
                    api_key_id=api_key_id,
                    key=key,
                    fingerprint=print_,
                    claimed_at_ms=now_ms,
                    claim_token=token,
                    created_at=now_ms // 1000,
                )
                session.add(row)
                try:
                    await session.commit()
                    return Claim(row.id, token)
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
                    # The claimant is presumed dead. Take the claim over with a new token: if
                    # it was only slow, its commit is now fenced off (complete_in_transaction).
                    taken = await session.execute(
                        update(IdempotentRequest)
                        .where(
                            IdempotentRequest.id == existing.id,
                            IdempotentRequest.claim_token == existing.claim_token,
                            IdempotentRequest.response_status.is_(None),
                        )
                        .values(claimed_at_ms=now_ms, claim_token=token)
                    )
                    await session.commit()
                    if cast(CursorResult[Any], taken).rowcount == 1:
                        return Claim(existing.id, token)
                    continue
            if time.monotonic() >= deadline:
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
