"""Abuse limits against the real server (README C15; issue 7, deliverable 5).

25 requests on one key are held in flight at once: at least 5 of them (with the default limit
of 20) are refused with 429 and `Retry-After`, while a second key's requests, sent while the
first key is saturated, all succeed.

The first key's requests are kept in flight by a lock held from outside the server: on
PostgreSQL a row lock on the customer they all update, on SQLite the database's write lock
(`BEGIN IMMEDIATE` in another connection; WAL keeps reads going). The server runs with its
default connection pool: its overflow leaves connections free beyond one key's limit, so the
waiting requests cannot take every connection (they did, before that default: the second
key's requests then timed out).
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support import ServerProcess, is_postgres, new_account

LIMIT = 20
SENT = 25
MESSAGE = f"Too many concurrent requests! You can only make {LIMIT} concurrent requests at a time."


@asynccontextmanager
async def writes_blocked(db_url: str, customer_id: int) -> AsyncIterator[None]:
    """Hold, from outside the server, the lock that the customer's updates need."""
    if is_postgres(db_url):
        engine = create_async_engine(db_url)
        try:
            async with engine.connect() as blocker:
                await blocker.execute(
                    text("SELECT id FROM customers WHERE id = :id FOR UPDATE"), {"id": customer_id}
                )
                yield
                await blocker.rollback()
        finally:
            await engine.dispose()
        return
    path = db_url.split(":///", 1)[1]
    blocker = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        yield
        blocker.execute("ROLLBACK")
    finally:
        blocker.close()


def test_c15_one_saturated_key_gets_429_and_another_key_is_unaffected(db_url):
    server = ServerProcess(db_url, RATE_LIMIT_CONCURRENCY=str(LIMIT))
    try:
        first, second = new_account(db_url), new_account(db_url)
        with httpx.Client(base_url=server.base_url, auth=(first.key, ""), timeout=60) as http:
            customer = http.post("/customers", json={"name": "Busy"}).json()["id"]
        with httpx.Client(base_url=server.base_url, auth=(second.key, ""), timeout=60) as http:
            other = http.post("/customers", json={"name": "Calm"}).json()["id"]

        async def main() -> tuple[list[httpx.Response], list[httpx.Response]]:
            limits = httpx.Limits(max_connections=100)
            async with (
                httpx.AsyncClient(
                    base_url=server.base_url, auth=(first.key, ""), timeout=60, limits=limits
                ) as busy,
                httpx.AsyncClient(
                    base_url=server.base_url, auth=(second.key, ""), timeout=60
                ) as calm,
            ):
                async with writes_blocked(db_url, customer):
                    held = [
                        asyncio.create_task(
                            busy.patch(f"/customers/{customer}", json={"notes": f"n{i}"})
                        )
                        for i in range(SENT)
                    ]
                    await asyncio.sleep(1.5)  # every request has arrived and is waiting
                    # Refusals answer at once, while the lock is still held.
                    refused_early = sum(t.done() for t in held)
                    assert refused_early >= SENT - LIMIT, refused_early
                    others = [await calm.get(f"/customers/{other}") for _ in range(5)]
                return list(await asyncio.gather(*held)), others

        held, others = asyncio.run(main())
        codes = [r.status_code for r in held]
        assert set(codes) <= {200, 429}, [(r.status_code, r.text) for r in held]
        limited = [r for r in held if r.status_code == 429]
        assert len(limited) >= SENT - LIMIT
        assert codes.count(200) == SENT - len(limited)
        for response in limited:
            assert response.headers["Retry-After"] == "1"
            assert response.json() == {"type": "rate_limit_error", "message": MESSAGE}
        assert [r.status_code for r in others] == [200] * 5
        assert all(r.json()["name"] == "Calm" for r in others)
    finally:
        server.stop()


def test_slow_body_gets_408_and_holds_nothing_meanwhile(db_url):
    """A body that trickles in slower than BODY_READ_TIMEOUT_SECONDS is answered with a JSON
    408 in the C6 shape; while it trickles, other writes (even on SQLite, whose writes are
    serialized) go through, because the body is read before any database work."""
    server = ServerProcess(db_url, BODY_READ_TIMEOUT_SECONDS="2")
    try:
        account = new_account(db_url)
        token = base64.b64encode(f"{account.key}:".encode()).decode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as slow:
            slow.sendall(
                b"POST /customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: Basic " + token.encode() + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                b'{"name": "Sl'
            )
            started = time.monotonic()
            with httpx.Client(base_url=server.base_url, auth=(account.key, ""), timeout=30) as http:
                fast = http.post("/customers", json={"name": "Fast"})
                assert fast.status_code == 201, fast.text
                assert time.monotonic() - started < 1.5  # not behind the slow body
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = slow.recv(4096)
                if not chunk:
                    break
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), head
        assert json.loads(body) == {
            "type": "invalid_request",
            "message": "The request body was not received in time.",
        }
        assert 1.5 <= time.monotonic() - started < 10
        with httpx.Client(base_url=server.base_url, auth=(account.key, ""), timeout=30) as http:
            assert [c["name"] for c in http.get("/customers").json()] == ["Fast"]
    finally:
        server.stop()
