"""Money races on one invoice against the real server (README C22; transactions_payments.md
TX6, TX7, TX11, TX12; invoices.md R12-R14; events_webhooks.md EV6).

Every money change recomputes the invoice from its stored aggregate under a row lock (C22.2),
so concurrent payments, refunds and deletes must end exactly where the same requests would end
one after another: `balance = total - Σ effects of the transactions that exist`, and never a
5xx. On SQLite every write transaction is serialized; on PostgreSQL these exercise the locks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import Any

import httpx

from tests.support import ServerProcess, new_account
from tests.test_transactions import amount_paid, exact

Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def race(server: ServerProcess, key: str, calls: list[Call]) -> list[httpx.Response]:
    """Each call from its own client (own connection), all released at once. The clients
    skip TLS setup (`verify=False`; the server speaks plain HTTP): a default SSL context
    costs ~60 ms per client, which dominates races of many short-lived clients."""

    async def main() -> list[httpx.Response]:
        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=server.base_url, auth=(key, ""), timeout=60, verify=False
                    )
                )
                for _ in calls
            ]
            return list(
                await asyncio.gather(*(call(c) for call, c in zip(calls, clients, strict=True)))
            )

    return asyncio.run(main())


def client(server: ServerProcess, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, auth=(key, ""), timeout=60)


def no_5xx(responses: list[httpx.Response]) -> None:
    errors = [(r.status_code, r.text) for r in responses if r.status_code >= 500]
    assert not errors, errors


def sent_invoice(http: httpx.Client, *costs: Any) -> dict[str, Any]:
    customer = http.post("/customers", json={"name": "Racer"})
    assert customer.status_code == 201, customer.text
    items = [{"name": f"Line {n}", "unit_cost": cost} for n, cost in enumerate(costs, 1)]
    r = http.post("/invoices", json={"customer": customer.json()["id"], "items": items})
    assert r.status_code == 201, r.text
    r = http.patch(f"/invoices/{r.json()['id']}", json={"sent": True})
    assert r.status_code == 200, r.text
    return dict(exact(r))


def invoice_of(http: httpx.Client, invoice_id: int) -> dict[str, Any]:
    r = http.get(f"/invoices/{invoice_id}")
    assert r.status_code == 200, r.text
    return dict(exact(r))


def transactions_of(http: httpx.Client, invoice_id: int) -> list[dict[str, Any]]:
    r = http.get("/transactions", params={"filter[invoice]": invoice_id})
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = exact(r)
    assert int(r.headers["X-Total-Count"]) == len(body) <= 100
    return body


def effect(transaction: dict[str, Any]) -> Decimal:
    """TX6: what one transaction adds to its invoice's amount_paid."""
    if transaction["status"] != "succeeded":
        return Decimal(0)
    amount = Decimal(transaction["amount"])
    return -amount if transaction["type"] == "refund" else amount


def assert_consistent(
    http: httpx.Client, db_url: str, invoice_id: int, context: Any = None
) -> dict[str, Any]:
    """R12: balance = total - Σ effects of the transactions that exist, to the cent, with
    paid/closed/status following (R13, R14, S3, S5)."""
    inv = invoice_of(http, invoice_id)
    paid_sum = sum((effect(t) for t in transactions_of(http, invoice_id)), Decimal(0))
    assert Decimal(inv["balance"]) == Decimal(inv["total"]) - paid_sum, (context, inv)
    assert amount_paid(db_url, invoice_id) == int(paid_sum * 100), context
    assert inv["paid"] is (inv["balance"] <= 0)
    if inv["paid"]:
        assert inv["status"] == "paid"
    return inv


def count_events(http: httpx.Client, event_type: str) -> int:
    r = http.get("/events", params={"filter[type]": event_type})
    assert r.status_code == 200, r.text
    return int(r.headers["X-Total-Count"])


