"""Credit balances and credit balance adjustments (credit_balances.md §1-§5, CB1-CB9), the
customer views of credit (customers.md §2 `credit_balance`, §4 `balance` filter, §5 CB6) and
the credit side of legacy transactions (transactions_payments.md TX4a, TX5, TX6) and payments
(PY9: `credit` and `applied_credit` splits, PY16 voiding).

Every test runs against a fresh account (usd, UTC, `auto_apply_credits` off). Dates of the
worked examples are sent explicitly, in December 2020, so the CB2 messages name fixed days.
Refused requests must write nothing: `snapshot` captures what they could have touched.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from tests.support import ServerProcess, new_account
from tests.test_customers import set_account
from tests.test_invoices import assert_error, created, ok
from tests.test_transactions import customer, events, exact, invoice, listed, total_count
from tests.test_transactions_concurrency import client, no_5xx, race

D = Decimal
MISSING = 10**12  # an id no account owns

# Explicit timestamps (UTC) for the worked examples.
DEC_8 = 1_607_428_800  # 2020-12-08 12:00
DEC_9 = 1_607_550_710  # 2020-12-09 21:51:50, Example A's adjustment date
DEC_10 = 1_607_601_600  # 2020-12-10 12:00
DEC_11 = 1_607_688_000  # 2020-12-11 12:00
DEC_12 = 1_607_774_400  # 2020-12-12 12:00
DEC_15 = 1_608_033_600  # 2020-12-15 12:00

ADJUSTMENT_KEYS = {
    "id",
    "object",
    "customer",
    "currency",
    "amount",
    "date",
    "notes",
    "created_at",
    "updated_at",
}
PATH = "/credit_balance_adjustments"


def overspend(amount: str, day: str) -> str:
    """CB2's exact message, e.g. overspend("-$10.00", "Dec 10, 2020")."""
    return (
        "Could not write this change because it caused the customer's credit balance to "
        f"become {amount} on {day}"
    )


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def adjust(api, customer_id: int, amount: Any, **fields: Any) -> dict[str, Any]:
    r = api.post(PATH, json={"customer": customer_id, "amount": amount, **fields})
    assert r.status_code == 201, r.text
    body = exact(r)
    assert set(body) == ADJUSTMENT_KEYS, set(body) ^ ADJUSTMENT_KEYS
    return body


def get_adjustment(api, adjustment_id: int) -> dict[str, Any]:
    r = api.get(f"{PATH}/{adjustment_id}")
    assert r.status_code == 200, r.text
    return exact(r)


def patch_adjustment(api, adjustment_id: int, **fields: Any) -> dict[str, Any]:
    r = api.patch(f"{PATH}/{adjustment_id}", json=fields)
    assert r.status_code == 200, r.text
    return exact(r)


def adjustments(api, params: Any = None) -> list[dict[str, Any]]:
    return listed(api, params, path=PATH)


def adjustment_ids(api, params: Any = None) -> list[int]:
    return [a["id"] for a in adjustments(api, params)]


def credit(api, customer_id: int) -> Any:
    """customer.credit_balance, exact (CB3: in the customer's default currency)."""
    r = api.get(f"/customers/{customer_id}")
    assert r.status_code == 200, r.text
    return exact(r)["credit_balance"]


def balance_view(api, customer_id: int, currency: str | None = None) -> dict[str, Any]:
    params = {"currency": currency} if currency else None
    r = api.get(f"/customers/{customer_id}/balance", params=params)
    assert r.status_code == 200, r.text
    return exact(r)


def available(api, customer_id: int, currency: str | None = None) -> Any:
    return balance_view(api, customer_id, currency)["available_credits"]


def history(api, customer_id: int, currency: str | None = None) -> list[tuple[int, str, Any]]:
    points = balance_view(api, customer_id, currency)["history"]
    for point in points:
        assert set(point) == {"timestamp", "currency", "balance"}, point
    return [(p["timestamp"], p["currency"], p["balance"]) for p in points]


def pay(api, **body: Any) -> dict[str, Any]:
    r = api.post("/payments", params={"include": "applied_to"}, json=body)
    assert r.status_code == 201, r.text
    return exact(r)


def spend(api, customer_id: int, invoice_id: int, amount: Any, **fields: Any) -> dict[str, Any]:
    """CB6: an `applied_credit` payment of `amount` on an invoice."""
    return pay(
        api,
        customer=customer_id,
        amount=0,
        applied_to=[
            {
                "type": "applied_credit",
                "document_type": "invoice",
                "invoice": invoice_id,
                "amount": amount,
            }
        ],
        **fields,
    )


def transaction(api, **body: Any) -> dict[str, Any]:
    r = api.post("/transactions", json=body)
    assert r.status_code == 201, r.text
    return exact(r)


def invoice_balance(api, invoice_id: int) -> Any:
    r = api.get(f"/invoices/{invoice_id}")
    assert r.status_code == 200, r.text
    return exact(r)["balance"]


def snapshot(api, *customer_ids: int, invoice_ids: tuple[int, ...] = ()) -> dict[str, Any]:
    """Everything a refused credit change could have written."""
    state: dict[str, Any] = {
        "adjustments": adjustments(api),
        "transactions": listed(api),
        "payments": listed(api, {"include": "applied_to"}, path="/payments"),
        "events": total_count(api, "/events"),
    }
    for cid in customer_ids:
        state[f"customer {cid}"] = exact(api.get(f"/customers/{cid}"))
        state[f"balance {cid}"] = balance_view(api, cid)
    for iid in invoice_ids:
        state[f"invoice {iid}"] = exact(api.get(f"/invoices/{iid}"))
    return state


def event_list(api, event_type: str) -> list[dict[str, Any]]:
    return events(api, {"filter[type]": event_type})


# ---------------------------------------------------------------------------------------------
# §1-§2: create, retrieve
# ---------------------------------------------------------------------------------------------


def test_create_shape_and_defaults(api):
    """§2: object, customer, currency = customer's else account's, date = now, notes null,
    created_at = updated_at; whole amounts are JSON integers (C4.5)."""
    c = customer(api)
    started = int(time.time())
    made = adjust(api, c["id"], 50)
    assert type(made["id"]) is int
    assert type(made["amount"]) is int
    assert {k: made[k] for k in ADJUSTMENT_KEYS - {"id", "date", "created_at", "updated_at"}} == {
        "object": "credit_balance_adjustment",
        "customer": c["id"],
        "currency": "usd",
        "amount": 50,
        "notes": None,
    }
    assert started - 1 <= made["date"] <= int(time.time()) + 1
    assert started - 1 <= made["created_at"] <= int(time.time()) + 1
    assert made["updated_at"] == made["created_at"]
    assert get_adjustment(api, made["id"]) == made
    assert credit(api, c["id"]) == 50


def test_create_with_every_writable_field(api):
    """§2: date, notes and an explicit currency (case-insensitive, stored lowercase);
    amounts round half-up to the currency's minor unit (C12)."""
    c = customer(api)
    made = adjust(api, c["id"], "12.345", currency="EUR", date=DEC_9, notes="Outage credit")
    assert made["currency"] == "eur"
    assert made["amount"] == D("12.35")
    assert made["date"] == DEC_9
    assert made["notes"] == "Outage credit"
    assert get_adjustment(api, made["id"]) == made
    assert available(api, c["id"], "eur") == D("12.35")


