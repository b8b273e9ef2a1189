"""Tenant isolation (README C2.9) and contact scoping (customers.md CT5).

Account A (`api`) owns the data; account B (`other_api`) uses A's ids on every route that takes
an id in its path. Each such request must behave exactly like a request for a missing id
(404, C5 message, no `param`), change nothing in A's account and record no event anywhere
(events_webhooks.md EV1). The route table is read from the app, so a new route with a path
parameter fails `test_every_path_parameter_route_is_classified` until it is classified here.

Ids in request bodies are looked up in the caller's account only: B naming A's customer,
catalog item, coupon, tax rate, line item, invoice, transaction or payment application gets the
same 400 as for an id that never existed (invoices.md §15, R2, AR1, E5; items.md IT6;
customers.md CU9; transactions_payments.md TX2, PY3, PY5, PY11; credit_balances.md §4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest


@dataclass
class World:
    """A's objects (x, y: customers; cx under x, cy under y; invoice `inv` of x with lines
    `line` and `line2`; catalog item, coupon and tax rate; payment `txn` on `inv` and its
    refund `refund`; Payment `payment` with its `invoice` split `pay_split` on `inv` and its
    `credit` split `credit_split` for x; credit balance adjustment `adjustment` of x) and B's
    own customer and invoice."""

    x: int
    y: int
    cx: int
    cy: int
    x_number: str
    a_events: list[int]
    b_customer: int
    b_contact: int
    inv: int = 0
    line: int = 0
    line2: int = 0
    item: str = "a-paper"
    coupon: str = "a-coupon"
    tax_rate: str = "a-vat"
    b_invoice: int = 0
    b_line: int = 0
    txn: int = 0
    refund: int = 0
    payment: int = 0
    pay_split: int = 0
    credit_split: int = 0
    adjustment: int = 0
    email: str = ""


def _created(r):
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def world(api, other_api):
    x = _created(api.post("/customers", json={"name": "A-X", "metadata": {"rep": "alice"}}))
    y = _created(api.post("/customers", json={"name": "A-Y", "metadata": {"rep": "alice"}}))
    cx = _created(api.post(f"/customers/{x['id']}/contacts", json={"name": "A-X contact"}))
    cy = _created(api.post(f"/customers/{y['id']}/contacts", json={"name": "A-Y contact"}))
    patched = api.patch(f"/customers/{x['id']}", json={"city": "Paris"})
    assert patched.status_code == 200, patched.text
    # A's catalog: an item, a coupon and a tax rate (string ids only A uses).
    _created(api.post("/items", json={"id": "a-paper", "name": "A paper", "unit_cost": 45}))
    _created(api.post("/coupons", json={"id": "a-coupon", "name": "A coupon", "value": 10}))
    _created(api.post("/tax_rates", json={"id": "a-vat", "name": "A VAT", "value": 5}))
    inv = _created(
        api.post(
            "/invoices",
            json={
                "customer": x["id"],
                "items": [
                    {"catalog_item": "a-paper", "quantity": 3, "taxes": ["a-vat"]},
                    {"name": "A delivery", "unit_cost": 10},
                ],
                "discounts": ["a-coupon"],
                "metadata": {"rep": "alice"},
            },
        )
    )
    # 3 x 45 + 10 = 145; line tax 5 % of 135 = 6.75; coupon 10 % of 145 = 14.50.
    assert (inv["total"], inv["closed"]) == (137.25, False)
    # A's money on the invoice (transactions_payments.md): 37.25 paid, 7.25 of it refunded.
    txn = _created(
        api.post(
            "/transactions",
            json={
                "invoice": inv["id"],
                "amount": 37.25,
                "method": "check",
                "metadata": {"rep": "alice"},
            },
        )
    )
    refund = _created(api.post(f"/transactions/{txn['id']}/refunds", json={"amount": 7.25}))
    assert api.get(f"/invoices/{inv['id']}").json()["balance"] == 107.25
    # A Payment (transactions_payments.md PY9): 50 on the invoice, 10 to x's credit balance.
    payment = _created(
        api.post(
            "/payments",
            params={"include": "applied_to"},
            json={
                "customer": x["id"],
                "amount": 60,
                "method": "check",
                "reference": "A-1001",
                "metadata": {"rep": "alice"},
                "applied_to": [
                    {"type": "invoice", "invoice": inv["id"], "amount": 50},
                    {"type": "credit", "amount": 10},
                ],
            },
        )
    )
    assert (payment["balance"], [s["type"] for s in payment["applied_to"]]) == (
        0,
        ["invoice", "credit"],
    )
    pay_split, credit_split = (s["id"] for s in payment["applied_to"])
    # A credit balance adjustment (credit_balances.md): +25 for x, whose credit is now 35.
    adjustment = _created(
        api.post(
            "/credit_balance_adjustments",
            json={"customer": x["id"], "amount": 25, "notes": "A goodwill"},
        )
    )
    assert api.get(f"/invoices/{inv['id']}").json()["balance"] == 57.25
    assert api.get(f"/customers/{x['id']}").json()["credit_balance"] == 35
    assert api.get(f"/customers/{x['id']}/balance").json()["available_credits"] == 35
    # An email of A's invoice (emails.md; outbox mode): its id is a 32-hex string.
    emails = api.post(f"/invoices/{inv['id']}/emails", json={"to": "ap@a-x.example"})
    assert emails.status_code == 201, emails.text
    email_id = emails.json()[0]["id"]
    events = api.get("/events")
    assert events.status_code == 200, events.text
    a_events = [e["id"] for e in events.json()]
    # 2 customer.created, 2 contact.created, 1 customer.updated, payment.created and the
    # adjustment's transaction.created (CB8), among others.
    assert len(a_events) >= 7
    types = {e["type"] for e in events.json()}
    assert {"payment.created", "transaction.created"} <= types
    b = _created(other_api.post("/customers", json={"name": "B-1", "metadata": {"rep": "bob"}}))
    b_contact = _created(other_api.post(f"/customers/{b['id']}/contacts", json={"name": "B-c"}))
    b_inv = _created(
        other_api.post(
            "/invoices", json={"customer": b["id"], "items": [{"name": "B", "unit_cost": 7}]}
        )
    )
    return World(
        x=x["id"],
        y=y["id"],
        cx=cx["id"],
        cy=cy["id"],
        x_number=x["number"],
        a_events=a_events,
        b_customer=b["id"],
        b_contact=b_contact["id"],
        inv=inv["id"],
        line=inv["items"][0]["id"],
        line2=inv["items"][1]["id"],
        b_invoice=b_inv["id"],
        b_line=b_inv["items"][0]["id"],
        txn=txn["id"],
        refund=refund["id"],
        payment=payment["id"],
        pay_split=pay_split,
        credit_split=credit_split,
        adjustment=adjustment["id"],
        email=email_id,
    )


def state_of(
    client,
    customer_ids,
    contacts,
    invoices=(),
    lines=(),
    catalog=(),
    transactions=(),
    payments=(),
    adjustments=(),
):
    """Everything an account can see about the given objects, to compare before/after."""
    state = {}
    for cid in customer_ids:
        state[f"customer {cid}"] = client.get(f"/customers/{cid}").json()
        state[f"balance {cid}"] = client.get(f"/customers/{cid}/balance").json()
        state[f"contacts {cid}"] = client.get(f"/customers/{cid}/contacts").json()
    for cid, contact in contacts:
        state[f"contact {contact}"] = client.get(f"/customers/{cid}/contacts/{contact}").json()
    for iid in invoices:
        r = client.get(f"/invoices/{iid}")
        state[f"invoice {iid}"] = (r.status_code, r.json())
        state[f"lines {iid}"] = client.get(f"/invoices/{iid}/line_items").json()
    for iid, line in lines:
        state[f"line {line}"] = client.get(f"/invoices/{iid}/line_items/{line}").json()
    for path in catalog:
        r = client.get(path)
        state[path] = (r.status_code, r.json())
    for tid in transactions:
        r = client.get(f"/transactions/{tid}")
        state[f"transaction {tid}"] = (r.status_code, r.json())
    for pid in payments:
        r = client.get(f"/payments/{pid}", params={"include": "applied_to", "expand": "customer"})
        state[f"payment {pid}"] = (r.status_code, r.json())
    for aid in adjustments:
        r = client.get(f"/credit_balance_adjustments/{aid}")
        state[f"adjustment {aid}"] = (r.status_code, r.json())
    for path in (
        "/customers",
        "/events",
        "/invoices",
        "/items",
        "/coupons",
        "/tax_rates",
        "/transactions",
        "/payments",
        "/credit_balance_adjustments",
        "/emails",
    ):
        r = client.get(path)
        state[path] = (r.headers["X-Total-Count"], r.json())
    return state


def a_state(api, w):
    return state_of(
        api,
        [w.x, w.y],
        [(w.x, w.cx), (w.y, w.cy)],
        [w.inv],
        [(w.inv, w.line), (w.inv, w.line2)],
        [f"/items/{w.item}", f"/coupons/{w.coupon}", f"/tax_rates/{w.tax_rate}"],
        [w.txn, w.refund, w.pay_split, w.credit_split, w.adjustment],
        [w.payment],
        [w.adjustment],
    )


def b_state(other_api, w):
    return state_of(
        other_api,
        [w.b_customer],
        [(w.b_customer, w.b_contact)],
        [w.b_invoice],
        [(w.b_invoice, w.b_line)],
    )


def customer_missing(w, cid=None):
    return f"Customer was not found: {w.x if cid is None else cid}"


# Route (method, path with every `{param}` written as `{}`) -> the requests B makes with A's
# ids, each with the 404 message a missing id produces.
def _customer_get(b, w):
    return [(b.get(f"/customers/{w.x}"), customer_missing(w))]


def _customer_patch(b, w):
    return [
        (b.patch(f"/customers/{w.x}", json={"name": "Hacked"}), customer_missing(w)),
        (b.patch(f"/customers/{w.x}", data={"metadata[rep]": "bob"}), customer_missing(w)),
    ]


def _customer_delete(b, w):
    return [(b.delete(f"/customers/{w.x}"), customer_missing(w))]


def _customer_balance(b, w):
    return [
        (b.get(f"/customers/{w.x}/balance"), customer_missing(w)),
        (b.get(f"/customers/{w.x}/balance", params={"currency": "usd"}), customer_missing(w)),
    ]


def _contacts_create(b, w):
    return [(b.post(f"/customers/{w.x}/contacts", json={"name": "Intruder"}), customer_missing(w))]


def _contacts_list(b, w):
    return [
        (b.get(f"/customers/{w.x}/contacts"), customer_missing(w)),
        (b.get(f"/customers/{w.x}/contacts", params={"per_page": 1}), customer_missing(w)),
    ]


def _contact_get(b, w):
    return [
        (b.get(f"/customers/{w.x}/contacts/{w.cx}"), customer_missing(w)),
        # B's own customer with A's contact id: the contact is missing.
        (
            b.get(f"/customers/{w.b_customer}/contacts/{w.cx}"),
            f"Contact was not found: {w.cx}",
        ),
    ]


def _contact_patch(b, w):
    return [
        (b.patch(f"/customers/{w.x}/contacts/{w.cx}", json={"name": "X"}), customer_missing(w)),
        (
            b.patch(f"/customers/{w.b_customer}/contacts/{w.cx}", json={"name": "X"}),
            f"Contact was not found: {w.cx}",
        ),
    ]


def _contact_delete(b, w):
    return [
        (b.delete(f"/customers/{w.x}/contacts/{w.cx}"), customer_missing(w)),
        (
            b.delete(f"/customers/{w.b_customer}/contacts/{w.cx}"),
            f"Contact was not found: {w.cx}",
        ),
    ]


def _event_get(b, w):
    return [(b.get(f"/events/{eid}"), f"Event was not found: {eid}") for eid in w.a_events]


def invoice_missing(w):
    return f"Invoice was not found: {w.inv}"


def line_missing(w):
    return f"Line item was not found: {w.line}"


def _invoice_get(b, w):
    return [
        (b.get(f"/invoices/{w.inv}"), invoice_missing(w)),
        (b.get(f"/invoices/{w.inv}", params={"expand": "customer"}), invoice_missing(w)),
        (
            b.get(f"/invoices/{w.inv}", params={"expand": "items.catalog_item"}),
            invoice_missing(w),
        ),
    ]


def _invoice_patch(b, w):
    return [
        (b.patch(f"/invoices/{w.inv}", json={"notes": "Hacked"}), invoice_missing(w)),
        (b.patch(f"/invoices/{w.inv}", data={"metadata[rep]": "bob"}), invoice_missing(w)),
        (b.patch(f"/invoices/{w.inv}", json={"items": []}), invoice_missing(w)),
        (b.patch(f"/invoices/{w.inv}", json={"draft": True}), invoice_missing(w)),
        (b.patch(f"/invoices/{w.inv}", json={"closed": True}), invoice_missing(w)),
    ]


def _invoice_delete(b, w):
    return [(b.delete(f"/invoices/{w.inv}"), invoice_missing(w))]


def _invoice_void(b, w):
    return [(b.post(f"/invoices/{w.inv}/void"), invoice_missing(w))]


def _lines_list(b, w):
    return [
        (b.get(f"/invoices/{w.inv}/line_items"), invoice_missing(w)),
        (b.get(f"/invoices/{w.inv}/line_items", params={"per_page": 1}), invoice_missing(w)),
    ]


def _lines_create(b, w):
    return [
        (
            b.post(f"/invoices/{w.inv}/line_items", json={"name": "Intruder", "unit_cost": 1}),
            invoice_missing(w),
        ),
        (
            b.post(f"/invoices/{w.inv}/line_items", data={"name": "Intruder"}),
            invoice_missing(w),
        ),
    ]


def _line_get(b, w):
    return [
        (b.get(f"/invoices/{w.inv}/line_items/{w.line}"), invoice_missing(w)),
        # B's own invoice with A's line id: the line is missing.
        (b.get(f"/invoices/{w.b_invoice}/line_items/{w.line}"), line_missing(w)),
    ]


def _line_patch(b, w):
    return [
        (
            b.patch(f"/invoices/{w.inv}/line_items/{w.line}", json={"quantity": 99}),
            invoice_missing(w),
        ),
        (
            b.patch(f"/invoices/{w.b_invoice}/line_items/{w.line}", json={"quantity": 99}),
            line_missing(w),
        ),
    ]


def _line_delete(b, w):
    return [
        (b.delete(f"/invoices/{w.inv}/line_items/{w.line}"), invoice_missing(w)),
        (b.delete(f"/invoices/{w.b_invoice}/line_items/{w.line}"), line_missing(w)),
    ]


def transaction_missing(tid):
    return f"Transaction was not found: {tid}"


def _transaction_get(b, w):
    return [
        (b.get(f"/transactions/{w.txn}"), transaction_missing(w.txn)),
        (
            b.get(f"/transactions/{w.txn}", params={"expand": "customer,invoice"}),
            transaction_missing(w.txn),
        ),
        (
            b.get(f"/transactions/{w.refund}", params={"expand": "parent_transaction"}),
            transaction_missing(w.refund),
        ),
        # A's payment splits and credit balance adjustment are transactions as well.
        (
            b.get(f"/transactions/{w.pay_split}", params={"expand": "payment"}),
            transaction_missing(w.pay_split),
        ),
        (b.get(f"/transactions/{w.credit_split}"), transaction_missing(w.credit_split)),
        (b.get(f"/transactions/{w.adjustment}"), transaction_missing(w.adjustment)),
    ]


def _transaction_patch(b, w):
    return [
        (b.patch(f"/transactions/{w.txn}", json={"notes": "Hacked"}), transaction_missing(w.txn)),
        (
            b.patch(f"/transactions/{w.txn}", data={"metadata[rep]": "bob"}),
            transaction_missing(w.txn),
        ),
        (b.patch(f"/transactions/{w.txn}", json={"amount": 1}), transaction_missing(w.txn)),
        (b.patch(f"/transactions/{w.txn}", json={"status": "failed"}), transaction_missing(w.txn)),
        (
            b.patch(f"/transactions/{w.txn}", json={"customer": w.b_customer}),
            transaction_missing(w.txn),
        ),
        (b.patch(f"/transactions/{w.refund}", json={"notes": "x"}), transaction_missing(w.refund)),
        # TX10 would refuse these edits in A with 400; B must get the 404 instead.
        (
            b.patch(f"/transactions/{w.pay_split}", json={"amount": 1}),
            transaction_missing(w.pay_split),
        ),
        (
            b.patch(f"/transactions/{w.credit_split}", json={"notes": "x"}),
            transaction_missing(w.credit_split),
        ),
        (
            b.patch(f"/transactions/{w.adjustment}", json={"amount": -1}),
            transaction_missing(w.adjustment),
        ),
    ]


def _transaction_delete(b, w):
    return [
        (b.delete(f"/transactions/{w.refund}"), transaction_missing(w.refund)),
        (b.delete(f"/transactions/{w.txn}"), transaction_missing(w.txn)),
        (b.delete(f"/transactions/{w.pay_split}"), transaction_missing(w.pay_split)),
        (b.delete(f"/transactions/{w.credit_split}"), transaction_missing(w.credit_split)),
        (b.delete(f"/transactions/{w.adjustment}"), transaction_missing(w.adjustment)),
    ]


def _transaction_refund(b, w):
    return [
        (b.post(f"/transactions/{w.txn}/refunds", json={"amount": 1}), transaction_missing(w.txn)),
        (
            b.post(f"/transactions/{w.txn}/refunds", data={"amount": "30"}),
            transaction_missing(w.txn),
        ),
        (b.post(f"/transactions/{w.txn}/refunds", json={}), transaction_missing(w.txn)),
        # A's refund cannot be refunded either, but B must not learn that: 404, not 400.
        (
            b.post(f"/transactions/{w.refund}/refunds", json={"amount": 1}),
            transaction_missing(w.refund),
        ),
        # Payment-owned transactions are not refundable in A (PY19); B sees only a 404.
        (
            b.post(f"/transactions/{w.pay_split}/refunds", json={"amount": 1}),
            transaction_missing(w.pay_split),
        ),
        (
            b.post(f"/transactions/{w.adjustment}/refunds", json={"amount": 1}),
            transaction_missing(w.adjustment),
        ),
    ]


def payment_missing(pid):
    return f"Payment was not found: {pid}"


def _payment_get(b, w):
    return [
        (b.get(f"/payments/{w.payment}"), payment_missing(w.payment)),
        (
            b.get(f"/payments/{w.payment}", params={"include": "applied_to"}),
            payment_missing(w.payment),
        ),
        (
            b.get(f"/payments/{w.payment}", params={"include": "applied_to", "expand": "customer"}),
            payment_missing(w.payment),
        ),
    ]


def _payment_patch(b, w):
    p = f"/payments/{w.payment}"
    missing = payment_missing(w.payment)
    return [
        (b.patch(p, json={"notes": "Hacked"}), missing),
        (b.patch(p, data={"metadata[rep]": "bob"}), missing),
        (b.patch(p, json={"amount": 1000}), missing),
        (b.patch(p, json={"method": "cash", "reference": "B-1"}), missing),
        # PY11/PY13: unapplying or moving the payment to B's customer.
        (b.patch(p, json={"applied_to": []}), missing),
        (b.patch(p, json={"customer": w.b_customer}), missing),
        (
            b.patch(
                p,
                json={
                    "applied_to": [
                        {"id": w.pay_split, "type": "invoice", "invoice": w.inv, "amount": 1}
                    ]
                },
            ),
            missing,
        ),
        (
            b.patch(
                p,
                params={"include": "applied_to"},
                json={"applied_to": [{"type": "invoice", "invoice": w.b_invoice, "amount": 1}]},
            ),
            missing,
        ),
    ]


def _payment_delete(b, w):
    return [(b.delete(f"/payments/{w.payment}"), payment_missing(w.payment))]


def adjustment_missing(aid):
    return f"Credit balance adjustment was not found: {aid}"


def _adjustment_get(b, w):
    return [
        (b.get(f"/credit_balance_adjustments/{w.adjustment}"), adjustment_missing(w.adjustment))
    ]


def _adjustment_patch(b, w):
    p = f"/credit_balance_adjustments/{w.adjustment}"
    missing = adjustment_missing(w.adjustment)
    return [
        (b.patch(p, json={"amount": 1000}), missing),
        (b.patch(p, json={"notes": "Hacked"}), missing),
        (b.patch(p, data={"amount": "-25"}), missing),
        (b.patch(p, json={"date": 1}), missing),
        (b.patch(p, json={"customer": w.b_customer}), missing),
    ]


def _adjustment_delete(b, w):
    return [
        (b.delete(f"/credit_balance_adjustments/{w.adjustment}"), adjustment_missing(w.adjustment))
    ]


def email_missing(eid):
    return f"Email was not found: {eid}"


def _invoice_emails(b, w):
    p = f"/invoices/{w.inv}/emails"
    return [
        (b.post(p), invoice_missing(w)),
        (b.post(p, json={"to": [{"email": "b@example.com"}]}), invoice_missing(w)),
        (
            b.post(p, data={"to[0][email]": "b@example.com", "bcc": "b2@example.com"}),
            invoice_missing(w),
        ),
        # A would get 400s for these; B must only learn that the invoice does not exist.
        (b.post(p, json={"template": "nope"}), invoice_missing(w)),
        (b.post(p, json={"to": [{"email": "not-an-address"}]}), invoice_missing(w)),
    ]


def _customer_emails(b, w):
    p = f"/customers/{w.x}/emails"
    return [
        (b.post(p), customer_missing(w)),
        (b.post(p, json={"type": "open_item"}), customer_missing(w)),
        (b.post(p, data={"type": "balance_forward", "to": "b@example.com"}), customer_missing(w)),
        (b.post(p, json={"type": "weekly"}), customer_missing(w)),
    ]


def _payment_emails(b, w):
    p = f"/payments/{w.payment}/emails"
    missing = payment_missing(w.payment)
    return [(b.post(p), missing), (b.post(p, json={"to": "b@example.com"}), missing)]


def _transaction_emails(b, w):
    return [
        (b.post(f"/transactions/{w.txn}/emails"), transaction_missing(w.txn)),
        (
            b.post(f"/transactions/{w.txn}/emails", json={"to": "b@example.com"}),
            transaction_missing(w.txn),
        ),
        (b.post(f"/transactions/{w.pay_split}/emails"), transaction_missing(w.pay_split)),
        # No receipt for an adjustment in A (400); B sees only the 404.
        (b.post(f"/transactions/{w.adjustment}/emails"), transaction_missing(w.adjustment)),
    ]


def _refused_feature(prefix, kind):
    """EM16: 400 for A's own documents, 404 for B."""

    def requests(b, w):
        ident, missing = (
            (w.inv, invoice_missing(w)) if prefix == "/invoices" else (w.x, customer_missing(w))
        )
        return [
            (b.post(f"{prefix}/{ident}/{kind}"), missing),
            (b.post(f"{prefix}/{ident}/{kind}", json={"to": [{"phone": "+15555550100"}]}), missing),
        ]

    return {("POST", f"{prefix}/{{}}/{kind}"): requests}


