"""Review of the Payments / credit ledger commit (2bb86b8): regressions that prove the bugs
found (transactions_payments.md Part B, credit_balances.md, customers.md CB6, README C9,
C22, events_webhooks.md EV2).

Every test states the correct behaviour; each failed before the fixes that followed the
review and is kept as a regression test.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from tests.support import ServerProcess, new_account
from tests.test_credit_balances import adjust, available, credit, pay
from tests.test_customers import set_account
from tests.test_invoices import assert_error, created, ok
from tests.test_transactions import customer, events, exact, invoice
from tests.test_transactions_concurrency import client, race

DAY = 86_400
INT64_MIN_USD = "-92233720368547758.08"  # -2**63 minor units of usd


# ---------------------------------------------------------------------------------------------
# CB1 / CB7 / CB9: future-dated entries are not credit "now"
# ---------------------------------------------------------------------------------------------


def test_cb7_future_dated_credit_does_not_block_issuing_an_invoice(api, account, db_url):
    """+100 of credit today and +50 dated in 10 days: an invoice of 200 issued today with
    auto_apply_credits gets the 100 available now (balance 100), not a 400."""
    set_account(db_url, account.id, auto_apply_credits=True)
    c = customer(api)
    adjust(api, c["id"], 100, date=int(time.time()) - DAY)
    adjust(api, c["id"], 50, date=int(time.time()) + 10 * DAY)
    r = api.post("/invoices", json={"customer": c["id"], "items": [{"unit_cost": 200}]})
    body = created(r)
    assert (body["balance"], body["paid"]) == (100, False)
    (auto,) = exact(api.get("/payments", params={"include": "applied_to"}))
    assert [(s["type"], s["amount"]) for s in auto["applied_to"]] == [("applied_credit", 100)]


def test_cb1_credit_balance_is_the_balance_now(api):
    c = customer(api)
    adjust(api, c["id"], 50, date=int(time.time()) + 10 * DAY)
    assert credit(api, c["id"]) == 0
    assert available(api, c["id"]) == 0
    r = api.get("/customers", params={"balance": 1})
    assert [x["id"] for x in ok(r)] == []


# ---------------------------------------------------------------------------------------------
# PY15: changing the currency of an unapplied payment
# ---------------------------------------------------------------------------------------------


def test_py15_currency_change_keeps_the_payment_amount(api):
    p = pay(api, amount=10)
    r = api.patch(f"/payments/{p['id']}", json={"currency": "jpy"})
    assert r.status_code == 200, r.text
    body = exact(r)
    assert (body["currency"], body["amount"], body["balance"]) == ("jpy", 10, 10)


# ---------------------------------------------------------------------------------------------
# 500s from amounts at the edge of 64 bits
# ---------------------------------------------------------------------------------------------


def test_credit_adjustment_of_int64_min_is_400_not_500(api):
    c = customer(api)
    r = api.post("/credit_balance_adjustments", json={"customer": c["id"], "amount": INT64_MIN_USD})
    assert_error(r, 400, "amount")
    made = adjust(api, c["id"], 5)
    r = api.patch(f"/credit_balance_adjustments/{made['id']}", json={"amount": INT64_MIN_USD})
    assert_error(r, 400, "amount")


def test_credit_ledger_sum_beyond_64_bits_is_not_a_500(api):
    c = customer(api)
    big = 90_000_000_000_000_000  # 9e18 minor units each; two of them exceed 2**63
    adjust(api, c["id"], big)
    second = api.post("/credit_balance_adjustments", json={"customer": c["id"], "amount": big})
    assert second.status_code in (201, 400), second.text
    expected = Decimal(2 * big if second.status_code == 201 else big)
    r = api.get(f"/customers/{c['id']}")
    assert r.status_code == 200, r.text
    assert exact(r)["credit_balance"] == expected
    assert [x["id"] for x in ok(api.get("/customers", params={"balance": 1}))] == [c["id"]]


# ---------------------------------------------------------------------------------------------
# PY3: splits parsed in a provisional currency
# ---------------------------------------------------------------------------------------------


def test_py3_splits_are_read_in_the_inferred_currency(api):
    c = customer(api, currency="bhd")
    inv = invoice(api, c["id"], 1)
    r = api.post(
        "/payments",
        params={"include": "applied_to"},
        json={
            "amount": "0.004",
            "applied_to": [{"type": "invoice", "invoice": inv["id"], "amount": "0.004"}],
        },
    )
    assert r.status_code == 201, r.text
    body = exact(r)
    assert (body["customer"], body["currency"], body["amount"], body["balance"]) == (
        c["id"],
        "bhd",
        Decimal("0.004"),
        0,
    )


# ---------------------------------------------------------------------------------------------
# V2 / PY16: a payment split on an invoice that got voided
# ---------------------------------------------------------------------------------------------


def test_py16_payment_split_on_a_voided_invoice_can_still_be_voided(api):
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    p = pay(
        api,
        customer=c["id"],
        amount=50,
        applied_to=[{"type": "invoice", "invoice": inv["id"], "amount": 50}],
    )
    created(api.post("/transactions", json={"invoice": inv["id"], "type": "refund", "amount": 50}))
    api.post(f"/invoices/{inv['id']}/void")  # should be refused (V2); either way:
    r = api.delete(f"/payments/{p['id']}")
    assert r.status_code == 200, r.text
    assert (exact(r)["voided"], exact(r)["balance"]) == (True, 50)


# ---------------------------------------------------------------------------------------------
# CB8 / EV2 / TX11: deleting an adjustment that has child transactions
# ---------------------------------------------------------------------------------------------


def test_ev2_deleting_an_adjustment_records_its_children_deleted(api):
    c = customer(api)
    parent = adjust(api, c["id"], 50)
    r = api.post(
        "/transactions",
        json={
            "customer": c["id"],
            "type": "adjustment",
            "amount": -30,
            "parent_transaction": parent["id"],
        },
    )
    if r.status_code == 400:  # refusing children of an adjustment is a fix too
        return
    child = created(r)
    assert credit(api, c["id"]) == 80
    assert api.delete(f"/credit_balance_adjustments/{parent['id']}").status_code == 204
    deleted = [
        e["data"]["object"]["id"] for e in events(api, {"filter[type]": "transaction.deleted"})
    ]
    assert sorted(deleted) == sorted([parent["id"], child["id"]])
    assert credit(api, c["id"]) == 0


# ---------------------------------------------------------------------------------------------
# C9: filter values of the special payment filters
# ---------------------------------------------------------------------------------------------


def test_c9_applied_filter_rejects_non_boolean_values(api):
    pay(api, amount=10)
    for params in ({"filter[applied]": "maybe"}, {"filter[applied][x]": "1"}):
        r = api.get("/payments", params=params)
        assert_error(r, 400, None, "Invalid value for `applied` filter parameter")


# ---------------------------------------------------------------------------------------------
# C22 on PostgreSQL: lock order of a refund edit against its parent's delete (pre-existing
# code in transactions.service, reachable for customer-only transactions)
# ---------------------------------------------------------------------------------------------


def test_c22_refund_edit_racing_its_parents_delete_never_deadlocks(server: ServerProcess, db_url):
    key = new_account(db_url).key
    errors: list[Any] = []
    with client(server, key) as http:
        cid = created(http.post("/customers", json={"name": "Racer"}))["id"]
        for _ in range(25):
            parent = created(http.post("/transactions", json={"customer": cid, "amount": 10}))
            refund = created(
                http.post(
                    "/transactions",
                    json={
                        "customer": cid,
                        "type": "refund",
                        "status": "failed",
                        "amount": 5,
                        "parent_transaction": parent["id"],
                    },
                )
            )
            responses = race(
                server,
                key,
                [
                    lambda c, p=parent["id"]: c.delete(f"/transactions/{p}"),
                    lambda c, r=refund["id"]: c.patch(
                        f"/transactions/{r}", json={"status": "succeeded"}
                    ),
                ],
            )
            errors += [(x.status_code, x.text) for x in responses if x.status_code >= 500]
            if errors:
                break
    assert not errors, errors


# ---------------------------------------------------------------------------------------------
# CB2: the overspend message for dates at the edge of the supported range
# ---------------------------------------------------------------------------------------------


def test_cb2_overspend_on_the_first_supported_day_is_a_400(api, account, db_url):
    set_account(db_url, account.id, time_zone="America/New_York")
    c = customer(api)
    r = api.post(
        "/credit_balance_adjustments",
        json={"customer": c["id"], "amount": -5, "date": -62_135_596_800},  # 0001-01-01 UTC
    )
    assert_error(r, 400, "amount")
    assert r.json()["message"].startswith(
        "Could not write this change because it caused the customer's credit balance to "
        "become -$5.00 on "
    )
