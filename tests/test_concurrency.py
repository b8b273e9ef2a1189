"""Races against the real server: one winner, consistent state, zero 5xx (C22, C14.4).

On SQLite every write transaction is serialized, so these hold by construction; on
PostgreSQL they exercise the row and advisory locks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support import ServerProcess, new_account

TRIALS = 8


def gather(server, key: str, *calls: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]):
    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=server.base_url, auth=(key, ""), timeout=30
        ) as client:
            return list(await asyncio.gather(*(call(client) for call in calls)))

    return asyncio.run(main())


def client(server, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, auth=(key, ""), timeout=30)


def test_c16_4_concurrent_deletes_of_one_contact_have_one_winner(server, db_url):
    key = new_account(db_url).key
    with client(server, key) as http:
        customer = http.post("/customers", json={"name": "Acme"}).json()["id"]
        for _ in range(TRIALS):
            contact = http.post(f"/customers/{customer}/contacts", json={"name": "N"}).json()
            path = f"/customers/{customer}/contacts/{contact['id']}"
            responses = gather(
                server, key, lambda c, p=path: c.delete(p), lambda c, p=path: c.delete(p)
            )
            assert sorted(r.status_code for r in responses) == [204, 404]
        deleted = http.get("/events", params={"filter[type]": "contact.deleted"})
        assert deleted.headers["X-Total-Count"] == str(TRIALS)


def test_delete_racing_update_of_one_contact_never_fails(server, db_url):
    key = new_account(db_url).key
    with client(server, key) as http:
        customer = http.post("/customers", json={"name": "Acme"}).json()["id"]
        for _ in range(TRIALS):
            contact = http.post(f"/customers/{customer}/contacts", json={"name": "N"}).json()
            path = f"/customers/{customer}/contacts/{contact['id']}"
            responses = gather(
                server,
                key,
                lambda c, p=path: c.delete(p),
                lambda c, p=path: c.patch(p, json={"title": "CFO"}),
            )
            codes = [r.status_code for r in responses]
            assert codes[0] == 204
            assert codes[1] in (200, 404)
            assert http.get(path).status_code == 404


def depth(http: httpx.Client, customer_id: int) -> int:
    levels = 1
    parent = http.get(f"/customers/{customer_id}").json()["parent_customer"]
    while parent is not None:
        levels += 1
        parent = http.get(f"/customers/{parent}").json()["parent_customer"]
    return levels


def test_cu10_concurrent_reparenting_keeps_five_levels(server, db_url):
    """Two edits that are each valid alone but together would make six levels: one loses."""
    key = new_account(db_url).key
    with client(server, key) as http:
        for _ in range(TRIALS // 2):
            made = [http.post("/customers", json={"name": f"C{i}"}).json()["id"] for i in range(7)]
            p1, p2, p3, q, r, z1, z2 = made
            for child, parent in ((p2, p1), (p3, p2), (r, q), (z2, z1)):
                assert (
                    http.patch(f"/customers/{child}", json={"parent_customer": parent}).status_code
                    == 200
                )
            # Q (with R below) under P3 gives 5 levels; P1 under Z2 adds two more above.
            responses = gather(
                server,
                key,
                lambda c, q=q, p3=p3: c.patch(f"/customers/{q}", json={"parent_customer": p3}),
                lambda c, p1=p1, z2=z2: c.patch(f"/customers/{p1}", json={"parent_customer": z2}),
            )
            codes = sorted(resp.status_code for resp in responses)
            assert codes == [200, 400], [resp.text for resp in responses]
            assert depth(http, r) <= 5


def test_cu10_concurrent_mutual_parents_make_no_cycle(server, db_url):
    key = new_account(db_url).key
    with client(server, key) as http:
        for _ in range(TRIALS):
            x = http.post("/customers", json={"name": "X"}).json()["id"]
            y = http.post("/customers", json={"name": "Y"}).json()["id"]
            responses = gather(
                server,
                key,
                lambda c, x=x, y=y: c.patch(f"/customers/{x}", json={"parent_customer": y}),
                lambda c, x=x, y=y: c.patch(f"/customers/{y}", json={"parent_customer": x}),
            )
            codes = sorted(resp.status_code for resp in responses)
            assert codes == [200, 400], [resp.text for resp in responses]
            parents = {http.get(f"/customers/{i}").json()["parent_customer"] for i in (x, y)}
            assert None in parents


def test_c14_4_a_request_that_outlives_its_lease_cannot_also_commit(db_url):
    """The first request stalls on a row lock past its lease; a retry takes the key over.
    Both eventually run, but only the current claimant commits: one contact, never two."""
    if not db_url.startswith("postgresql"):
        pytest.skip("needs a row lock held from outside the server (PostgreSQL)")
    server = ServerProcess(db_url, IDEMPOTENCY_LEASE_SECONDS="1")
    try:
        key = new_account(db_url).key
        with client(server, key) as http:
            customer = http.post("/customers", json={"name": "Acme"}).json()["id"]

        async def main() -> list[Any]:
            engine = create_async_engine(db_url)
            headers = {"Idempotency-Key": "contact-create-1"}
            body = {"name": "Nancy"}
            path = f"/customers/{customer}/contacts"
            async with (
                engine.connect() as blocker,
                httpx.AsyncClient(
                    base_url=server.base_url, auth=(key, ""), timeout=30
                ) as http_async,
            ):
                await blocker.execute(
                    text("SELECT id FROM customers WHERE id = :id FOR UPDATE"), {"id": customer}
                )
                first = asyncio.create_task(http_async.post(path, json=body, headers=headers))
                await asyncio.sleep(1.6)  # past the 1 s lease
                second = asyncio.create_task(http_async.post(path, json=body, headers=headers))
                await asyncio.sleep(0.5)
                await blocker.rollback()  # release the row lock: both proceed
                results = [await first, await second]
            await engine.dispose()
            return results

        started = time.monotonic()
        first, second = asyncio.run(main())
        assert time.monotonic() - started < 20
        assert first.status_code == 409
        assert first.json()["param"] == "Idempotency-Key"
        assert second.status_code == 201
        with client(server, key) as http:
            contacts = http.get(f"/customers/{customer}/contacts").json()
            assert [c["id"] for c in contacts] == [second.json()["id"]]
            replay = http.post(
                f"/customers/{customer}/contacts",
                json={"name": "Nancy"},
                headers={"Idempotency-Key": "contact-create-1"},
            )
            assert replay.status_code == 201 and replay.json() == second.json()
    finally:
        server.stop()