def _email_get(b, w):
    return [(b.get(f"/emails/{w.email}"), email_missing(w.email))]


def _email_message(b, w):
    return [(b.get(f"/emails/{w.email}/message"), email_missing(w.email))]


def _catalog_routes(prefix, attr, object_name):
    """GET/PATCH/DELETE on a string-id catalog resource (items.md, coupons_tax_rates.md)."""

    def missing(w):
        return f"{object_name} was not found: {getattr(w, attr)}"

    def get(b, w):
        return [(b.get(f"{prefix}/{getattr(w, attr)}"), missing(w))]

    def patch(b, w):
        return [
            (b.patch(f"{prefix}/{getattr(w, attr)}", json={"name": "Hacked"}), missing(w)),
            (b.patch(f"{prefix}/{getattr(w, attr)}", data={"metadata[x]": "1"}), missing(w)),
        ]

    def delete(b, w):
        return [(b.delete(f"{prefix}/{getattr(w, attr)}"), missing(w))]

    return {
        ("GET", f"{prefix}/{{}}"): get,
        ("PATCH", f"{prefix}/{{}}"): patch,
        ("DELETE", f"{prefix}/{{}}"): delete,
    }


CROSS_TENANT = {
    ("GET", "/customers/{}"): _customer_get,
    ("PATCH", "/customers/{}"): _customer_patch,
    ("DELETE", "/customers/{}"): _customer_delete,
    ("GET", "/customers/{}/balance"): _customer_balance,
    ("POST", "/customers/{}/contacts"): _contacts_create,
    ("GET", "/customers/{}/contacts"): _contacts_list,
    ("GET", "/customers/{}/contacts/{}"): _contact_get,
    ("PATCH", "/customers/{}/contacts/{}"): _contact_patch,
    ("DELETE", "/customers/{}/contacts/{}"): _contact_delete,
    ("GET", "/events/{}"): _event_get,
    ("GET", "/invoices/{}"): _invoice_get,
    ("PATCH", "/invoices/{}"): _invoice_patch,
    ("DELETE", "/invoices/{}"): _invoice_delete,
    ("POST", "/invoices/{}/void"): _invoice_void,
    ("GET", "/invoices/{}/line_items"): _lines_list,
    ("POST", "/invoices/{}/line_items"): _lines_create,
    ("GET", "/invoices/{}/line_items/{}"): _line_get,
    ("PATCH", "/invoices/{}/line_items/{}"): _line_patch,
    ("DELETE", "/invoices/{}/line_items/{}"): _line_delete,
    ("GET", "/transactions/{}"): _transaction_get,
    ("PATCH", "/transactions/{}"): _transaction_patch,
    ("DELETE", "/transactions/{}"): _transaction_delete,
    ("POST", "/transactions/{}/refunds"): _transaction_refund,
    ("GET", "/payments/{}"): _payment_get,
    ("PATCH", "/payments/{}"): _payment_patch,
    ("DELETE", "/payments/{}"): _payment_delete,
    ("GET", "/credit_balance_adjustments/{}"): _adjustment_get,
    ("PATCH", "/credit_balance_adjustments/{}"): _adjustment_patch,
    ("DELETE", "/credit_balance_adjustments/{}"): _adjustment_delete,
    ("POST", "/invoices/{}/emails"): _invoice_emails,
    ("POST", "/customers/{}/emails"): _customer_emails,
    ("POST", "/payments/{}/emails"): _payment_emails,
    ("POST", "/transactions/{}/emails"): _transaction_emails,
    **_refused_feature("/invoices", "text_messages"),
    **_refused_feature("/invoices", "letters"),
    **_refused_feature("/customers", "text_messages"),
    **_refused_feature("/customers", "letters"),
    ("GET", "/emails/{}"): _email_get,
    ("GET", "/emails/{}/message"): _email_message,
    **_catalog_routes("/items", "item", "Item"),
    **_catalog_routes("/catalog_items", "item", "Item"),
    **_catalog_routes("/coupons", "coupon", "Coupon"),
    **_catalog_routes("/tax_rates", "tax_rate", "Tax rate"),
}