def test_c22_32_concurrent_partial_payments_all_count(server, db_url):
    """TX7: over-payment is allowed, so all 32 payments of 1.00 on a 20.00 invoice succeed and
    the balance is 20 - 32 = -12.00 exactly: no lost update (C22.2)."""
    key = new_account(db_url).key
    with client(server, key) as http:
        inv = sent_invoice(http, 20)
        iid = inv["id"]
        assert inv["total"] == 20

        def pay(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return c.post("/transactions", json={"invoice": iid, "amount": "1.00"})

        responses = race(server, key, [pay] * 32)
        no_5xx(responses)
        assert [r.status_code for r in responses] == [201] * 32, [r.text for r in responses]
        made = transactions_of(http, iid)
        assert sorted(t["id"] for t in made) == sorted(r.json()["id"] for r in responses)
        succeeded = sum((Decimal(r.json()["amount"]) for r in responses), Decimal(0))
        assert succeeded == 32

        after = assert_consistent(http, db_url, iid)
        assert after["balance"] == Decimal(20) - succeeded == -12
        assert (after["paid"], after["closed"], after["status"]) == (True, True, "paid")
        assert amount_paid(db_url, iid) == 3200
        # EV6: the invoice became paid exactly once; every payment has its event.
        assert count_events(http, "invoice.paid") == 1
        assert count_events(http, "transaction.created") == 32


def test_c22_16_concurrent_refunds_never_exceed_the_payment(server, db_url):
    """TX12: 16 refunds of 10.00 from one 100.00 payment at once: exactly 10 succeed, the other
    6 get 400 param amount; the invoice is back to its total (150 - 100 + 100)."""
    key = new_account(db_url).key
    with client(server, key) as http:
        inv = sent_invoice(http, 100, 50)
        iid = inv["id"]
        r = http.post("/transactions", json={"invoice": iid, "amount": 100, "method": "check"})
        assert r.status_code == 201, r.text
        payment = r.json()["id"]
        assert invoice_of(http, iid)["balance"] == 50

        def give_back(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return c.post(f"/transactions/{payment}/refunds", json={"amount": 10})

        responses = race(server, key, [give_back] * 16)
        no_5xx(responses)
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] * 10 + [400] * 6, [r.text for r in responses]
        for r in responses:
            if r.status_code == 400:
                body = r.json()
                assert body["type"] == "invalid_request"
                assert body["param"] == "amount", body
                assert body["message"] == (
                    "The refund amount exceeds the amount available to refund."
                )
        refunds = [t for t in transactions_of(http, iid) if t["type"] == "refund"]
        assert len(refunds) == 10
        assert {t["parent_transaction"] for t in refunds} == {payment}
        assert sum(Decimal(t["amount"]) for t in refunds) == 100

        after = assert_consistent(http, db_url, iid)
        assert after["balance"] == Decimal(150) - 100 + 100 == after["total"]
        assert (after["paid"], after["closed"], after["status"]) == (False, False, "sent")
        assert amount_paid(db_url, iid) == 0
        # Nothing left to refund.
        r = http.post(f"/transactions/{payment}/refunds", json={"amount": "0.01"})
        assert r.status_code == 400 and r.json()["param"] == "amount"


def test_c16_4_concurrent_deletes_of_one_transaction_have_one_winner(server, db_url):
    """TX11 / C16.4: 8 DELETEs of one payment (with a refund child): one 204, seven 404, and the
    money is reversed exactly once."""
    key = new_account(db_url).key
    trials = 4
    with client(server, key) as http:
        inv = sent_invoice(http, 100)
        iid = inv["id"]
        other = http.post("/transactions", json={"invoice": iid, "amount": 15})
        assert other.status_code == 201, other.text
        for _ in range(trials):
            r = http.post("/transactions", json={"invoice": iid, "amount": 60})
            assert r.status_code == 201, r.text
            tid = r.json()["id"]
            r = http.post(f"/transactions/{tid}/refunds", json={"amount": 10})
            assert r.status_code == 201, r.text
            child = r.json()["id"]
            assert invoice_of(http, iid)["balance"] == 100 - 15 - 50

            def remove(c: httpx.AsyncClient, tid: int = tid) -> Awaitable[httpx.Response]:
                return c.delete(f"/transactions/{tid}")

            responses = race(server, key, [remove] * 8)
            no_5xx(responses)
            codes = sorted(r.status_code for r in responses)
            assert codes == [204] + [404] * 7, [r.text for r in responses]
            for r in responses:
                if r.status_code == 404:
                    assert r.json() == {
                        "type": "invalid_request",
                        "message": f"Transaction was not found: {tid}",
                    }
            for gone in (tid, child):
                assert http.get(f"/transactions/{gone}").status_code == 404
            after = assert_consistent(http, db_url, iid)
            assert after["balance"] == 85
            assert amount_paid(db_url, iid) == 1500
            assert [t["id"] for t in transactions_of(http, iid)] == [other.json()["id"]]
        assert count_events(http, "transaction.deleted") == 2 * trials


def test_c22_concurrent_edits_and_delete_of_one_transaction_stay_consistent(server, db_url):
    """TX8 / TX11 under C22.2: an edit or delete that waited for another edit of the same
    transaction must compute its delta from the amount and status that edit committed, not
    from what it read before waiting."""
    key = new_account(db_url).key
    trials = 6
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        ({"amount": 45}, {"status": "failed"}),
        ({"amount": 45}, {"amount": 30}),
        ({"status": "failed"}, {"status": "pending"}),
        ({"amount": 45}, None),  # None = DELETE
        ({"status": "failed"}, None),
    ]
    with client(server, key) as http:
        inv = sent_invoice(http, 200)
        iid = inv["id"]
        for _ in range(trials):
            for left, right in pairs:
                r = http.post("/transactions", json={"invoice": iid, "amount": 40})
                assert r.status_code == 201, r.text
                tid = r.json()["id"]

                def edit(
                    body: dict[str, Any] | None, tid: int = tid
                ) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
                    if body is None:
                        return lambda c: c.delete(f"/transactions/{tid}")
                    return lambda c: c.patch(f"/transactions/{tid}", json=body)

                responses = race(server, key, [edit(left), edit(right)])
                no_5xx(responses)
                assert all(r.status_code in (200, 204, 404) for r in responses), [
                    r.text for r in responses
                ]
                context = (left, right, [(r.status_code, r.text) for r in responses])
                assert_consistent(http, db_url, iid, context)
                # Clean up so every trial starts from the same invoice state.
                if http.get(f"/transactions/{tid}").status_code == 200:
                    assert http.delete(f"/transactions/{tid}").status_code == 204
                inv_now = assert_consistent(http, db_url, iid, context)
                assert inv_now["balance"] == 200, (left, right, inv_now["balance"])