def test_create_currency_defaults_to_the_customer_currency(api):
    """§2: currency = customer currency, else account currency (usd)."""
    c = customer(api, currency="eur")
    made = adjust(api, c["id"], 7)
    assert made["currency"] == "eur"
    assert credit(api, c["id"]) == 7  # CB3: reported in the customer's currency
    assert available(api, c["id"], "usd") == 0


def test_create_form_encoded(api):
    """C3.2: the same create, form-encoded as the curl of Example A."""
    c = customer(api)
    r = api.post(
        PATH, data={"customer": str(c["id"]), "amount": "50", "date": str(DEC_9), "notes": "x"}
    )
    assert r.status_code == 201, r.text
    body = exact(r)
    assert (body["customer"], body["currency"], body["amount"], body["date"], body["notes"]) == (
        c["id"],
        "usd",
        50,
        DEC_9,
        "x",
    )


def test_retrieve_unknown_ids_are_404(api, other_api):
    """§4: unknown id → 404, also for another account's adjustment and for a transaction
    that is not an adjustment."""
    c = customer(api)
    mine = adjust(api, c["id"], 5)
    inv = invoice(api, c["id"], 100)
    payment = transaction(api, invoice=inv["id"], amount=10)
    for raw in (str(MISSING), "abc", str(payment["id"])):
        for r in (
            api.get(f"{PATH}/{raw}"),
            api.patch(f"{PATH}/{raw}", json={"notes": "x"}),
            api.delete(f"{PATH}/{raw}"),
        ):
            assert r.status_code == 404, (raw, r.text)
            assert r.json()["type"] == "invalid_request"
    for r in (
        other_api.get(f"{PATH}/{mine['id']}"),
        other_api.patch(f"{PATH}/{mine['id']}", json={"amount": 1}),
        other_api.delete(f"{PATH}/{mine['id']}"),
    ):
        assert r.status_code == 404, r.text
    assert get_adjustment(api, mine["id"]) == mine
    assert other_api.get(PATH).json() == []


# ---------------------------------------------------------------------------------------------
# §1: list
# ---------------------------------------------------------------------------------------------


def test_list_filters_sort_and_date_range(api):
    """§1: filter[customer], filter[currency], sort, start_date/end_date (inclusive, on
    `date`); payments' splits and other transactions are not adjustments."""
    a = customer(api, name="A")
    b = customer(api, name="B")
    a1 = adjust(api, a["id"], 30, date=DEC_9)
    a2 = adjust(api, a["id"], 10, date=DEC_11, currency="eur")
    b1 = adjust(api, b["id"], 20, date=DEC_10)
    a3 = adjust(api, a["id"], -5, date=DEC_12)
    # Not adjustments: a payment with a credit split, a legacy invoice payment.
    pay(api, customer=a["id"], amount=40, applied_to=[{"type": "credit", "amount": 40}])
    transaction(api, invoice=invoice(api, a["id"], 100)["id"], amount=1)

    assert adjustment_ids(api) == [a1["id"], a2["id"], b1["id"], a3["id"]]
    assert adjustments(api) == [a1, a2, b1, a3]
    assert adjustment_ids(api, {"filter[customer]": a["id"]}) == [a1["id"], a2["id"], a3["id"]]
    assert adjustment_ids(api, {"filter[customer]": b["id"]}) == [b1["id"]]
    assert adjustment_ids(api, {"filter[currency]": "eur"}) == [a2["id"]]
    assert adjustment_ids(api, {"filter[currency]": "usd"}) == [a1["id"], b1["id"], a3["id"]]
    assert adjustment_ids(api, {"filter[customer]": a["id"], "filter[currency]": "usd"}) == [
        a1["id"],
        a3["id"],
    ]
    # sort (C8): by date, by credit amount (the adjustment's sign, not the stored one).
    assert adjustment_ids(api, {"sort": "date desc"}) == [a3["id"], a2["id"], b1["id"], a1["id"]]
    assert adjustment_ids(api, {"sort": "amount asc"}) == [a3["id"], a2["id"], b1["id"], a1["id"]]
    assert adjustment_ids(api, {"sort": "amount desc"}) == [a1["id"], b1["id"], a2["id"], a3["id"]]
    # start_date/end_date are inclusive bounds on `date`.
    assert adjustment_ids(api, {"start_date": DEC_10, "end_date": DEC_11}) == [a2["id"], b1["id"]]
    assert adjustment_ids(api, {"start_date": DEC_11}) == [a2["id"], a3["id"]]
    assert adjustment_ids(api, {"end_date": DEC_9}) == [a1["id"]]
    assert adjustment_ids(api, {"start_date": DEC_15}) == []
    assert total_count(api, PATH, {"filter[customer]": a["id"]}) == 3


# ---------------------------------------------------------------------------------------------
# §1-§2: update, delete
# ---------------------------------------------------------------------------------------------


def test_update_amount_date_notes(api):
    """§1 PATCH: amount, date and notes change; the ledger follows."""
    c = customer(api)
    made = adjust(api, c["id"], 50, date=DEC_9)
    patched = patch_adjustment(api, made["id"], amount="75.5", date=DEC_10, notes="corrected")
    assert {k: patched[k] for k in ("amount", "date", "notes", "customer", "currency")} == {
        "amount": D("75.5"),
        "date": DEC_10,
        "notes": "corrected",
        "customer": c["id"],
        "currency": "usd",
    }
    assert patched["created_at"] == made["created_at"]
    assert patched["updated_at"] >= made["updated_at"]
    assert get_adjustment(api, made["id"]) == patched
    assert credit(api, c["id"]) == D("75.5")
    assert history(api, c["id"]) == [(DEC_10, "usd", D("75.5"))]
    # notes back to null
    assert patch_adjustment(api, made["id"], notes=None)["notes"] is None


def test_update_ignores_customer_and_currency(api):
    """§2 Decision: `customer` and `currency` are create-only, silently ignored on PATCH."""
    c = customer(api)
    other = customer(api, name="Other")
    made = adjust(api, c["id"], 50)
    patched = patch_adjustment(api, made["id"], customer=other["id"], currency="eur", amount=40)
    assert (patched["customer"], patched["currency"], patched["amount"]) == (c["id"], "usd", 40)
    assert get_adjustment(api, made["id"]) == patched
    assert credit(api, c["id"]) == 40
    assert credit(api, other["id"]) == 0
    assert available(api, c["id"], "eur") == 0
    # Only ignored fields: nothing changes.
    same = patch_adjustment(api, made["id"], customer=other["id"], currency="eur")
    assert same == patched