# Routes with a path parameter that name no account object, with the reason.
PORTAL = (
    "C18 capability URL, no API key: another account's identifier gives the same 404 page "
    "(tests/test_portal.py)"
)
NOT_TENANT_OBJECTS = {
    ("POST", "/_test/jobs/{}/run"): "C23.2 test hook: the parameter is a job name",
    ("GET", "/portal/invoices/{}/{}"): PORTAL,
    ("GET", "/portal/invoices/{}/{}/pdf"): PORTAL,
    ("GET", "/portal/invoices/{}/{}/payment"): PORTAL,
    ("GET", "/portal/payments/{}/{}"): PORTAL,
    ("GET", "/portal/payments/{}/{}/pdf"): PORTAL,
    ("GET", "/portal/statements/{}/{}"): PORTAL,
    ("GET", "/portal/statements/{}/{}/pdf"): PORTAL,
    ("GET", "/portal/{}"): PORTAL,
}


def _iter_routes(routes, prefix=""):
    """(method, path) of every HTTP route, flattening included routers and mounts."""
    for route in routes:
        if hasattr(route, "original_router") and hasattr(route, "include_context"):
            # FastAPI >= 0.16x keeps included routers as one entry each.
            child_prefix = prefix + (route.include_context.prefix or "")
            yield from _iter_routes(route.original_router.routes, child_prefix)
        elif hasattr(route, "methods") and hasattr(route, "path"):
            if route.methods is None:
                yield "*", prefix + route.path
            for method in route.methods or ():
                if method != "HEAD":  # Starlette adds HEAD to every GET route
                    yield method, prefix + route.path
        elif hasattr(route, "routes") and hasattr(route, "path"):
            sub_routes = route.routes
            if sub_routes:
                yield from _iter_routes(sub_routes, prefix + route.path)
            else:  # a mounted app: everything below the mount point is a path parameter
                yield "*", prefix + route.path + "/{path}"
        elif hasattr(route, "path"):
            yield "*", prefix + route.path
        else:
            raise AssertionError(f"unclassifiable route object: {route!r}")