def test_c22_mixed_money_race_ends_consistent(server, db_url):
    """Payments, refunds, amount and status edits and deletes on one invoice at once: whatever
    wins, the invoice equals total - Σ effects of the transactions that remain, and no 5xx."""
    key = new_account(db_url).key
    with client(server, key) as http:
        inv = sent_invoice(http, 200)
        iid = inv["id"]
        base: list[int] = []
        for amount in (50, 40, 30):
            r = http.post("/transactions", json={"invoice": iid, "amount": amount})
            assert r.status_code == 201, r.text
            base.append(r.json()["id"])
        r = http.post(f"/transactions/{base[2]}/refunds", json={"amount": 5})
        assert r.status_code == 201, r.text
        # Created last, so that deleting `third` and its refund frees no highest id (SQLite
        # hands out max(id) + 1; id reuse is covered by test_transactions.py).
        r = http.post("/transactions", json={"invoice": iid, "amount": 1})
        assert r.status_code == 201, r.text
        first, second, third = base

        calls: list[Call] = [
            lambda c: c.post("/transactions", json={"invoice": iid, "amount": 7}),
            lambda c: c.post("/transactions", json={"invoice": iid, "amount": 3, "type": "charge"}),
            lambda c: c.post(
                "/transactions", json={"invoice": iid, "amount": 4, "status": "pending"}
            ),
            lambda c: c.post(f"/transactions/{first}/refunds", json={"amount": 20}),
            lambda c: c.post(f"/transactions/{first}/refunds", json={"amount": 20}),
            lambda c: c.post(f"/transactions/{first}/refunds", json={"amount": 20}),
            lambda c: c.patch(f"/transactions/{second}", json={"amount": 45}),
            lambda c: c.patch(f"/transactions/{second}", json={"status": "failed"}),
            lambda c: c.delete(f"/transactions/{third}"),
            lambda c: c.post(f"/transactions/{third}/refunds", json={"amount": 5}),
            lambda c: c.patch(f"/transactions/{third}", json={"amount": 35}),
            lambda c: c.post("/transactions", json={"invoice": iid, "amount": 200}),
        ]
        responses = race(server, key, calls)
        no_5xx(responses)
        assert all(r.status_code in (200, 201, 204, 400, 404) for r in responses)
        # Two of the three 20.00 refunds of the 50.00 payment fit, the third cannot.
        refund_codes = sorted(r.status_code for r in responses[3:6])
        assert refund_codes == [201, 201, 400], [r.text for r in responses[3:6]]
        assert responses[8].status_code == 204
        assert http.get(f"/transactions/{third}").status_code == 404
        inv_after = assert_consistent(http, db_url, iid)
        assert (inv_after["paid"], inv_after["status"]) == (True, "paid")  # S3 before S5
