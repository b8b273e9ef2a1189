"""Payments (transactions_payments.md Part B: PY1-PY19, Examples TP-2, TP-4, TP-6's payment rows),
the transactions behind their splits (TX10, TX13, TX16 seen from the transaction side), the
credit ledger they move (credit_balances.md CB1, CB2, CB6), customers.md CU14 and the events
they record (events_webhooks.md EV1-EV9).

Decisions tested as behaviour (see the lead's brief): an `invoice` or `applied_credit` split
never pays more than the invoice's current balance (400 param applied_to); method `balance` is
refused on payments (400 param method); estimates and credit notes do not exist yet (400
`Could not find estimate: X` / `Could not find credit note: X`); DELETE voids and records
`payment.deleted` with the voided payment; splits record no transaction.* events.

Money is compared exactly: bodies are parsed with Decimal for non-integers (C4.5).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import invoiced

from tests.support import ServerProcess, new_account
from tests.test_invoices import SEED_FORM, T0, acme, assert_error, created, frozen_clock, ok
from tests.test_transactions import (
    MISSING,
    TRANSACTION_KEYS,
    amount_paid,
    customer,
    events,
    exact,
    get_inv,
    get_txn,
    invoice,
    listed,
    near_now,
    receipt_pattern,
    state_of_invoice,
    total_count,
)
from tests.test_transactions_concurrency import client as http_client
from tests.test_transactions_concurrency import no_5xx, race, sent_invoice

D = Decimal
DAY = 86_400

# B2: every documented field is always present (C4.3); `applied_to` only with
# include=applied_to (PY17); `attachments` is write-only.
PAYMENT_KEYS = {
    "id",
    "object",
    "customer",
    "date",
    "currency",
    "amount",
    "balance",
    "matched",
    "voided",
    "method",
    "ach_sender_id",
    "reference",
    "source",
    "notes",
    "charge",
    "pdf_url",
    "surcharge_percentage",
    "metadata",
    "created_at",
    "updated_at",
}
WITH_APPLIED = PAYMENT_KEYS | {"applied_to"}
INCLUDE = {"include": "applied_to"}

MISSING_CUSTOMER = "Missing customer"
VOIDED_INVOICE = "Cannot apply a payment to a voided invoice."
ALREADY_VOIDED = "This payment has already been voided."
VOIDED_PAYMENT = "The payment is voided and cannot be edited."
BELOW_ZERO = "The amount cannot cause the balance to go below 0."
NEGATIVE = "The amount cannot be less than 0."
CURRENCY_LOCKED = (
    "The currency cannot be modified if the payment is applied. You must first unapply the "
    "payment to change the currency."
)
DOCUMENT_LOCKED = "The invoice of an existing payment application cannot be changed"
TX10_EDIT = "You cannot edit a transaction with an associated payment."
TX10_DELETE = "You cannot delete a transaction with an associated payment."
CUSTOMER_HAS_TRANSACTIONS = "Customers with transactions cannot be deleted"
PAID_VOID = "This invoice cannot be voided because it has a payment applied."


def total_exceeds(applied: str, amount: str) -> str:
    """PY7 exact message."""
    return f"Total amount applied ({applied}) cannot exceed the payment amount ({amount})"


def exceeds_balance(number: str, amount: str, balance: str) -> str:
    """Decision: a split pays at most the invoice's current balance."""
    return f"The amount applied to {number} ({amount}) exceeds its balance ({balance})"


def not_this_customer(number: str, customer_number: str) -> str:
    """PY5 exact message."""
    return (
        f"The invoice provided ({number}) does not belong to the customer that was selected "
        f"to apply payments for: {customer_number}"
    )


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def pay(api, *, include: bool = True, **body: Any) -> dict[str, Any]:
    """POST /payments (JSON); with include=applied_to unless told otherwise."""
    r = api.post("/payments", params=INCLUDE if include else None, json=body)
    assert r.status_code == 201, r.text
    made = exact(r)
    assert set(made) == (WITH_APPLIED if include else PAYMENT_KEYS), set(made) ^ WITH_APPLIED
    return made


def get_pay(api, payment_id: int, *, include: bool = True, **params: Any) -> dict[str, Any]:
    query = {**(INCLUDE if include else {}), **params}
    r = api.get(f"/payments/{payment_id}", params=query or None)
    assert r.status_code == 200, r.text
    return exact(r)


def patch_pay(api, payment_id: int, **fields: Any) -> dict[str, Any]:
    r = api.patch(f"/payments/{payment_id}", params=INCLUDE, json=fields)
    assert r.status_code == 200, r.text
    made = exact(r)
    assert set(made) == WITH_APPLIED, set(made) ^ WITH_APPLIED
    return made


def void(api, payment_id: int) -> dict[str, Any]:
    r = api.delete(f"/payments/{payment_id}", params=INCLUDE)
    assert r.status_code == 200, r.text
    return exact(r)


def split(kind: str, amount: Any, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "amount": amount, **fields}


def inv_split(invoice_id: int, amount: Any, **fields: Any) -> dict[str, Any]:
    return split("invoice", amount, invoice=invoice_id, **fields)


def credit_of(api, customer_id: int) -> Any:
    """customer.credit_balance (credit_balances.md CB3)."""
    r = api.get(f"/customers/{customer_id}")
    assert r.status_code == 200, r.text
    return exact(r)["credit_balance"]


def payment_ids(api, params: Any = None) -> list[int]:
    return [p["id"] for p in listed(api, params, path="/payments")]


def split_transactions(api, payment_id: int) -> list[dict[str, Any]]:
    """TX16: the transactions behind a payment's splits, listed with filter[payment]."""
    return listed(api, {"filter[payment]": payment_id})


def stored(api, *invoice_ids: int, customers: tuple[int, ...] = ()) -> dict[str, Any]:
    """What a refused request must leave alone: payments, transactions, events, invoices and
    the customers' credit."""
    state: dict[str, Any] = {
        "payments": exact(api.get("/payments", params=INCLUDE)),
        "transactions": listed(api),
        "events": total_count(api, "/events"),
    }
    for invoice_id in invoice_ids:
        state[f"invoice {invoice_id}"] = get_inv(api, invoice_id)
    for customer_id in customers:
        state[f"credit {customer_id}"] = credit_of(api, customer_id)
    return state


def only(api, event_type: str) -> dict[str, Any]:
    found = events(api, {"filter[type]": event_type})
    assert len(found) == 1, [e["type"] for e in events(api)]
    return found[0]


def transaction_event_types(api) -> list[str]:
    return [e["type"] for e in events(api) if e["type"].startswith("transaction.")]


# ---------------------------------------------------------------------------------------------
# B2: the payment object
# ---------------------------------------------------------------------------------------------


def test_b2_every_field_with_its_default(api):
    """B2 defaults, PY10 (no applied_to -> unapplied, balance = amount), PY8 (no receipt while
    unapplied), PY17 (no applied_to key without include)."""
    c = customer(api)
    started = int(time.time())
    body = pay(api, include=False, customer=c["id"], amount=40)
    assert type(body["id"]) is int
    assert type(body["amount"]) is int
    assert {k: body[k] for k in PAYMENT_KEYS - {"id", "date", "created_at", "updated_at"}} == {
        "object": "payment",
        "customer": c["id"],
        "currency": "usd",  # customer without currency -> account currency
        "amount": 40,
        "balance": 40,
        "matched": None,
        "voided": False,
        "method": "other",
        "ach_sender_id": None,
        "reference": None,
        "source": "keyed",
        "notes": None,
        "charge": None,
        "pdf_url": None,
        "surcharge_percentage": 0,
        "metadata": {},
    }
    assert near_now(body["date"], started)
    assert near_now(body["created_at"], started)
    assert body["updated_at"] == body["created_at"]
    assert get_pay(api, body["id"], include=False) == body
    assert get_pay(api, body["id"]) == {**body, "applied_to": []}


def test_b2_writable_fields_are_stored(api):
    c = customer(api)
    body = pay(
        api,
        customer=c["id"],
        amount="12.345",  # C12: rounded half-up to the currency
        date=T0,
        method="wire_transfer",
        ach_sender_id="ACH-9",
        reference="REF-1",
        source="bank_feed",
        notes="wired",
        metadata={"batch": "7"},
    )
    assert body["amount"] == D("12.35")
    assert body["balance"] == D("12.35")
    assert body["date"] == T0
    assert (body["method"], body["ach_sender_id"], body["reference"]) == (
        "wire_transfer",
        "ACH-9",
        "REF-1",
    )
    assert (body["source"], body["notes"], body["metadata"]) == (
        "bank_feed",
        "wired",
        {"batch": "7"},
    )
    assert body["applied_to"] == []
    assert get_pay(api, body["id"]) == body


def test_b2_currency_comes_from_the_customer(api):
    c = customer(api, currency="eur")
    assert pay(api, customer=c["id"], amount=5)["currency"] == "eur"
    assert pay(api, customer=c["id"], amount=5, currency="GBP")["currency"] == "gbp"


def test_py10_unknown_payer(api):
    """PY10: without applied_to the customer may be null; PY8: no receipt without a customer,
    even once the balance is 0."""
    body = pay(api, amount=25)
    assert body["customer"] is None
    assert body["balance"] == 25
    assert body["applied_to"] == []
    assert body["pdf_url"] is None
    zero = pay(api, amount=0)
    assert zero["balance"] == 0
    assert zero["pdf_url"] is None


def test_b1_missing_and_malformed_ids_are_404(api, other_api):
    mine = pay(api, amount=5)["id"]
    for raw in (str(MISSING), "abc", "0"):
        message = f"Payment was not found: {raw}"
        for r in (
            api.get(f"/payments/{raw}"),
            api.patch(f"/payments/{raw}", json={"notes": "x"}),
            api.delete(f"/payments/{raw}"),
        ):
            assert r.status_code == 404, r.text
            assert r.json() == {"type": "invalid_request", "message": message}
    # Another account's payment does not exist for this one.
    for r in (
        other_api.get(f"/payments/{mine}"),
        other_api.patch(f"/payments/{mine}", json={"notes": "x"}),
        other_api.delete(f"/payments/{mine}"),
    ):
        assert r.status_code == 404, r.text
    assert get_pay(api, mine)["voided"] is False
    assert other_api.get("/payments").json() == []