def _path_key(path):
    return re.sub(r"\{[^{}]*\}", "{}", path)


def test_every_path_parameter_route_is_classified(app_client):
    found = {
        (method, _path_key(path))
        for method, path in _iter_routes(app_client.app.routes)
        if "{" in path
    }
    assert found, "no routes with path parameters found: the route walk is broken"
    classified = set(CROSS_TENANT) | set(NOT_TENANT_OBJECTS)
    unclassified = sorted(found - classified)
    assert not unclassified, (
        f"routes with path parameters not covered by test_isolation.py: {unclassified}. "
        "Add each to CROSS_TENANT (with B's requests on A's ids) or NOT_TENANT_OBJECTS."
    )
    stale = sorted(classified - found)
    assert not stale, f"classified routes that no longer exist: {stale}"


@pytest.mark.parametrize("route", sorted(CROSS_TENANT), ids=lambda r: f"{r[0]} {r[1]}")
def test_c2_9_other_account_ids_are_not_found(api, other_api, world, route):
    a_before = a_state(api, world)
    b_before = b_state(other_api, world)
    for r, message in CROSS_TENANT[route](other_api, world):
        assert r.status_code == 404, (route, r.request.url, r.text)
        body = r.json()
        assert body == {"type": "invalid_request", "message": message}, (route, r.request.url)
    assert a_state(api, world) == a_before
    assert b_state(other_api, world) == b_before  # no events, no stray objects in B either