def test_delete(api):
    """§1 DELETE → 204; the adjustment is gone and its credit with it (CB1)."""
    c = customer(api)
    keep = adjust(api, c["id"], 20, date=DEC_9)
    gone = adjust(api, c["id"], 30, date=DEC_10)
    assert credit(api, c["id"]) == 50
    r = api.delete(f"{PATH}/{gone['id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert api.get(f"{PATH}/{gone['id']}").status_code == 404
    assert api.delete(f"{PATH}/{gone['id']}").status_code == 404
    assert adjustments(api) == [keep]
    assert credit(api, c["id"]) == 20
    assert history(api, c["id"]) == [(DEC_9, "usd", 20)]
    assert api.get(f"/transactions/{gone['id']}").status_code == 404


# ---------------------------------------------------------------------------------------------
# §4: validation (nothing written)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"amount": 10}, "customer"),
        ({"customer": MISSING, "amount": 10}, "customer"),
        ({"customer": "abc", "amount": 10}, "customer"),
        ({"customer": "<own>"}, "amount"),
        ({"customer": "<own>", "amount": None}, "amount"),
        ({"customer": "<own>", "amount": "abc"}, "amount"),
        ({"customer": "<own>", "amount": 0}, "amount"),
        ({"customer": "<own>", "amount": "0.00"}, "amount"),
        ({"customer": "<own>", "amount": "0.004"}, "amount"),  # rounds to 0 (C12)
        ({"customer": "<own>", "amount": "1e30"}, "amount"),  # beyond 64-bit minor units
        ({"customer": "<own>", "amount": 10, "currency": "xyz"}, "currency"),
        ({"customer": "<own>", "amount": 10, "currency": "dollars"}, "currency"),
    ],
)
def test_s4_validation_table(api, body, param):
    """§4: missing/unknown customer → customer; missing, non-numeric or 0 amount → amount;
    invalid currency → currency. All 400, nothing written."""
    c = customer(api)
    adjust(api, c["id"], 5, date=DEC_9)
    before = snapshot(api, c["id"])
    body = {k: (c["id"] if v == "<own>" else v) for k, v in body.items()}
    assert_error(api.post(PATH, json=body), 400, param)
    assert snapshot(api, c["id"]) == before


def test_s4_another_accounts_customer_is_unknown(api, other_api):
    c = customer(api)
    assert_error(other_api.post(PATH, json={"customer": c["id"], "amount": 5}), 400, "customer")
    assert adjustments(api) == [] and other_api.get(PATH).json() == []
    assert credit(api, c["id"]) == 0


@pytest.mark.parametrize("amount", [0, "0", "abc", None, "0.001"])
def test_s4_update_validation(api, amount):
    """§4 on PATCH: the amount must stay a non-zero number; nothing is written."""
    c = customer(api)
    made = adjust(api, c["id"], 50, date=DEC_9)
    before = snapshot(api, c["id"])
    assert_error(api.patch(f"{PATH}/{made['id']}", json={"amount": amount}), 400, "amount")
    assert snapshot(api, c["id"]) == before
    assert get_adjustment(api, made["id"]) == made


# ---------------------------------------------------------------------------------------------
# CB1: what the ledger sums
# ---------------------------------------------------------------------------------------------


def test_cb1_ledger_sums_every_kind_of_entry(api):
    """CB1: adjustments (+), payment `credit` splits (+), `applied_credit` spends (-),
    legacy adjustments (TX5, negative = credit), legacy balance charges/payments (-) and
    refunds of them (+); pending ones contribute nothing."""
    c = customer(api)
    inv = invoice(api, c["id"], 80)
    inv2 = invoice(api, c["id"], 60)

    def check(expected: Any) -> None:
        assert credit(api, c["id"]) == expected
        assert available(api, c["id"]) == expected

    adjust(api, c["id"], 50, date=DEC_8)
    check(50)
    adjust(api, c["id"], "-20", date=DEC_9)
    check(30)
    pay(
        api,
        customer=c["id"],
        amount=100,
        applied_to=[{"type": "credit", "amount": 100}],
        date=DEC_10,
    )
    check(130)
    spend(api, c["id"], inv["id"], "45.5", date=DEC_11)
    check(D("84.5"))
    assert invoice_balance(api, inv["id"]) == D("34.5")
    transaction(api, customer=c["id"], type="adjustment", amount="-25", date=DEC_12)
    check(D("109.5"))
    transaction(api, customer=c["id"], type="adjustment", amount="9.5", date=DEC_12)
    check(100)
    charge = transaction(
        api, invoice=inv2["id"], type="charge", method="balance", amount=60, date=DEC_15
    )
    check(40)
    assert invoice_balance(api, inv2["id"]) == 0
    r = api.post(f"/transactions/{charge['id']}/refunds", json={"amount": "12.25"})
    assert r.status_code == 201, r.text
    assert exact(r)["method"] == "balance"
    check(D("52.25"))
    assert invoice_balance(api, inv2["id"]) == D("12.25")
    payment = transaction(api, invoice=inv["id"], method="balance", amount="4.5", date=DEC_15)
    assert payment["type"] == "payment"
    check(D("47.75"))
    assert invoice_balance(api, inv["id"]) == 30
    # Pending and failed transactions have no money effect (TX6), on credit neither.
    transaction(api, customer=c["id"], type="adjustment", amount=-1000, status="pending")
    transaction(api, invoice=inv["id"], method="balance", amount=30, status="failed")
    check(D("47.75"))
    assert invoice_balance(api, inv["id"]) == 30


