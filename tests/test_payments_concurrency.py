"""Payment races against the real server (README C22 concurrency, C14.4 idempotency;
transactions_payments.md PY5, PY7-PY9, PY16, TX7; invoices.md V2, R12-R14; credit_balances.md
CB1, CB2, CB6; events_webhooks.md EV6).

Decisions under test: a payment `invoice` or `applied_credit` split may not pay more than the
invoice's current balance (400 param `applied_to`), while legacy /transactions may still
overpay (TX7). Every request is released at once from its own connection (the race helper of
tests/test_transactions_concurrency.py): whatever order the server serializes them in, the
figures must be exactly those of some sequential order, with zero 5xx. On SQLite writes are
serialized; on PostgreSQL these exercise the invoice row locks and the credit ledger lock.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

import httpx

from tests.support import ServerProcess, new_account
from tests.test_transactions import amount_paid, exact
from tests.test_transactions_concurrency import (
    Call,
    assert_consistent,
    client,
    count_events,
    invoice_of,
    no_5xx,
    race,
    transactions_of,
)

D = Decimal
VOIDED_INVOICE = "Cannot apply a payment to a voided invoice."  # TX7 / PY5
ALREADY_VOIDED = "This document has already been voided."  # V2
PAYMENT_APPLIED = "This invoice cannot be voided because it has a payment applied."  # V2
KEY_REUSED = "This idempotency key was already used with different request parameters."
OVERDRAFT = re.compile(
    r"Could not write this change because it caused the customer's credit balance to become "
    r"-\$1\.00 on [A-Z][a-z]{2} \d{1,2}, \d{4}"
)


def exceeds(number: str, amount: str, balance: str) -> str:
    """Decision: a split pays at most the invoice's current balance."""
    return f"The amount applied to {number} (${amount}) exceeds its balance (${balance})"