@pytest.mark.parametrize("route", sorted(CROSS_TENANT), ids=lambda r: f"{r[0]} {r[1]}")
def test_c2_9_foreign_id_answers_like_missing_id(api, other_api, world, route):
    """The 404 for A's id is byte-for-byte the 404 for a never-used id (apart from the id)."""
    missing = World(
        x=10**12 + 1,
        y=10**12 + 2,
        cx=10**12 + 3,
        cy=10**12 + 4,
        x_number="NOPE",
        a_events=[10**12 + 5],
        b_customer=world.b_customer,
        b_contact=world.b_contact,
        inv=10**12 + 6,
        line=10**12 + 7,
        line2=10**12 + 8,
        item="never-used-item",
        coupon="never-used-coupon",
        tax_rate="never-used-rate",
        b_invoice=world.b_invoice,
        b_line=world.b_line,
        txn=10**12 + 9,
        refund=10**12 + 10,
        payment=10**12 + 11,
        pay_split=10**12 + 12,
        credit_split=10**12 + 13,
        adjustment=10**12 + 14,
        email="0" * 32,
    )
    foreign = CROSS_TENANT[route](other_api, world)
    absent = CROSS_TENANT[route](other_api, missing)
    assert len(foreign) >= len(absent)
    for (r_foreign, _), (r_absent, _) in zip(foreign, absent, strict=False):
        assert r_foreign.status_code == r_absent.status_code == 404
        assert set(r_foreign.headers) == set(r_absent.headers)
        assert set(r_foreign.json()) == set(r_absent.json())


def test_b_lists_show_nothing_of_a(api, other_api, world):
    w = world

    def ids(path, **params):
        r = other_api.get(path, params=params)
        assert r.status_code == 200, (path, params, r.text)
        return [o["id"] for o in r.json()], int(r.headers["X-Total-Count"])

    assert ids("/customers") == ([w.b_customer], 1)
    assert ids("/customers", **{"filter[id]": w.x}) == ([], 0)
    assert ids("/customers", **{"filter[name]": "A-X"}) == ([], 0)
    # Numbering is per account: both own CUST-00001, B only sees its own.
    assert ids("/customers", **{"filter[number]": w.x_number}) == ([w.b_customer], 1)
    assert ids("/customers", **{"metadata[rep]": "alice"}) == ([], 0)
    assert ids("/customers", **{"filter[city]": "Paris"}) == ([], 0)
    assert ids("/customers", sort="name desc", per_page=1, page=2) == ([], 1)
    assert ids(f"/customers/{w.b_customer}/contacts") == ([w.b_contact], 1)

    # Invoices, catalog: B sees only its own (invoices.md §13, items.md §4, coupons §1).
    assert ids("/invoices") == ([w.b_invoice], 1)
    assert ids("/invoices", **{"filter[customer]": w.x}) == ([], 0)
    assert ids("/invoices", **{"filter[customer]": w.y}) == ([], 0)
    assert ids("/invoices", **{"filter[id]": w.inv}) == ([], 0)
    assert ids("/invoices", **{"metadata[rep]": "alice"}) == ([], 0)
    assert ids("/invoices", **{"filter[total]": "137.25"}) == ([], 0)  # A's total
    # Numbering is per account (C19): both own INV-00001, B only sees its own.
    assert ids("/invoices", **{"filter[number]": "INV-00001"}) == ([w.b_invoice], 1)
    for status in ("not_sent", "paid", "draft", "past_due"):
        found, _ = ids("/invoices", **{"filter[status]": status})
        assert w.inv not in found
    assert ids("/items") == ([], 0)
    assert ids("/catalog_items") == ([], 0)
    assert ids("/items", archived=1) == ([], 0)
    assert ids("/coupons") == ([], 0)
    assert ids("/tax_rates") == ([], 0)
    assert ids(f"/invoices/{w.b_invoice}/line_items") == ([w.b_line], 1)

    b_events, total = ids("/events")
    # B's customer.created, contact.created and invoice.created.
    assert total == len(b_events) == 3
    assert not set(b_events) & set(w.a_events)
    assert ids("/events", related_to=f"customer,{w.x}") == ([], 0)
    assert ids("/events", related_to=f"customer,{w.y}") == ([], 0)
    assert ids("/events", related_to=f"contact,{w.cx}") == ([], 0)
    assert ids("/events", related_to=f"invoice,{w.inv}") == ([], 0)
    assert ids("/events", **{"filter[type]": "invoice.created"}) == ([b_events[0]], 1)
    assert ids("/events", **{"filter[type]": "customer.updated"}) == ([], 0)
    created, _ = ids("/events", **{"filter[type]": "customer.created"})
    assert len(created) == 1
    event = other_api.get(f"/events/{created[0]}").json()
    assert event["data"]["object"]["id"] == w.b_customer
    # A's own view, for contrast: the same queries find A's objects.
    r = api.get("/events", params={"related_to": f"customer,{w.x}"})
    assert int(r.headers["X-Total-Count"]) >= 3
    r = api.get("/customers", params={"metadata[rep]": "alice"})
    assert [c["id"] for c in r.json()] == [w.x, w.y]


def test_ct5_contact_under_another_customer_of_same_account(api, world):
    w = world
    before = a_state(api, w)
    message = f"Contact was not found: {w.cx}"
    path = f"/customers/{w.y}/contacts/{w.cx}"
    for r in (
        api.get(path),
        api.patch(path, json={"name": "Moved"}),
        api.patch(path, data={"email": "x@example.com"}),
        api.delete(path),
    ):
        assert r.status_code == 404, r.text
        assert r.json() == {"type": "invalid_request", "message": message}
    assert a_state(api, w) == before
    listed = [c["id"] for c in api.get(f"/customers/{w.y}/contacts").json()]
    assert listed == [w.cy]
    assert api.get(f"/customers/{w.x}/contacts/{w.cx}").json()["customer"] == w.x


def test_c3_9_account_id_in_body_is_ignored(api, other_api):
    target = other_api.account.id
    body = {"name": "Sneaky", "account_id": target, "account": target, "tenant_id": target}
    r = api.post("/customers", json=body)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = api.patch(f"/customers/{cid}", json={"account_id": target, "account": target})
    assert r.status_code == 200, r.text
    r = api.post(f"/customers/{cid}/contacts", json={"name": "Sneaky c", "account_id": target})
    assert r.status_code == 201, r.text
    assert [c["id"] for c in api.get("/customers").json()] == [cid]
    assert other_api.get("/customers").json() == []
    assert other_api.get(f"/customers/{cid}").status_code == 404
    assert other_api.get("/events").json() == []


def test_c2_9_deleted_by_a_is_missing_for_b_too(api, other_api, world):
    """A's delete does not make the id reusable or visible to B."""
    assert api.delete(f"/customers/{world.y}").status_code == 204
    r = other_api.get(f"/customers/{world.y}")
    assert r.status_code == 404
    assert r.json()["message"] == f"Customer was not found: {world.y}"
    r = other_api.get(f"/customers/{world.y}/contacts/{world.cy}")
    assert r.status_code == 404