def test_method_balance_is_refused_and_methods_follow_tx4a(api):
    """Decision: `balance` is reserved for applied_credit splits; TX4a pattern otherwise."""
    c = customer(api)
    for method in ("balance", "Check", "two words", "x" * 33):
        assert_error(
            api.post("/payments", json={"customer": c["id"], "amount": 5, "method": method}),
            400,
            "method",
        )
    assert pay(api, customer=c["id"], amount=5, method="check")["method"] == "check"
    assert api.get("/payments").headers["X-Total-Count"] == "1"


# ---------------------------------------------------------------------------------------------
# Example TP-2: the seed invoice paid with a Payment, then voided
# ---------------------------------------------------------------------------------------------


def seed_invoice(api) -> tuple[dict[str, Any], dict[str, Any]]:
    """invoices.md I-1 (form-encoded seed invoice, 148.85), marked sent."""
    acme_customer = acme(api)
    inv = created(api.post("/invoices", data={"customer": str(acme_customer["id"]), **SEED_FORM}))
    assert inv["total"] == 148.85
    inv = ok(api.patch(f"/invoices/{inv['id']}", json={"sent": True}))
    assert inv["status"] == "sent"
    return acme_customer, inv


TP2_FORM = {
    "amount": "148.85",
    "method": "check",
    "reference": "1450",
    "applied_to[0][type]": "invoice",
    "applied_to[0][amount]": "148.85",
}


def test_example_tp2_form_encoded_then_voided(api):
    """Example TP-2 exactly as the curl command sends it (C3.2 form encoding, C3.3 coercion)."""
    with frozen_clock(api) as move:
        move(T0)
        acme_customer, inv = seed_invoice(api)
        r = api.post(
            "/payments?include=applied_to",
            data={**TP2_FORM, "applied_to[0][invoice]": str(inv["id"])},
        )
        assert r.status_code == 201, r.text
        body = exact(r)
        assert set(body) == WITH_APPLIED
        assert T0 <= body["date"] <= T0 + 5
        [applied] = body["applied_to"]
        assert applied == {
            "id": applied["id"],
            "type": "invoice",
            "invoice": inv["id"],
            "amount": D("148.85"),
        }
        assert type(applied["id"]) is int
        expected = {
            "object": "payment",
            "customer": acme_customer["id"],
            "currency": "usd",
            "amount": D("148.85"),
            "balance": 0,
            "matched": None,
            "voided": False,
            "method": "check",
            "ach_sender_id": None,
            "reference": "1450",
            "source": "keyed",
            "notes": None,
            "charge": None,
            "surcharge_percentage": 0,
            "metadata": {},
            "applied_to": [applied],
        }
        assert {k: body[k] for k in expected} == expected
        assert receipt_pattern(api).fullmatch(body["pdf_url"])  # PY8: applied
        assert get_pay(api, body["id"]) == body

        # The split is a transaction owned by the payment (PY9).
        txn = get_txn(api, applied["id"])
        assert set(txn) == TRANSACTION_KEYS
        assert {k: txn[k] for k in TRANSACTION_KEYS - {"created_at", "updated_at"}} == {
            "id": applied["id"],
            "object": "transaction",
            "customer": acme_customer["id"],
            "invoice": inv["id"],
            "credit_note": None,
            "estimate": None,
            "date": body["date"],
            "type": "payment",
            "method": "check",
            "status": "succeeded",
            "gateway": None,
            "gateway_id": "1450",
            "payment_source": None,
            "currency": "usd",
            "amount": D("148.85"),
            "notes": None,
            "failure_reason": None,
            "parent_transaction": None,
            "payment": body["id"],
            "pdf_url": body["pdf_url"],  # TX13: the payment's receipt
            "metadata": {},
        }
        assert state_of_invoice(api, inv["id"]) == (0, True, True, "paid")
        assert get_inv(api, inv["id"])["payment_url"] is None
        balance = exact(api.get(f"/customers/{acme_customer['id']}/balance"))
        assert balance["total_outstanding"] == 0

        # TX10: the split is changed through its payment only.
        assert_error(api.delete(f"/transactions/{applied['id']}"), 400, None, TX10_DELETE)

        voided = void(api, body["id"])
        assert voided["voided"] is True
        assert voided["balance"] == D("148.85")
        assert voided["amount"] == D("148.85")
        assert voided["applied_to"] == []
        assert voided["pdf_url"] is None
        assert state_of_invoice(api, inv["id"]) == (D("148.85"), False, False, "sent")
        assert api.get(f"/transactions/{applied['id']}").status_code == 404
        balance = exact(api.get(f"/customers/{acme_customer['id']}/balance"))
        assert balance["total_outstanding"] == D("148.85")


def test_example_tp2_json_gives_the_same_payment(api):
    acme_customer, inv = seed_invoice(api)
    body = pay(
        api,
        amount=148.85,
        method="check",
        reference="1450",
        applied_to=[inv_split(inv["id"], 148.85)],
    )
    assert body["customer"] == acme_customer["id"]  # PY3: inferred from the invoice
    assert body["balance"] == 0
    assert [(a["type"], a["invoice"], a["amount"]) for a in body["applied_to"]] == [
        ("invoice", inv["id"], D("148.85"))
    ]
    assert state_of_invoice(api, inv["id"]) == (0, True, True, "paid")


def test_form_encoded_splits_with_several_entries(api):
    """C3.2: `applied_to[i][field]` builds the list; numbers and ids arrive as strings."""
    c = customer(api)
    a = invoice(api, c["id"], 60)["id"]
    b = invoice(api, c["id"], 30)["id"]
    r = api.post(
        "/payments?include=applied_to",
        data={
            "customer": str(c["id"]),
            "amount": "100",
            "date": str(T0),
            "applied_to[0][type]": "invoice",
            "applied_to[0][invoice]": str(a),
            "applied_to[0][amount]": "60",
            "applied_to[1][type]": "invoice",
            "applied_to[1][invoice]": str(b),
            "applied_to[1][amount]": "25.5",
            "applied_to[2][type]": "credit",
            "applied_to[2][amount]": "14.5",
        },
    )
    assert r.status_code == 201, r.text
    body = exact(r)
    assert body["date"] == T0
    assert [(x["type"], x.get("invoice"), x["amount"]) for x in body["applied_to"]] == [
        ("invoice", a, 60),
        ("invoice", b, D("25.5")),
        ("credit", None, D("14.5")),
    ]
    assert body["balance"] == 0
    assert state_of_invoice(api, a) == (0, True, True, "paid")
    assert state_of_invoice(api, b) == (D("4.5"), False, False, "sent")
    assert credit_of(api, c["id"]) == D("14.5")


# ---------------------------------------------------------------------------------------------
# PY17 include=applied_to / C10 expand=customer
# ---------------------------------------------------------------------------------------------


