"""Legacy transactions (transactions_payments.md Part A: TX1-TX16, Examples TP-1, TP-3, TP-5,
TP-6) and their money effects on invoices (invoices.md R12-R14, R21, S5, V2, DEL1, U2),
customers (customers.md CU14, CB2) and events (events_webhooks.md EV2-EV9).

Not implemented yet, by decision, until credit notes and estimates exist: `credit_note` /
`estimate` references (400 `No such credit note: X` / `No such estimate: X`), PDF receipts and
receipt emails. Adjustments and the credit ledger are tested in tests/test_credit_balances.py,
payments (Part B, TX10) in tests/test_payments.py.

`amount_paid` is not part of the invoice JSON (invoices.md §2, implementation notes), so the
examples that state it are checked in the database as minor units, and through
`balance = total - amount_paid` (R12; no credits exist yet).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from tally.models import Invoice
from tests.test_customers import set_account
from tests.test_invoices import SEED_FORM, T0, acme, assert_error, created, frozen_clock, ok

D = Decimal
DAY = 86_400
NOW_SLACK = 5  # seconds: the test clock shifts rather than freezes (C23.2)

# transactions_payments.md A2: every documented field is always present (C4.3).
TRANSACTION_KEYS = {
    "id",
    "object",
    "customer",
    "invoice",
    "credit_note",
    "estimate",
    "date",
    "type",
    "method",
    "status",
    "gateway",
    "gateway_id",
    "payment_source",
    "currency",
    "amount",
    "notes",
    "failure_reason",
    "parent_transaction",
    "payment",
    "pdf_url",
    "metadata",
    "created_at",
    "updated_at",
}
NEGATIVE_PAYMENT = (
    "Creating negative payments is not allowed. Please use a positive amount or create a "
    "`refund` transaction instead."
)
NEGATIVE_REFUND = (
    "Creating negative refunds is not allowed. Please use a positive amount or create a "
    "`payment` transaction instead."
)
EXCEEDS = "The refund amount exceeds the amount available to refund."
NOT_REFUNDABLE = "Only succeeded charges and payments can be refunded."
REFUND_FIXED = "Refund amount cannot be changed."
VOIDED = "Cannot apply a payment to a voided invoice."
NOT_THIS_CUSTOMER = "The invoice does not belong to this customer"
PENDING_VOID = "This invoice cannot be voided because it has a pending payment."
PAID_VOID = "This invoice cannot be voided because it has a payment applied."
CUSTOMER_HAS_TRANSACTIONS = "Customers with transactions cannot be deleted"
MISSING = 10**12  # an id no account owns


def charge_only(field: str) -> str:
    """TX9 exact message for a gateway charge."""
    return (
        f"The `{field}` property cannot be modified on this transaction. Only these properties "
        "can be modified on charge transactions: status, notes, sent, metadata, updated_at"
    )


def currency_mismatch(sent: str, invoice: str) -> str:
    """TX3 exact message."""
    return f"The currency on this transaction ({sent}) must match the invoice currency ({invoice})."


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def exact(r) -> Any:
    """The JSON body with every non-integer number as an exact Decimal (C4.5)."""
    return json.loads(r.text, parse_float=Decimal)


def customer(api, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", "Customer")
    return created(api.post("/customers", json=fields))


def invoice(
    api, customer_id: int, *costs: Any, draft: bool = False, sent: bool = True, **fields: Any
) -> dict[str, Any]:
    """An invoice with one line per unit cost; issued and marked sent (S10) unless a draft."""
    items = [{"name": f"Line {n}", "unit_cost": cost} for n, cost in enumerate(costs, 1)]
    body = created(
        api.post(
            "/invoices", json={"customer": customer_id, "items": items, "draft": draft, **fields}
        )
    )
    if sent and not draft:
        body = ok(api.patch(f"/invoices/{body['id']}", json={"sent": True}))
        assert body["status"] == "sent", body
    return body


def get_inv(api, invoice_id: int, **params: Any) -> dict[str, Any]:
    r = api.get(f"/invoices/{invoice_id}", params=params or None)
    assert r.status_code == 200, r.text
    return exact(r)


def state_of_invoice(api, invoice_id: int) -> tuple[Any, ...]:
    """(balance, paid, closed, status) with an exact balance."""
    body = get_inv(api, invoice_id)
    return body["balance"], body["paid"], body["closed"], body["status"]


def post(api, **body: Any) -> dict[str, Any]:
    r = api.post("/transactions", json=body)
    assert r.status_code == 201, r.text
    made = exact(r)
    assert set(made) == TRANSACTION_KEYS, set(made) ^ TRANSACTION_KEYS
    return made


def get_txn(api, transaction_id: int, **params: Any) -> dict[str, Any]:
    r = api.get(f"/transactions/{transaction_id}", params=params or None)
    assert r.status_code == 200, r.text
    return exact(r)


def patch_txn(api, transaction_id: int, **fields: Any) -> dict[str, Any]:
    r = api.patch(f"/transactions/{transaction_id}", json=fields)
    assert r.status_code == 200, r.text
    return exact(r)


def refund(api, transaction_id: int, amount: Any) -> dict[str, Any]:
    r = api.post(f"/transactions/{transaction_id}/refunds", json={"amount": amount})
    assert r.status_code == 201, r.text
    return exact(r)


def total_count(api, path: str, params: Any = None) -> int:
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    return int(r.headers["X-Total-Count"])


def listed(api, params: Any = None, path: str = "/transactions") -> list[dict[str, Any]]:
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    body = exact(r)
    assert int(r.headers["X-Total-Count"]) == len(body), "test lists stay on one page"
    return body


def listed_ids(api, params: Any = None) -> list[int]:
    return [t["id"] for t in listed(api, params)]


def events(api, params: Any = None) -> list[dict[str, Any]]:
    """Newest first (EV12)."""
    return listed(api, params, path="/events")


def stored(api, *invoice_ids: int) -> dict[str, Any]:
    """What a refused request must leave alone: transactions, events, the invoices."""
    state: dict[str, Any] = {
        "transactions": total_count(api, "/transactions"),
        "transaction list": listed(api),
        "events": total_count(api, "/events"),
    }
    for invoice_id in invoice_ids:
        state[f"invoice {invoice_id}"] = get_inv(api, invoice_id)
    return state


def amount_paid(db_url: str, invoice_id: int) -> int:
    """The stored `amount_paid` aggregate (minor units), not part of the invoice JSON."""

    async def work() -> int:
        engine = create_async_engine(db_url)
        try:
            async with engine.connect() as connection:
                value = await connection.scalar(
                    select(Invoice.amount_paid).where(Invoice.id == invoice_id)
                )
                return int(value)
        finally:
            await engine.dispose()

    return asyncio.run(work())


def receipt_pattern(api) -> re.Pattern[str]:
    """README C18: {PUBLIC_BASE_URL}/payments/{account_identifier}/{client_id}/pdf with a
    48-char URL-safe client_id; PUBLIC_BASE_URL defaults to the API base + /portal."""
    identifier = re.escape(api.account.identifier)
    return re.compile(
        rf"http://localhost:8000/portal/payments/{identifier}/[A-Za-z0-9_-]{{48}}/pdf"
    )


def near_now(value: int, started: int) -> bool:
    return type(value) is int and started - 1 <= value <= int(time.time()) + 1


# ---------------------------------------------------------------------------------------------
# A2: the transaction object
# ---------------------------------------------------------------------------------------------


def test_a2_shape_and_defaults(api):
    """A2 defaults: type payment (Decision), method other, status succeeded, currency of the
    invoice, null references, metadata {}; whole amounts are JSON integers (C4.5)."""
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    started = int(time.time())
    r = api.post("/transactions", json={"invoice": inv["id"], "amount": 40})
    assert r.status_code == 201, r.text
    body = exact(r)
    assert set(body) == TRANSACTION_KEYS
    assert type(body["id"]) is int
    assert type(body["amount"]) is int and body["amount"] == 40
    assert {k: body[k] for k in TRANSACTION_KEYS - {"id", "date", "pdf_url", "created_at"}} == {
        "object": "transaction",
        "customer": c["id"],
        "invoice": inv["id"],
        "credit_note": None,
        "estimate": None,
        "type": "payment",
        "method": "other",
        "status": "succeeded",
        "gateway": None,
        "gateway_id": None,
        "payment_source": None,
        "currency": "usd",
        "amount": 40,
        "notes": None,
        "failure_reason": None,
        "parent_transaction": None,
        "payment": None,
        "metadata": {},
        "updated_at": body["created_at"],
    }
    assert near_now(body["date"], started)
    assert near_now(body["created_at"], started)
    assert receipt_pattern(api).fullmatch(body["pdf_url"])
    assert get_txn(api, body["id"]) == body


def test_a1_missing_and_malformed_ids_are_404(api):
    """C5 / C1.5: `Transaction was not found: <id>` on every id route."""
    for raw in (str(MISSING), "abc", "0"):
        message = f"Transaction was not found: {raw}"
        for r in (
            api.get(f"/transactions/{raw}"),
            api.patch(f"/transactions/{raw}", json={"notes": "x"}),
            api.delete(f"/transactions/{raw}"),
            api.post(f"/transactions/{raw}/refunds", json={"amount": 1}),
        ):
            assert r.status_code == 404, r.text
            assert r.json() == {"type": "invalid_request", "message": message}


def test_a1_empty_list(api):
    r = api.get("/transactions")
    assert r.status_code == 200, r.text
    assert r.json() == []
    assert r.headers["X-Total-Count"] == "0"


# ---------------------------------------------------------------------------------------------
# Example TP-1
# ---------------------------------------------------------------------------------------------


def test_example_tp1_seed_check_payment_form_encoded(api):
    """Example TP-1 (= invoices.md Example I-1 step 3), sent exactly as the curl command."""
    with frozen_clock(api) as move:
        move(T0)
        acme_customer = acme(api)
        inv = created(
            api.post("/invoices", data={"customer": str(acme_customer["id"]), **SEED_FORM})
        )
        assert inv["total"] == 148.85 and inv["status"] == "not_sent"
        inv = ok(api.patch(f"/invoices/{inv['id']}", json={"sent": True}))
        assert inv["status"] == "sent"
        assert (
            api.get(f"/customers/{acme_customer['id']}/balance").json()["total_outstanding"]
            == 148.85
        )

        r = api.post(
            "/transactions",
            data={
                "invoice": str(inv["id"]),
                "method": "check",
                "gateway_id": "1450",
                "amount": "148.85",
            },
        )
        assert r.status_code == 201, r.text
        body = exact(r)
        assert set(body) == TRANSACTION_KEYS
        expected = {
            "object": "transaction",
            "customer": acme_customer["id"],
            "invoice": inv["id"],
            "credit_note": None,
            "estimate": None,
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
            "payment": None,
            "metadata": {},
        }
        assert {k: body[k] for k in expected} == expected
        for key in ("date", "created_at", "updated_at"):
            assert type(body[key]) is int and T0 <= body[key] <= T0 + NOW_SLACK, (key, body)
        assert receipt_pattern(api).fullmatch(body["pdf_url"]), body["pdf_url"]

        after = get_inv(api, inv["id"])
        assert after["balance"] == 0
        assert (after["paid"], after["closed"], after["status"]) == (True, True, "paid")
        assert after["payment_url"] is None  # U2
        balance = api.get(f"/customers/{acme_customer['id']}/balance").json()
        assert balance["total_outstanding"] == 0  # CB2, Example C-3
        assert balance["due_now"] == 0
        assert balance["past_due"] is False


def test_example_tp1_json_gives_the_same_transaction(api, db_url):
    """C3: the JSON body every client library sends gives the same result as the form."""
    c = acme(api)
    inv = created(api.post("/invoices", data={"customer": str(c["id"]), **SEED_FORM}))
    body = post(api, invoice=inv["id"], method="check", gateway_id="1450", amount=148.85)
    assert (body["amount"], body["gateway_id"], body["method"]) == (D("148.85"), "1450", "check")
    assert amount_paid(db_url, inv["id"]) == 14885
    assert state_of_invoice(api, inv["id"]) == (0, True, True, "paid")


# ---------------------------------------------------------------------------------------------
# Example TP-3: partial payments and a refund
# ---------------------------------------------------------------------------------------------


def test_example_tp3_partial_payments_and_a_refund(api, db_url):
    c = customer(api)
    inv = invoice(api, c["id"], 100, 50)
    iid = inv["id"]
    assert inv["total"] == 150

    # 1.
    first = post(api, invoice=iid, amount=100, method="check")
    assert amount_paid(db_url, iid) == 10000
    assert state_of_invoice(api, iid) == (50, False, False, "sent")
    # 2.
    second = post(api, invoice=iid, amount=50, method="paypal")
    assert second["method"] == "paypal"
    assert amount_paid(db_url, iid) == 15000
    assert state_of_invoice(api, iid) == (0, True, True, "paid")
    # 3.
    refunded = refund(api, first["id"], 5)
    assert set(refunded) == TRANSACTION_KEYS
    assert refunded["type"] == "refund"
    assert refunded["parent_transaction"] == first["id"]
    assert refunded["method"] == "check"
    assert refunded["amount"] == 5 and refunded["status"] == "succeeded"
    assert (refunded["invoice"], refunded["customer"]) == (iid, c["id"])
    assert amount_paid(db_url, iid) == 14500
    assert state_of_invoice(api, iid) == (5, False, False, "sent")
    # 4. TX8: a refund's amount cannot change.
    before = stored(api, iid)
    assert_error(
        api.patch(f"/transactions/{refunded['id']}", json={"amount": 6}),
        400,
        "amount",
        REFUND_FIXED,
    )
    assert stored(api, iid) == before
    assert get_txn(api, refunded["id"])["amount"] == 5
    # 5. Only 95.00 is left to refund.
    assert_error(
        api.post(f"/transactions/{first['id']}/refunds", json={"amount": 96}),
        400,
        "amount",
        EXCEEDS,
    )
    assert stored(api, iid) == before
    # 6. TX8 delta +5.
    patched = patch_txn(api, first["id"], amount=105)
    assert patched["amount"] == 105
    assert amount_paid(db_url, iid) == 15000
    assert state_of_invoice(api, iid) == (0, True, True, "paid")


# ---------------------------------------------------------------------------------------------
# Example TP-5: pending then succeeded (TX6, TX8, TX9, S5)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "after_success", "after_failure"),
    [
        (10, (0, True, True, "paid"), (10, False, False, "sent")),
        (100, (90, False, False, "sent"), (100, False, False, "sent")),
    ],
)
def test_example_tp5_pending_then_succeeded_then_failed(
    api, db_url, total, after_success, after_failure
):
    c = customer(api)
    iid = invoice(api, c["id"], total)["id"]
    charge = post(api, invoice=iid, type="charge", status="pending", amount=10, method="ach")
    assert (charge["type"], charge["status"], charge["method"]) == ("charge", "pending", "ach")
    # Pending moves no money, but the invoice is pending (S5) and not payable (U2).
    assert amount_paid(db_url, iid) == 0
    body = get_inv(api, iid)
    assert (body["balance"], body["paid"], body["status"]) == (total, False, "pending")
    assert body["payment_url"] is None

    patch_txn(api, charge["id"], status="succeeded")  # TX9: status may change on a charge
    assert amount_paid(db_url, iid) == 1000
    assert state_of_invoice(api, iid) == after_success

    patch_txn(api, charge["id"], status="failed")
    assert amount_paid(db_url, iid) == 0
    assert state_of_invoice(api, iid) == after_failure
    assert get_inv(api, iid)["payment_url"] is not None  # open again


# ---------------------------------------------------------------------------------------------
# Example TP-6: validation (the transaction rows)
# ---------------------------------------------------------------------------------------------


def test_example_tp6_validation_rows_store_nothing(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    before = stored(api, iid)
    rows = [
        ({"amount": 10}, "customer", None),
        ({"invoice": iid, "amount": 0}, "amount", "Amount is invalid"),
        ({"invoice": iid, "amount": -5}, "amount", NEGATIVE_PAYMENT),
        (
            {"invoice": iid, "amount": 5, "currency": "eur"},
            "currency",
            currency_mismatch("eur", "usd"),
        ),
        ({"invoice": MISSING, "amount": 5}, "invoice", f"No such invoice: {MISSING}"),
    ]
    for body, param, message in rows:
        assert_error(api.post("/transactions", json=body), 400, param, message)
        # The same row form-encoded (C3.2, C3.3).
        form = {key: str(value) for key, value in body.items()}
        assert_error(api.post("/transactions", data=form), 400, param, message)
    assert stored(api, iid) == before


# ---------------------------------------------------------------------------------------------
# TX1-TX3: customer, references, currency
# ---------------------------------------------------------------------------------------------


def test_tx1_customer_comes_from_the_invoice(api):
    a = customer(api, name="A")
    b = customer(api, name="B")
    iid = invoice(api, a["id"], 100)["id"]
    assert post(api, invoice=iid, amount=5)["customer"] == a["id"]
    assert post(api, invoice=iid, customer=a["id"], amount=5)["customer"] == a["id"]
    # A customer-only transaction: no invoice, the account currency.
    alone = post(api, customer=b["id"], amount=7)
    assert (alone["customer"], alone["invoice"], alone["currency"]) == (b["id"], None, "usd")
    assert alone["amount"] == 7


def test_tx1_invoice_of_another_customer_is_refused(api):
    """TX1 Decision: customer and invoice disagree -> 400 param invoice; nothing stored."""
    a = customer(api, name="A")
    b = customer(api, name="B")
    iid = invoice(api, a["id"], 100)["id"]
    before = stored(api, iid)
    assert_error(
        api.post("/transactions", json={"customer": b["id"], "invoice": iid, "amount": 5}),
        400,
        "invoice",
        NOT_THIS_CUSTOMER,
    )
    assert_error(
        api.post(
            "/transactions", data={"customer": str(b["id"]), "invoice": str(iid), "amount": "5"}
        ),
        400,
        "invoice",
    )
    assert stored(api, iid) == before


def test_tx1_customer_cannot_change_on_patch(api):
    a = customer(api, name="A")
    b = customer(api, name="B")
    iid = invoice(api, a["id"], 100)["id"]
    made = post(api, invoice=iid, amount=5)
    alone = post(api, customer=a["id"], amount=3)
    before = stored(api, iid)
    for tid in (made["id"], alone["id"]):
        assert_error(api.patch(f"/transactions/{tid}", json={"customer": b["id"]}), 400, "customer")
        assert_error(
            api.patch(f"/transactions/{tid}", json={"customer": b["id"], "notes": "moved"}),
            400,
            "customer",
        )
    assert stored(api, iid) == before
    # The same customer is not a change.
    assert patch_txn(api, made["id"], customer=a["id"])["customer"] == a["id"]


def test_tx2_references_must_exist(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    before = stored(api, iid)
    rows = [
        ({"invoice": MISSING, "amount": 5}, "invoice", f"No such invoice: {MISSING}"),
        ({"customer": MISSING, "amount": 5}, "customer", f"No such customer: {MISSING}"),
        (
            {"invoice": iid, "amount": 5, "parent_transaction": MISSING},
            "parent_transaction",
            f"No such transaction: {MISSING}",
        ),
        # Credit notes and estimates do not exist yet: every id is missing.
        (
            {"customer": c["id"], "type": "adjustment", "amount": 5, "credit_note": MISSING},
            "credit_note",
            f"No such credit note: {MISSING}",
        ),
        # TX5: only adjustments may name a credit note.
        (
            {"customer": c["id"], "amount": 5, "credit_note": MISSING},
            "credit_note",
            "Only adjustments can be applied to credit notes.",
        ),
        (
            {"customer": c["id"], "amount": 5, "estimate": MISSING},
            "estimate",
            f"No such estimate: {MISSING}",
        ),
    ]
    for body, param, message in rows:
        assert_error(api.post("/transactions", json=body), 400, param, message)
    # C3.3: a non-numeric id is a 400 on that field.
    assert_error(api.post("/transactions", data={"invoice": "abc", "amount": "5"}), 400, "invoice")
    assert_error(
        api.post("/transactions", data={"customer": "abc", "amount": "5"}), 400, "customer"
    )
    # Decision: an adjustment on an invoice needs a credit note (TX5/TX6).
    assert_error(
        api.post("/transactions", json={"invoice": iid, "type": "adjustment", "amount": -20}),
        400,
        "invoice",
    )
    assert_error(
        api.post("/transactions", json={"invoice": iid, "type": "gift", "amount": 5}), 400, "type"
    )
    assert stored(api, iid) == before


def test_tx3_currency_must_match_the_invoice(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    eur_iid = invoice(api, c["id"], 100, currency="eur")["id"]
    before = stored(api, iid, eur_iid)
    assert_error(
        api.post("/transactions", json={"invoice": iid, "amount": 5, "currency": "eur"}),
        400,
        "currency",
        currency_mismatch("eur", "usd"),
    )
    assert_error(
        api.post("/transactions", json={"invoice": iid, "amount": 5, "currency": "EUR"}),
        400,
        "currency",
        currency_mismatch("eur", "usd"),
    )
    assert_error(
        api.post("/transactions", json={"invoice": eur_iid, "amount": 5, "currency": "usd"}),
        400,
        "currency",
        currency_mismatch("usd", "eur"),
    )
    assert_error(
        api.post("/transactions", json={"invoice": iid, "amount": 5, "currency": "xyz"}),
        400,
        "currency",
    )
    assert stored(api, iid, eur_iid) == before
    assert post(api, invoice=iid, amount=5, currency="USD")["currency"] == "usd"
    assert post(api, invoice=eur_iid, amount=5)["currency"] == "eur"
    assert post(api, customer=c["id"], amount=5, currency="EUR")["currency"] == "eur"
    # TX8: currency is create-only, silently ignored on PATCH.
    made = post(api, invoice=iid, amount=1)
    assert patch_txn(api, made["id"], currency="eur")["currency"] == "usd"


# ---------------------------------------------------------------------------------------------
# TX4 / TX4a: amounts and methods
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "sent", "expected", "minor"),
    [
        ("usd", 10.005, D("10.01"), 1001),
        ("usd", "10.005", D("10.01"), 1001),
        ("usd", 12.045, D("12.05"), 1205),
        ("usd", 10.004, 10, 1000),
        ("usd", "0.005", D("0.01"), 1),
        ("jpy", 100.5, 101, 101),
        ("bhd", "1.0005", D("1.001"), 1001),
    ],
)
def test_tx4_amount_rounds_half_up_to_the_currency(api, db_url, currency, sent, expected, minor):
    """TX4 / C12: half away from zero on the decimal value, per currency exponent."""
    c = customer(api)
    inv = invoice(api, c["id"], 1000, currency=currency)
    body = post(api, invoice=inv["id"], amount=sent)
    assert body["amount"] == expected
    assert type(body["amount"]) is type(expected)
    assert body["currency"] == currency
    assert amount_paid(db_url, inv["id"]) == minor
    assert get_inv(api, inv["id"])["balance"] == 1000 - D(str(expected))


def test_tx4_amount_rounds_in_forms_too(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    r = api.post("/transactions", data={"invoice": str(iid), "amount": "10.005"})
    assert r.status_code == 201, r.text
    assert exact(r)["amount"] == D("10.01")
    assert get_inv(api, iid)["balance"] == D("89.99")


def test_tx4_zero_negative_and_missing_amounts(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    before = stored(api, iid)
    rows = [
        ({"amount": 0}, "Amount is invalid"),
        ({"amount": "0.004"}, "Amount is invalid"),  # rounds to 0.00
        ({"amount": -0.001}, "Amount is invalid"),
        ({"amount": -5}, NEGATIVE_PAYMENT),
        ({"amount": "-0.005"}, NEGATIVE_PAYMENT),  # rounds to -0.01
        ({"amount": -5, "type": "charge"}, NEGATIVE_PAYMENT),
        ({"amount": -5, "type": "refund"}, NEGATIVE_REFUND),
        ({}, None),
        ({"amount": "abc"}, None),
        ({"amount": None}, None),
    ]
    for extra, message in rows:
        assert_error(
            api.post("/transactions", json={"invoice": iid, **extra}), 400, "amount", message
        )
    assert stored(api, iid) == before
    made = post(api, invoice=iid, amount=5)
    for body in ({"amount": 0}, {"amount": -1}, {"amount": "abc"}):
        assert_error(api.patch(f"/transactions/{made['id']}", json=body), 400, "amount")
    assert get_txn(api, made["id"])["amount"] == 5


def test_tx4_amounts_beyond_64_bits_are_a_400_not_a_500(api, db_url):
    """C5: a 500 is for unexpected errors only. Amounts are 64-bit minor units (STYLE), so an
    amount, or an invoice total paid, that cannot be stored is an invalid `amount`."""
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    made = post(api, invoice=iid, amount=10)
    before = stored(api, iid)
    for amount in ("92233720368547758.08", "9223372036854775807", "1e17", 1e17):
        for body in ({"customer": c["id"]}, {"invoice": iid}):
            assert_error(api.post("/transactions", json={**body, "amount": amount}), 400, "amount")
        assert_error(
            api.patch(f"/transactions/{made['id']}", json={"amount": amount}), 400, "amount"
        )
    assert stored(api, iid) == before
    # On top of the 10.00 already paid, the largest storable amount no longer fits the invoice.
    assert_error(
        api.post("/transactions", json={"invoice": iid, "amount": "92233720368547758.07"}),
        400,
        "amount",
    )
    assert stored(api, iid) == before
    # Alone it is accepted; then one more cent on that invoice cannot be.
    fresh = invoice(api, c["id"], 100)["id"]
    biggest = post(api, invoice=fresh, amount="92233720368547758.07")
    assert biggest["amount"] == D("92233720368547758.07")
    assert amount_paid(db_url, fresh) == 2**63 - 1
    before = stored(api, fresh)
    assert_error(api.post("/transactions", json={"invoice": fresh, "amount": 1}), 400, "amount")
    assert stored(api, fresh) == before


def test_tx6_refund_transaction_subtracts_from_the_invoice(api, db_url):
    """TX6: a `refund` created directly lowers amount_paid and reopens the invoice (R14)."""
    c = customer(api)
    iid = invoice(api, c["id"], 50)["id"]
    post(api, invoice=iid, amount=50)
    assert state_of_invoice(api, iid) == (0, True, True, "paid")
    made = post(api, invoice=iid, type="refund", amount=20)
    assert (made["type"], made["parent_transaction"]) == ("refund", None)
    assert amount_paid(db_url, iid) == 3000
    assert state_of_invoice(api, iid) == (20, False, False, "sent")


@pytest.mark.parametrize(
    "method",
    [
        "credit_card",
        "ach",
        "direct_debit",
        "eft",
        "paypal",
        "wire_transfer",
        "check",
        "cash",
        "other",
        "venmo_2",
        "x" * 32,
    ],
)
def test_tx4a_method_accepts_lowercase_words(api, method):
    c = customer(api)
    assert post(api, customer=c["id"], amount=1, method=method)["method"] == method


def test_tx4a_method_balance_spends_credit(api):
    """`balance` is the credit balance (TX4a): with no credit there is nothing to spend (CB2);
    once the customer has credit, a `balance` payment spends it."""
    c = customer(api)
    assert_error(
        api.post("/transactions", json={"customer": c["id"], "amount": 1, "method": "balance"}),
        400,
        "amount",
    )
    post(api, customer=c["id"], type="adjustment", amount=-5)  # TX5: 5 of credit
    assert post(api, customer=c["id"], amount=1, method="balance")["method"] == "balance"
    assert api.get(f"/customers/{c['id']}").json()["credit_balance"] == 4


def test_tx4a_method_pattern(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    before = stored(api, iid)
    for method in ("Check", "wire-transfer", "x" * 33, "chèque", "credit card", "ach!"):
        assert_error(
            api.post("/transactions", json={"invoice": iid, "amount": 1, "method": method}),
            400,
            "method",
        )
    assert stored(api, iid) == before
    made = post(api, invoice=iid, amount=1, method="cash")
    assert_error(api.patch(f"/transactions/{made['id']}", json={"method": "CASH"}), 400, "method")
    assert patch_txn(api, made["id"], method="check")["method"] == "check"


def test_tx4_status_must_be_known(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    before = stored(api, iid)
    assert_error(
        api.post("/transactions", json={"invoice": iid, "amount": 1, "status": "done"}),
        400,
        "status",
    )
    assert stored(api, iid) == before


def test_c4_4_dates_accept_iso_8601(api):
    c = customer(api)
    body = post(api, customer=c["id"], amount=1, date="2023-11-14T22:13:20Z")
    assert body["date"] == T0
    assert patch_txn(api, body["id"], date=str(T0 + DAY))["date"] == T0 + DAY
    assert_error(
        api.post("/transactions", json={"customer": c["id"], "amount": 1, "date": "soon"}),
        400,
        "date",
    )


def test_c14_idempotent_payment_applies_once(api, db_url):
    """C14.4: a repeat with the same key replays the response and moves no money again."""
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    headers = {"Idempotency-Key": "tx-payment-1"}
    first = api.post("/transactions", json={"invoice": iid, "amount": 40}, headers=headers)
    again = api.post("/transactions", json={"invoice": iid, "amount": 40}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert amount_paid(db_url, iid) == 4000
    assert total_count(api, "/transactions") == 1
    r = api.post("/transactions", json={"invoice": iid, "amount": 41}, headers=headers)
    assert_error(r, 400, "Idempotency-Key")
    path = f"/transactions/{first.json()['id']}/refunds"
    headers = {"Idempotency-Key": "tx-refund-1"}
    assert api.post(path, json={"amount": 5}, headers=headers).status_code == 201
    assert api.post(path, json={"amount": 5}, headers=headers).status_code == 201
    assert amount_paid(db_url, iid) == 3500


def test_tx15_sent_is_ignored(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    body = post(api, invoice=iid, amount=1, sent=True)
    assert "sent" not in body
    r = api.post("/transactions", data={"invoice": str(iid), "amount": "1", "sent": "1"})
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------------------------------------
# TX6 / TX7: effects, over-payment, closed and voided invoices
# ---------------------------------------------------------------------------------------------


def test_tx7_over_payment_makes_balance_negative(api, db_url):
    """TX7 (backend InvoiceTest: total 5, paid 100 -> balance -95)."""
    c = customer(api)
    iid = invoice(api, c["id"], 5)["id"]
    post(api, invoice=iid, amount=100)
    assert amount_paid(db_url, iid) == 10000
    assert state_of_invoice(api, iid) == (-95, True, True, "paid")
    post(api, invoice=iid, amount=0.5)
    assert state_of_invoice(api, iid) == (D("-95.5"), True, True, "paid")


def test_tx7_payment_on_closed_unpaid_invoice_is_accepted(api):
    c = customer(api)
    iid = invoice(api, c["id"], 50)["id"]
    assert ok(api.patch(f"/invoices/{iid}", json={"closed": True}))["closed"] is True
    post(api, invoice=iid, amount=20)
    assert state_of_invoice(api, iid) == (30, False, True, "sent")  # S15
    post(api, invoice=iid, amount=30)
    assert state_of_invoice(api, iid) == (0, True, True, "paid")


def test_tx7_patch_cannot_apply_money_to_a_voided_invoice(api, db_url):
    """TX7: voided invoices refuse payments. A failed payment on an invoice that was then voided
    (allowed: V2 sees no payment applied) cannot become succeeded, which would apply it."""
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    failed = post(api, invoice=iid, amount=10, status="failed")
    assert ok(api.post(f"/invoices/{iid}/void"))["status"] == "voided"
    before = stored(api, iid)
    assert_error(
        api.patch(f"/transactions/{failed['id']}", json={"status": "succeeded"}),
        400,
        "invoice",
        VOIDED,
    )
    assert stored(api, iid) == before
    assert amount_paid(db_url, iid) == 0
    assert get_txn(api, failed["id"])["status"] == "failed"


def test_tx7_voided_invoice_refuses_payments(api):
    c = customer(api)
    iid = invoice(api, c["id"], 50)["id"]
    assert ok(api.post(f"/invoices/{iid}/void"))["status"] == "voided"
    before = stored(api, iid)
    for extra in ({}, {"type": "charge"}, {"status": "pending"}, {"customer": c["id"]}):
        assert_error(
            api.post("/transactions", json={"invoice": iid, "amount": 5, **extra}),
            400,
            "invoice",
            VOIDED,
        )
    assert stored(api, iid) == before


# ---------------------------------------------------------------------------------------------
# TX8 / TX9: PATCH
# ---------------------------------------------------------------------------------------------


def test_tx8_patch_recalculates_by_delta(api, db_url):
    c = customer(api)
    iid = invoice(api, c["id"], 200)["id"]
    made = post(api, invoice=iid, amount=100)
    assert state_of_invoice(api, iid) == (100, False, False, "sent")
    # succeeded -> succeeded: delta = new - old (100 -> 105 is +5).
    patch_txn(api, made["id"], amount=105)
    assert amount_paid(db_url, iid) == 10500
    assert get_inv(api, iid)["balance"] == 95
    patch_txn(api, made["id"], amount=99.99)
    assert amount_paid(db_url, iid) == 9999
    # succeeded -> failed: -old amount.
    patch_txn(api, made["id"], status="failed")
    assert amount_paid(db_url, iid) == 0
    # Changes while failed move no money.
    patch_txn(api, made["id"], amount=50)
    assert amount_paid(db_url, iid) == 0
    # failed -> pending: still nothing, but the invoice is pending (S5).
    patch_txn(api, made["id"], status="pending")
    assert state_of_invoice(api, iid) == (200, False, False, "pending")
    # pending -> succeeded: +amount.
    patch_txn(api, made["id"], status="succeeded")
    assert amount_paid(db_url, iid) == 5000
    assert state_of_invoice(api, iid) == (150, False, False, "sent")
    # Amount and status together: from succeeded 50 to succeeded 200 pays the invoice.
    patch_txn(api, made["id"], amount=200, status="succeeded")
    assert state_of_invoice(api, iid) == (0, True, True, "paid")
    # And back below the total reopens it (R14).
    patch_txn(api, made["id"], amount=150)
    assert state_of_invoice(api, iid) == (50, False, False, "sent")


def test_tx8_create_only_fields_are_ignored_on_patch(api):
    c = customer(api)
    iid = invoice(api, c["id"], 200)["id"]
    other = invoice(api, c["id"], 300)["id"]
    made = post(api, invoice=iid, amount=100, method="check")
    parent = post(api, invoice=other, amount=1)
    other_before = get_inv(api, other)
    body = patch_txn(
        api,
        made["id"],
        type="charge",
        currency="eur",
        invoice=other,
        parent_transaction=parent["id"],
        credit_note=MISSING,
        estimate=MISSING,
        notes="Check 1450",
    )
    assert body["notes"] == "Check 1450"
    assert (body["type"], body["currency"], body["invoice"]) == ("payment", "usd", iid)
    assert (body["parent_transaction"], body["credit_note"], body["estimate"]) == (None, None, None)
    assert get_inv(api, iid)["balance"] == 100
    assert get_inv(api, other) == other_before


def test_tx8_patch_simple_fields(api):
    c = customer(api)
    iid = invoice(api, c["id"], 200)["id"]
    made = post(api, invoice=iid, amount=100)
    body = patch_txn(
        api,
        made["id"],
        date=T0,
        gateway="stripe",
        gateway_id="ch_1",
        notes="note",
        failure_reason="declined",
        metadata={"a": 1, "b": True},
    )
    assert (body["date"], body["gateway"], body["gateway_id"]) == (T0, "stripe", "ch_1")
    assert (body["notes"], body["failure_reason"]) == ("note", "declined")
    assert body["metadata"] == {"a": "1", "b": "1"}  # C11.3
    # C11.4: metadata replaces; omitted leaves it; {} clears. C3.4: "" clears a nullable.
    assert patch_txn(api, made["id"], metadata={"b": "2"})["metadata"] == {"b": "2"}
    assert patch_txn(api, made["id"], notes="again")["metadata"] == {"b": "2"}
    assert patch_txn(api, made["id"], notes="")["notes"] is None
    assert patch_txn(api, made["id"], metadata={})["metadata"] == {}
    too_many = {f"k{i}": "v" for i in range(11)}
    assert_error(
        api.patch(f"/transactions/{made['id']}", json={"metadata": too_many}), 400, "metadata"
    )
    assert_error(
        api.post("/transactions", json={"invoice": iid, "amount": 1, "metadata": too_many}),
        400,
        "metadata",
    )
    assert get_inv(api, iid)["balance"] == 100


def test_tx9_gateway_charge_allows_only_status_notes_metadata(api, db_url):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    charge = post(api, invoice=iid, type="charge", method="ach", amount=30)
    assert get_inv(api, iid)["balance"] == 70
    before = stored(api, iid)
    for field, value in (
        ("amount", 31),
        ("method", "check"),
        ("gateway_id", "x-1"),
        ("gateway", "stripe"),
        ("date", T0),
        ("failure_reason", "nope"),
    ):
        assert_error(
            api.patch(f"/transactions/{charge['id']}", json={field: value}),
            400,
            field,
            charge_only(field),
        )
        # Together with an allowed change, still refused as a whole.
        assert_error(
            api.patch(f"/transactions/{charge['id']}", json={field: value, "notes": "n"}),
            400,
            field,
        )
    assert stored(api, iid) == before
    # Sending the stored value is not a change.
    body = patch_txn(api, charge["id"], amount=30, method="ach", notes="first")
    assert (body["amount"], body["notes"]) == (30, "first")
    body = patch_txn(api, charge["id"], metadata={"k": "v"})
    assert body["metadata"] == {"k": "v"}
    body = patch_txn(api, charge["id"], status="failed")
    assert body["status"] == "failed"
    assert amount_paid(db_url, iid) == 0
    assert get_inv(api, iid)["balance"] == 100


def test_tx9_payment_amount_may_change(api):
    """TX9 is about charges only: a `payment` with method ach may change its amount."""
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    made = post(api, invoice=iid, method="ach", amount=30)
    assert patch_txn(api, made["id"], amount=40)["amount"] == 40
    assert get_inv(api, iid)["balance"] == 60


# ---------------------------------------------------------------------------------------------
# TX11: delete
# ---------------------------------------------------------------------------------------------


def test_tx11_delete_reverses_effects_and_deletes_refunds(api, db_url):
    c = customer(api)
    iid = invoice(api, c["id"], 150)["id"]
    first = post(api, invoice=iid, amount=100)
    second = post(api, invoice=iid, amount=50)
    child = refund(api, first["id"], 30)
    other_child = refund(api, second["id"], 10)
    assert amount_paid(db_url, iid) == 11000
    assert state_of_invoice(api, iid) == (40, False, False, "sent")

    r = api.delete(f"/transactions/{first['id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    # -100 for the payment, +30 for its refund: only `second` and its refund remain.
    assert amount_paid(db_url, iid) == 4000
    assert state_of_invoice(api, iid) == (110, False, False, "sent")
    for gone in (first["id"], child["id"]):
        r = api.get(f"/transactions/{gone}")
        assert r.status_code == 404
        assert r.json()["message"] == f"Transaction was not found: {gone}"
    assert listed_ids(api, {"filter[invoice]": iid}) == [second["id"], other_child["id"]]
    deleted = events(api, {"filter[type]": "transaction.deleted"})
    assert sorted(e["data"]["object"]["id"] for e in deleted) == sorted([first["id"], child["id"]])

    # Deleting a refund alone gives its money back to the invoice.
    assert api.delete(f"/transactions/{other_child['id']}").status_code == 204
    assert amount_paid(db_url, iid) == 5000
    assert state_of_invoice(api, iid) == (100, False, False, "sent")
    assert api.delete(f"/transactions/{second['id']}").status_code == 204
    assert amount_paid(db_url, iid) == 0
    assert state_of_invoice(api, iid) == (150, False, False, "sent")
    assert listed(api) == []
    # C16.4: deleting again -> 404.
    r = api.delete(f"/transactions/{second['id']}")
    assert r.status_code == 404
    assert r.json()["message"] == f"Transaction was not found: {second['id']}"


def test_c16_4_a_deleted_transaction_id_is_never_reused(api):
    """C16.4: deleting an already-deleted transaction is a 404, so its id can never come back
    as another transaction (events keep naming it: transaction.deleted). Deleting the newest
    transaction is the case where a database could hand the same id out again."""
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    post(api, invoice=iid, amount=1)
    newest = post(api, invoice=iid, amount=2)
    child = refund(api, newest["id"], 1)
    assert api.delete(f"/transactions/{newest['id']}").status_code == 204
    later = [post(api, invoice=iid, amount=3)["id"], post(api, customer=c["id"], amount=4)["id"]]
    assert newest["id"] not in later and child["id"] not in later
    assert min(later) > child["id"]  # ids keep increasing
    for gone in (newest["id"], child["id"]):
        r = api.get(f"/transactions/{gone}")
        assert r.status_code == 404, r.text
        r = api.delete(f"/transactions/{gone}")
        assert r.status_code == 404, r.text
    assert get_inv(api, iid)["balance"] == 96


def test_tx11_delete_reopens_a_paid_invoice(api):
    c = customer(api)
    iid = invoice(api, c["id"], 80)["id"]
    made = post(api, invoice=iid, amount=80)
    assert state_of_invoice(api, iid) == (0, True, True, "paid")
    assert api.delete(f"/transactions/{made['id']}").status_code == 204
    body = get_inv(api, iid)
    assert (body["balance"], body["paid"], body["closed"], body["status"]) == (
        80,
        False,
        False,
        "sent",
    )
    assert body["payment_url"] is not None


def test_tx11_deleting_a_refund_can_pay_the_invoice_again(api):
    c = customer(api)
    iid = invoice(api, c["id"], 80)["id"]
    made = post(api, invoice=iid, amount=80)
    child = refund(api, made["id"], 80)
    assert state_of_invoice(api, iid) == (80, False, False, "sent")
    assert api.delete(f"/transactions/{child['id']}").status_code == 204
    assert state_of_invoice(api, iid) == (0, True, True, "paid")


def test_tx11_delete_of_pending_or_failed_moves_no_money(api):
    c = customer(api)
    iid = invoice(api, c["id"], 80)["id"]
    post(api, invoice=iid, amount=30)
    pending = post(api, invoice=iid, amount=20, status="pending")
    failed = post(api, invoice=iid, amount=10, status="failed")
    assert state_of_invoice(api, iid) == (50, False, False, "pending")
    assert api.delete(f"/transactions/{failed['id']}").status_code == 204
    assert state_of_invoice(api, iid) == (50, False, False, "pending")
    assert api.delete(f"/transactions/{pending['id']}").status_code == 204
    assert state_of_invoice(api, iid) == (50, False, False, "sent")


# ---------------------------------------------------------------------------------------------
# TX12: refunds
# ---------------------------------------------------------------------------------------------


def test_tx12_refund_copies_the_original(api):
    c = customer(api)
    iid = invoice(api, c["id"], 300)["id"]
    original = post(
        api,
        invoice=iid,
        amount=200,
        method="paypal",
        date=T0,
        gateway_id="PP-1",
        notes="n",
        metadata={"m": "1"},
    )
    started = int(time.time())
    made = refund(api, original["id"], 12.34)
    assert made["type"] == "refund"
    assert made["status"] == "succeeded"
    assert made["parent_transaction"] == original["id"]
    assert (made["customer"], made["invoice"], made["currency"]) == (c["id"], iid, "usd")
    assert (made["method"], made["amount"]) == ("paypal", D("12.34"))
    assert near_now(made["date"], started)  # date = now, not the original's
    assert made["payment"] is None
    assert get_txn(api, made["id"]) == made
    assert get_inv(api, iid)["balance"] == D("112.34")


def test_tx12_refund_amount_limits(api, db_url):
    c = customer(api)
    iid = invoice(api, c["id"], 300)["id"]
    original = post(api, invoice=iid, amount=100)
    path = f"/transactions/{original['id']}/refunds"
    before = stored(api, iid)
    for body, message in (
        ({}, None),
        ({"amount": None}, None),
        ({"amount": 0}, None),
        ({"amount": -1}, None),
        ({"amount": "abc"}, None),
        ({"amount": "100.01"}, EXCEEDS),
    ):
        assert_error(api.post(path, json=body), 400, "amount", message)
    assert stored(api, iid) == before
    refund(api, original["id"], 60)
    assert_error(api.post(path, json={"amount": 40.01}), 400, "amount", EXCEEDS)
    r = api.post(path, data={"amount": "40"})  # form-encoded, exactly what is left
    assert r.status_code == 201, r.text
    assert_error(api.post(path, json={"amount": 0.01}), 400, "amount", EXCEEDS)
    assert amount_paid(db_url, iid) == 0
    assert get_inv(api, iid)["balance"] == 300
    # A PATCHed-up original makes room again (TX8 + TX12).
    patch_txn(api, original["id"], amount=110)
    refund(api, original["id"], 10)
    assert_error(api.post(path, json={"amount": "0.01"}), 400, "amount", EXCEEDS)


def test_tx12_only_succeeded_charges_and_payments_are_refundable(api):
    c = customer(api)
    iid = invoice(api, c["id"], 300)["id"]
    pending = post(api, invoice=iid, amount=10, status="pending")
    failed = post(api, invoice=iid, amount=10, status="failed")
    paid = post(api, invoice=iid, amount=10)
    child = refund(api, paid["id"], 1)
    direct = post(api, invoice=iid, type="refund", amount=1)
    before = stored(api, iid)
    for tid in (pending["id"], failed["id"], child["id"], direct["id"]):
        assert_error(
            api.post(f"/transactions/{tid}/refunds", json={"amount": 1}), 400, None, NOT_REFUNDABLE
        )
    assert stored(api, iid) == before
    charge = post(api, invoice=iid, type="charge", method="credit_card", amount=20)
    assert refund(api, charge["id"], 20)["method"] == "credit_card"


def test_tx12_refund_of_a_payment_without_invoice(api):
    c = customer(api)
    original = post(api, customer=c["id"], amount=25, method="cash")
    made = refund(api, original["id"], 5)
    assert (made["invoice"], made["customer"], made["method"]) == (None, c["id"], "cash")
    assert_error(
        api.post(f"/transactions/{original['id']}/refunds", json={"amount": 21}),
        400,
        "amount",
        EXCEEDS,
    )


# ---------------------------------------------------------------------------------------------
# TX13: pdf_url
# ---------------------------------------------------------------------------------------------


def test_tx13_pdf_url(api):
    c = customer(api)
    iid = invoice(api, c["id"], 300)["id"]
    pattern = receipt_pattern(api)
    paid = post(api, invoice=iid, amount=10)
    assert pattern.fullmatch(paid["pdf_url"])
    assert get_txn(api, paid["id"])["pdf_url"] == paid["pdf_url"]  # stable (C18.2)
    charge = post(api, invoice=iid, type="charge", method="credit_card", amount=10)
    assert pattern.fullmatch(charge["pdf_url"]) and charge["pdf_url"] != paid["pdf_url"]
    # A refund uses its parent's receipt.
    assert refund(api, paid["id"], 1)["pdf_url"] == paid["pdf_url"]
    linked = post(api, invoice=iid, type="refund", amount=1, parent_transaction=paid["id"])
    assert linked["parent_transaction"] == paid["id"]
    assert linked["pdf_url"] == paid["pdf_url"]
    # Without a parent a refund has none.
    assert post(api, invoice=iid, type="refund", amount=1)["pdf_url"] is None
    # Only succeeded transactions have one.
    pending = post(api, invoice=iid, amount=10, status="pending")
    assert pending["pdf_url"] is None
    assert post(api, invoice=iid, amount=10, status="failed")["pdf_url"] is None
    succeeded = patch_txn(api, pending["id"], status="succeeded")
    assert pattern.fullmatch(succeeded["pdf_url"])
    assert patch_txn(api, pending["id"], status="failed")["pdf_url"] is None
    assert patch_txn(api, pending["id"], status="succeeded")["pdf_url"] == succeeded["pdf_url"]


# ---------------------------------------------------------------------------------------------
# TX14: metadata inherited from the invoice
# ---------------------------------------------------------------------------------------------


def test_tx14_inherit_invoice_metadata(api, db_url):
    c = customer(api)
    iid = invoice(api, c["id"], 300, metadata={"rep": "alice", "region": "eu"})["id"]
    # Default false (C21): only the request's metadata.
    assert post(api, invoice=iid, amount=1)["metadata"] == {}
    assert post(api, invoice=iid, amount=1, metadata={"po": "7"})["metadata"] == {"po": "7"}

    set_account(db_url, api.account.id, transactions_inherit_invoice_metadata=True)
    assert post(api, invoice=iid, amount=1)["metadata"] == {"rep": "alice", "region": "eu"}
    body = post(api, invoice=iid, amount=1, metadata={"region": "us", "po": 7})
    assert body["metadata"] == {"rep": "alice", "region": "us", "po": "7"}
    r = api.post(
        "/transactions", data={"invoice": str(iid), "amount": "1", "metadata[region]": "ca"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["metadata"] == {"rep": "alice", "region": "ca"}
    # No invoice, nothing to inherit.
    assert post(api, customer=c["id"], amount=1, metadata={"x": "y"})["metadata"] == {"x": "y"}
    # Only new transactions: a later PATCH replaces as usual (C11.4).
    assert patch_txn(api, body["id"], metadata={"only": "me"})["metadata"] == {"only": "me"}


# ---------------------------------------------------------------------------------------------
# TX16: listing, C10: expand
# ---------------------------------------------------------------------------------------------


def test_tx16_list_filters_and_sort(api):
    a = customer(api, name="A")
    b = customer(api, name="B")
    i1 = invoice(api, a["id"], 148.85)["id"]
    i2 = invoice(api, a["id"], 100)["id"]
    t1 = post(api, invoice=i1, amount=148.85, method="check", date=T0, metadata={"batch": 1})
    t2 = post(
        api, invoice=i2, type="charge", status="pending", method="ach", amount=20, date=T0 + DAY
    )
    t3 = post(api, invoice=i2, method="cash", amount=30, date=T0 + 2 * DAY, metadata={"batch": 2})
    t4 = post(api, customer=b["id"], amount="148.85", date=T0 + 3 * DAY, gateway="test")
    t5 = refund(api, t3["id"], 5)  # date = now, after all of the above
    ids = [t["id"] for t in (t1, t2, t3, t4, t5)]
    x1, x2, x3, x4, x5 = ids

    assert listed_ids(api) == ids  # C7.9: id ascending
    cases: list[tuple[dict[str, Any], list[int]]] = [
        ({"filter[customer]": a["id"]}, [x1, x2, x3, x5]),
        ({"filter[customer]": b["id"]}, [x4]),
        ({"filter[invoice]": i2}, [x2, x3, x5]),
        ({"filter[type]": "charge"}, [x2]),
        ({"filter[type]": "refund"}, [x5]),
        ({"filter[type]": "payment"}, [x1, x3, x4]),
        ({"filter[status]": "pending"}, [x2]),
        ({"filter[status]": "succeeded"}, [x1, x3, x4, x5]),
        ({"filter[status]": "failed"}, []),
        ({"filter[method]": "check"}, [x1]),
        ({"filter[method]": "cash"}, [x3, x5]),
        ({"filter[amount]": "148.85"}, [x1, x4]),
        ({"filter[amount]": "20"}, [x2]),
        ({"filter[amount]": "20.00"}, [x2]),
        ({"filter[amount]": "148.851"}, []),
        ({"filter[currency]": "usd"}, ids),
        ({"filter[gateway]": "test"}, [x4]),
        ({"filter[id]": x3}, [x3]),
        ({"filter[date]": T0}, [x1]),
        ({"start_date": T0 + DAY, "end_date": T0 + 2 * DAY}, [x2, x3]),  # inclusive
        ({"start_date": T0 + DAY}, [x2, x3, x4, x5]),
        ({"end_date": T0}, [x1]),
        ({"start_date": T0 + DAY + 1, "end_date": T0 + 3 * DAY - 1}, [x3]),
        ({"start_date": 0}, ids),  # C9.9: values <= 0 are ignored
        ({"metadata[batch]": "2"}, [x3]),
        ({"metadata[batch]": "3"}, []),
        ({"filter[customer]": a["id"], "filter[method]": "cash", "filter[type]": "payment"}, [x3]),
        ({"sort": "date desc"}, [x5, x4, x3, x2, x1]),
        ({"sort": "date asc"}, ids),
        ({"sort": "amount"}, ids),  # C8: no direction -> dropped
    ]
    for params, expected in cases:
        assert listed_ids(api, params) == expected, params
        assert total_count(api, "/transactions", params) == len(expected), params

    r = api.get("/transactions", params={"per_page": 2, "page": 2})
    assert r.status_code == 200
    assert [t["id"] for t in r.json()] == [x3, x4]
    assert r.headers["X-Total-Count"] == "5"
    assert 'rel="next"' in r.headers["Link"] and 'rel="previous"' in r.headers["Link"]

    for params in (
        {"filter[foo]": "1"},
        {"filter[type]": "gift"},
        {"filter[status]": "done"},
        {"filter[amount]": "abc"},
    ):
        assert_error(api.get("/transactions", params=params), 400, None)
    assert api.get("/transactions", params={"filter[foo]": "1"}).json()["message"] == (
        "Invalid filter parameter: foo"
    )


def test_c8_sort_by_amount(api):
    """C8: sortable fields = the scalar filterable fields; `amount` is a TX16 filter."""
    c = customer(api)
    ids = [post(api, customer=c["id"], amount=amount)["id"] for amount in (20, 148.85, 5, 30)]
    assert listed_ids(api, {"sort": "amount desc"}) == [ids[1], ids[3], ids[0], ids[2]]
    assert listed_ids(api, {"sort": "amount asc"}) == [ids[2], ids[0], ids[3], ids[1]]


def test_c10_expand_customer_invoice_parent_transaction(api):
    c = customer(api)
    iid = invoice(api, c["id"], 300)["id"]
    parent = post(api, invoice=iid, amount=100)
    child = refund(api, parent["id"], 10)
    expand = {"expand": "customer,invoice,parent_transaction"}

    def check(body: dict[str, Any]) -> None:
        assert body["customer"] == exact(api.get(f"/customers/{c['id']}"))
        assert body["invoice"] == get_inv(api, iid)
        assert body["parent_transaction"] == get_txn(api, parent["id"])

    check(get_txn(api, child["id"], **expand))
    r = api.get("/transactions", params={**expand, "filter[id]": child["id"]})
    check(exact(r)[0])
    listed_all = exact(api.get("/transactions", params=expand))
    assert [t["id"] for t in listed_all] == [parent["id"], child["id"]]
    assert listed_all[0]["parent_transaction"] is None  # null relations stay null
    assert listed_all[0]["invoice"]["id"] == iid
    r = api.get(f"/transactions/{child['id']}", params={"expand[]": "parent_transaction"})
    assert exact(r)["parent_transaction"] == get_txn(api, parent["id"])
    assert exact(r)["customer"] == c["id"]
    # Create, refund and update responses expand too; unknown names are ignored.
    r = api.post("/transactions?expand=customer,nope", json={"customer": c["id"], "amount": 1})
    assert r.status_code == 201, r.text
    alone = exact(r)
    assert alone["customer"]["id"] == c["id"]
    assert alone["invoice"] is None
    r = api.patch(f"/transactions/{parent['id']}?expand=invoice", json={"notes": "x"})
    assert r.status_code == 200, r.text
    assert exact(r)["invoice"] == get_inv(api, iid)
    r = api.post(
        f"/transactions/{parent['id']}/refunds?expand=parent_transaction", json={"amount": 1}
    )
    assert r.status_code == 201, r.text
    assert exact(r)["parent_transaction"]["id"] == parent["id"]


# ---------------------------------------------------------------------------------------------
# Invoices: R21, S5, V2 / DEL1, E8; customers: CU14
# ---------------------------------------------------------------------------------------------


def test_r21_payment_on_a_draft_issues_it(api):
    c = customer(api)
    partial = invoice(api, c["id"], 100, draft=True)
    assert partial["status"] == "draft"
    post(api, invoice=partial["id"], amount=40)
    body = get_inv(api, partial["id"])
    assert (body["draft"], body["balance"], body["paid"], body["status"]) == (
        False,
        60,
        False,
        "not_sent",
    )
    full = invoice(api, c["id"], 50, draft=True)
    post(api, invoice=full["id"], amount=50)
    body = get_inv(api, full["id"])
    assert (body["draft"], body["balance"], body["paid"], body["closed"], body["status"]) == (
        False,
        0,
        True,
        True,
        "paid",
    )


def test_s5_pending_transaction_blocks_void_and_delete(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    pending = post(api, invoice=iid, amount=10, status="pending", type="charge", method="ach")
    assert get_inv(api, iid)["status"] == "pending"
    assert listed_ids(api, {"filter[status]": "pending"}) == [pending["id"]]
    r = api.get("/invoices", params={"filter[status]": "pending"})
    assert [i["id"] for i in r.json()] == [iid]  # S12: filter and GET agree
    before = stored(api, iid)
    assert_error(api.post(f"/invoices/{iid}/void"), 400, None, PENDING_VOID)  # V2
    assert_error(api.delete(f"/invoices/{iid}"), 400, "voided", PENDING_VOID)  # DEL1
    assert stored(api, iid) == before
    # A second pending one keeps the status until both are settled.
    second = post(api, invoice=iid, amount=5, status="pending")
    patch_txn(api, pending["id"], status="failed")
    assert get_inv(api, iid)["status"] == "pending"
    patch_txn(api, second["id"], status="failed")
    assert state_of_invoice(api, iid) == (100, False, False, "sent")
    assert ok(api.post(f"/invoices/{iid}/void"))["status"] == "voided"


def test_e8_pending_invoice_total_cannot_change(api):
    """invoices.md E8: while the status is pending (S5), a change of `total` -> 400 param total."""
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    post(api, invoice=iid, amount=10, status="pending")
    before = stored(api, iid)
    for body in (
        {"items": [{"name": "More", "unit_cost": 200}]},
        {"discount": 5},
        {"tax": 5},
    ):
        assert_error(api.patch(f"/invoices/{iid}", json=body), 400, "total")
    r = api.post(f"/invoices/{iid}/line_items", json={"name": "More", "unit_cost": 1})
    assert_error(r, 400, "total")
    assert stored(api, iid) == before
    # Changes that keep the total are allowed.
    assert ok(api.patch(f"/invoices/{iid}", json={"notes": "pending"}))["notes"] == "pending"


def test_v2_applied_payment_blocks_void_and_delete(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    made = post(api, invoice=iid, amount=10)
    before = stored(api, iid)
    assert_error(api.post(f"/invoices/{iid}/void"), 400, None, PAID_VOID)
    assert_error(api.delete(f"/invoices/{iid}"), 400, "voided", PAID_VOID)
    assert stored(api, iid) == before
    assert api.delete(f"/transactions/{made['id']}").status_code == 204
    assert api.delete(f"/invoices/{iid}").status_code == 204


def test_cu14_customer_with_transactions_cannot_be_deleted(api):
    c = customer(api)
    made = post(api, customer=c["id"], amount=5)
    assert_error(api.delete(f"/customers/{c['id']}"), 400, None, CUSTOMER_HAS_TRANSACTIONS)
    assert api.get(f"/customers/{c['id']}").status_code == 200
    assert get_txn(api, made["id"])["customer"] == c["id"]
    assert api.delete(f"/transactions/{made['id']}").status_code == 204
    assert api.delete(f"/customers/{c['id']}").status_code == 204


# ---------------------------------------------------------------------------------------------
# Events (events_webhooks.md EV2-EV9, C22.3)
# ---------------------------------------------------------------------------------------------


def only(api, event_type: str) -> dict[str, Any]:
    found = events(api, {"filter[type]": event_type})
    assert len(found) == 1, [e["type"] for e in events(api)]
    return found[0]


def test_ev_transaction_created_updated_deleted_embed_the_customer(api):
    c = customer(api)
    made = post(api, customer=c["id"], amount=5, notes="n1")
    created_event = only(api, "transaction.created")
    assert "previous" not in created_event["data"]
    assert created_event["data"]["object"] == exact(
        api.get(f"/transactions/{made['id']}", params={"expand": "customer"})
    )
    assert created_event["data"]["object"]["customer"]["id"] == c["id"]  # EV9

    patched = patch_txn(api, made["id"], notes="n2")
    updated = only(api, "transaction.updated")
    assert updated["data"]["object"] == {
        **patched,
        "customer": created_event["data"]["object"]["customer"],
    }
    assert updated["data"]["previous"]["notes"] == "n1"
    assert "amount" not in updated["data"]["previous"]
    # EV3: nothing changed -> no event.
    patch_txn(api, made["id"], notes="n2")
    assert len(events(api, {"filter[type]": "transaction.updated"})) == 1

    last = exact(api.get(f"/transactions/{made['id']}", params={"expand": "customer"}))
    assert api.delete(f"/transactions/{made['id']}").status_code == 204
    deleted = only(api, "transaction.deleted")
    assert deleted["data"] == {"object": last}
    # EV8: associated with the customer.
    related = events(api, {"related_to": f"customer,{c['id']}"})
    assert {"transaction.created", "transaction.updated", "transaction.deleted"} <= {
        e["type"] for e in related
    }


def test_ev_failed_requests_record_no_events(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    count = total_count(api, "/events")
    assert api.post("/transactions", json={"invoice": iid, "amount": -1}).status_code == 400
    r = api.post("/transactions", json={"invoice": iid, "amount": 1, "method": "BAD"})
    assert r.status_code == 400
    assert total_count(api, "/events") == count  # EV1
    made = post(api, invoice=iid, amount=1)
    count = total_count(api, "/events")
    assert api.patch(f"/transactions/{made['id']}", json={"amount": 0}).status_code == 400
    r = api.post(f"/transactions/{made['id']}/refunds", json={"amount": 2})
    assert r.status_code == 400
    assert total_count(api, "/events") == count


def test_ev6_payment_that_pays_an_issued_invoice_records_invoice_paid(api):
    c = customer(api)
    inv = invoice(api, c["id"], 100)
    iid = inv["id"]
    partial = post(api, invoice=iid, amount=40)
    upd = events(api, {"filter[type]": "invoice.updated"})[0]
    assert upd["data"]["object"]["id"] == iid
    assert upd["data"]["object"]["balance"] == 60
    assert upd["data"]["previous"]["balance"] == 100
    assert events(api, {"filter[type]": "invoice.paid"}) == []

    post(api, invoice=iid, amount=60)
    paid = only(api, "invoice.paid")
    assert paid["data"]["object"] == get_inv(api, iid, expand="customer")  # EV9
    previous = paid["data"]["previous"]
    assert previous["paid"] is False
    assert previous["balance"] == 60
    assert previous["closed"] is False
    assert previous["status"] == "sent"
    assert events(api, {"related_to": f"invoice,{iid}", "filter[type]": "transaction.created"})

    # A refund that reopens the invoice is an invoice.updated with the old paid state.
    refund(api, partial["id"], 15)
    reopened = events(api, {"filter[type]": "invoice.updated"})[0]
    assert reopened["data"]["object"] == get_inv(api, iid, expand="customer")
    assert reopened["data"]["object"]["paid"] is False
    assert reopened["data"]["previous"]["paid"] is True
    assert reopened["data"]["previous"]["closed"] is True
    assert reopened["data"]["previous"]["balance"] == 0
    assert reopened["data"]["previous"]["status"] == "paid"
    assert len(events(api, {"filter[type]": "invoice.paid"})) == 1


def test_ev_pending_transaction_updates_the_invoice_status(api):
    c = customer(api)
    iid = invoice(api, c["id"], 100)["id"]
    post(api, invoice=iid, amount=10, status="pending")
    upd = events(api, {"filter[type]": "invoice.updated"})[0]
    assert upd["data"]["object"]["status"] == "pending"
    assert upd["data"]["previous"]["status"] == "sent"