def test_cb1_voided_payments_contribute_nothing(api):
    """CB1/PY16: voiding a payment removes its `credit` split and gives back its
    `applied_credit` spends."""
    c = customer(api)
    inv = invoice(api, c["id"], 50)
    grant = pay(api, customer=c["id"], amount=100, applied_to=[{"type": "credit", "amount": 100}])
    assert credit(api, c["id"]) == 100
    spent = spend(api, c["id"], inv["id"], 30)
    assert credit(api, c["id"]) == 70
    assert invoice_balance(api, inv["id"]) == 20

    r = api.delete(f"/payments/{spent['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["voided"] is True
    assert credit(api, c["id"]) == 100
    assert invoice_balance(api, inv["id"]) == 50

    r = api.delete(f"/payments/{grant['id']}")
    assert r.status_code == 200, r.text
    assert credit(api, c["id"]) == 0
    assert available(api, c["id"]) == 0
    assert history(api, c["id"]) == []


def test_cb1_payment_credit_split_next_to_invoice_split(api):
    """Example TP-4 (credit part): invoice splits pay the invoices, the `credit` split adds
    100.00; then 80.00 of it is spent on invoice C → 20.00 left."""
    c = customer(api)
    a = invoice(api, c["id"], 1710)
    b = invoice(api, c["id"], 290)
    made = pay(
        api,
        customer=c["id"],
        amount=2100,
        method="wire_transfer",
        applied_to=[
            {"type": "invoice", "invoice": a["id"], "amount": 1710},
            {"type": "invoice", "invoice": b["id"], "amount": 290},
            {"type": "credit", "amount": 100},
        ],
    )
    assert made["balance"] == 0
    assert credit(api, c["id"]) == 100
    inv_c = invoice(api, c["id"], 80)
    spent = spend(api, c["id"], inv_c["id"], 80)
    assert spent["balance"] == 0 and spent["amount"] == 0
    assert exact(api.get(f"/invoices/{inv_c['id']}"))["paid"] is True
    assert credit(api, c["id"]) == 20


def test_cb1_applied_credit_spends_the_invoice_customers_credit(api):
    """Decision: `applied_credit` spends the credit of the invoice's customer; a `credit`
    split credits the payment's customer."""
    parent = customer(api, name="Parent")
    child = customer(api, name="Child", parent_customer=parent["id"])
    adjust(api, parent["id"], 100)
    adjust(api, child["id"], 30)
    inv = invoice(api, child["id"], 40)
    pay(
        api,
        customer=parent["id"],
        amount=5,
        applied_to=[
            {
                "type": "applied_credit",
                "document_type": "invoice",
                "invoice": inv["id"],
                "amount": 30,
            },
            {"type": "credit", "amount": 5},
        ],
    )
    assert credit(api, child["id"]) == 0
    assert credit(api, parent["id"]) == 105
    assert invoice_balance(api, inv["id"]) == 10


def test_cb1_applied_credit_overspend_is_refused(api):
    """PY9/CB2: an `applied_credit` beyond the credit → 400 param applied_to with CB2's
    message, nothing written."""
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    adjust(api, c["id"], 50, date=DEC_9)
    before = snapshot(api, c["id"], invoice_ids=(inv["id"],))
    r = api.post(
        "/payments",
        json={
            "customer": c["id"],
            "amount": 0,
            "date": DEC_10,
            "applied_to": [
                {
                    "type": "applied_credit",
                    "document_type": "invoice",
                    "invoice": inv["id"],
                    "amount": 60,
                }
            ],
        },
    )
    assert_error(r, 400, "applied_to", overspend("-$10.00", "Dec 10, 2020"))
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before
    # Back-dated before the credit existed (CB2).
    r = api.post(
        "/payments",
        json={
            "customer": c["id"],
            "amount": 0,
            "date": DEC_8,
            "applied_to": [
                {
                    "type": "applied_credit",
                    "document_type": "invoice",
                    "invoice": inv["id"],
                    "amount": 10,
                }
            ],
        },
    )
    assert_error(r, 400, "applied_to", overspend("-$10.00", "Dec 8, 2020"))
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before


def test_cb1_voiding_a_spent_credit_payment_is_refused(api):
    """CB2/CB5 for payments: voiding the payment whose `credit` split was already spent
    would run the balance negative → 400, nothing written."""
    c = customer(api)
    inv = invoice(api, c["id"], 50)
    grant = pay(
        api,
        customer=c["id"],
        amount=40,
        date=DEC_9,
        applied_to=[{"type": "credit", "amount": 40}],
    )
    spend(api, c["id"], inv["id"], 25, date=DEC_10)
    before = snapshot(api, c["id"], invoice_ids=(inv["id"],))
    # PY9: a payment application's overspend names applied_to.
    assert_error(
        api.delete(f"/payments/{grant['id']}"),
        400,
        "applied_to",
        overspend("-$25.00", "Dec 10, 2020"),
    )
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before
    # Lowering the credit split below what was spent is refused the same way.
    r = api.patch(
        f"/payments/{grant['id']}",
        json={"applied_to": [{"type": "credit", "amount": 20}]},
    )
    assert_error(r, 400, "applied_to", overspend("-$5.00", "Dec 10, 2020"))
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before


# ---------------------------------------------------------------------------------------------
# TX5 / TX6: legacy transactions on the ledger
# ---------------------------------------------------------------------------------------------


def test_tx5_legacy_adjustment_is_a_credit_balance_adjustment(api):
    """TX5: type=adjustment without an invoice gets method `balance` whatever was sent; a
    negative amount credits the customer; the same row is the adjustment of opposite sign."""
    c = customer(api)
    legacy = transaction(
        api, customer=c["id"], type="adjustment", amount="-20.5", method="check", date=DEC_9
    )
    assert (legacy["type"], legacy["method"], legacy["amount"], legacy["invoice"]) == (
        "adjustment",
        "balance",
        D("-20.5"),
        None,
    )
    assert legacy["pdf_url"] is None  # TX13: an adjustment without parent
    assert credit(api, c["id"]) == D("20.5")
    seen = get_adjustment(api, legacy["id"])
    assert {k: seen[k] for k in ("customer", "currency", "amount", "date", "notes")} == {
        "customer": c["id"],
        "currency": "usd",
        "amount": D("20.5"),
        "date": DEC_9,
        "notes": None,
    }
    assert seen["created_at"] == legacy["created_at"]
    assert adjustment_ids(api) == [legacy["id"]]

    # The other way round: an adjustment is a legacy transaction of opposite sign.
    made = adjust(api, c["id"], -5, date=DEC_10)
    r = api.get(f"/transactions/{made['id']}")
    assert r.status_code == 200, r.text
    as_transaction = exact(r)
    assert (
        as_transaction["type"],
        as_transaction["method"],
        as_transaction["amount"],
        as_transaction["customer"],
        as_transaction["date"],
    ) == ("adjustment", "balance", 5, c["id"], DEC_10)
    assert credit(api, c["id"]) == D("15.5")

    assert credit(api, c["id"]) == D("15.5")


def test_tx8_legacy_adjustment_notes_and_method_edit(api):
    """TX8/TX5: notes change; a sent method is ignored, the adjustment stays `balance`."""
    c = customer(api)
    legacy = transaction(api, customer=c["id"], type="adjustment", amount=-20, date=DEC_9)
    r = api.patch(f"/transactions/{legacy['id']}", json={"method": "cash", "notes": "n"})
    assert r.status_code == 200, r.text
    assert (exact(r)["method"], exact(r)["amount"], exact(r)["notes"]) == ("balance", -20, "n")
    assert get_adjustment(api, legacy["id"])["notes"] == "n"
    assert credit(api, c["id"]) == 20


def test_tx8_legacy_adjustment_amount_can_be_edited(api):
    """TX8 on a TX5 adjustment: -20 -> -30 gives 10 more credit, visible as the adjustment
    +30 under /credit_balance_adjustments."""
    c = customer(api)
    legacy = transaction(api, customer=c["id"], type="adjustment", amount=-20, date=DEC_9)
    r = api.patch(f"/transactions/{legacy['id']}", json={"amount": -30})
    assert r.status_code == 200, r.text
    assert (exact(r)["method"], exact(r)["amount"]) == ("balance", -30)
    assert get_adjustment(api, legacy["id"])["amount"] == 30
    assert credit(api, c["id"]) == 30


def test_tx5_legacy_positive_adjustment_overspend(api):
    """TX5: a positive legacy adjustment debits credit; beyond the balance → CB2 (param
    amount, same message); nothing written."""
    c = customer(api)
    transaction(api, customer=c["id"], type="adjustment", amount=-50, date=DEC_9)
    before = snapshot(api, c["id"])
    r = api.post(
        "/transactions",
        json={"customer": c["id"], "type": "adjustment", "amount": 60, "date": DEC_10},
    )
    assert_error(r, 400, "amount", overspend("-$10.00", "Dec 10, 2020"))
    assert snapshot(api, c["id"]) == before


def test_tx6_legacy_balance_charge_and_payment_spend_credit(api):
    """TX6/TX4a: `charge` and `payment` with method=balance on an invoice pay the invoice
    from the credit; beyond the credit → 400 param amount; a refund gives the credit back;
    deleting the charge gives it back too (TX11)."""
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    adjust(api, c["id"], 70, date=DEC_9)

    charge = transaction(
        api, invoice=inv["id"], type="charge", method="balance", amount=40, date=DEC_10
    )
    assert (charge["type"], charge["method"], charge["customer"]) == ("charge", "balance", c["id"])
    assert credit(api, c["id"]) == 30
    assert invoice_balance(api, inv["id"]) == 60

    before = snapshot(api, c["id"], invoice_ids=(inv["id"],))
    r = api.post(
        "/transactions",
        json={"invoice": inv["id"], "method": "balance", "amount": "30.01", "date": DEC_11},
    )
    assert_error(r, 400, "amount", overspend("-$0.01", "Dec 11, 2020"))
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before

    payment = transaction(api, invoice=inv["id"], method="balance", amount=30, date=DEC_11)
    assert (payment["type"], payment["method"]) == ("payment", "balance")
    assert credit(api, c["id"]) == 0
    assert invoice_balance(api, inv["id"]) == 30

    r = api.post(f"/transactions/{charge['id']}/refunds", json={"amount": 15})
    assert r.status_code == 201, r.text
    refund = exact(r)
    assert (refund["type"], refund["method"], refund["parent_transaction"]) == (
        "refund",
        "balance",
        charge["id"],
    )
    assert credit(api, c["id"]) == 15
    assert invoice_balance(api, inv["id"]) == 45

    # TX11: deleting the charge (and its refund) gives back the remaining 25.
    assert api.delete(f"/transactions/{charge['id']}").status_code == 204
    assert credit(api, c["id"]) == 40
    assert invoice_balance(api, inv["id"]) == 70


def test_tx8_legacy_balance_payment_edit_is_checked(api):
    """CB2/CB5 through PATCH /transactions: raising a balance payment beyond the credit,
    or turning a failed one succeeded, is refused; nothing written."""
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    adjust(api, c["id"], 20, date=DEC_9)
    paid = transaction(api, invoice=inv["id"], method="balance", amount=15, date=DEC_10)
    failed = transaction(
        api, invoice=inv["id"], method="balance", amount=10, status="failed", date=DEC_11
    )
    before = snapshot(api, c["id"], invoice_ids=(inv["id"],))
    assert_error(
        api.patch(f"/transactions/{paid['id']}", json={"amount": 25}),
        400,
        "amount",
        overspend("-$5.00", "Dec 10, 2020"),
    )
    assert_error(
        api.patch(f"/transactions/{failed['id']}", json={"status": "succeeded"}),
        400,
        "amount",
        overspend("-$5.00", "Dec 11, 2020"),
    )
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before
    r = api.patch(f"/transactions/{paid['id']}", json={"amount": 20})
    assert r.status_code == 200, r.text
    assert credit(api, c["id"]) == 0
    assert invoice_balance(api, inv["id"]) == 80


# ---------------------------------------------------------------------------------------------
# CB2 / CB4 / CB5 and the worked examples
# ---------------------------------------------------------------------------------------------


def test_example_a_outage_credit_without_auto_apply(api):
    """Example A with `auto_apply_credits` off (the default, CB7): the credit waits until
    an `applied_credit` payment spends it."""
    c = customer(api)
    assert credit(api, c["id"]) == 0
    made = adjust(api, c["id"], 50, date=DEC_9)
    assert (made["amount"], made["currency"], made["date"]) == (50, "usd", 1607550710)
    assert credit(api, c["id"]) == 50
    assert type(exact(api.get(f"/customers/{c['id']}"))["credit_balance"]) is int

    inv = invoice(api, c["id"], 80)
    assert inv["number"] == "INV-00001"
    assert invoice_balance(api, inv["id"]) == 80  # nothing applied automatically
    assert credit(api, c["id"]) == 50

    spent = spend(api, c["id"], inv["id"], 50)
    assert (spent["amount"], spent["balance"]) == (0, 0)
    assert [(s["type"], s["invoice"], s["amount"]) for s in spent["applied_to"]] == [
        ("applied_credit", inv["id"], 50)
    ]
    assert invoice_balance(api, inv["id"]) == 30
    assert credit(api, c["id"]) == 0
    assert available(api, c["id"]) == 0


def test_example_a_cb7_auto_apply_on_issue(api, account, db_url):
    """Example A with `auto_apply_credits` on (CB7): the invoice issued for 80.00 receives an
    `applied_credit` payment of the 50.00 of credit at once: balance 30.00, credit 0."""
    set_account(db_url, account.id, auto_apply_credits=True)
    c = customer(api)
    adjust(api, c["id"], 50, date=DEC_9)
    inv = invoice(api, c["id"], 80)
    assert (inv["balance"], inv["paid"], inv["status"]) == (30, False, "sent")
    assert credit(api, c["id"]) == 0
    payments = exact(api.get("/payments", params={"include": "applied_to"}))
    assert len(payments) == 1
    (auto,) = payments
    assert (auto["customer"], auto["amount"], auto["balance"], auto["voided"]) == (
        c["id"],
        0,
        0,
        False,
    )
    assert [(s["type"], s["invoice"], s["amount"]) for s in auto["applied_to"]] == [
        ("applied_credit", inv["id"], 50)
    ]
    # One invoice.created with the final state (EV4), and the payment's own event.
    created_events = event_list(api, "invoice.created")
    assert [e["data"]["object"]["balance"] for e in created_events] == [30]
    assert len(event_list(api, "payment.created")) == 1


def test_cb7_auto_apply_covers_the_whole_invoice_and_waits_for_drafts(api, account, db_url):
    """CB7: credit beyond the balance stays; a draft is not issued, so nothing is applied
    until it is; an invoice created closed or with nothing owed gets nothing."""
    set_account(db_url, account.id, auto_apply_credits=True)
    c = customer(api)
    adjust(api, c["id"], 200)
    paid = invoice(api, c["id"], 80, sent=False)
    assert (paid["balance"], paid["paid"], paid["status"]) == (0, True, "paid")
    assert credit(api, c["id"]) == 120

    draft = created(
        api.post(
            "/invoices", json={"customer": c["id"], "draft": True, "items": [{"unit_cost": 70}]}
        )
    )
    assert (draft["balance"], credit(api, c["id"])) == (70, 120)
    closed = created(
        api.post(
            "/invoices", json={"customer": c["id"], "closed": True, "items": [{"unit_cost": 5}]}
        )
    )
    assert (closed["balance"], credit(api, c["id"])) == (5, 120)
    issued = ok(api.patch(f"/invoices/{draft['id']}", json={"draft": False}))
    assert (issued["balance"], issued["paid"]) == (0, True)
    assert credit(api, c["id"]) == 50
    # Credit in another currency is not spent on a usd invoice (CB3).
    other = customer(api)
    adjust(api, other["id"], 10, currency="eur")
    assert invoice(api, other["id"], 10, sent=False)["balance"] == 10


def test_cb7_off_by_default_applies_nothing(api):
    c = customer(api)
    adjust(api, c["id"], 20)
    assert invoice(api, c["id"], 10)["balance"] == 10
    assert exact(api.get("/payments")) == []


def test_example_b_overspend_rejected(api):
    """Example B / CB2 / CB4 / CB5: -60 on Dec 10 after +50 on Dec 9 → 400 with the exact
    message; -20 succeeds (30.00 left); deleting the +50 → 400 (-20 on Dec 10)."""
    c = customer(api)
    grant = adjust(api, c["id"], 50, date=DEC_9)
    before = snapshot(api, c["id"])
    r = api.post(PATH, json={"customer": c["id"], "amount": -60, "date": DEC_10})
    assert_error(r, 400, "amount", overspend("-$10.00", "Dec 10, 2020"))
    assert r.json() == {
        "type": "invalid_request",
        "message": (
            "Could not write this change because it caused the customer's credit balance to "
            "become -$10.00 on Dec 10, 2020"
        ),
        "param": "amount",
    }
    assert snapshot(api, c["id"]) == before

    debit = adjust(api, c["id"], -20, date=DEC_10)
    assert debit["amount"] == -20
    assert credit(api, c["id"]) == 30

    before = snapshot(api, c["id"])
    r = api.delete(f"{PATH}/{grant['id']}")
    assert_error(r, 400, "amount", overspend("-$20.00", "Dec 10, 2020"))
    assert snapshot(api, c["id"]) == before
    assert get_adjustment(api, grant["id"]) == grant


def test_example_c_back_dating_refused(api):
    """Example C / CB5: +50 (Dec 9) spent by an `applied_credit` of 50 on Dec 12; moving the
    adjustment to Dec 15 → 400 (-50 on Dec 12); moving it to Dec 11 is fine."""
    c = customer(api)
    grant = adjust(api, c["id"], 50, date=DEC_9)
    inv = invoice(api, c["id"], 50)
    spend(api, c["id"], inv["id"], 50, date=DEC_12)
    assert credit(api, c["id"]) == 0

    before = snapshot(api, c["id"], invoice_ids=(inv["id"],))
    r = api.patch(f"{PATH}/{grant['id']}", json={"date": DEC_15})
    assert_error(r, 400, "amount", overspend("-$50.00", "Dec 12, 2020"))
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before

    moved = patch_adjustment(api, grant["id"], date=DEC_11)
    assert moved["date"] == DEC_11
    assert history(api, c["id"]) == [(DEC_12, "usd", 0), (DEC_11, "usd", 50)]


def test_cb4_negative_adjustment_only_while_covered(api):
    """CB4: a debit must be covered at its own date, and by the entries before it."""
    c = customer(api)
    adjust(api, c["id"], 50, date=DEC_9)
    before = snapshot(api, c["id"])
    assert_error(
        api.post(PATH, json={"customer": c["id"], "amount": -10, "date": DEC_8}),
        400,
        "amount",
        overspend("-$10.00", "Dec 8, 2020"),
    )
    assert snapshot(api, c["id"]) == before
    adjust(api, c["id"], -50, date=DEC_10)
    assert credit(api, c["id"]) == 0
    before = snapshot(api, c["id"])
    assert_error(
        api.post(PATH, json={"customer": c["id"], "amount": "-0.01", "date": DEC_11}),
        400,
        "amount",
        overspend("-$0.01", "Dec 11, 2020"),
    )
    assert snapshot(api, c["id"]) == before
    # A later credit does not cover an earlier debit (CB2 order), but one before it does.
    adjust(api, c["id"], 5, date=DEC_15)
    assert_error(
        api.post(PATH, json={"customer": c["id"], "amount": -5, "date": DEC_12}),
        400,
        "amount",
        overspend("-$5.00", "Dec 12, 2020"),
    )
    adjust(api, c["id"], -5, date=DEC_15)
    assert credit(api, c["id"]) == 0


def test_cb2_same_date_orders_by_creation_id(api):
    """CB2: entries on the same date are ordered by id: a credit created after a debit of
    the same instant does not cover it."""
    c = customer(api)
    first = adjust(api, c["id"], 50, date=DEC_9)
    adjust(api, c["id"], -50, date=DEC_10)
    adjust(api, c["id"], 50, date=DEC_10)  # same date, later id
    assert credit(api, c["id"]) == 50
    before = snapshot(api, c["id"])
    r = api.delete(f"{PATH}/{first['id']}")
    assert_error(r, 400, "amount", overspend("-$50.00", "Dec 10, 2020"))
    assert snapshot(api, c["id"]) == before


def test_cb5_delete_after_spend_refused(api):
    """CB5: deleting a +50 adjustment after 30 of it was spent → 400; after the spend is
    voided the delete succeeds."""
    c = customer(api)
    grant = adjust(api, c["id"], 50, date=DEC_9)
    inv = invoice(api, c["id"], 100)
    spent = spend(api, c["id"], inv["id"], 30, date=DEC_10)
    assert credit(api, c["id"]) == 20

    before = snapshot(api, c["id"], invoice_ids=(inv["id"],))
    assert_error(
        api.delete(f"{PATH}/{grant['id']}"), 400, "amount", overspend("-$30.00", "Dec 10, 2020")
    )
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before

    assert api.delete(f"/payments/{spent['id']}").status_code == 200
    assert api.delete(f"{PATH}/{grant['id']}").status_code == 204
    assert credit(api, c["id"]) == 0
    assert invoice_balance(api, inv["id"]) == 100


def test_cb5_edit_after_spend_refused(api):
    """CB5: lowering the amount below what was spent is refused; lowering it to exactly the
    spend, or editing only notes, is fine."""
    c = customer(api)
    grant = adjust(api, c["id"], 50, date=DEC_9)
    inv = invoice(api, c["id"], 100)
    spend(api, c["id"], inv["id"], 30, date=DEC_10)

    before = snapshot(api, c["id"], invoice_ids=(inv["id"],))
    assert_error(
        api.patch(f"{PATH}/{grant['id']}", json={"amount": 29, "notes": "lower"}),
        400,
        "amount",
        overspend("-$1.00", "Dec 10, 2020"),
    )
    assert_error(
        api.patch(f"{PATH}/{grant['id']}", json={"amount": -50}),
        400,
        "amount",
        overspend("-$50.00", "Dec 9, 2020"),
    )
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before

    assert patch_adjustment(api, grant["id"], notes="kept")["notes"] == "kept"
    assert patch_adjustment(api, grant["id"], amount=30)["amount"] == 30
    assert credit(api, c["id"]) == 0


def test_cb2_message_date_uses_the_account_time_zone(api, db_url):
    """CB2: the day in the message is the account's local date (C21 time_zone)."""
    set_account(db_url, api.account.id, time_zone="Pacific/Auckland")
    c = customer(api)
    adjust(api, c["id"], 5, date=DEC_9)
    # 2020-12-10 12:00 UTC is Dec 11 01:00 in Auckland (UTC+13).
    assert_error(
        api.post(PATH, json={"customer": c["id"], "amount": -15, "date": DEC_10}),
        400,
        "amount",
        overspend("-$10.00", "Dec 11, 2020"),
    )


def test_cb2_message_in_another_currency(api):
    """CB2 with a non-dollar currency: the amount is formatted in that currency."""
    c = customer(api, currency="eur")
    adjust(api, c["id"], "1000", date=DEC_9)
    assert_error(
        api.post(PATH, json={"customer": c["id"], "amount": "-2234.5", "date": DEC_10}),
        400,
        "amount",
        overspend("-€1,234.50", "Dec 10, 2020"),
    )


# ---------------------------------------------------------------------------------------------
# CB3: currencies
# ---------------------------------------------------------------------------------------------


def test_cb3_currencies_are_separate_ledgers(api):
    """CB3: an eur adjustment does not move the usd balance; customer.credit_balance is in
    the customer's default currency; an overspend is judged per currency."""
    usd = customer(api, name="Default")  # no currency → the account's (usd)
    eur = customer(api, name="Euro", currency="eur")
    adjust(api, usd["id"], 30, currency="eur", date=DEC_9)
    adjust(api, usd["id"], 10, date=DEC_9)
    adjust(api, eur["id"], 40, date=DEC_9)
    adjust(api, eur["id"], 7, currency="usd", date=DEC_9)

    assert credit(api, usd["id"]) == 10
    assert credit(api, eur["id"]) == 40
    assert available(api, usd["id"]) == 10
    assert available(api, usd["id"], "eur") == 30
    assert available(api, usd["id"], "usd") == 10
    assert available(api, eur["id"]) == 40
    assert available(api, eur["id"], "usd") == 7
    assert available(api, usd["id"], "gbp") == 0

    before = snapshot(api, usd["id"], eur["id"])
    assert_error(
        api.post(PATH, json={"customer": usd["id"], "amount": -11, "date": DEC_10}),
        400,
        "amount",
        overspend("-$1.00", "Dec 10, 2020"),
    )
    assert_error(
        api.post(
            PATH, json={"customer": eur["id"], "amount": -8, "currency": "usd", "date": DEC_10}
        ),
        400,
        "amount",
        overspend("-$1.00", "Dec 10, 2020"),
    )
    assert snapshot(api, usd["id"], eur["id"]) == before
    adjust(api, usd["id"], -30, currency="eur", date=DEC_10)
    assert available(api, usd["id"], "eur") == 0
    assert credit(api, usd["id"]) == 10

    # The customers list shows the same figures as retrieve.
    listed_credit = {c["id"]: exact_credit for c, exact_credit in _listed_credits(api)}
    assert listed_credit == {usd["id"]: 10, eur["id"]: 40}


def _listed_credits(api) -> list[tuple[dict[str, Any], Any]]:
    r = api.get("/customers")
    assert r.status_code == 200, r.text
    return [(c, c["credit_balance"]) for c in exact(r)]


def test_cb3_applied_credit_uses_the_invoice_currency(api):
    """CB3/PY2: an eur invoice spends eur credit only."""
    c = customer(api)
    inv = invoice(api, c["id"], 100, currency="eur")
    adjust(api, c["id"], 100, date=DEC_9)  # usd credit only
    before = snapshot(api, c["id"], invoice_ids=(inv["id"],))
    r = api.post(
        "/payments",
        json={
            "customer": c["id"],
            "amount": 0,
            "currency": "eur",
            "date": DEC_10,
            "applied_to": [
                {
                    "type": "applied_credit",
                    "document_type": "invoice",
                    "invoice": inv["id"],
                    "amount": 25,
                }
            ],
        },
    )
    assert_error(r, 400, "applied_to", overspend("-€25.00", "Dec 10, 2020"))
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before
    adjust(api, c["id"], 25, currency="eur", date=DEC_9)
    spend(api, c["id"], inv["id"], 25, currency="eur", date=DEC_10)
    assert available(api, c["id"], "eur") == 0
    assert credit(api, c["id"]) == 100
    assert invoice_balance(api, inv["id"]) == 75


# ---------------------------------------------------------------------------------------------
# CB8: events
# ---------------------------------------------------------------------------------------------


def test_cb8_events_are_transaction_events_with_the_adjustment(api):
    """CB8: transaction.created/updated/deleted carrying the adjustment representation; no
    customer.updated for credit changes; EV3: no event without a change."""
    c = customer(api)
    customer_events = len(event_list(api, "customer.updated"))
    made = adjust(api, c["id"], 50, date=DEC_9, notes="n1")

    created_events = event_list(api, "transaction.created")
    assert len(created_events) == 1
    assert "previous" not in created_events[0]["data"]
    assert created_events[0]["data"]["object"] == made
    assert created_events[0]["data"]["object"]["object"] == "credit_balance_adjustment"

    patched = patch_adjustment(api, made["id"], amount=60, notes="n2")
    updated = event_list(api, "transaction.updated")
    assert len(updated) == 1
    assert updated[0]["data"]["object"] == patched
    assert updated[0]["data"]["object"]["object"] == "credit_balance_adjustment"
    assert updated[0]["data"]["previous"]["amount"] == 50
    assert updated[0]["data"]["previous"]["notes"] == "n1"
    assert "customer" not in updated[0]["data"]["previous"]

    # EV3: nothing changed (only ignored fields) → no event.
    patch_adjustment(api, made["id"], amount=60, notes="n2", currency="eur")
    assert len(event_list(api, "transaction.updated")) == 1

    last = get_adjustment(api, made["id"])
    assert api.delete(f"{PATH}/{made['id']}").status_code == 204
    deleted = event_list(api, "transaction.deleted")
    assert len(deleted) == 1
    assert deleted[0]["data"] == {"object": last}
    assert deleted[0]["data"]["object"]["object"] == "credit_balance_adjustment"

    # EV8: associated with the customer.
    related = events(api, {"related_to": f"customer,{c['id']}"})
    assert {"transaction.created", "transaction.updated", "transaction.deleted"} <= {
        e["type"] for e in related
    }
    assert len(event_list(api, "customer.updated")) == customer_events


def test_cb8_no_customer_updated_for_any_credit_change(api):
    """CB8 Decision: credit moved by payments, spends and legacy transactions emits no
    customer.updated either; refused changes emit nothing (EV1)."""
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    baseline = len(event_list(api, "customer.updated"))
    pay(api, customer=c["id"], amount=40, applied_to=[{"type": "credit", "amount": 40}])
    spend(api, c["id"], inv["id"], 10)
    transaction(api, customer=c["id"], type="adjustment", amount=-5)
    transaction(api, invoice=inv["id"], method="balance", amount=5)
    assert credit(api, c["id"]) == 30
    assert len(event_list(api, "customer.updated")) == baseline
    count = total_count(api, "/events")
    assert api.post(PATH, json={"customer": c["id"], "amount": -31}).status_code == 400
    assert total_count(api, "/events") == count


# ---------------------------------------------------------------------------------------------
# CB9 / customers.md: balance view and list filter
# ---------------------------------------------------------------------------------------------


def test_cb9_balance_available_credits_and_history(api):
    """CB9 / customers.md CB6: available_credits = current credit; history newest first,
    one point per entry with the running balance after it; per currency."""
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    assert balance_view(api, c["id"])["available_credits"] == 0
    assert history(api, c["id"]) == []

    adjust(api, c["id"], 50, date=DEC_9)
    pay(
        api,
        customer=c["id"],
        amount="20.25",
        date=DEC_10,
        applied_to=[{"type": "credit", "amount": "20.25"}],
    )
    spend(api, c["id"], inv["id"], 60, date=DEC_12)
    adjust(api, c["id"], "-0.25", date=DEC_11)  # back-dated between them
    adjust(api, c["id"], 9, currency="eur", date=DEC_15)

    view = balance_view(api, c["id"])
    assert view["available_credits"] == 10
    assert view["currency"] == "usd"
    assert history(api, c["id"]) == [
        (DEC_12, "usd", 10),
        (DEC_11, "usd", 70),
        (DEC_10, "usd", D("70.25")),
        (DEC_9, "usd", 50),
    ]
    eur_view = balance_view(api, c["id"], "eur")
    assert eur_view["available_credits"] == 9
    assert eur_view["history"] == [{"timestamp": DEC_15, "currency": "eur", "balance": 9}]
    assert credit(api, c["id"]) == 10


def test_customers_list_filter_balance(api):
    """customers.md §4: `balance=1` → credit balance > 0; `balance=0` → credit = 0 (in the
    customer's default currency)."""
    rich = customer(api, name="Rich")
    spent = customer(api, name="Spent")
    euro_only = customer(api, name="EuroOnly")  # usd customer with eur credit only
    none = customer(api, name="None")
    adjust(api, rich["id"], 5)
    adjust(api, spent["id"], 5)
    adjust(api, spent["id"], -5)
    adjust(api, euro_only["id"], 5, currency="eur")

    def ids(value: str) -> list[int]:
        r = api.get("/customers", params={"balance": value})
        assert r.status_code == 200, r.text
        assert int(r.headers["X-Total-Count"]) == len(r.json())
        return [c["id"] for c in r.json()]

    assert ids("1") == [rich["id"]]
    assert ids("0") == [spent["id"], euro_only["id"], none["id"]]
    legacy = transaction(api, customer=none["id"], type="adjustment", amount="-0.01")
    assert ids("1") == [rich["id"], none["id"]]
    assert api.delete(f"/transactions/{legacy['id']}").status_code == 204
    assert ids("1") == [rich["id"]]


def test_customer_credit_balance_is_read_only(api):
    """customers.md §2: `credit_balance` is rejected if sent (C3.9); it moves only with the
    ledger."""
    c = customer(api)
    adjust(api, c["id"], 12)
    assert_error(
        api.patch(f"/customers/{c['id']}", json={"credit_balance": 100}),
        400,
        "credit_balance",
        "Mass assignment of credit_balance on Customer is not allowed",
    )
    assert credit(api, c["id"]) == 12
    assert ok(api.get(f"/customers/{c['id']}"))["credit_balance"] == 12


def test_cb5_legacy_delete_of_a_spent_adjustment_refused(api):
    """CB5 through DELETE /transactions (TX11): the grant was spent → 400 param amount."""
    c = customer(api)
    legacy = transaction(api, customer=c["id"], type="adjustment", amount=-50, date=DEC_9)
    inv = invoice(api, c["id"], 100)
    transaction(api, invoice=inv["id"], method="balance", amount=35, date=DEC_10)
    before = snapshot(api, c["id"], invoice_ids=(inv["id"],))
    assert_error(
        api.delete(f"/transactions/{legacy['id']}"),
        400,
        "amount",
        overspend("-$35.00", "Dec 10, 2020"),
    )
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before
    assert_error(
        api.delete(f"{PATH}/{legacy['id']}"), 400, "amount", overspend("-$35.00", "Dec 10, 2020")
    )
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before


def test_py14_moving_a_credit_payment_after_its_spend_refused(api):
    """PY14 + CB2: the `credit` split follows the payment's date; moving the grant after
    the spend that used it → 400 (param applied_to), nothing written."""
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    grant = pay(
        api, customer=c["id"], amount=30, date=DEC_9, applied_to=[{"type": "credit", "amount": 30}]
    )
    spend(api, c["id"], inv["id"], 30, date=DEC_10)
    before = snapshot(api, c["id"], invoice_ids=(inv["id"],))
    assert_error(
        api.patch(f"/payments/{grant['id']}", json={"date": DEC_11}),
        400,
        "applied_to",
        overspend("-$30.00", "Dec 10, 2020"),
    )
    assert snapshot(api, c["id"], invoice_ids=(inv["id"],)) == before
    r = api.patch(f"/payments/{grant['id']}", json={"date": DEC_8})
    assert r.status_code == 200, r.text
    assert history(api, c["id"]) == [(DEC_10, "usd", 0), (DEC_8, "usd", 30)]


def test_cb9_history_keeps_the_newest_100_points(api):
    """customers.md CB6: at most 100 history entries, newest first."""
    c = customer(api)
    for n in range(101):
        adjust(api, c["id"], 1, date=DEC_8 + n)
    points = history(api, c["id"])
    assert len(points) == 100
    assert points[0] == (DEC_8 + 100, "usd", 101)
    assert points[-1] == (DEC_8 + 1, "usd", 2)
    assert available(api, c["id"]) == 101


def test_cb2_concurrent_spends_never_overdraw(server: ServerProcess, db_url):
    """CB2 under concurrency (C22): with 50.00 of credit, six simultaneous spends of 20.00
    (adjustments, applied_credit payments, legacy balance payments) → exactly two succeed,
    the rest get CB2's 400, 10.00 remains, never a 5xx."""
    account = new_account(db_url)
    with client(server, account.key) as http:
        c = http.post("/customers", json={"name": "Racer"}).json()
        r = http.post(PATH, json={"customer": c["id"], "amount": 50, "date": DEC_9})
        assert r.status_code == 201, r.text
        invoices = []
        for _ in range(4):
            r = http.post(
                "/invoices", json={"customer": c["id"], "items": [{"name": "x", "unit_cost": 20}]}
            )
            assert r.status_code == 201, r.text
            invoices.append(r.json()["id"])

    def adjustment(h):
        return h.post(PATH, json={"customer": c["id"], "amount": -20, "date": DEC_10})

    def applied(invoice_id):
        return lambda h: h.post(
            "/payments",
            json={
                "customer": c["id"],
                "amount": 0,
                "date": DEC_10,
                "applied_to": [
                    {
                        "type": "applied_credit",
                        "document_type": "invoice",
                        "invoice": invoice_id,
                        "amount": 20,
                    }
                ],
            },
        )

    def legacy(invoice_id):
        return lambda h: h.post(
            "/transactions",
            json={"invoice": invoice_id, "method": "balance", "amount": 20, "date": DEC_10},
        )

    calls = [
        adjustment,
        adjustment,
        applied(invoices[0]),
        applied(invoices[1]),
        legacy(invoices[2]),
        legacy(invoices[3]),
    ]
    responses = race(server, account.key, calls)
    no_5xx(responses)
    assert sorted(r.status_code for r in responses) == [201, 201, 400, 400, 400, 400]
    for r in responses:
        if r.status_code == 400:
            assert r.json()["message"] == overspend("-$10.00", "Dec 10, 2020"), r.text
    with client(server, account.key) as http:
        body = exact(http.get(f"/customers/{c['id']}/balance"))
        assert body["available_credits"] == 10
        assert exact(http.get(f"/customers/{c['id']}"))["credit_balance"] == 10
        paid = sum(20 - exact(http.get(f"/invoices/{i}"))["balance"] for i in invoices)
        adjusted = [a["amount"] for a in exact(http.get(PATH))]
        assert paid + 20 * adjusted.count(-20) == 40