def test_py17_applied_to_only_with_include(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = {"amount": 50, "applied_to": [inv_split(iid, 30)]}

    plain = api.post("/payments", json=body)
    assert plain.status_code == 201, plain.text
    assert set(plain.json()) == PAYMENT_KEYS
    pid = plain.json()["id"]
    with_splits = api.post("/payments", params={"include": "applied_to"}, json=body)
    assert with_splits.status_code == 201
    assert set(with_splits.json()) == WITH_APPLIED
    # `include` is a comma-separated list; other names do not add it.
    assert "applied_to" in api.get(f"/payments/{pid}", params={"include": "x,applied_to"}).json()
    assert "applied_to" not in api.get(f"/payments/{pid}", params={"include": "x"}).json()

    split_id = get_pay(api, pid)["applied_to"][0]["id"]
    expected = [{"id": split_id, "type": "invoice", "invoice": iid, "amount": 30}]
    for r in (
        api.get(f"/payments/{pid}", params=INCLUDE),
        api.patch(f"/payments/{pid}", params=INCLUDE, json={"notes": "n"}),
    ):
        assert r.status_code == 200, r.text
        assert r.json()["applied_to"] == expected
    listed_with = api.get("/payments", params=INCLUDE).json()
    assert [p["applied_to"] for p in listed_with] == [
        expected,
        with_splits.json()["applied_to"],
    ]
    for r in (
        api.get(f"/payments/{pid}"),
        api.patch(f"/payments/{pid}", json={"notes": "m"}),
    ):
        assert r.status_code == 200, r.text
        assert set(r.json()) == PAYMENT_KEYS
    assert all(set(p) == PAYMENT_KEYS for p in api.get("/payments").json())
    # DELETE answers the voided payment, its applied_to emptied.
    r = api.delete(f"/payments/{pid}", params=INCLUDE)
    assert r.status_code == 200, r.text
    assert r.json()["applied_to"] == []
    r = api.delete(f"/payments/{with_splits.json()['id']}")
    assert r.status_code == 200, r.text
    assert set(r.json()) == PAYMENT_KEYS


def test_c10_expand_customer(api):
    c = customer(api, name="Payer")
    iid = invoice(api, c["id"], 100)["id"]
    expand = {"expand": "customer", **INCLUDE}
    r = api.post(
        "/payments", params=expand, json={"amount": 10, "applied_to": [inv_split(iid, 10)]}
    )
    assert r.status_code == 201, r.text
    body = exact(r)
    customer_json = exact(api.get(f"/customers/{c['id']}"))
    assert body["customer"] == customer_json
    assert body["applied_to"][0]["invoice"] == iid
    pid = body["id"]
    assert get_pay(api, pid, expand="customer")["customer"] == customer_json
    assert get_pay(api, pid)["customer"] == c["id"]
    listed_expanded = exact(api.get("/payments", params={"expand": "customer"}))
    assert [p["customer"] for p in listed_expanded] == [customer_json]
    r = api.patch(f"/payments/{pid}", params={"expand": "customer"}, json={"notes": "x"})
    assert exact(r)["customer"] == customer_json
    # A payment without a payer keeps null.
    unknown = exact(api.post("/payments", params={"expand": "customer"}, json={"amount": 1}))
    assert unknown["customer"] is None


# ---------------------------------------------------------------------------------------------
# PY1-PY7: validation
# ---------------------------------------------------------------------------------------------


def test_py1_amount_rules(api):
    """PY1 / TP-6: required and numeric, never negative; 0 is allowed."""
    c = customer(api)
    before = stored(api)
    assert_error(api.post("/payments", json={"method": "check"}), 400, "amount")  # TP-6
    assert_error(api.post("/payments", json={"customer": c["id"]}), 400, "amount")
    for bad in ("abc", "", [1], {"a": 1}, True):
        assert_error(
            api.post("/payments", json={"customer": c["id"], "amount": bad}), 400, "amount"
        )
    assert_error(api.post("/payments", data={"amount": "ten"}), 400, "amount")
    for negative in (-1, "-0.01", -148.85):
        assert_error(
            api.post("/payments", json={"customer": c["id"], "amount": negative}),
            400,
            "amount",
            NEGATIVE,
        )
    assert stored(api) == before
    zero = pay(api, customer=c["id"], amount=0)
    assert zero["amount"] == 0
    assert zero["balance"] == 0
    assert receipt_pattern(api).fullmatch(zero["pdf_url"])  # PY8: applied, customer known


def test_py2_currency_must_match_every_document(api):
    c = customer(api)
    usd = invoice(api, c["id"], 100)
    eur = invoice(api, c["id"], 100, currency="eur")
    assert eur["number"] == "INV-00002"
    before = stored(api, usd["id"], eur["id"])
    # The payment's currency is the customer's -> account's (usd).
    assert_error(
        api.post(
            "/payments",
            json={
                "customer": c["id"],
                "amount": 20,
                "applied_to": [inv_split(usd["id"], 10), inv_split(eur["id"], 10)],
            },
        ),
        400,
        "applied_to",
        "The currency of invoice INV-00002 (eur) does not match the payment currency (usd)",
    )
    assert_error(
        api.post(
            "/payments",
            json={
                "customer": c["id"],
                "currency": "eur",
                "amount": 10,
                "applied_to": [inv_split(usd["id"], 10)],
            },
        ),
        400,
        "applied_to",
        "The currency of invoice INV-00001 (usd) does not match the payment currency (eur)",
    )
    assert stored(api, usd["id"], eur["id"]) == before
    made = pay(
        api, customer=c["id"], currency="eur", amount=10, applied_to=[inv_split(eur["id"], 10)]
    )
    assert made["currency"] == "eur"
    assert state_of_invoice(api, eur["id"])[0] == 90


def test_py3_customer_inferred_from_the_first_document(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=30, applied_to=[inv_split(iid, 20), split("credit", 10)])
    assert body["customer"] == c["id"]
    assert body["balance"] == 0
    assert credit_of(api, c["id"]) == 10  # the inferred payer gets the credit


def test_py3_missing_customer(api):
    before = stored(api)
    for applied in (
        [split("credit", 10)],
        [split("convenience_fee", 1)],
        [split("credit", 5), split("convenience_fee", 1)],
    ):
        assert_error(
            api.post("/payments", json={"amount": 10, "applied_to": applied}),
            400,
            "customer",
            MISSING_CUSTOMER,
        )
    assert stored(api) == before


def test_py4_split_shape_errors(api):
    """PY4 / TP-6: each split needs type and amount, > 0, and only its own document."""
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    before = stored(api, iid)
    cases: list[tuple[Any, str | None]] = [
        ([{"invoice": iid, "amount": 5}], "Missing `type` parameter"),
        ([{"type": "invoice", "invoice": iid}], "Missing `amount` parameter"),  # TP-6
        ([{"type": "gift", "invoice": iid, "amount": 5}], None),
        (
            [inv_split(iid, 0)],
            "Amount applied to document must be greater than 0. Provided: $0.00",
        ),
        ([inv_split(iid, -5)], None),
        ([inv_split(iid, "abc")], None),
        ([split("credit", 5, invoice=iid)], "Cannot supply invoice ID to non-invoice splits."),
        (
            [split("convenience_fee", 5, invoice=iid)],
            "Cannot supply invoice ID to non-invoice splits.",
        ),
        ([split("invoice", 5)], None),  # no invoice named
        ("invoice", None),
        ([5], None),
        ({"type": "invoice"}, None),
    ]
    for applied, message in cases:
        r = api.post("/payments", json={"customer": c["id"], "amount": 10, "applied_to": applied})
        assert_error(r, 400, "applied_to", message)
    assert stored(api, iid) == before


def test_py4_form_encoded_split_errors(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    r = api.post(
        "/payments",
        data={
            "customer": str(c["id"]),
            "amount": "10",
            "applied_to[0][type]": "invoice",
            "applied_to[0][invoice]": str(iid),
        },
    )
    assert_error(r, 400, "applied_to", "Missing `amount` parameter")
    r = api.post(
        "/payments",
        data={
            "customer": str(c["id"]),
            "amount": "10",
            "applied_to[0][type]": "invoice",
            "applied_to[0][invoice]": str(iid),
            "applied_to[0][amount]": "0",
        },
    )
    assert_error(
        r, 400, "applied_to", "Amount applied to document must be greater than 0. Provided: $0.00"
    )


def test_py5_documents_must_exist(api, other_api):
    c = customer(api)
    theirs = invoice(other_api, customer(other_api)["id"], 100)["id"]
    before = stored(api)
    for missing in (MISSING, theirs):
        assert_error(
            api.post("/payments", json={"amount": 5, "applied_to": [inv_split(missing, 5)]}),
            400,
            "applied_to",
            f"Could not find invoice: {missing}",
        )
        assert_error(
            api.post(
                "/payments",
                json={"customer": c["id"], "amount": 5, "applied_to": [inv_split(missing, 5)]},
            ),
            400,
            "applied_to",
            f"Could not find invoice: {missing}",
        )
    # Decision: estimates and credit notes do not exist yet.
    assert_error(
        api.post(
            "/payments",
            json={
                "customer": c["id"],
                "amount": 5,
                "applied_to": [split("estimate", 5, estimate=7)],
            },
        ),
        400,
        "applied_to",
        "Could not find estimate: 7",
    )
    assert_error(
        api.post(
            "/payments",
            json={
                "customer": c["id"],
                "amount": 0,
                "applied_to": [
                    split("credit_note", 5, credit_note=9, document_type="invoice", invoice=MISSING)
                ],
            },
        ),
        400,
        "applied_to",
        "Could not find credit note: 9",
    )
    assert_error(
        api.post("/payments", json={"customer": MISSING, "amount": 5}),
        400,
        "customer",
    )
    assert stored(api) == before
    assert state_of_invoice(other_api, theirs) == (100, False, False, "sent")


def test_py5_invoice_of_another_customer(api):
    payer = customer(api, name="Payer")
    other = customer(api, name="Other")
    assert (payer["number"], other["number"]) == ("CUST-00001", "CUST-00002")
    mine = invoice(api, payer["id"], 100)
    foreign = invoice(api, other["id"], 100)
    assert foreign["number"] == "INV-00002"
    before = stored(api, mine["id"], foreign["id"])
    for applied in (
        [inv_split(foreign["id"], 10)],
        [inv_split(mine["id"], 10), inv_split(foreign["id"], 10)],
    ):
        assert_error(
            api.post(
                "/payments", json={"customer": payer["id"], "amount": 20, "applied_to": applied}
            ),
            400,
            "applied_to",
            not_this_customer("INV-00002", "CUST-00001"),
        )
    # PY3 infers the payer from the first document: the second then belongs to someone else.
    assert_error(
        api.post(
            "/payments",
            json={
                "amount": 20,
                "applied_to": [inv_split(foreign["id"], 10), inv_split(mine["id"], 10)],
            },
        ),
        400,
        "applied_to",
        not_this_customer("INV-00001", "CUST-00002"),
    )
    assert stored(api, mine["id"], foreign["id"]) == before


def test_py5_sub_customer_invoice_is_allowed(api):
    """PY5 / CU10: a parent pays its sub-customers' invoices; not the other way round."""
    parent = customer(api, name="Parent")
    child = customer(api, name="Child", parent_customer=parent["id"])
    grandchild = customer(api, name="Grandchild", parent_customer=child["id"])
    own = invoice(api, parent["id"], 100)["id"]
    childs = invoice(api, child["id"], 50)["id"]
    grandchilds = invoice(api, grandchild["id"], 25)["id"]
    body = pay(
        api,
        customer=parent["id"],
        amount=175,
        applied_to=[inv_split(own, 100), inv_split(childs, 50), inv_split(grandchilds, 25)],
    )
    assert body["customer"] == parent["id"]
    assert body["balance"] == 0
    for iid in (own, childs, grandchilds):
        assert state_of_invoice(api, iid) == (0, True, True, "paid")
    # Each split transaction belongs to the invoice's customer.
    owners = {t["invoice"]: t["customer"] for t in split_transactions(api, body["id"])}
    assert owners == {own: parent["id"], childs: child["id"], grandchilds: grandchild["id"]}
    # A sub-customer may not pay its parent's invoice.
    other = invoice(api, parent["id"], 10)
    assert_error(
        api.post(
            "/payments",
            json={
                "customer": child["id"],
                "amount": 10,
                "applied_to": [inv_split(other["id"], 10)],
            },
        ),
        400,
        "applied_to",
        not_this_customer(other["number"], child["number"]),
    )


def test_tx7_voided_invoice_refuses_payments(api):
    c = customer(api)
    iid = invoice(api, c["id"], 50)["id"]
    assert ok(api.post(f"/invoices/{iid}/void"))["status"] == "voided"
    before = stored(api, iid)
    for body in (
        {"amount": 5, "applied_to": [inv_split(iid, 5)]},
        {"customer": c["id"], "amount": 5, "applied_to": [inv_split(iid, 5)]},
    ):
        assert_error(api.post("/payments", json=body), 400, "applied_to", VOIDED_INVOICE)
    assert stored(api, iid) == before


def test_v2_invoice_paid_by_a_payment_cannot_be_voided(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=10, applied_to=[inv_split(iid, 10)])
    assert_error(api.post(f"/invoices/{iid}/void"), 400, None, PAID_VOID)
    void(api, body["id"])
    assert ok(api.post(f"/invoices/{iid}/void"))["status"] == "voided"


def test_py6_each_document_once(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    before = stored(api, iid)
    assert_error(
        api.post(
            "/payments",
            json={
                "customer": c["id"],
                "amount": 20,
                "applied_to": [inv_split(iid, 10), inv_split(iid, 10)],
            },
        ),
        400,
        "applied_to",
        f"Each document can only be applied once per payment. Detected duplicate (invoice:{iid})",
    )
    assert_error(
        api.post(
            "/payments",
            json={
                "customer": c["id"],
                "amount": 20,
                "applied_to": [split("credit", 10), split("credit", 5)],
            },
        ),
        400,
        "applied_to",
    )
    assert stored(api, iid) == before
    # An invoice split and an applied_credit split on the same invoice are different keys.
    pay(api, customer=c["id"], amount=10, applied_to=[split("credit", 10)])
    both = pay(
        api,
        customer=c["id"],
        amount=5,
        applied_to=[
            inv_split(iid, 5),
            split("applied_credit", 10, document_type="invoice", invoice=iid),
        ],
    )
    assert [a["type"] for a in both["applied_to"]] == ["invoice", "applied_credit"]
    assert state_of_invoice(api, iid)[0] == 85


def test_example_tp4_one_payment_two_invoices_and_credit(api, db_url):
    """Example TP-4: PY7 exact message with nothing written, then the payment, then the
    credit spent on a third invoice (CB6)."""
    c = customer(api)
    a = invoice(api, c["id"], 1710)["id"]
    b = invoice(api, c["id"], 290)["id"]
    splits = [inv_split(a, 1710), inv_split(b, 290), split("credit", 100)]
    before = stored(api, a, b, customers=(c["id"],))
    r = api.post(
        "/payments",
        params=INCLUDE,
        json={"customer": c["id"], "amount": 2000, "method": "wire_transfer", "applied_to": splits},
    )
    assert_error(r, 400, "applied_to", total_exceeds("$2,100.00", "$2,000.00"))
    assert stored(api, a, b, customers=(c["id"],)) == before

    body = pay(api, customer=c["id"], amount=2100, method="wire_transfer", applied_to=splits)
    assert body["balance"] == 0
    assert body["amount"] == 2100
    assert [(x["type"], x.get("invoice"), x["amount"]) for x in body["applied_to"]] == [
        ("invoice", a, 1710),
        ("invoice", b, 290),
        ("credit", None, 100),
    ]
    assert state_of_invoice(api, a) == (0, True, True, "paid")
    assert state_of_invoice(api, b) == (0, True, True, "paid")
    assert credit_of(api, c["id"]) == 100
    assert exact(api.get(f"/customers/{c['id']}/balance"))["available_credits"] == 100

    # Later, invoice C (80.00) is paid from the credit by a payment of 0.
    cc = invoice(api, c["id"], 80)["id"]
    spend = pay(
        api,
        customer=c["id"],
        amount=0,
        applied_to=[split("applied_credit", 80, document_type="invoice", invoice=cc)],
    )
    assert spend["balance"] == 0
    assert spend["amount"] == 0
    [applied] = spend["applied_to"]
    assert applied == {
        "id": applied["id"],
        "type": "applied_credit",
        "document_type": "invoice",
        "invoice": cc,
        "amount": 80,
    }
    assert state_of_invoice(api, cc) == (0, True, True, "paid")
    assert credit_of(api, c["id"]) == 20
    assert exact(api.get(f"/customers/{c['id']}/balance"))["available_credits"] == 20
    txn = get_txn(api, applied["id"])
    assert (txn["type"], txn["method"], txn["amount"], txn["invoice"], txn["payment"]) == (
        "charge",
        "balance",
        80,
        cc,
        spend["id"],
    )


def test_py7_total_counts_cash_splits_only(api):
    """PY7: applied_credit does not count against the payment amount; convenience fees do."""
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    pay(api, customer=c["id"], amount=30, applied_to=[split("credit", 30)])
    before = stored(api, iid, customers=(c["id"],))
    assert_error(
        api.post(
            "/payments",
            json={
                "customer": c["id"],
                "amount": 10,
                "applied_to": [inv_split(iid, 10), split("convenience_fee", "0.01")],
            },
        ),
        400,
        "applied_to",
        total_exceeds("$10.01", "$10.00"),
    )
    assert stored(api, iid, customers=(c["id"],)) == before
    body = pay(
        api,
        customer=c["id"],
        amount=12,
        applied_to=[
            inv_split(iid, 10),
            split("convenience_fee", 2),
            split("applied_credit", 30, document_type="invoice", invoice=iid),
        ],
    )
    assert body["balance"] == 0
    assert state_of_invoice(api, iid)[0] == 60
    assert credit_of(api, c["id"]) == 0
    fee = next(t for t in split_transactions(api, body["id"]) if t["invoice"] is None)
    assert (fee["type"], fee["amount"], fee["customer"]) == ("payment", 2, c["id"])


def test_decision_split_never_exceeds_the_invoice_balance(api):
    """Decision: an `invoice` or `applied_credit` split pays at most the current balance."""
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    pay(api, amount=40, applied_to=[inv_split(inv["id"], 40)])
    pay(api, customer=c["id"], amount=200, applied_to=[split("credit", 200)])
    before = stored(api, inv["id"], customers=(c["id"],))
    assert_error(
        api.post("/payments", json={"amount": 100, "applied_to": [inv_split(inv["id"], 70)]}),
        400,
        "applied_to",
        exceeds_balance("INV-00001", "$70.00", "$60.00"),
    )
    assert_error(
        api.post(
            "/payments",
            json={
                "customer": c["id"],
                "amount": 0,
                "applied_to": [
                    split("applied_credit", "60.01", document_type="invoice", invoice=inv["id"])
                ],
            },
        ),
        400,
        "applied_to",
        exceeds_balance("INV-00001", "$60.01", "$60.00"),
    )
    # Together an invoice split and an applied_credit split may not exceed it either.
    r = api.post(
        "/payments",
        json={
            "customer": c["id"],
            "amount": 50,
            "applied_to": [
                inv_split(inv["id"], 50),
                split("applied_credit", 11, document_type="invoice", invoice=inv["id"]),
            ],
        },
    )
    assert_error(r, 400, "applied_to", exceeds_balance("INV-00001", "$61.00", "$60.00"))
    assert stored(api, inv["id"], customers=(c["id"],)) == before


def test_cb2_applied_credit_cannot_overspend(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    pay(api, customer=c["id"], amount=30, applied_to=[split("credit", 30)])
    before = stored(api, iid, customers=(c["id"],))
    r = api.post(
        "/payments",
        json={
            "customer": c["id"],
            "amount": 0,
            "applied_to": [split("applied_credit", 40, document_type="invoice", invoice=iid)],
        },
    )
    assert_error(r, 400, "applied_to")
    assert r.json()["message"].startswith(
        "Could not write this change because it caused the customer's credit balance to "
        "become -$10.00 on "
    )
    assert stored(api, iid, customers=(c["id"],)) == before


# ---------------------------------------------------------------------------------------------
# PY8 / PY9: balance, receipts and the split transactions
# ---------------------------------------------------------------------------------------------


def test_py8_balance_and_pdf_url(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    pattern = receipt_pattern(api)
    partial = pay(api, amount=100, applied_to=[inv_split(iid, 30)])
    assert partial["balance"] == 70
    assert partial["pdf_url"] is None  # not applied
    assert payment_ids(api, {"filter[applied]": "1"}) == []
    full = patch_pay(api, partial["id"], applied_to=[inv_split(iid, 30), split("credit", 70)])
    assert full["balance"] == 0
    assert pattern.fullmatch(full["pdf_url"])
    assert get_pay(api, partial["id"])["pdf_url"] == full["pdf_url"]  # stable (C18.2)
    # Raising the amount leaves a remainder again: no receipt.
    raised = patch_pay(api, partial["id"], amount="100.01")
    assert raised["balance"] == D("0.01")
    assert raised["pdf_url"] is None
    back = patch_pay(api, partial["id"], amount=100)
    assert back["pdf_url"] == full["pdf_url"]
    assert void(api, partial["id"])["pdf_url"] is None


def test_py9_split_transactions(api):
    """PY9: each split is a transaction with the payment's date, method, reference, notes."""
    c = customer(api)
    a = invoice(api, c["id"], 150)["id"]
    b = invoice(api, c["id"], 20)["id"]
    pay(api, customer=c["id"], amount=5, applied_to=[split("credit", 5)], date=T0 - DAY)
    body = pay(
        api,
        customer=c["id"],
        amount="120.5",
        date=T0,
        method="ach",
        reference="ACH-77",
        notes="April remittance",
        applied_to=[
            inv_split(a, 100),
            split("credit", "20.5"),
            split("applied_credit", 5, document_type="invoice", invoice=b),
        ],
    )
    assert body["balance"] == 0
    by_type = {x["type"]: x for x in body["applied_to"]}
    txns = {t["id"]: t for t in split_transactions(api, body["id"])}
    assert set(txns) == {x["id"] for x in body["applied_to"]}
    common = {
        "object": "transaction",
        "customer": c["id"],
        "credit_note": None,
        "estimate": None,
        "date": T0,
        "status": "succeeded",
        "gateway": None,
        "gateway_id": "ACH-77",
        "payment_source": None,
        "currency": "usd",
        "failure_reason": None,
        "parent_transaction": None,
        "payment": body["id"],
        "pdf_url": body["pdf_url"],
        "metadata": {},
    }
    skip = {"id", "created_at", "updated_at"}

    def fields(t: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in t.items() if k not in skip}

    assert fields(txns[by_type["invoice"]["id"]]) == {
        **common,
        "invoice": a,
        "type": "payment",
        "method": "ach",
        "amount": 100,
        "notes": "April remittance",
    }
    # `credit` -> an adjustment of -amount (TX5 sign), method balance, notes "Overpayment".
    assert fields(txns[by_type["credit"]["id"]]) == {
        **common,
        "invoice": None,
        "type": "adjustment",
        "method": "balance",
        "amount": D("-20.5"),
        "notes": "Overpayment",
    }
    assert fields(txns[by_type["applied_credit"]["id"]]) == {
        **common,
        "invoice": b,
        "type": "charge",
        "method": "balance",
        "amount": 5,
        "notes": "April remittance",
    }
    # Output amounts are positive (PY17).
    assert [x["amount"] for x in body["applied_to"]] == [100, D("20.5"), 5]
    assert state_of_invoice(api, a) == (50, False, False, "sent")
    assert state_of_invoice(api, b) == (15, False, False, "sent")
    assert credit_of(api, c["id"]) == D("20.5")


def test_py9_partial_payment_then_a_second_payment(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100, 50)["id"]
    first = pay(api, amount=100, method="check", applied_to=[inv_split(iid, 100)])
    assert first["balance"] == 0
    assert state_of_invoice(api, iid) == (50, False, False, "sent")
    second = pay(api, amount=50, method="paypal", applied_to=[inv_split(iid, 50)])
    assert second["balance"] == 0
    assert state_of_invoice(api, iid) == (0, True, True, "paid")
    assert [t["payment"] for t in listed(api, {"filter[invoice]": iid})] == [
        first["id"],
        second["id"],
    ]
    # Undoing the first reopens the invoice with the second still applied.
    void(api, first["id"])
    assert state_of_invoice(api, iid) == (100, False, False, "sent")


def test_py8_excess_stays_unapplied_or_goes_to_credit(api):
    c = customer(api)
    a = invoice(api, c["id"], 100)["id"]
    b = invoice(api, c["id"], 100)["id"]
    unapplied = pay(api, amount=120, applied_to=[inv_split(a, 100)])
    assert unapplied["balance"] == 20
    assert state_of_invoice(api, a) == (0, True, True, "paid")
    assert credit_of(api, c["id"]) == 0  # the remainder stays on the payment
    to_credit = pay(api, amount="120.25", applied_to=[inv_split(b, 100), split("credit", "20.25")])
    assert to_credit["balance"] == 0
    assert state_of_invoice(api, b) == (0, True, True, "paid")
    assert credit_of(api, c["id"]) == D("20.25")
    balance = exact(api.get(f"/customers/{c['id']}/balance"))
    assert balance["available_credits"] == D("20.25")
    assert balance["total_outstanding"] == 0


def test_py9_payment_on_a_draft_issues_it(api):
    """invoices.md R21: money applied to a draft issues it."""
    c = customer(api)
    draft = invoice(api, c["id"], 100, draft=True)
    assert draft["status"] == "draft"
    pay(api, amount=40, applied_to=[inv_split(draft["id"], 40)])
    body = get_inv(api, draft["id"])
    assert body["draft"] is False
    assert body["balance"] == 60


# ---------------------------------------------------------------------------------------------
# PY11-PY15: PATCH
# ---------------------------------------------------------------------------------------------


def test_py11_update_a_split_in_place(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=100, applied_to=[inv_split(iid, 60)])
    [old] = body["applied_to"]
    assert body["balance"] == 40
    # By id.
    patched = patch_pay(api, body["id"], applied_to=[{"id": old["id"], **inv_split(iid, 80)}])
    assert patched["applied_to"] == [{**old, "amount": 80}]
    assert patched["balance"] == 20
    assert state_of_invoice(api, iid) == (20, False, False, "sent")
    assert get_txn(api, old["id"])["amount"] == 80
    # By (type, document) without an id: the same transaction still.
    patched = patch_pay(api, body["id"], applied_to=[inv_split(iid, 100)])
    assert patched["applied_to"] == [{**old, "amount": 100}]
    assert patched["balance"] == 0
    assert state_of_invoice(api, iid) == (0, True, True, "paid")
    # Lowering it reopens the invoice.
    patched = patch_pay(api, body["id"], applied_to=[inv_split(iid, "99.99")])
    assert patched["applied_to"] == [{**old, "amount": D("99.99")}]
    assert state_of_invoice(api, iid) == (D("0.01"), False, False, "sent")
    assert [t["id"] for t in split_transactions(api, body["id"])] == [old["id"]]


def test_py11_removing_and_adding_splits(api):
    c = customer(api)
    a = invoice(api, c["id"], 100)["id"]
    b = invoice(api, c["id"], 50)["id"]
    body = pay(api, amount=150, applied_to=[inv_split(a, 100)])
    [old] = body["applied_to"]
    assert state_of_invoice(api, a) == (0, True, True, "paid")
    # Replace: a is dropped (reopened), b is new.
    patched = patch_pay(api, body["id"], applied_to=[inv_split(b, 50)])
    [new] = patched["applied_to"]
    assert new["id"] != old["id"]
    assert (new["type"], new["invoice"], new["amount"]) == ("invoice", b, 50)
    assert patched["balance"] == 100
    assert state_of_invoice(api, a) == (100, False, False, "sent")
    assert state_of_invoice(api, b) == (0, True, True, "paid")
    assert api.get(f"/transactions/{old['id']}").status_code == 404
    # Both: the kept one by id, a new one for a.
    patched = patch_pay(
        api, body["id"], applied_to=[{"id": new["id"], **inv_split(b, 50)}, inv_split(a, 100)]
    )
    assert [(x["id"] == new["id"], x["invoice"], x["amount"]) for x in patched["applied_to"]] == [
        (True, b, 50),
        (False, a, 100),
    ]
    assert patched["balance"] == 0
    # An empty list unapplies everything.
    patched = patch_pay(api, body["id"], applied_to=[])
    assert patched["applied_to"] == []
    assert patched["balance"] == 150
    assert state_of_invoice(api, a) == (100, False, False, "sent")
    assert state_of_invoice(api, b) == (50, False, False, "sent")
    assert split_transactions(api, body["id"]) == []


def test_py11_document_of_an_existing_split_cannot_change(api):
    c = customer(api)
    a = invoice(api, c["id"], 100)["id"]
    b = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=50, applied_to=[inv_split(a, 50)])
    [old] = body["applied_to"]
    before = stored(api, a, b)
    assert_error(
        api.patch(
            f"/payments/{body['id']}", json={"applied_to": [{"id": old["id"], **inv_split(b, 50)}]}
        ),
        400,
        "applied_to",
        DOCUMENT_LOCKED,
    )
    assert stored(api, a, b) == before


def test_py11_refused_patch_changes_nothing(api):
    c = customer(api)
    a = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=50, notes="kept", applied_to=[inv_split(a, 50)])
    before = stored(api, a)
    for fields, param in (
        ({"notes": "lost", "applied_to": [inv_split(a, 60)]}, "applied_to"),  # PY7
        ({"notes": "lost", "applied_to": [inv_split(a, 50), inv_split(a, 1)]}, "applied_to"),
        ({"notes": "lost", "applied_to": [inv_split(MISSING, 1)]}, "applied_to"),
        ({"notes": "lost", "amount": -1}, "amount"),
        ({"notes": "lost", "method": "balance"}, "method"),
    ):
        assert_error(api.patch(f"/payments/{body['id']}", json=fields), 400, param)
    assert stored(api, a) == before
    assert get_pay(api, body["id"])["notes"] == "kept"


def test_py12_amount_below_the_applied_total(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=80, applied_to=[inv_split(iid, 60)])
    before = stored(api, iid)
    assert_error(
        api.patch(f"/payments/{body['id']}", json={"amount": "59.99"}), 400, "amount", BELOW_ZERO
    )
    assert stored(api, iid) == before
    assert patch_pay(api, body["id"], amount=60)["balance"] == 0
    raised = patch_pay(api, body["id"], amount=75)
    assert (raised["amount"], raised["balance"]) == (75, 15)
    # With applied_to in the same request the new splits decide.
    lowered = patch_pay(api, body["id"], amount=30, applied_to=[inv_split(iid, 30)])
    assert (lowered["amount"], lowered["balance"]) == (30, 0)
    assert state_of_invoice(api, iid) == (70, False, False, "sent")


def test_py13_changing_the_customer_removes_the_splits(api):
    first = customer(api, name="First")
    second = customer(api, name="Second")
    iid = invoice(api, first["id"], 100)["id"]
    body = pay(api, amount=100, applied_to=[inv_split(iid, 60), split("credit", 40)])
    assert credit_of(api, first["id"]) == 40
    moved = patch_pay(api, body["id"], customer=second["id"])
    assert moved["customer"] == second["id"]
    assert moved["applied_to"] == []
    assert moved["balance"] == 100
    assert state_of_invoice(api, iid) == (100, False, False, "sent")
    assert credit_of(api, first["id"]) == 0
    assert split_transactions(api, body["id"]) == []
    # Applied again to the new payer's credit, then cleared: unapplied, payer unknown.
    patch_pay(api, body["id"], applied_to=[split("credit", 100)])
    assert credit_of(api, second["id"]) == 100
    cleared = patch_pay(api, body["id"], customer=None)
    assert cleared["customer"] is None
    assert cleared["applied_to"] == []
    assert cleared["balance"] == 100
    assert cleared["pdf_url"] is None
    assert credit_of(api, second["id"]) == 0


def test_py14_date_and_method_propagate_to_the_splits(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(
        api,
        amount=100,
        date=T0,
        method="check",
        reference="1",
        applied_to=[inv_split(iid, 90), split("credit", 10)],
    )
    patched = patch_pay(
        api, body["id"], date=T0 + DAY, method="wire_transfer", reference="2", notes="moved"
    )
    assert (patched["date"], patched["method"]) == (T0 + DAY, "wire_transfer")
    txns = {t["type"]: t for t in split_transactions(api, body["id"])}
    assert (
        txns["payment"]["date"],
        txns["payment"]["method"],
        txns["payment"]["gateway_id"],
        txns["payment"]["notes"],
    ) == (T0 + DAY, "wire_transfer", "2", "moved")
    assert txns["adjustment"]["date"] == T0 + DAY
    assert txns["adjustment"]["method"] == "balance"  # a credit split stays a balance entry
    assert txns["adjustment"]["notes"] == "Overpayment"
    # Splits keep their ids.
    assert sorted(t["id"] for t in txns.values()) == sorted(x["id"] for x in body["applied_to"])


def test_py15_currency_is_locked_while_applied(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, customer=c["id"], amount=10, applied_to=[inv_split(iid, 10)])
    before = stored(api, iid)
    assert_error(
        api.patch(f"/payments/{body['id']}", json={"currency": "eur"}),
        400,
        "currency",
        CURRENCY_LOCKED,
    )
    assert stored(api, iid) == before
    # Same currency is no change; after unapplying the currency may change.
    assert patch_pay(api, body["id"], currency="usd")["currency"] == "usd"
    patch_pay(api, body["id"], applied_to=[])
    assert patch_pay(api, body["id"], currency="eur")["currency"] == "eur"
    unapplied = pay(api, customer=c["id"], amount=10)
    assert patch_pay(api, unapplied["id"], currency="cad")["currency"] == "cad"


# ---------------------------------------------------------------------------------------------
# PY16: void
# ---------------------------------------------------------------------------------------------


def test_py16_void(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=130, notes="n", applied_to=[inv_split(iid, 100), split("credit", 30)])
    assert credit_of(api, c["id"]) == 30
    voided = void(api, body["id"])
    assert voided["voided"] is True
    assert voided["balance"] == 130
    assert voided["amount"] == 130
    assert voided["applied_to"] == []
    assert voided["customer"] == c["id"]
    assert voided["notes"] == "n"
    assert state_of_invoice(api, iid) == (100, False, False, "sent")
    assert credit_of(api, c["id"]) == 0
    assert split_transactions(api, body["id"]) == []
    assert get_pay(api, body["id"]) == voided

    before = stored(api, iid, customers=(c["id"],))
    assert_error(api.delete(f"/payments/{body['id']}"), 400, None, ALREADY_VOIDED)
    for fields in (
        {"notes": "x"},
        {"applied_to": [inv_split(iid, 10)]},
        {},
        {"metadata": {"a": "b"}},
    ):
        assert_error(
            api.patch(f"/payments/{body['id']}", json=fields), 400, "voided", VOIDED_PAYMENT
        )
    assert stored(api, iid, customers=(c["id"],)) == before

    live = pay(api, customer=c["id"], amount=5)
    assert payment_ids(api, {"filter[voided]": "1"}) == [body["id"]]
    assert payment_ids(api, {"filter[voided]": "true"}) == [body["id"]]
    assert payment_ids(api, {"filter[voided]": "0"}) == [live["id"]]
    assert payment_ids(api) == [body["id"], live["id"]]


def test_py16_void_that_would_overspend_credit_is_refused(api):
    """CB2: the credit a payment gave cannot be taken back once it was spent."""
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    giver = pay(api, customer=c["id"], amount=50, applied_to=[split("credit", 50)])
    pay(
        api,
        customer=c["id"],
        amount=0,
        applied_to=[split("applied_credit", 30, document_type="invoice", invoice=iid)],
    )
    before = stored(api, iid, customers=(c["id"],))
    r = api.delete(f"/payments/{giver['id']}")
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith(
        "Could not write this change because it caused the customer's credit balance to "
        "become -$30.00 on "
    )
    assert stored(api, iid, customers=(c["id"],)) == before
    assert credit_of(api, c["id"]) == 20


# ---------------------------------------------------------------------------------------------
# PY18: list
# ---------------------------------------------------------------------------------------------


def test_py18_list_filters_and_sort(api):
    a = customer(api, name="A")
    b = customer(api, name="B")
    i1 = invoice(api, a["id"], 148.85)["id"]
    p1 = pay(
        api,
        amount=148.85,
        method="check",
        reference="1450",
        date=T0,
        applied_to=[inv_split(i1, 148.85)],
    )
    p2 = pay(
        api, customer=a["id"], amount=20, method="cash", date=T0 + DAY, metadata={"batch": "2"}
    )
    p3 = pay(
        api, customer=b["id"], amount=148.85, method="check", reference="77", date=T0 + 2 * DAY
    )
    p4 = pay(
        api,
        customer=b["id"],
        amount=5,
        date=T0 + 3 * DAY,
        source="bank_feed",
        metadata={"batch": "2"},
    )
    void(api, p4["id"])
    ids = [p["id"] for p in (p1, p2, p3, p4)]
    x1, x2, x3, x4 = ids

    assert payment_ids(api) == ids  # C7.9: id ascending
    cases: list[tuple[dict[str, Any], list[int]]] = [
        ({"filter[customer]": a["id"]}, [x1, x2]),
        ({"filter[customer]": b["id"]}, [x3, x4]),
        ({"filter[voided]": "1"}, [x4]),
        ({"filter[voided]": "0"}, [x1, x2, x3]),
        ({"filter[applied]": "1"}, [x1]),
        ({"filter[applied]": "0"}, [x2, x3, x4]),
        ({"filter[amount]": "148.85"}, [x1, x3]),
        ({"filter[amount]": "20.00"}, [x2]),
        ({"filter[amount]": "148.851"}, []),
        ({"filter[balance]": "0"}, [x1]),
        ({"filter[balance]": "148.85"}, [x3]),
        ({"filter[balance]": "5"}, [x4]),
        ({"filter[method]": "check"}, [x1, x3]),
        ({"filter[method]": "other"}, [x4]),
        ({"filter[reference]": "1450"}, [x1]),
        ({"filter[source]": "bank_feed"}, [x4]),
        ({"filter[currency]": "usd"}, ids),
        ({"filter[id]": x2}, [x2]),
        ({"filter[date]": T0}, [x1]),
        ({"start_date": T0 + DAY, "end_date": T0 + 2 * DAY}, [x2, x3]),  # inclusive
        ({"start_date": T0 + DAY}, [x2, x3, x4]),
        ({"end_date": T0}, [x1]),
        ({"start_date": T0 + DAY + 1, "end_date": T0 + 3 * DAY - 1}, [x3]),
        ({"metadata[batch]": "2"}, [x2, x4]),
        ({"metadata[batch]": "3"}, []),
        ({"filter[customer]": b["id"], "filter[voided]": "0"}, [x3]),
        ({"sort": "date desc"}, [x4, x3, x2, x1]),
        ({"sort": "date asc"}, ids),
        ({"sort": "amount desc"}, [x1, x3, x2, x4]),
        ({"sort": "amount asc"}, [x4, x2, x1, x3]),
    ]
    for params, expected in cases:
        assert payment_ids(api, params) == expected, params
        assert total_count(api, "/payments", params) == len(expected), params

    r = api.get("/payments", params={"per_page": 2, "page": 2})
    assert r.status_code == 200
    assert [p["id"] for p in r.json()] == [x3, x4]
    assert r.headers["X-Total-Count"] == "4"
    for params in ({"filter[foo]": "1"}, {"filter[amount]": "abc"}):
        assert_error(api.get("/payments", params=params), 400, None)


def test_tx16_split_transactions_are_listed(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=70, applied_to=[inv_split(iid, 50), split("credit", 20)])
    split_ids = [x["id"] for x in body["applied_to"]]
    assert [t["id"] for t in listed(api)] == split_ids
    assert [t["id"] for t in listed(api, {"filter[payment]": body["id"]})] == split_ids
    assert [t["id"] for t in listed(api, {"filter[invoice]": iid})] == split_ids[:1]
    assert [t["id"] for t in listed(api, {"filter[type]": "adjustment"})] == split_ids[1:]


# ---------------------------------------------------------------------------------------------
# TX10 / TX13: the transactions behind splits
# ---------------------------------------------------------------------------------------------


def test_tx10_split_transactions_are_changed_through_the_payment(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=60, applied_to=[inv_split(iid, 50), split("credit", 10)])
    invoice_split, credit_split = (x["id"] for x in body["applied_to"])
    before = stored(api, iid, customers=(c["id"],))
    for tid in (invoice_split, credit_split):
        for fields in (
            {"amount": 10},
            {"notes": "x"},
            {"status": "failed"},
            {"method": "cash"},
            {"date": T0},
            {"gateway_id": "9"},
            {"amount": 10, "metadata": {"a": "b"}},
        ):
            assert_error(api.patch(f"/transactions/{tid}", json=fields), 400, None, TX10_EDIT)
        assert_error(api.delete(f"/transactions/{tid}"), 400, None, TX10_DELETE)
        r = api.post(f"/transactions/{tid}/refunds", json={"amount": 1})
        assert_error(r, 400, None)
    assert stored(api, iid, customers=(c["id"],)) == before
    # metadata is the one thing that may change on a split.
    r = api.patch(f"/transactions/{invoice_split}", json={"metadata": {"batch": "9"}})
    assert r.status_code == 200, r.text
    assert exact(r)["metadata"] == {"batch": "9"}
    assert get_txn(api, invoice_split)["metadata"] == {"batch": "9"}
    assert get_txn(api, invoice_split)["amount"] == 50
    assert state_of_invoice(api, iid) == (50, False, False, "sent")


def test_tx13_split_pdf_url_is_the_payments(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    partial = pay(api, amount=80, applied_to=[inv_split(iid, 50)])
    tid = partial["applied_to"][0]["id"]
    assert partial["pdf_url"] is None
    assert get_txn(api, tid)["pdf_url"] is None  # the payment has no receipt yet (PY8)
    applied = patch_pay(api, partial["id"], amount=50)
    assert receipt_pattern(api).fullmatch(applied["pdf_url"])
    assert get_txn(api, tid)["pdf_url"] == applied["pdf_url"]
    credit_only = pay(api, customer=c["id"], amount=5, applied_to=[split("credit", 5)])
    assert get_txn(api, credit_only["applied_to"][0]["id"])["pdf_url"] == credit_only["pdf_url"]
    assert credit_only["pdf_url"] != applied["pdf_url"]


# ---------------------------------------------------------------------------------------------
# CU14
# ---------------------------------------------------------------------------------------------


def test_cu14_customer_with_payments_cannot_be_deleted(api):
    c = customer(api)
    body = pay(api, customer=c["id"], amount=5)
    assert_error(api.delete(f"/customers/{c['id']}"), 400, None, CUSTOMER_HAS_TRANSACTIONS)
    assert api.get(f"/customers/{c['id']}").status_code == 200
    # A voided payment still references the customer.
    void(api, body["id"])
    assert_error(api.delete(f"/customers/{c['id']}"), 400, None, CUSTOMER_HAS_TRANSACTIONS)
    assert get_pay(api, body["id"])["customer"] == c["id"]
    # Moving the payment away frees the customer (nothing else references it).
    other = customer(api)
    unapplied = pay(api, customer=other["id"], amount=5)
    patch_pay(api, unapplied["id"], customer=None)
    assert api.delete(f"/customers/{other['id']}").status_code == 204


# ---------------------------------------------------------------------------------------------
# Events (events_webhooks.md EV1-EV9)
# ---------------------------------------------------------------------------------------------


def test_ev_payment_created_with_applied_to_and_customer_then_invoice_paid(api):
    """events_webhooks.md Example A: payment.created and invoice.paid; no transaction.*."""
    c = customer(api)
    iid = invoice(api, c["id"], 51)["id"]
    pay(api, amount=12, applied_to=[inv_split(iid, 12)])
    body = pay(api, amount=39, applied_to=[inv_split(iid, 39)])
    found = events(api, {"filter[type]": "payment.created"})
    assert len(found) == 2
    newest = found[0]
    assert "previous" not in newest["data"]
    expected = exact(api.get(f"/payments/{body['id']}", params={"expand": "customer", **INCLUDE}))
    assert newest["data"]["object"] == expected
    assert newest["data"]["object"]["customer"]["id"] == c["id"]  # EV9
    assert newest["data"]["object"]["applied_to"] == body["applied_to"]

    paid = only(api, "invoice.paid")
    assert paid["data"]["object"] == get_inv(api, iid, expand="customer")
    previous = paid["data"]["previous"]
    assert previous["balance"] == 39
    assert previous["paid"] is False
    assert previous["status"] == "sent"
    assert transaction_event_types(api) == []
    # EV8: associated with the customer and the invoice.
    related = {e["type"] for e in events(api, {"related_to": f"invoice,{iid}"})}
    assert {"payment.created", "invoice.paid"} <= related
    related = {e["type"] for e in events(api, {"related_to": f"customer,{c['id']}"})}
    assert "payment.created" in related


def test_ev_payment_updated_with_previous(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=50, notes="n1", applied_to=[inv_split(iid, 30)])
    old_applied = body["applied_to"]
    patched = patch_pay(api, body["id"], notes="n2", applied_to=[inv_split(iid, 50)])
    updated = only(api, "payment.updated")
    assert updated["data"]["object"] == exact(
        api.get(f"/payments/{body['id']}", params={"expand": "customer", **INCLUDE})
    )
    assert updated["data"]["object"]["applied_to"] == patched["applied_to"]
    previous = updated["data"]["previous"]
    assert previous["notes"] == "n1"
    assert previous["balance"] == 20
    assert previous["applied_to"] == old_applied  # arrays appear whole (EV5)
    assert "amount" not in previous
    assert "customer" not in previous
    # EV3: nothing changed -> no event.
    patch_pay(api, body["id"], notes="n2")
    assert len(events(api, {"filter[type]": "payment.updated"})) == 1
    assert transaction_event_types(api) == []


def test_ev_void_records_payment_deleted_with_the_voided_payment(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=100, applied_to=[inv_split(iid, 100)])
    voided = void(api, body["id"])
    deleted = only(api, "payment.deleted")
    assert deleted["data"] == {
        "object": exact(
            api.get(f"/payments/{body['id']}", params={"expand": "customer", **INCLUDE})
        )
    }
    assert deleted["data"]["object"]["voided"] is True
    assert deleted["data"]["object"]["applied_to"] == voided["applied_to"] == []
    reopened = events(api, {"filter[type]": "invoice.updated"})[0]
    assert reopened["data"]["object"]["id"] == iid
    assert reopened["data"]["previous"]["paid"] is True
    assert reopened["data"]["previous"]["balance"] == 0
    assert transaction_event_types(api) == []


def test_ev1_refused_requests_record_no_events(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=10, applied_to=[inv_split(iid, 10)])
    count = total_count(api, "/events")
    assert api.post("/payments", json={"amount": -1}).status_code == 400
    r = api.post(
        "/payments", json={"amount": 5, "applied_to": [inv_split(iid, 5), inv_split(iid, 5)]}
    )
    assert r.status_code == 400
    r = api.patch(f"/payments/{body['id']}", json={"applied_to": [inv_split(iid, 11)]})
    assert r.status_code == 400
    assert total_count(api, "/events") == count


# ---------------------------------------------------------------------------------------------
# The official Python client (invoiced==3.0.0) against the real server
# ---------------------------------------------------------------------------------------------


def test_official_client_payment_create_pays_the_seed_invoice(server: ServerProcess, db_url):
    """Example TP-2 through `invoiced.Client(...).Payment.create(...)` (README C20.2)."""
    account = new_account(db_url)
    client = invoiced.Client(account.key)
    client.api_url = server.base_url
    acme_customer = client.Customer.create(
        name="Acme", email="billing@acmecorp.com", payment_terms="NET 30", type="company"
    )
    seed = client.Invoice.create(
        customer=acme_customer.id,
        items=[
            {"name": "Copy paper, Case", "quantity": 3, "unit_cost": 45},
            {"name": "Delivery", "quantity": 1, "unit_cost": 10},
        ],
        taxes=[{"amount": 3.85}],
    )
    assert seed.total == 148.85

    payment = client.Payment.create(
        amount=148.85,
        method="check",
        reference="1450",
        applied_to=[{"type": "invoice", "invoice": seed.id, "amount": 148.85}],
    )
    assert isinstance(payment, invoiced.Payment)
    assert payment.object == "payment"
    assert payment.customer == acme_customer.id
    assert payment.amount == 148.85
    assert payment.balance == 0
    assert payment.method == "check"
    assert payment.reference == "1450"
    assert payment.voided is False
    assert payment.pdf_url.startswith(server.base_url + "/portal/payments/")

    fetched = client.Payment.retrieve(payment.id, {"include": "applied_to"})
    assert [(a["type"], a["invoice"], a["amount"]) for a in fetched.applied_to] == [
        ("invoice", seed.id, 148.85)
    ]
    paid = client.Invoice.retrieve(seed.id)
    assert paid.balance == 0
    assert paid.paid is True
    assert paid.closed is True
    assert paid.status == "paid"

    payments, meta = client.Payment.list()
    assert [p.id for p in payments] == [payment.id]
    assert meta.total_count == 1


# ---------------------------------------------------------------------------------------------
# More money rules: C12 rounding, C14 idempotency, credit owners, hostile amounts
# ---------------------------------------------------------------------------------------------


def test_c12_amounts_round_to_the_currency(api, db_url):
    c = customer(api, currency="jpy")
    iid = invoice(api, c["id"], 1000)["id"]
    body = pay(api, amount="500.5", applied_to=[inv_split(iid, "400.5")])
    assert body["currency"] == "jpy"
    assert (body["amount"], body["balance"]) == (501, 100)
    assert body["applied_to"][0]["amount"] == 401
    assert state_of_invoice(api, iid)[0] == 599
    assert amount_paid(db_url, iid) == 401  # jpy has no minor unit
    usd = customer(api)
    assert pay(api, customer=usd["id"], amount="0.005")["amount"] == D("0.01")


def test_c14_idempotent_payment_applies_once(api, db_url):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    headers = {"Idempotency-Key": "payment-1"}
    body = {"amount": 40, "applied_to": [inv_split(iid, 40)]}
    first = api.post("/payments", json=body, headers=headers)
    again = api.post("/payments", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert amount_paid(db_url, iid) == 4000
    assert total_count(api, "/payments") == 1
    assert total_count(api, "/transactions") == 1


def test_tp4_amount_paid_is_stored_in_minor_units(api, db_url):
    c = customer(api)
    iid = invoice(api, c["id"], 148.85)["id"]
    body = pay(api, amount=148.85, applied_to=[inv_split(iid, "100.10")])
    assert amount_paid(db_url, iid) == 10010
    patch_pay(api, body["id"], applied_to=[inv_split(iid, 148.85)])
    assert amount_paid(db_url, iid) == 14885
    void(api, body["id"])
    assert amount_paid(db_url, iid) == 0


def test_decision_applied_credit_spends_the_invoice_owners_credit(api):
    """Decision: applied_credit spends the credit of the invoice's customer; a `credit` split
    credits the payment's customer."""
    parent = customer(api, name="Parent")
    child = customer(api, name="Child", parent_customer=parent["id"])
    pay(api, customer=child["id"], amount=30, applied_to=[split("credit", 30)])
    pay(api, customer=parent["id"], amount=70, applied_to=[split("credit", 70)])
    iid = invoice(api, child["id"], 100)["id"]
    body = pay(
        api,
        customer=parent["id"],
        amount=5,
        applied_to=[
            split("applied_credit", 30, document_type="invoice", invoice=iid),
            split("credit", 5),
        ],
    )
    assert body["balance"] == 0
    assert credit_of(api, child["id"]) == 0
    assert credit_of(api, parent["id"]) == 75
    assert state_of_invoice(api, iid)[0] == 70
    owners = {t["type"]: t["customer"] for t in split_transactions(api, body["id"])}
    assert owners == {"charge": child["id"], "adjustment": parent["id"]}
    # The child has no credit left: a second spend on its invoice overdraws it.
    r = api.post(
        "/payments",
        json={
            "customer": parent["id"],
            "amount": 0,
            "applied_to": [split("applied_credit", 1, document_type="invoice", invoice=iid)],
        },
    )
    assert_error(r, 400, "applied_to")
    assert credit_of(api, parent["id"]) == 75


def test_py13_new_customer_and_new_splits_in_one_patch(api):
    first = customer(api, name="First")
    second = customer(api, name="Second")
    a = invoice(api, first["id"], 100)["id"]
    b = invoice(api, second["id"], 100)["id"]
    body = pay(api, amount=100, applied_to=[inv_split(a, 100)])
    moved = patch_pay(
        api, body["id"], customer=second["id"], applied_to=[inv_split(b, 60), split("credit", 40)]
    )
    assert moved["customer"] == second["id"]
    assert [(x["type"], x.get("invoice"), x["amount"]) for x in moved["applied_to"]] == [
        ("invoice", b, 60),
        ("credit", None, 40),
    ]
    assert moved["balance"] == 0
    assert state_of_invoice(api, a) == (100, False, False, "sent")
    assert state_of_invoice(api, b) == (40, False, False, "sent")
    assert (credit_of(api, first["id"]), credit_of(api, second["id"])) == (0, 40)
    # The old payer's invoice cannot be kept once the customer changes.
    assert_error(
        api.patch(
            f"/payments/{body['id']}",
            json={"customer": first["id"], "applied_to": [inv_split(b, 60)]},
        ),
        400,
        "applied_to",
    )
    assert get_pay(api, body["id"]) == moved


def test_hostile_amounts_are_400_not_500(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    before = stored(api, iid)
    huge = "9" * 30
    for body, param in (
        ({"customer": c["id"], "amount": huge}, "amount"),
        ({"customer": c["id"], "amount": "1e400"}, "amount"),
        ({"customer": c["id"], "amount": "NaN"}, "amount"),
        ({"customer": c["id"], "amount": 10, "applied_to": [inv_split(iid, huge)]}, "applied_to"),
        (
            {"customer": c["id"], "amount": 10, "applied_to": [inv_split(iid, "Infinity")]},
            "applied_to",
        ),
        ({"customer": c["id"], "amount": 10, "applied_to": [inv_split(huge, 1)]}, "applied_to"),
    ):
        assert_error(api.post("/payments", json=body), 400, param)
    assert stored(api, iid) == before


# ---------------------------------------------------------------------------------------------
# C22: races against the real server
# ---------------------------------------------------------------------------------------------


def test_c22_concurrent_payments_never_overpay_an_invoice(server, db_url):
    """Decision + C22: eight payments of 30.00 race on a 100.00 invoice; exactly three fit."""
    key = new_account(db_url).key
    with http_client(server, key) as http:
        iid = sent_invoice(http, 100)["id"]
        body = {"amount": 30, "applied_to": [inv_split(iid, 30)]}
        responses = race(server, key, [lambda c: c.post("/payments", json=body)] * 8)
        no_5xx(responses)
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] * 3 + [400] * 5, [r.text for r in responses]
        for r in responses:
            if r.status_code == 400:
                assert r.json()["param"] == "applied_to"
                assert r.json()["message"].startswith("The amount applied to INV-00001 ($30.00)")
        inv = exact(http.get(f"/invoices/{iid}"))
        assert (inv["balance"], inv["paid"]) == (10, False)
        assert amount_paid(db_url, iid) == 9000
        assert int(http.get("/payments").headers["X-Total-Count"]) == 3


def test_c22_concurrent_credit_spends_never_overdraw(server, db_url):
    """CB2 + C22: credit 50.00, five spends of 20.00 on five invoices race; exactly two fit."""
    key = new_account(db_url).key
    with http_client(server, key) as http:
        first = sent_invoice(http, 20)
        cid = first["customer"]
        invoices = [first["id"]]
        for _ in range(4):
            r = http.post(
                "/invoices", json={"customer": cid, "items": [{"name": "x", "unit_cost": 20}]}
            )
            assert r.status_code == 201, r.text
            invoices.append(r.json()["id"])
        r = http.post(
            "/payments", json={"customer": cid, "amount": 50, "applied_to": [split("credit", 50)]}
        )
        assert r.status_code == 201, r.text

        def spend(iid: int) -> Any:
            body = {
                "customer": cid,
                "amount": 0,
                "applied_to": [split("applied_credit", 20, document_type="invoice", invoice=iid)],
            }
            return lambda c: c.post("/payments", json=body)

        responses = race(server, key, [spend(iid) for iid in invoices])
        no_5xx(responses)
        assert sorted(r.status_code for r in responses) == [201, 201, 400, 400, 400]
        assert exact(http.get(f"/customers/{cid}"))["credit_balance"] == 10
        paid = [iid for iid in invoices if exact(http.get(f"/invoices/{iid}"))["balance"] == 0]
        assert len(paid) == 2


def test_c22_concurrent_voids_apply_once(server, db_url):
    key = new_account(db_url).key
    with http_client(server, key) as http:
        iid = sent_invoice(http, 100)["id"]
        r = http.post("/payments", json={"amount": 100, "applied_to": [inv_split(iid, 100)]})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        responses = race(server, key, [lambda c: c.delete(f"/payments/{pid}")] * 6)
        no_5xx(responses)
        assert sorted(r.status_code for r in responses) == [200] + [400] * 5
        assert all(r.json()["message"] == ALREADY_VOIDED for r in responses if r.status_code == 400)
        inv = exact(http.get(f"/invoices/{iid}"))
        assert (inv["balance"], inv["paid"], inv["closed"]) == (100, False, False)
        assert amount_paid(db_url, iid) == 0
        deleted = http.get("/events", params={"filter[type]": "payment.deleted"})
        assert deleted.headers["X-Total-Count"] == "1"


def test_cb2_back_dated_spends_and_dates_are_checked(api):
    """CB2: entries run in date order; a spend before the credit existed overdraws it, whether
    created that way or moved there by a date change (PY14 moves the splits too)."""
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    giver = pay(api, customer=c["id"], amount=50, date=T0, applied_to=[split("credit", 50)])
    spend_body = {
        "customer": c["id"],
        "amount": 0,
        "applied_to": [split("applied_credit", 30, document_type="invoice", invoice=iid)],
    }
    before = stored(api, iid, customers=(c["id"],))
    r = api.post("/payments", json={**spend_body, "date": T0 - DAY})
    assert_error(r, 400, "applied_to")
    assert r.json()["message"] == (
        "Could not write this change because it caused the customer's credit balance to "
        "become -$30.00 on Nov 13, 2023"
    )
    assert stored(api, iid, customers=(c["id"],)) == before
    spend = pay(api, **spend_body, date=T0 + DAY)
    assert credit_of(api, c["id"]) == 20
    before = stored(api, iid, customers=(c["id"],))
    for pid, date in ((giver["id"], T0 + 2 * DAY), (spend["id"], T0 - DAY)):
        r = api.patch(f"/payments/{pid}", json={"date": date})
        assert r.status_code == 400, r.text
        assert r.json()["message"].startswith(
            "Could not write this change because it caused the customer's credit balance to "
            "become -$30.00 on "
        )
    assert stored(api, iid, customers=(c["id"],)) == before
    # Moving within what the history allows is fine.
    assert patch_pay(api, giver["id"], date=T0 + DAY)["date"] == T0 + DAY
    assert get_txn(api, giver["applied_to"][0]["id"])["date"] == T0 + DAY


def test_cb3_credit_in_another_currency(api):
    c = customer(api)
    pay(api, customer=c["id"], currency="eur", amount=10, applied_to=[split("credit", 10)])
    assert credit_of(api, c["id"]) == 0  # reports the customer's default currency (usd)
    eur = exact(api.get(f"/customers/{c['id']}/balance", params={"currency": "eur"}))
    assert eur["available_credits"] == 10
    assert exact(api.get(f"/customers/{c['id']}/balance"))["available_credits"] == 0


def test_del1_invoice_with_a_payment_split_cannot_be_deleted(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = pay(api, amount=10, applied_to=[inv_split(iid, 10)])
    assert_error(api.delete(f"/invoices/{iid}"), 400, "voided", PAID_VOID)
    assert state_of_invoice(api, iid)[0] == 90
    patch_pay(api, body["id"], applied_to=[])
    assert api.delete(f"/invoices/{iid}").status_code == 204


def test_c3_4_empty_strings_clear_and_unknown_fields_are_ignored(api):
    c = customer(api)
    body = pay(
        api, customer=c["id"], amount=10, reference="R", notes="N", ach_sender_id="A", foo="bar"
    )
    assert "foo" not in body
    cleared = patch_pay(api, body["id"], reference="", notes="", ach_sender_id="")
    assert (cleared["reference"], cleared["notes"], cleared["ach_sender_id"]) == (None, None, None)
    r = api.patch(f"/payments/{body['id']}", params=INCLUDE, data={"customer": ""})
    assert r.status_code == 200, r.text
    assert exact(r)["customer"] is None