def new_customer(http: httpx.Client, name: str = "Racer") -> int:
    r = http.post("/customers", json={"name": name})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def issued_invoice(http: httpx.Client, customer_id: int, cost: str) -> dict[str, Any]:
    """One line, issued (not a draft): one request, so trials stay cheap."""
    r = http.post(
        "/invoices",
        json={
            "customer": customer_id,
            "draft": False,
            "items": [{"name": "Work", "unit_cost": cost}],
        },
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = exact(r)
    assert body["total"] == D(cost) == body["balance"], body
    assert (body["draft"], body["paid"], body["status"]) == (False, False, "not_sent")
    return body


def payments_of(http: httpx.Client, customer_id: int) -> list[dict[str, Any]]:
    r = http.get(
        "/payments",
        params={"filter[customer]": customer_id, "include": "applied_to", "per_page": 100},
    )
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = exact(r)
    assert int(r.headers["X-Total-Count"]) == len(body)
    return body


def payment_count(http: httpx.Client, customer_id: int) -> int:
    r = http.get("/payments", params={"filter[customer]": customer_id, "per_page": 1})
    assert r.status_code == 200, r.text
    return int(r.headers["X-Total-Count"])


def assert_400(response: httpx.Response, message: str | re.Pattern[str], param: str | None) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "invalid_request", body
    assert body.get("param") == param, body
    if isinstance(message, str):
        assert body["message"] == message, body
    else:
        assert message.fullmatch(body["message"]), body


# ---------------------------------------------------------------------------------------------
# 1. Partial payments of one invoice
# ---------------------------------------------------------------------------------------------


def test_c22_32_concurrent_payment_splits_never_overpay_the_invoice(server, db_url):
    """32 payments of 5.00 on a 100.00 invoice at once: exactly 20 fit the balance (decision:
    a split never exceeds the invoice's remaining balance), the other 12 get 400 param
    applied_to and write nothing; the invoice ends at exactly 0, paid (C22.2, PY8, PY9)."""
    key = new_account(db_url).key
    with client(server, key) as http:
        cid = new_customer(http)
        inv = issued_invoice(http, cid, "100.00")
        iid, number = inv["id"], inv["number"]
        body = {
            "customer": cid,
            "amount": "5.00",
            "method": "check",
            "applied_to": [{"type": "invoice", "invoice": iid, "amount": "5.00"}],
        }

        def pay(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return c.post("/payments", params={"include": "applied_to"}, json=body)

        responses = race(server, key, [pay] * 32)
        no_5xx(responses)
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] * 20 + [400] * 12, [r.text for r in responses]
        winners = [exact(r) for r in responses if r.status_code == 201]
        for r in responses:
            if r.status_code == 400:
                assert_400(r, exceeds(number, "5.00", "0.00"), "applied_to")
        for payment in winners:
            assert (payment["amount"], payment["balance"], payment["voided"]) == (5, 0, False)
            assert payment["customer"] == cid
            assert len(payment["applied_to"]) == 1, payment
            split = payment["applied_to"][0]
            assert (split["type"], split["invoice"], split["amount"]) == ("invoice", iid, 5)

        after = invoice_of(http, iid)
        assert (after["balance"], after["paid"], after["closed"], after["status"]) == (
            0,
            True,
            True,
            "paid",
        )
        assert amount_paid(db_url, iid) == 10000
        # The invoice's transactions are exactly the winners' splits and sum to the total.
        made = transactions_of(http, iid)
        assert len(made) == 20
        assert sum(D(t["amount"]) for t in made) == after["total"] == 100
        split_ids = {p["applied_to"][0]["id"]: p["id"] for p in winners}
        assert {t["id"]: t["payment"] for t in made} == split_ids
        assert {(t["type"], t["status"], t["method"], D(t["amount"])) for t in made} == {
            ("payment", "succeeded", "check", D(5))
        }
        # The losers wrote nothing: the stored payments are the winners, each applied once.
        stored = payments_of(http, cid)
        assert sorted(p["id"] for p in stored) == sorted(p["id"] for p in winners)
        for payment in stored:
            assert payment["balance"] == 0 and len(payment["applied_to"]) == 1, payment
        assert count_events(http, "payment.created") == 20
        assert count_events(http, "invoice.paid") == 1
        # Nothing is left to pay.
        r = http.post(
            "/payments",
            json={
                **body,
                "amount": "0.01",
                "applied_to": [{"type": "invoice", "invoice": iid, "amount": "0.01"}],
            },
        )
        assert_400(r, exceeds(number, "0.01", "0.00"), "applied_to")


def test_c22_32_concurrent_legacy_partial_payments_all_count(server, db_url):
    """TX7: legacy transactions may overpay, so 32 payments of 3.00 on a 50.00 invoice all
    succeed and the balance is 50 - 96 = -46.00 exactly, equal to total - Σ the listed
    transactions (no lost update, C22.2)."""
    key = new_account(db_url).key
    with client(server, key) as http:
        cid = new_customer(http)
        iid = issued_invoice(http, cid, "50.00")["id"]

        def pay(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return c.post("/transactions", json={"invoice": iid, "amount": "3.00"})

        responses = race(server, key, [pay] * 32)
        no_5xx(responses)
        assert [r.status_code for r in responses] == [201] * 32, [r.text for r in responses]
        made = transactions_of(http, iid)
        assert sorted(t["id"] for t in made) == sorted(r.json()["id"] for r in responses)
        assert sum(D(t["amount"]) for t in made) == 96
        after = assert_consistent(http, db_url, iid)
        assert after["balance"] == D("-46.00") == D(50) - 96
        assert (after["paid"], after["closed"], after["status"]) == (True, True, "paid")
        assert amount_paid(db_url, iid) == 9600
        assert count_events(http, "transaction.created") == 32
        assert count_events(http, "invoice.paid") == 1


# ---------------------------------------------------------------------------------------------
# 2. Void against pay
# ---------------------------------------------------------------------------------------------

VOID_PAY_TRIALS = 100


def test_c22_void_racing_full_payments_has_exactly_one_winner(server, db_url):
    """invoices.md V2 / TX7 / PY5 under C22.1: 4 voids and 4 full payments of one fresh 42.50
    invoice at once, 100 times. Exactly one request wins each trial. A winning void leaves no
    split on the invoice (the payments get `Cannot apply a payment to a voided invoice.`); a
    winning payment leaves exactly one split and a paid, unvoided invoice (the voids get
    `... has a payment applied.`). Losing payments write no payment at all."""
    key = new_account(db_url).key
    outcomes = {"void": 0, "payment": 0}
    with client(server, key) as http:
        cid = new_customer(http)
        for trial in range(VOID_PAY_TRIALS):
            inv = issued_invoice(http, cid, "42.50")
            iid, number = inv["id"], inv["number"]
            body = {
                "customer": cid,
                "amount": "42.50",
                "applied_to": [{"type": "invoice", "invoice": iid, "amount": "42.50"}],
            }

            # Released truly at once, one side tends to win nearly always (which one depends on
            # the database: the work each does before the invoice lock). So every fourth trial
            # the voids, and every fourth the payments, start 10 ms late: both outcomes race.
            void_late = 0.01 if trial % 4 == 1 else 0.0
            pay_late = 0.01 if trial % 4 == 3 else 0.0

            async def void(
                c: httpx.AsyncClient, iid: int = iid, late: float = void_late
            ) -> httpx.Response:
                await asyncio.sleep(late)
                return await c.post(f"/invoices/{iid}/void")

            async def pay(
                c: httpx.AsyncClient, body: Any = body, late: float = pay_late
            ) -> httpx.Response:
                await asyncio.sleep(late)
                return await c.post("/payments", params={"include": "applied_to"}, json=body)

            calls: list[Call] = [void, pay] * 4
            responses = race(server, key, calls)
            context = (trial, [(r.status_code, r.text) for r in responses])
            no_5xx(responses)
            winners = [i for i, r in enumerate(responses) if 200 <= r.status_code < 300]
            assert len(winners) == 1, context
            voids, pays = responses[0::2], responses[1::2]
            if winners[0] % 2 == 0:  # a void won
                outcomes["void"] += 1
                assert voids[winners[0] // 2].status_code == 200, context
                for r in voids:
                    if r.status_code != 200:
                        assert_400(r, ALREADY_VOIDED, None)
                for r in pays:
                    assert_400(r, VOIDED_INVOICE, "applied_to")
                after = invoice_of(http, iid)
                assert (after["status"], after["balance"], after["paid"]) == (
                    "voided",
                    0,
                    False,
                ), context
                assert transactions_of(http, iid) == [], context
                assert amount_paid(db_url, iid) == 0, context
            else:  # a payment won
                outcomes["payment"] += 1
                won = exact(pays[winners[0] // 2])
                assert pays[winners[0] // 2].status_code == 201, context
                assert (won["amount"], won["balance"], won["voided"]) == (D("42.50"), 0, False)
                for r in voids:
                    assert_400(r, PAYMENT_APPLIED, None)
                for r in pays:
                    if r.status_code != 201:
                        assert_400(r, exceeds(number, "42.50", "0.00"), "applied_to")
                after = invoice_of(http, iid)
                assert (after["status"], after["balance"], after["paid"]) == (
                    "paid",
                    0,
                    True,
                ), context
                made = transactions_of(http, iid)
                assert [(t["id"], t["payment"], D(t["amount"])) for t in made] == [
                    (won["applied_to"][0]["id"], won["id"], D("42.50"))
                ], context
                assert amount_paid(db_url, iid) == 4250, context
            # The losing payments wrote nothing.
            assert payment_count(http, cid) == outcomes["payment"], context
        assert sum(outcomes.values()) == VOID_PAY_TRIALS
        # Both outcomes were exercised (else the figures above test one branch only).
        assert outcomes["void"] > 0 and outcomes["payment"] > 0, outcomes
        assert count_events(http, "payment.created") == outcomes["payment"]
        assert count_events(http, "invoice.paid") == outcomes["payment"]
        stored = payments_of(http, cid)
        assert {(p["amount"], p["balance"], p["voided"], len(p["applied_to"])) for p in stored} <= {
            (D("42.50"), 0, False, 1)
        }


# ---------------------------------------------------------------------------------------------
# 3. Spending credit
# ---------------------------------------------------------------------------------------------


def test_cb2_16_concurrent_applied_credit_payments_never_overspend(server, db_url):
    """CB2 / CB6 / PY9 under C22: 10.00 of credit, 16 payments of amount 0 at once each
    spending 1.00 of it on a different invoice: exactly 10 succeed, the other 6 get 400 param
    applied_to; the credit ends at exactly 0 and the history never went below 0."""
    key = new_account(db_url).key
    with client(server, key) as http:
        cid = new_customer(http)
        invoices = [issued_invoice(http, cid, "5.00")["id"] for _ in range(16)]
        r = http.post("/credit_balance_adjustments", json={"customer": cid, "amount": 10})
        assert r.status_code == 201, r.text
        r = http.get(f"/customers/{cid}")
        assert exact(r)["credit_balance"] == 10

        def spend(iid: int) -> Call:
            body = {
                "customer": cid,
                "amount": 0,
                "applied_to": [
                    {
                        "type": "applied_credit",
                        "document_type": "invoice",
                        "invoice": iid,
                        "amount": "1.00",
                    }
                ],
            }
            return lambda c: c.post("/payments", params={"include": "applied_to"}, json=body)

        responses = race(server, key, [spend(iid) for iid in invoices])
        no_5xx(responses)
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] * 10 + [400] * 6, [r.text for r in responses]
        paid_invoices = set()
        for iid, r in zip(invoices, responses, strict=True):
            if r.status_code == 400:
                assert_400(r, OVERDRAFT, "applied_to")
                continue
            payment = exact(r)
            assert (payment["amount"], payment["balance"], payment["voided"]) == (0, 0, False)
            [split] = payment["applied_to"]
            assert (split["type"], split["invoice"], split["amount"]) == ("applied_credit", iid, 1)
            paid_invoices.add(iid)

        for iid in invoices:
            inv = invoice_of(http, iid)
            spent = iid in paid_invoices
            assert inv["balance"] == (D(4) if spent else D(5)), (iid, inv)
            assert (inv["paid"], inv["status"]) == (False, "not_sent")
            made = transactions_of(http, iid)
            if spent:
                assert [(t["type"], t["method"], D(t["amount"])) for t in made] == [
                    ("charge", "balance", D(1))
                ]
            else:
                assert made == []
            assert amount_paid(db_url, iid) == (100 if spent else 0)

        assert exact(http.get(f"/customers/{cid}"))["credit_balance"] == 0
        r = http.get(f"/customers/{cid}/balance")
        assert r.status_code == 200, r.text
        balance = exact(r)
        assert balance["available_credits"] == 0
        # CB1/CB2: newest first, +10 then ten spends of 1.00, never below 0.
        assert [D(p["balance"]) for p in balance["history"]] == [D(n) for n in range(11)]
        assert len(payments_of(http, cid)) == 10
        assert count_events(http, "payment.created") == 10
        # The credit is gone: one more cent is refused.
        r = http.post(
            "/payments",
            json={
                "customer": cid,
                "amount": 0,
                "applied_to": [
                    {"type": "applied_credit", "invoice": invoices[0], "amount": "0.01"}
                ],
            },
        )
        assert r.status_code == 400 and r.json()["param"] == "applied_to", r.text


# ---------------------------------------------------------------------------------------------
# 4. Idempotency across worker processes
# ---------------------------------------------------------------------------------------------


def test_c14_4_idempotent_payment_runs_once_across_two_workers(db_url):
    """C14.4: the same Idempotency-Key and body sent 10 times at once to a 2-worker server
    execute once: 10 identical answers, one payment, one payment.created event, the invoice
    paid once. The same key with another body is refused and executes nothing."""
    server = ServerProcess(db_url, workers=2)
    try:
        key = new_account(db_url).key
        with client(server, key) as http:
            cid = new_customer(http)
            inv = issued_invoice(http, cid, "100.00")
            iid = inv["id"]
            body = {
                "customer": cid,
                "amount": "30.00",
                "method": "check",
                "reference": "4021",
                "applied_to": [{"type": "invoice", "invoice": iid, "amount": "30.00"}],
            }
            headers = {"Idempotency-Key": "payment-inv-1-30"}

            def pay(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
                return c.post(
                    "/payments", params={"include": "applied_to"}, json=body, headers=headers
                )

            responses = race(server, key, [pay] * 10)
            no_5xx(responses)
            assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
            assert len({r.content for r in responses}) == 1
            payment = exact(responses[0])
            assert (payment["amount"], payment["balance"], payment["reference"]) == (
                30,
                0,
                "4021",
            )
            [split] = payment["applied_to"]
            assert (split["type"], split["invoice"], split["amount"]) == ("invoice", iid, 30)

            def unchanged() -> None:
                stored = payments_of(http, cid)
                assert [p["id"] for p in stored] == [payment["id"]]
                assert count_events(http, "payment.created") == 1
                after = invoice_of(http, iid)
                assert (after["balance"], after["paid"], after["status"]) == (70, False, "not_sent")
                made = transactions_of(http, iid)
                assert [(t["id"], t["payment"]) for t in made] == [(split["id"], payment["id"])]
                assert amount_paid(db_url, iid) == 3000

            unchanged()
            # A later repeat replays the stored answer without executing.
            again = http.post(
                "/payments", params={"include": "applied_to"}, json=body, headers=headers
            )
            assert again.status_code == 201 and again.content == responses[0].content
            # The same key with another body: refused, nothing executed.
            other = {**body, "amount": "31.00"}
            r = http.post(
                "/payments", params={"include": "applied_to"}, json=other, headers=headers
            )
            assert r.status_code == 400, r.text
            assert r.json() == {
                "type": "invalid_request",
                "message": KEY_REUSED,
                "param": "Idempotency-Key",
            }
            unchanged()
    finally:
        server.stop()
