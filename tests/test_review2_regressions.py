"""Second review of the Payments / credit ledger work (df12484..HEAD): interactions between
legacy /transactions, Payments and invoice edits (transactions_payments.md PY2, TX3, TX6,
README C12), the credit ledger (credit_balances.md CB1-CB3, CB7, invoices.md R20/R21), events
(events_webhooks.md EV3, EV4, EV6) and races between routes on the same rows (README C22).

The first three state the correct behaviour of bugs the review found (fixed since); the
others pin behaviour the review checked and found right.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.support import ServerProcess, new_account
from tests.test_credit_balances import adjust, available, credit, pay
from tests.test_customers import set_account
from tests.test_invoices import assert_error, created, ok
from tests.test_transactions import amount_paid, customer, events, exact, get_inv, invoice, post
from tests.test_transactions_concurrency import client, no_5xx, race

D = Decimal
INCLUDE = {"include": "applied_to"}


def invoice_split(invoice_id: int, amount: Any) -> dict[str, Any]:
    return {"type": "invoice", "invoice": invoice_id, "amount": amount}


def credit_split(invoice_id: int, amount: Any) -> dict[str, Any]:
    return {"type": "applied_credit", "invoice": invoice_id, "amount": amount}


# ---------------------------------------------------------------------------------------------
# PY2 / TX3 / C12: the currency of an invoice that already carries money
# ---------------------------------------------------------------------------------------------


def test_py2_invoice_currency_cannot_change_under_a_payment_split(api, db_url):
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    pay(api, customer=c["id"], amount=50, applied_to=[invoice_split(inv["id"], 50)])
    r = api.patch(f"/invoices/{inv['id']}", json={"currency": "jpy"})
    assert_error(r, 400, "currency")
    body = get_inv(api, inv["id"])
    assert (body["currency"], body["balance"], body["paid"]) == ("usd", 50, False)
    assert amount_paid(db_url, inv["id"]) == 5000


def test_tx3_invoice_currency_cannot_change_under_a_legacy_payment(api, db_url):
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    post(api, invoice=inv["id"], amount=50)
    r = api.patch(f"/invoices/{inv['id']}", json={"currency": "jpy"})
    assert_error(r, 400, "currency")
    body = get_inv(api, inv["id"])
    assert (body["currency"], body["balance"], body["paid"]) == ("usd", 50, False)


def test_py2_invoice_currency_change_before_any_payment_is_allowed(api):
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    body = ok(api.patch(f"/invoices/{inv['id']}", json={"currency": "jpy"}))
    assert (body["currency"], body["total"], body["balance"]) == ("jpy", 100, 100)


# ---------------------------------------------------------------------------------------------
# CB7 / R20 / R21: a draft issued by money applied to it
# ---------------------------------------------------------------------------------------------


def test_cb7_draft_issued_by_a_payment_receives_the_credit(api, account, db_url):
    set_account(db_url, account.id, auto_apply_credits=True)
    c = customer(api)
    adjust(api, c["id"], 30)
    draft = created(
        api.post(
            "/invoices", json={"customer": c["id"], "draft": True, "items": [{"unit_cost": 100}]}
        )
    )
    pay(api, customer=c["id"], amount=20, applied_to=[invoice_split(draft["id"], 20)])
    body = get_inv(api, draft["id"])
    assert (body["draft"], body["balance"]) == (False, 50)
    assert credit(api, c["id"]) == 0


# ---------------------------------------------------------------------------------------------
# EV3 / EV4 / EV6: events of payments and auto-applied credit
# ---------------------------------------------------------------------------------------------


def test_ev3_payment_patch_restating_everything_records_nothing(api):
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    p = pay(api, customer=c["id"], amount=50, applied_to=[invoice_split(inv["id"], 50)])
    before = [e["id"] for e in events(api)]
    r = api.patch(
        f"/payments/{p['id']}",
        json={
            "applied_to": [invoice_split(inv["id"], "50.00")],
            "date": p["date"],
            "customer": c["id"],
            "currency": "USD",
            "amount": 50,
            "metadata": {},
        },
    )
    assert r.status_code == 200, r.text
    assert exact(r)["updated_at"] == p["updated_at"]
    assert [e["id"] for e in events(api)] == before


def test_ev4_auto_applied_credit_on_create_is_one_invoice_created(api, account, db_url):
    """Example A: one invoice.created with the final state (balance 30, credit 0)."""
    set_account(db_url, account.id, auto_apply_credits=True)
    c = customer(api)
    adjust(api, c["id"], 50)
    inv = created(api.post("/invoices", json={"customer": c["id"], "items": [{"unit_cost": 80}]}))
    assert inv["balance"] == 30
    invoice_events = [e for e in events(api) if e["type"].startswith("invoice.")]
    assert [e["type"] for e in invoice_events] == ["invoice.created"]
    assert invoice_events[0]["data"]["object"]["balance"] == 30
    assert invoice_events[0]["data"]["object"]["customer"]["credit_balance"] == 0


# ---------------------------------------------------------------------------------------------
# CB3: several currencies on one customer
# ---------------------------------------------------------------------------------------------


def test_cb3_currencies_stay_separate_through_a_customer_currency_change(api):
    c = customer(api)
    adjust(api, c["id"], 50, currency="eur")
    adjust(api, c["id"], 10)
    inv = invoice(api, c["id"], 80, currency="eur")
    p = pay(
        api, customer=c["id"], currency="eur", amount=0, applied_to=[credit_split(inv["id"], 45)]
    )
    assert [(s["type"], s["amount"]) for s in p["applied_to"]] == [("applied_credit", 45)]
    assert (credit(api, c["id"]), available(api, c["id"], "eur")) == (10, 5)
    assert ok(api.patch(f"/customers/{c['id']}", json={"currency": "eur"}))["credit_balance"] == 5
    assert available(api, c["id"], "usd") == 10
    r = api.post(
        "/payments",
        json={"customer": c["id"], "amount": 0, "applied_to": [credit_split(inv["id"], 6)]},
    )
    assert_error(r, 400, "applied_to")
    assert get_inv(api, inv["id"])["balance"] == 35


# ---------------------------------------------------------------------------------------------
# C22 on PostgreSQL: routes that touch one customer's credit and invoices at once
# ---------------------------------------------------------------------------------------------


def test_c22_issue_with_auto_apply_races_credit_spends_and_edits(server: ServerProcess, db_url):
    """Per trial: credit 100; racing: issue a draft of 80 (CB7), spend 50 on a sent invoice,
    remove 30 of credit, a legacy balance charge of 40 on a third invoice, and a payment PATCH
    moving its split. Never a 5xx; credit ends exactly 100 minus what was spent."""
    account = new_account(db_url)
    set_account(db_url, account.id, auto_apply_credits=True)
    key = account.key
    with client(server, key) as http:
        for _ in range(8):
            cid = created(http.post("/customers", json={"name": "Racer"}))["id"]
            items = [{"unit_cost": 80}]
            draft = created(
                http.post("/invoices", json={"customer": cid, "draft": True, "items": items})
            )
            sent = [
                created(http.post("/invoices", json={"customer": cid, "items": items}))
                for _ in range(3)
            ]
            cash = created(
                http.post(
                    "/payments",
                    json={
                        "customer": cid,
                        "amount": 10,
                        "applied_to": [invoice_split(sent[2]["id"], 10)],
                    },
                )
            )
            grant = created(  # after the invoices: CB7 spends nothing on them
                http.post("/credit_balance_adjustments", json={"customer": cid, "amount": 100})
            )
            responses = race(
                server,
                key,
                [
                    lambda h, d=draft["id"]: h.patch(f"/invoices/{d}", json={"draft": False}),
                    lambda h, i=sent[0]["id"], cid=cid: h.post(
                        "/payments",
                        json={"customer": cid, "amount": 0, "applied_to": [credit_split(i, 50)]},
                    ),
                    lambda h, cid=cid: h.post(
                        "/credit_balance_adjustments", json={"customer": cid, "amount": -30}
                    ),
                    lambda h, i=sent[1]["id"]: h.post(
                        "/transactions", json={"invoice": i, "method": "balance", "amount": 40}
                    ),
                    lambda h, p=cash["id"], i=sent[2]["id"]: h.patch(
                        f"/payments/{p}", json={"applied_to": [invoice_split(i, 5)]}
                    ),
                    lambda h, g=grant["id"]: h.patch(
                        f"/credit_balance_adjustments/{g}", json={"notes": "raced"}
                    ),
                ],
            )
            no_5xx(responses)
            spent = sum(
                80 - exact(http.get(f"/invoices/{i}"))["balance"]
                for i in (draft["id"], sent[0]["id"], sent[1]["id"])
            )
            removed = 30 if responses[2].status_code == 201 else 0
            left = exact(http.get(f"/customers/{cid}"))["credit_balance"]
            assert left >= 0
            assert left == 100 - spent - removed, [r.text for r in responses]
            assert exact(http.get(f"/invoices/{sent[2]['id']}"))["balance"] == 75