def test_cu10_parent_customer_of_another_account_is_no_such_customer(api, other_api, world):
    """An id in a request body is looked up in the caller's account only (C2.9, CU10)."""
    w = world
    r = other_api.post("/customers", json={"name": "Child", "parent_customer": w.x})
    assert r.status_code == 400, r.text
    assert r.json() == {
        "type": "invalid_request",
        "message": f"No such customer: {w.x}",
        "param": "parent_customer",
    }
    r = other_api.patch(f"/customers/{w.b_customer}", json={"parent_customer": w.x})
    assert r.status_code == 400, r.text
    assert r.json()["param"] == "parent_customer"
    assert other_api.get(f"/customers/{w.b_customer}").json()["parent_customer"] is None
    r = other_api.get("/customers", params={"filter[parent_customer]": w.x})
    assert r.json() == []


def test_c19_3_numbers_are_unique_per_account_only(api, other_api):
    r = api.post("/customers", json={"name": "A", "number": "SHARED-1"})
    assert r.status_code == 201, r.text
    r = other_api.post("/customers", json={"name": "B", "number": "shared-1"})
    assert r.status_code == 201, r.text
    assert r.json()["number"] == "shared-1"
    r = api.post("/customers", json={"name": "A2", "number": "Shared-1"})
    assert r.status_code == 400, r.text
    assert r.json()["param"] == "number"


def _b_invoice_error(b, body, param, message):
    r = b.post("/invoices", json=body)
    assert r.status_code == 400, (body, r.text)
    assert r.json() == {"type": "invalid_request", "message": message, "param": param}, body


def test_invoice_body_references_to_another_account_are_no_such_x(api, other_api, world):
    """§15 / R2 / AR1: B's invoice naming A's customer, item, coupon or tax rate -> the 400 of
    a missing id, nothing stored in either account."""
    w = world
    a_before = a_state(api, w)
    b_before = b_state(other_api, w)
    own = {"customer": w.b_customer}
    _b_invoice_error(other_api, {"customer": w.x}, "customer", f"No such customer: {w.x}")
    _b_invoice_error(other_api, {"customer": {"id": w.x}}, "customer", f"No such customer: {w.x}")
    _b_invoice_error(
        other_api,
        {**own, "items": [{"catalog_item": w.item}]},
        "items",
        f"No such item: {w.item}",
    )
    _b_invoice_error(
        other_api, {**own, "discounts": [w.coupon]}, "discounts", f"No such coupon: {w.coupon}"
    )
    _b_invoice_error(
        other_api,
        {**own, "discounts": [{"coupon": w.coupon}]},
        "discounts",
        f"No such coupon: {w.coupon}",
    )
    _b_invoice_error(
        other_api, {**own, "taxes": [w.tax_rate]}, "taxes", f"No such tax rate: {w.tax_rate}"
    )
    _b_invoice_error(
        other_api,
        {**own, "taxes": [{"tax_rate": w.tax_rate}]},
        "taxes",
        f"No such tax rate: {w.tax_rate}",
    )
    _b_invoice_error(
        other_api,
        {**own, "items": [{"name": "x", "unit_cost": 1, "taxes": [w.tax_rate]}]},
        "items",
        f"No such tax rate: {w.tax_rate}",
    )
    _b_invoice_error(
        other_api,
        {**own, "items": [{"name": "x", "unit_cost": 1, "discounts": [w.coupon]}]},
        "items",
        f"No such coupon: {w.coupon}",
    )
    # Form-encoded, as curl sends it (C3.2).
    r = other_api.post("/invoices", data={"customer": str(w.x), "items[0][name]": "x"})
    assert r.status_code == 400, r.text
    assert r.json() == {
        "type": "invalid_request",
        "message": f"No such customer: {w.x}",
        "param": "customer",
    }

    # PATCH of B's own invoice with A's line, rates and items.
    path = f"/invoices/{w.b_invoice}"
    for body, param, message in (
        ({"items": [{"id": w.line, "quantity": 2}]}, "items", None),
        ({"items": [{"catalog_item": w.item}]}, "items", f"No such item: {w.item}"),
        ({"taxes": [w.tax_rate]}, "taxes", f"No such tax rate: {w.tax_rate}"),
        ({"discounts": [w.coupon]}, "discounts", f"No such coupon: {w.coupon}"),
        ({"customer": w.x}, "customer", None),  # E1
    ):
        r = other_api.patch(path, json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["param"] == param, (body, r.text)
        if message is not None:
            assert r.json()["message"] == message
    line_path = f"/invoices/{w.b_invoice}/line_items"
    for body, message in (
        ({"catalog_item": w.item}, f"No such item: {w.item}"),
        ({"name": "x", "taxes": [w.tax_rate]}, f"No such tax rate: {w.tax_rate}"),
        ({"name": "x", "discounts": [w.coupon]}, f"No such coupon: {w.coupon}"),
    ):
        r = other_api.post(line_path, json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["message"] == message

    # Customers and items of B cannot use A's tax rate either (CU9, IT6).
    r = other_api.post("/customers", json={"name": "Taxed", "taxes": [w.tax_rate]})
    assert r.status_code == 400, r.text
    assert r.json()["param"] == "taxes"
    r = other_api.post("/items", json={"id": "b-item", "name": "B", "taxes": [w.tax_rate]})
    assert r.status_code == 400, r.text
    assert r.json()["param"] == "taxes"

    assert a_state(api, w) == a_before
    assert b_state(other_api, w) == b_before


def _b_transaction_error(b, body, param, message, *, form=False):
    if form:  # as curl sends it (C3.2)
        r = b.post("/transactions", data={k: str(v) for k, v in body.items()})
    else:
        r = b.post("/transactions", json=body)
    assert r.status_code == 400, (body, r.text)
    assert r.json() == {"type": "invalid_request", "message": message, "param": param}, body


def test_transaction_body_references_to_another_account_are_no_such_x(api, other_api, world):
    """TX2 / C2.9: B recording money against A's invoice, customer or transaction gets the 400 of
    a missing id; nothing is stored in either account and A's invoice keeps its balance."""
    w = world
    a_before = a_state(api, w)
    b_before = b_state(other_api, w)
    for form in (False, True):
        _b_transaction_error(
            other_api,
            {"invoice": w.inv, "amount": 5},
            "invoice",
            f"No such invoice: {w.inv}",
            form=form,
        )
        # Naming B's own customer does not make A's invoice visible.
        _b_transaction_error(
            other_api,
            {"invoice": w.inv, "customer": w.b_customer, "amount": 5},
            "invoice",
            f"No such invoice: {w.inv}",
            form=form,
        )
        _b_transaction_error(
            other_api,
            {"customer": w.x, "amount": 5},
            "customer",
            f"No such customer: {w.x}",
            form=form,
        )
        _b_transaction_error(
            other_api,
            {"invoice": w.b_invoice, "amount": 5, "parent_transaction": w.txn},
            "parent_transaction",
            f"No such transaction: {w.txn}",
            form=form,
        )
        # A refund of A's payment recorded in B as a plain `refund` transaction: same answer.
        _b_transaction_error(
            other_api,
            {"invoice": w.b_invoice, "type": "refund", "amount": 5, "parent_transaction": w.txn},
            "parent_transaction",
            f"No such transaction: {w.txn}",
            form=form,
        )
    assert a_state(api, w) == a_before
    assert b_state(other_api, w) == b_before
    assert api.get(f"/invoices/{w.inv}").json()["balance"] == 57.25


def test_b_transaction_lists_show_nothing_of_a(api, other_api, world):
    """TX16 / C2.9: B's GET /transactions never lists A's transactions, whatever the filter."""
    w = world

    def ids(**params):
        r = other_api.get("/transactions", params=params)
        assert r.status_code == 200, (params, r.text)
        return [t["id"] for t in r.json()], int(r.headers["X-Total-Count"])

    assert ids() == ([], 0)
    # B's own payment, on B's invoice, with the same amount, method and metadata as A's.
    r = other_api.post(
        "/transactions",
        json={
            "invoice": w.b_invoice,
            "amount": 37.25,
            "method": "check",
            "metadata": {"rep": "alice"},
        },
    )
    assert r.status_code == 201, r.text
    mine = r.json()["id"]
    assert ids() == ([mine], 1)
    assert ids(expand="customer,invoice,parent_transaction") == ([mine], 1)
    assert ids(**{"filter[customer]": w.x}) == ([], 0)
    assert ids(**{"filter[invoice]": w.inv}) == ([], 0)
    assert ids(**{"filter[id]": w.txn}) == ([], 0)
    assert ids(**{"filter[id]": w.refund}) == ([], 0)
    assert ids(**{"filter[type]": "refund"}) == ([], 0)
    assert ids(**{"filter[amount]": "7.25"}) == ([], 0)
    assert ids(**{"filter[amount]": "37.25"}) == ([mine], 1)
    assert ids(**{"metadata[rep]": "alice"}) == ([mine], 1)
    assert ids(**{"filter[method]": "check"}) == ([mine], 1)
    assert ids(sort="amount asc", per_page=1, page=2) == ([], 1)
    r = other_api.get("/events", params={"related_to": f"invoice,{w.inv}"})
    assert r.json() == []
    # A's view, for contrast.
    r = api.get("/transactions")
    assert [t["id"] for t in r.json()] == [
        w.txn,
        w.refund,
        w.pay_split,
        w.credit_split,
        w.adjustment,
    ]
    assert other_api.get(f"/invoices/{w.b_invoice}").json()["balance"] == 7 - 37.25


# Ids no account has used (every sequence is far below), for "exactly like a missing id".
NEVER_CUSTOMER = 10**12 + 1
NEVER_INVOICE = 10**12 + 6
NEVER_SPLIT = 10**12 + 12


def _form(value, prefix=""):
    """A nested JSON body as the bracketed form fields curl sends (README C3.2)."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {prefix: str(value)}
    fields = {}
    for key, item in items:
        fields.update(_form(item, f"{prefix}[{key}]" if prefix else str(key)))
    return fields


def _b_error(b, method, path, body, param, message, *, form=False):
    sent = {"data": _form(body)} if form else {"json": body}
    r = b.request(method, path, **sent)
    assert r.status_code == 400, (method, path, body, form, r.text)
    assert r.json() == {"type": "invalid_request", "message": message, "param": param}, (
        method,
        path,
        body,
        form,
    )


def test_payment_body_references_to_another_account_are_no_such_x(api, other_api, world):
    """PY3 / PY5 / PY11 / credit_balances.md §4 / C2.9: B's payments and credit balance
    adjustments naming A's invoice, customer or payment application get exactly the 400 of an
    id that never existed; nothing changes in A (invoice balance, credit) or in B."""
    w = world
    # B's own applied payment: 5 of its 7 invoice.
    r = other_api.post(
        "/payments",
        params={"include": "applied_to"},
        json={
            "customer": w.b_customer,
            "amount": 5,
            "applied_to": [{"type": "invoice", "invoice": w.b_invoice, "amount": 5}],
        },
    )
    assert r.status_code == 201, r.text
    b_payment = r.json()["id"]
    (b_split,) = (s["id"] for s in r.json()["applied_to"])
    r = other_api.post("/credit_balance_adjustments", json={"customer": w.b_customer, "amount": 4})
    assert r.status_code == 201, r.text
    b_adjustment = r.json()["id"]

    def b_everything():
        return state_of(
            other_api,
            [w.b_customer],
            [(w.b_customer, w.b_contact)],
            [w.b_invoice],
            [(w.b_invoice, w.b_line)],
            transactions=[b_split, b_adjustment],
            payments=[b_payment],
            adjustments=[b_adjustment],
        )

    a_before = a_state(api, w)
    b_before = b_everything()
    b = other_api
    own = {"customer": w.b_customer}
    for form in (False, True):
        for invoice in (w.inv, NEVER_INVOICE):
            missing = f"Could not find invoice: {invoice}"
            for body in (
                # PY3: no customer, so A's invoice would name the payer.
                {"amount": 5, "applied_to": [{"type": "invoice", "invoice": invoice, "amount": 5}]},
                {
                    **own,
                    "amount": 5,
                    "applied_to": [{"type": "invoice", "invoice": invoice, "amount": 5}],
                },
                # After one of B's own invoice splits.
                {
                    **own,
                    "amount": 5,
                    "applied_to": [
                        {"type": "invoice", "invoice": w.b_invoice, "amount": 2},
                        {"type": "invoice", "invoice": invoice, "amount": 3},
                    ],
                },
                # Spending credit on A's invoice (CB6).
                {
                    **own,
                    "amount": 0,
                    "applied_to": [
                        {
                            "type": "applied_credit",
                            "document_type": "invoice",
                            "invoice": invoice,
                            "amount": 5,
                        }
                    ],
                },
            ):
                _b_error(b, "POST", "/payments", body, "applied_to", missing, form=form)
            # PATCH of B's own payment moving its money onto A's invoice (PY11).
            _b_error(
                b,
                "PATCH",
                f"/payments/{b_payment}",
                {"applied_to": [{"type": "invoice", "invoice": invoice, "amount": 5}]},
                "applied_to",
                missing,
                form=form,
            )
        for customer in (w.x, NEVER_CUSTOMER):
            missing = f"No such customer: {customer}"
            for body in (
                {"customer": customer, "amount": 5},
                {
                    "customer": customer,
                    "amount": 5,
                    "applied_to": [{"type": "credit", "amount": 5}],
                },
                {
                    "customer": customer,
                    "amount": 5,
                    "applied_to": [{"type": "invoice", "invoice": w.b_invoice, "amount": 5}],
                },
            ):
                _b_error(b, "POST", "/payments", body, "customer", missing, form=form)
            for amount in (5, -5):
                _b_error(
                    b,
                    "POST",
                    "/credit_balance_adjustments",
                    {"customer": customer, "amount": amount},
                    "customer",
                    missing,
                    form=form,
                )
            _b_error(
                b,
                "PATCH",
                f"/payments/{b_payment}",
                {"customer": customer},
                "customer",
                missing,
                form=form,
            )
        # PY11: a split `id` of A's payment is no application of B's payment.
        for split in (w.pay_split, w.credit_split, NEVER_SPLIT):
            missing = f"No such payment application: {split}"
            for entry in (
                {"id": split, "type": "invoice", "invoice": w.b_invoice, "amount": 5},
                {"id": split, "type": "credit", "amount": 5},
            ):
                _b_error(
                    b,
                    "PATCH",
                    f"/payments/{b_payment}",
                    {"applied_to": [entry]},
                    "applied_to",
                    missing,
                    form=form,
                )
        # A's split id together with A's invoice: whichever is refused first, the answer is
        # the one for a never-used split id with a never-used invoice.
        answers = []
        for split, invoice in ((w.pay_split, w.inv), (NEVER_SPLIT, NEVER_INVOICE)):
            entry = {"id": split, "type": "invoice", "invoice": invoice, "amount": 5}
            body = {"applied_to": [entry]}
            if form:
                r = b.patch(f"/payments/{b_payment}", data=_form(body))
            else:
                r = b.patch(f"/payments/{b_payment}", json=body)
            assert r.status_code == 400, r.text
            answer = r.json()
            kinds = {
                f"No such payment application: {split}": "split",
                f"Could not find invoice: {invoice}": "invoice",
            }
            assert answer["message"] in kinds, answer
            answers.append({**answer, "message": kinds[answer["message"]]})
        assert answers[0] == answers[1]
        assert answers[0]["param"] == "applied_to"
    # credit_balances.md §2: `customer` is create-only, so naming A's customer on PATCH of
    # B's adjustment is ignored and changes nothing (no event either: compared below).
    r = b.patch(f"/credit_balance_adjustments/{b_adjustment}", json={"customer": w.x})
    assert r.status_code == 200, r.text
    assert (r.json()["customer"], r.json()["amount"]) == (w.b_customer, 4)

    assert a_state(api, w) == a_before
    assert b_everything() == b_before
    assert api.get(f"/invoices/{w.inv}").json()["balance"] == 57.25
    assert api.get(f"/customers/{w.x}").json()["credit_balance"] == 35
    assert b.get(f"/invoices/{w.b_invoice}").json()["balance"] == 2
    assert b.get(f"/customers/{w.b_customer}").json()["credit_balance"] == 4


def test_b_payment_and_adjustment_lists_show_nothing_of_a(api, other_api, world):
    """PY18 / credit_balances.md §1 / C2.9: B's GET /payments and GET /credit_balance_adjustments
    never list A's objects, whatever the filter, include or expand."""
    w = world
    payments, adjustments = "/payments", "/credit_balance_adjustments"

    def ids(path, **params):
        r = other_api.get(path, params=params)
        assert r.status_code == 200, (path, params, r.text)
        return [o["id"] for o in r.json()], int(r.headers["X-Total-Count"])

    everything = {"include": "applied_to", "expand": "customer"}
    for params in (
        {},
        {"include": "applied_to"},
        {"expand": "customer"},
        everything,
        {"filter[customer]": w.x},
        {"filter[customer]": w.x, **everything},
        {"filter[id]": w.payment},
        {"metadata[rep]": "alice"},
        {"filter[reference]": "A-1001"},
        {"filter[method]": "check"},
        {"filter[amount]": "60"},
        {"filter[applied]": "1"},
        {"filter[voided]": "0"},
    ):
        assert ids(payments, **params) == ([], 0), params
    for params in (
        {},
        {"filter[customer]": w.x},
        {"filter[id]": w.adjustment},
        {"filter[id]": w.credit_split},
        {"filter[currency]": "usd"},
        {"sort": "amount desc"},
    ):
        assert ids(adjustments, **params) == ([], 0), params

    # B's own payment with A's amount, method, reference and metadata: 7 on B's invoice and 53
    # to B's credit; and B's own adjustment of A's amount.
    r = other_api.post(
        payments,
        json={
            "customer": w.b_customer,
            "amount": 60,
            "method": "check",
            "reference": "A-1001",
            "metadata": {"rep": "alice"},
            "applied_to": [
                {"type": "invoice", "invoice": w.b_invoice, "amount": 7},
                {"type": "credit", "amount": 53},
            ],
        },
    )
    assert r.status_code == 201, r.text
    mine = r.json()["id"]
    r = other_api.post(adjustments, json={"customer": w.b_customer, "amount": 25})
    assert r.status_code == 201, r.text
    my_adjustment = r.json()["id"]

    assert ids(payments) == ([mine], 1)
    r = other_api.get(payments, params=everything)
    (listed,) = r.json()
    assert listed["customer"]["id"] == w.b_customer
    assert listed["customer"]["name"] == "B-1"
    assert listed["customer"]["credit_balance"] == 78  # 53 + 25: none of A's 35
    splits = [(s["type"], s.get("invoice"), s["amount"]) for s in listed["applied_to"]]
    assert splits == [("invoice", w.b_invoice, 7), ("credit", None, 53)]
    assert not {s["id"] for s in listed["applied_to"]} & {w.pay_split, w.credit_split}
    assert ids(payments, **{"filter[customer]": w.x, **everything}) == ([], 0)
    assert ids(payments, **{"filter[customer]": w.b_customer}) == ([mine], 1)
    assert ids(payments, **{"filter[id]": w.payment}) == ([], 0)
    assert ids(payments, **{"metadata[rep]": "alice"}) == ([mine], 1)
    assert ids(payments, **{"filter[reference]": "A-1001"}) == ([mine], 1)
    assert ids(payments, **{"filter[amount]": "60"}) == ([mine], 1)
    assert ids(payments, sort="amount asc", per_page=1, page=2) == ([], 1)

    assert ids(adjustments) == ([my_adjustment], 1)
    assert ids(adjustments, **{"filter[customer]": w.x}) == ([], 0)
    assert ids(adjustments, **{"filter[customer]": w.b_customer}) == ([my_adjustment], 1)
    assert ids(adjustments, **{"filter[id]": w.adjustment}) == ([], 0)
    assert ids(adjustments, sort="amount desc", per_page=1, page=2) == ([], 1)

    # B's events concern B's payment and adjustment only (EV1).
    assert ids("/events", related_to=f"customer,{w.x}") == ([], 0)
    assert ids("/events", related_to=f"invoice,{w.inv}") == ([], 0)
    created, _ = ids("/events", **{"filter[type]": "payment.created"})
    assert len(created) == 1
    event = other_api.get(f"/events/{created[0]}").json()
    assert event["data"]["object"]["id"] == mine
    # CB8: the adjustment's transaction.created; payment splits record none.
    created, _ = ids("/events", **{"filter[type]": "transaction.created"})
    assert len(created) == 1
    event = other_api.get(f"/events/{created[0]}").json()
    assert event["data"]["object"]["id"] == my_adjustment
    assert api.get(f"/customers/{w.x}").json()["credit_balance"] == 35
    assert other_api.get(f"/customers/{w.b_customer}/balance").json()["available_credits"] == 78

    # A's view, for contrast: the same queries find A's objects only.
    r = api.get(payments, params={"filter[customer]": w.x, **everything})
    assert [p["id"] for p in r.json()] == [w.payment]
    assert [s["id"] for s in r.json()[0]["applied_to"]] == [w.pay_split, w.credit_split]
    r = api.get(adjustments)
    assert [(a["id"], a["customer"], a["amount"]) for a in r.json()] == [(w.adjustment, w.x, 25)]


def test_b_may_reuse_a_string_ids(api, other_api, world):
    """String ids are per account (items.md IT3, coupons_tax_rates.md CT1): B creating an item,
    coupon and tax rate with A's ids gets its own objects, and A's stay as they were."""
    w = world
    a_before = a_state(api, w)
    for path, body in (
        ("/items", {"id": w.item, "name": "B paper", "unit_cost": 1}),
        ("/coupons", {"id": w.coupon, "name": "B coupon", "value": 50}),
        ("/tax_rates", {"id": w.tax_rate, "name": "B VAT", "value": 20}),
    ):
        r = other_api.post(path, json=body)
        assert r.status_code == 201, (path, r.text)
    r = other_api.post(
        "/invoices",
        json={
            "customer": w.b_customer,
            "items": [{"catalog_item": w.item, "taxes": [w.tax_rate]}],
            "discounts": [w.coupon],
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["items"][0]["name"] == "B paper"
    assert body["items"][0]["unit_cost"] == 1
    assert body["items"][0]["taxes"][0]["tax_rate"]["name"] == "B VAT"
    assert body["discounts"][0]["coupon"]["name"] == "B coupon"
    assert a_state(api, w) == a_before
