"""Invoices (spec: invoices.md; conventions: README.md; customers.md CU8/CU12-CU15, CB1-CB4).

Every test runs against a fresh account (fixture `api`, currency usd, UTC), so numbering starts
at INV-00001. Rule ids (R1-R19, S1-S16, D1-D6, A1-A3, E1-E7, AR1-AR4, C19, ...) are cited in
test names and docstrings. Paying, sending and PDFs are out of scope here.

The server clock is moved with `POST /_test/clock` (C23.2). It shifts rather than freezes, so
"date = now" is asserted to within a few seconds of the moment set, and exact dates are sent.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from tally.models import Account
from tests.support import new_account

DAY = 86_400
T0 = 1_700_000_000  # Example I-1's frozen clock

# invoices.md §2: every documented field is always present (C4.3).
INVOICE_KEYS = {
    "id",
    "object",
    "customer",
    "name",
    "number",
    "currency",
    "autopay",
    "payment_terms",
    "date",
    "due_date",
    "purchase_order",
    "draft",
    "closed",
    "paid",
    "status",
    "attempt_count",
    "next_payment_attempt",
    "subscription",
    "items",
    "notes",
    "subtotal",
    "discounts",
    "taxes",
    "shipping",
    "total",
    "balance",
    "ship_to",
    "payment_plan",
    "payment_source",
    "url",
    "payment_url",
    "pdf_url",
    "csv_url",
    "chase",
    "next_chase_on",
    "needs_attention",
    "late_fees",
    "metadata",
    "created_at",
    "updated_at",
}
# invoices.md §3.
LINE_KEYS = {
    "id",
    "object",
    "catalog_item",
    "type",
    "name",
    "description",
    "quantity",
    "unit_cost",
    "amount",
    "discountable",
    "discounts",
    "taxable",
    "taxes",
    "metadata",
    "created_at",
    "updated_at",
}
DISCOUNT_KEYS = {"id", "object", "amount", "coupon", "expires", "updated_at"}
TAX_KEYS = {"id", "object", "amount", "tax_rate", "updated_at"}
STATUSES = ("draft", "not_sent", "sent", "viewed", "past_due", "pending", "paid", "voided")

# Example I-1, exactly as the curl command sends it (form encoding, C3.2).
SEED_FORM = {
    "items[0][name]": "Copy paper, Case",
    "items[0][quantity]": "3",
    "items[0][unit_cost]": "45",
    "items[1][name]": "Delivery",
    "items[1][quantity]": "1",
    "items[1][unit_cost]": "10",
    "taxes[0][amount]": "3.85",
}
SEED_ITEMS = [
    {"name": "Copy paper, Case", "quantity": 3, "unit_cost": 45},
    {"name": "Delivery", "quantity": 1, "unit_cost": 10},
]
AR4_MESSAGE = (
    "This document cannot be saved because a tax rate (ID: vat) is being applied to a line "
    "item and the subtotal. Please make sure the tax rate is applied only once to save this "
    "document."
)
CLOSED_MESSAGE = (
    "Your changes cannot be saved because this document is closed. Please re-open the "
    "document to make any changes."
)
VOIDED_MESSAGE = "Your changes cannot be saved because this document is voided."


# ---------------------------------------------------------------------------------------------
# Helpers (also used by test_invoice_lines.py)
# ---------------------------------------------------------------------------------------------


def assert_error(r, status: int, param: str | None, message: str | None = None) -> None:
    """C6: `type`, and `param` present only when one field is responsible."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == "invalid_request", body
    if param is None:
        assert "param" not in body, body
    else:
        assert body.get("param") == param, body
    if message is not None:
        assert body["message"] == message, body


def created(r) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    return r.json()


def ok(r) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return r.json()


def make_customer(api, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", "Customer")
    return created(api.post("/customers", json=fields))


def acme(api) -> dict[str, Any]:
    """customers.md Example C-1, form-encoded: Acme, NET 30."""
    return created(
        api.post(
            "/customers",
            data={
                "name": "Acme",
                "email": "billing@acmecorp.com",
                "payment_terms": "NET 30",
                "type": "company",
            },
        )
    )


def make_invoice(api, customer_id: int, **fields: Any) -> dict[str, Any]:
    body = created(api.post("/invoices", json={"customer": customer_id, **fields}))
    assert set(body) == INVOICE_KEYS, set(body) ^ INVOICE_KEYS
    return body


def get_invoice(api, invoice_id: int, **params: Any) -> dict[str, Any]:
    return ok(api.get(f"/invoices/{invoice_id}", params=params or None))


def patch_invoice(api, invoice_id: int, **fields: Any) -> dict[str, Any]:
    return ok(api.patch(f"/invoices/{invoice_id}", json=fields))


def coupon(api, cid: str, value: Any, *, percent: bool = True, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", cid.replace("-", " ").title())
    body = {"id": cid, "value": value, "is_percent": percent, **fields}
    return created(api.post("/coupons", json=body))


def tax_rate(api, tid: str, value: Any, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", tid.replace("-", " ").title())
    return created(api.post("/tax_rates", json={"id": tid, "value": value, **fields}))


def catalog_item(api, iid: str, **fields: Any) -> dict[str, Any]:
    return created(api.post("/items", json={"id": iid, **fields}))


def total_count(api, path: str, params: Any = None) -> int:
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    return int(r.headers["X-Total-Count"])


def listed(api, path: str = "/invoices", params: Any = None) -> list[dict[str, Any]]:
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert int(r.headers["X-Total-Count"]) == len(body), "test lists must fit on one page"
    return body


def listed_ids(api, params: Any = None) -> list[int]:
    return [o["id"] for o in listed(api, "/invoices", params)]


def events(api, params: Any = None) -> list[dict[str, Any]]:
    """The account's events, newest first (all tests stay on one page)."""
    return listed(api, "/events", params)


def event_types(api) -> list[str]:
    return [e["type"] for e in events(api)]


def amounts(applied: list[dict[str, Any]]) -> list[Any]:
    return [a["amount"] for a in applied]


@contextmanager
def frozen_clock(api) -> Iterator[Callable[[int], None]]:
    """Move the server clock with POST /_test/clock (C23.2); back to real time afterwards."""

    def move(timestamp: int) -> None:
        r = api.post("/_test/clock", json={"now": timestamp})
        assert r.status_code == 200, r.text

    try:
        yield move
    finally:
        move(int(time.time()))


def comparable(value: Any) -> Any:
    """An object without what differs per object: ids, numbers, timestamps and URLs."""
    per_object = {
        "id",
        "number",
        "created_at",
        "updated_at",
        "url",
        "pdf_url",
        "payment_url",
        "csv_url",
        "customer",
        "date",
        "due_date",
    }
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in per_object}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def set_account(db_url: str, account_id: int, **values: Any) -> None:
    """Account settings are configured out of band (C21); tests set them in the database."""

    async def work() -> None:
        engine = create_async_engine(db_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    update(Account).where(Account.id == account_id).values(**values)
                )
        finally:
            await engine.dispose()

    asyncio.run(work())


def other_account_api(api, db_url: str, **options: str):
    """An `Api` of the same kind as `api`, for a fresh account created with `options`."""
    return type(api)(api.client, new_account(db_url, **options))


# ---------------------------------------------------------------------------------------------
# Example I-1: the seed invoice
# ---------------------------------------------------------------------------------------------


def assert_seed_invoice(api, body: dict[str, Any], customer: dict[str, Any]) -> None:
    """The figures of Example I-1 step 1."""
    assert set(body) == INVOICE_KEYS, set(body) ^ INVOICE_KEYS
    assert body["object"] == "invoice"
    assert isinstance(body["id"], int)
    assert body["customer"] == customer["id"]
    assert body["number"] == "INV-00001"  # C19.1
    assert body["name"] == "Invoice"  # §2 Decision
    assert body["currency"] == "usd"
    assert body["payment_terms"] == "NET 30"  # D1: inherited from the customer
    assert body["due_date"] == body["date"] + 30 * DAY  # D3
    assert body["autopay"] is customer["autopay"] is False  # A1
    assert body["draft"] is False
    assert body["closed"] is False
    assert body["paid"] is False
    assert body["status"] == "not_sent"  # S11
    assert [line["amount"] for line in body["items"]] == [135, 10]  # R1
    assert [line["name"] for line in body["items"]] == ["Copy paper, Case", "Delivery"]
    assert [line["quantity"] for line in body["items"]] == [3, 1]
    assert [line["unit_cost"] for line in body["items"]] == [45, 10]
    for line in body["items"]:
        assert set(line) == LINE_KEYS, set(line) ^ LINE_KEYS
        assert line["object"] == "line_item"
    assert body["subtotal"] == 145  # R4a
    assert body["discounts"] == []
    assert len(body["taxes"]) == 1
    tax = body["taxes"][0]
    assert set(tax) == TAX_KEYS
    assert tax["object"] == "tax"
    assert tax["amount"] == 3.85
    assert tax["tax_rate"] is None
    assert body["shipping"] == []
    assert body["total"] == 148.85  # R10
    assert body["balance"] == 148.85  # R12
    assert body["attempt_count"] == 0
    assert body["next_payment_attempt"] is None  # A3: not AutoPay
    # C18 / U1 / U2: capability URLs under {base}/portal.
    prefix = f"http://localhost:8000/portal/invoices/{api.account.identifier}/"
    assert body["url"].startswith(prefix), body["url"]
    client_id = body["url"][len(prefix) :]
    assert re.fullmatch(r"[A-Za-z0-9_-]{48}", client_id), client_id  # C18.2
    assert body["pdf_url"] == body["url"] + "/pdf"
    assert body["payment_url"] == body["url"] + "/payment"
    assert body["csv_url"] == body["url"] + "/csv"


def test_example_i1_seed_invoice_form_encoded(api):
    """Example I-1 step 1, sent form-encoded exactly as the curl example (C3.2, D1, D3, R1-R12)."""
    with frozen_clock(api) as move:
        move(T0)
        customer = acme(api)
        assert customer["payment_terms"] == "NET 30"
        body = created(api.post("/invoices", data={"customer": str(customer["id"]), **SEED_FORM}))
        assert T0 <= body["date"] <= T0 + 5  # date defaults to now
        assert_seed_invoice(api, body, customer)
        # What was stored is what was answered.
        assert get_invoice(api, body["id"]) == body


def test_example_i1_exact_dates_d6(api):
    """Example I-1 / D6: date 1700000000 + NET 30 -> due_date 1702592000."""
    with frozen_clock(api) as move:
        move(T0)
        customer = acme(api)
        body = created(
            api.post(
                "/invoices",
                data={"customer": str(customer["id"]), "date": str(T0), **SEED_FORM},
            )
        )
    assert body["date"] == 1_700_000_000
    assert body["due_date"] == 1_702_592_000
    assert_seed_invoice(api, body, customer)


def test_example_i1_flat_tax_r19_and_json_give_the_same_invoice(api):
    """R19: flat `tax=3.85` == `taxes[0][amount]=3.85`; the JSON body gives the same (C3.1)."""
    with frozen_clock(api) as move:
        move(T0)
        customer = acme(api)
        cid = customer["id"]
        form = created(api.post("/invoices", data={"customer": str(cid), **SEED_FORM}))
        flat_fields = {k: v for k, v in SEED_FORM.items() if not k.startswith("taxes")}
        flat = created(
            api.post("/invoices", data={"customer": str(cid), "tax": "3.85", **flat_fields})
        )
        as_json = make_invoice(api, cid, items=SEED_ITEMS, taxes=[{"amount": 3.85}])
        flat_json = make_invoice(api, cid, items=SEED_ITEMS, tax=3.85)
    assert [form["number"], flat["number"], as_json["number"], flat_json["number"]] == [
        "INV-00001",
        "INV-00002",
        "INV-00003",
        "INV-00004",
    ]
    for other in (flat, as_json, flat_json):
        assert comparable(other) == comparable(form)
        assert other["total"] == 148.85
        assert other["due_date"] == other["date"] + 30 * DAY


def test_r19_flat_discount_and_shipping_replace_the_lists(api):
    """R19: `discount`/`shipping` numbers replace the whole list with one custom amount."""
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        items=SEED_ITEMS,
        discounts=[{"amount": 1}, {"amount": 2}],
        discount=5,
        shipping=7.5,
        tax=3.85,
    )
    assert amounts(body["discounts"]) == [5]
    assert body["discounts"][0]["coupon"] is None
    assert set(body["discounts"][0]) == DISCOUNT_KEYS
    assert amounts(body["shipping"]) == [7.5]
    assert body["shipping"][0]["object"] == "shipping"
    assert amounts(body["taxes"]) == [3.85]
    assert body["total"] == 151.35  # R10: 145 - 5 + 3.85 + 7.5


def test_invoice_defaults_section_2(api):
    """§2 defaults: name, chase (account chase_new_invoices=false), late_fees, empty lists."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"])
    assert body["name"] == "Invoice"
    assert body["chase"] is False
    assert body["late_fees"] is True
    assert body["needs_attention"] is False
    assert body["metadata"] == {}
    assert body["ship_to"] is None
    assert body["purchase_order"] is None
    assert body["notes"] is None
    assert body["items"] == body["discounts"] == body["taxes"] == body["shipping"] == []
    assert body["payment_plan"] is None
    assert body["payment_source"] is None
    assert body["subscription"] is None
    assert body["next_chase_on"] is None
    assert body["payment_terms"] is None  # D1: neither customer nor account has terms
    assert body["due_date"] is None  # D2


def test_line_item_defaults_section_3(api):
    """§3: a bare line gets name "", description "", quantity 1, unit_cost 0, flags true."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], draft=True, items=[{}, {"name": "Only a name"}])
    assert body["total"] == 0
    assert body["items"][1]["name"] == "Only a name"
    assert body["items"][1]["quantity"] == 1
    line = body["items"][0]
    assert line["catalog_item"] is None
    assert line["type"] is None
    assert line["name"] == ""
    assert line["description"] == ""
    assert line["quantity"] == 1
    assert line["unit_cost"] == 0
    assert line["amount"] == 0
    assert line["discountable"] is True
    assert line["taxable"] is True
    assert line["discounts"] == line["taxes"] == []
    assert line["metadata"] == {}


def test_line_item_text_is_trimmed_and_unit_cost_unrounded(api):
    """§3 / R1 / C12.3: names trimmed; unit cost and quantity stored unrounded."""
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        items=[
            {"name": "  Widget  ", "description": " Blue ", "quantity": 1.5, "unit_cost": 0.333}
        ],
    )
    line = body["items"][0]
    assert line["name"] == "Widget"
    assert line["description"] == "Blue"
    assert line["quantity"] == 1.5
    assert line["unit_cost"] == 0.333
    assert line["amount"] == 0.5  # m(0.4995) half away from zero
    assert body["total"] == 0.5


def test_amounts_beyond_64_bit_minor_units_are_400_not_500(api):
    """C12.3 / STYLE (validation errors are 400s): a line whose amount cannot be stored in
    64-bit minor units is refused as an invalid request, never a 500; nothing is stored.
    (The spec names no param for this case, so only status and type are asserted.)"""
    customer = make_customer(api)
    for line in (
        {"name": "huge", "quantity": 1e15, "unit_cost": 1e15},
        {"name": "huge", "quantity": "100000000000000000000", "unit_cost": 1},
    ):
        r = api.post("/invoices", json={"customer": customer["id"], "items": [line]})
        assert r.status_code == 400, (line, r.text)
        assert r.json()["type"] == "invalid_request"
    assert total_count(api, "/invoices") == 0
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    r = api.post(f"/invoices/{body['id']}/line_items", json={"quantity": 1e15, "unit_cost": 1e15})
    assert r.status_code == 400, r.text
    assert get_invoice(api, body["id"]) == body


def test_customer_given_as_object(api):
    """§15: `customer` may be `{"id": 12}`, or an object without id that is created first."""
    customer = make_customer(api, name="Known")
    body = make_invoice(api, {"id": customer["id"]})
    assert body["customer"] == customer["id"]
    before = total_count(api, "/customers")
    body = created(api.post("/invoices", json={"customer": {"name": "Brand New Co"}}))
    assert total_count(api, "/customers") == before + 1
    new_customer = ok(api.get(f"/customers/{body['customer']}"))
    assert new_customer["name"] == "Brand New Co"


def test_c3_9_read_only_fields_that_are_not_rejected_are_ignored(api):
    """C3.9: id, object, url, pdf_url, line amount... are silently ignored, never stored."""
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        id=424242,
        object="estimate",
        url="http://evil.example/x",
        pdf_url="http://evil.example/x.pdf",
        items=[{"name": "x", "unit_cost": 10, "amount": 999, "id": None}],
    )
    assert body["id"] != 424242
    assert body["object"] == "invoice"
    assert not body["url"].startswith("http://evil")
    assert body["items"][0]["amount"] == 10
    assert body["total"] == 10


# ---------------------------------------------------------------------------------------------
# Catalog items on lines (R2, I-6, items.md IT-B..IT-D, IT8)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def seed_catalog(api):
    """items.md Examples IT-A and IT-B."""
    paper = catalog_item(
        api, "copy_paper_20lb", name="Copy paper, Case", type="product", unit_cost=45
    )
    delivery = catalog_item(api, "delivery", name="Delivery", type="service", unit_cost=10)
    return paper, delivery


def test_example_it_b_invoice_from_catalog_items(api, seed_catalog):
    """IT-B / R2: lines named by catalog_item get the item's name, type and unit_cost."""
    customer = acme(api)
    body = make_invoice(
        api,
        customer["id"],
        items=[{"catalog_item": "copy_paper_20lb", "quantity": 3}, {"catalog_item": "delivery"}],
        taxes=[{"amount": 3.85}],
    )
    paper, delivery = body["items"]
    assert paper["catalog_item"] == "copy_paper_20lb"
    assert paper["name"] == "Copy paper, Case"
    assert paper["type"] == "product"
    assert paper["quantity"] == 3
    assert paper["unit_cost"] == 45
    assert paper["amount"] == 135
    assert delivery["catalog_item"] == "delivery"
    assert delivery["name"] == "Delivery"
    assert delivery["type"] == "service"
    assert delivery["quantity"] == 1  # R2: quantity is never copied from the item
    assert delivery["unit_cost"] == 10
    assert delivery["amount"] == 10
    assert body["subtotal"] == 145
    assert body["total"] == 148.85


def test_example_i6_request_fields_win_over_the_item(api, seed_catalog):
    """I-6 / R2: explicit unit_cost/quantity/name on the line win over the item."""
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        items=[
            {"catalog_item": "delivery"},
            {"catalog_item": "delivery", "unit_cost": 12, "quantity": 2},
            {"catalog_item": "delivery", "name": "Rush delivery", "type": "rush"},
        ],
    )
    first, second, third = body["items"]
    assert (
        first["name"],
        first["type"],
        first["quantity"],
        first["unit_cost"],
        first["amount"],
    ) == (
        "Delivery",
        "service",
        1,
        10,
        10,
    )
    assert (second["unit_cost"], second["quantity"], second["amount"]) == (12, 2, 24)
    assert second["name"] == "Delivery"
    assert (third["name"], third["type"], third["unit_cost"]) == ("Rush delivery", "rush", 10)
    assert body["total"] == 44


def test_example_i6_unknown_item_is_400_items(api, seed_catalog):
    """I-6 / R2 Decision: unknown item -> 400 `No such item: nope`, param items; nothing stored."""
    customer = make_customer(api)
    before = total_count(api, "/invoices")
    r = api.post(
        "/invoices", json={"customer": customer["id"], "items": [{"catalog_item": "nope"}]}
    )
    assert_error(r, 400, "items", "No such item: nope")
    assert total_count(api, "/invoices") == before


def test_it7_archived_item_cannot_be_used_and_it8_old_lines_keep_values(api, seed_catalog):
    """IT-D / IT7 / IT8: after DELETE the item is `No such item`; earlier lines are unchanged."""
    customer = make_customer(api)
    earlier = make_invoice(api, customer["id"], items=[{"catalog_item": "delivery"}])
    assert api.delete("/items/delivery").status_code == 204
    r = api.post(
        "/invoices", json={"customer": customer["id"], "items": [{"catalog_item": "delivery"}]}
    )
    assert_error(r, 400, "items", "No such item: delivery")
    again = get_invoice(api, earlier["id"])
    assert again["items"][0]["catalog_item"] == "delivery"
    assert again["items"][0]["unit_cost"] == 10
    assert again["total"] == 10
    # IT-D step 4: the id is free again and the new item is the one used.
    catalog_item(api, "delivery", name="Delivery", unit_cost=12)
    body = make_invoice(api, customer["id"], items=[{"catalog_item": "delivery"}])
    assert body["items"][0]["unit_cost"] == 12
    assert get_invoice(api, earlier["id"])["items"][0]["unit_cost"] == 10


def test_example_it_c_item_edits_apply_to_new_lines_only(api, seed_catalog):
    """IT-C / IT8: a renamed item names new lines; unit_cost is create-only (IT5)."""
    customer = make_customer(api)
    earlier = make_invoice(api, customer["id"], items=[{"catalog_item": "delivery"}])
    ok(api.patch("/items/delivery", json={"name": "Express delivery", "unit_cost": 25}))
    body = make_invoice(api, customer["id"], items=[{"catalog_item": "delivery"}])
    assert body["items"][0]["name"] == "Express delivery"
    assert body["items"][0]["unit_cost"] == 10
    assert get_invoice(api, earlier["id"])["items"][0]["name"] == "Delivery"


def test_catalog_item_taxes_and_flags_are_copied(api):
    """R2 / IT9: the item's taxable, discountable and taxes become the line's."""
    tax_rate(api, "gst", 10)
    catalog_item(
        api, "service-hour", name="Service hour", unit_cost=100, taxes=["gst"], discountable=False
    )
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=[{"catalog_item": "service-hour"}], discount=50)
    line = body["items"][0]
    assert line["discountable"] is False
    assert line["taxable"] is True
    assert [t["tax_rate"]["id"] for t in line["taxes"]] == ["gst"]
    assert amounts(line["taxes"]) == [10]
    # R5: the fixed document discount is not capped by the base.
    assert amounts(body["discounts"]) == [50]
    assert body["total"] == 100 + 10 - 50


def test_expand_items_catalog_item(api, seed_catalog):
    """C10 / IT10: expand=items.catalog_item replaces the id with the item object."""
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        items=[{"catalog_item": "delivery"}, {"name": "Custom", "unit_cost": 1}],
    )
    expanded = get_invoice(api, body["id"], expand="items.catalog_item")
    item = expanded["items"][0]["catalog_item"]
    assert item == ok(api.get("/items/delivery"))
    assert expanded["items"][1]["catalog_item"] is None
    listed_body = listed(api, params={"expand": "items.catalog_item"})
    assert listed_body[0]["items"][0]["catalog_item"] == item
    # IT10: null once the item no longer exists.
    assert api.delete("/items/delivery").status_code == 204
    assert (
        get_invoice(api, body["id"], expand="items.catalog_item")["items"][0]["catalog_item"]
        is None
    )
    assert get_invoice(api, body["id"])["items"][0]["catalog_item"] == "delivery"


# ---------------------------------------------------------------------------------------------
# Calculator: Examples I-2, I-3, I-4 (R1-R10, CT12-CT15)
# ---------------------------------------------------------------------------------------------


def test_example_i2_full_calculator(api):
    """Example I-2: every intermediate amount of the table, total 1277.90 (R1-R10)."""
    coupon(api, "discount", 5)
    coupon(api, "discount2", 10, percent=False)
    coupon(api, "discount3", 6, percent=False)
    tax_rate(api, "gst", 2)
    tax_rate(api, "qst", 3)
    tax_rate(api, "vat", 5)
    tax_rate(api, "sales-tax", 7)
    catalog_item(api, "test-item", name="Test Item", description="Description", unit_cost=1000)
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        items=[
            {
                "name": "Line a",
                "quantity": 10,
                "unit_cost": 100,
                "discounts": ["discount3"],
                "taxes": ["gst", "qst"],
            },
            {"name": "Line b", "quantity": -1, "unit_cost": 15.58068},
            {
                "name": "Line c",
                "quantity": 0,
                "unit_cost": 0,
                "discounts": ["discount", "discount2"],
            },
            {"catalog_item": "test-item", "quantity": 0},
            {
                "name": "No taxes or discounts",
                "quantity": 2,
                "unit_cost": 99,
                "discountable": False,
                "taxable": False,
            },
        ],
        discounts=["discount", "discount2", {"amount": 10}],
        taxes=["vat", "sales-tax", {"amount": 5}, {"amount": 7.2}],
        shipping=[{"amount": 10}],
    )
    a, b, c, d, e = body["items"]
    assert [line["amount"] for line in body["items"]] == [1000, -15.58, 0, 0, 198]
    assert b["unit_cost"] == 15.58068  # stored unrounded (C12.3)
    # (d) filled from the item (R2).
    assert (d["name"], d["description"], d["unit_cost"], d["quantity"]) == (
        "Test Item",
        "Description",
        1000,
        0,
    )
    assert d["catalog_item"] == "test-item"
    assert body["subtotal"] == 1182.42  # R4a
    # Line discounts (R3): (a) 6.00; (c) 0 + 10.00.
    assert amounts(a["discounts"]) == [6]
    assert [x["coupon"]["id"] for x in a["discounts"]] == ["discount3"]
    assert amounts(c["discounts"]) == [0, 10]
    assert [x["coupon"]["id"] for x in c["discounts"]] == ["discount", "discount2"]
    # Line taxes (R4): gst 2 % of 994 = 19.88; qst 3 % of 994 = 29.82.
    assert amounts(a["taxes"]) == [19.88, 29.82]
    assert [x["tax_rate"]["id"] for x in a["taxes"]] == ["gst", "qst"]
    assert b["discounts"] == b["taxes"] == e["discounts"] == e["taxes"] == []
    # Document discounts (R5): 5 % of DB 968.42 = 48.42; +10 +10.
    assert amounts(body["discounts"]) == [48.42, 10, 10]
    assert [x["coupon"] and x["coupon"]["id"] for x in body["discounts"]] == [
        "discount",
        "discount2",
        None,
    ]
    # Document taxes (R7) on TB 900: vat 45, sales-tax 63, +5 +7.20.
    assert amounts(body["taxes"]) == [45, 63, 5, 7.2]
    assert [x["tax_rate"] and x["tax_rate"]["id"] for x in body["taxes"]] == [
        "vat",
        "sales-tax",
        None,
        None,
    ]
    assert amounts(body["shipping"]) == [10]  # R8
    assert body["total"] == 1277.9  # R10
    assert body["balance"] == 1277.9
    # CT8: the applied objects carry the full rate objects.
    assert a["discounts"][0]["coupon"] == ok(api.get("/coupons/discount3"))
    assert body["taxes"][0]["tax_rate"] == ok(api.get("/tax_rates/vat"))
    assert set(a["discounts"][0]) == DISCOUNT_KEYS
    assert set(a["taxes"][0]) == TAX_KEYS
    assert get_invoice(api, body["id"]) == body


def test_example_i3_rounding_with_fractional_and_negative_lines_eur(api):
    """Example I-3 / C12.2: 12.045 -> 12.05 (half away from zero); total 101.80 EUR."""
    coupon(api, "coupon", 5)
    tax_rate(api, "tax", 5)
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        currency="eur",
        items=[
            {"name": "A", "quantity": 1, "unit_cost": 105.26, "discounts": [{"coupon": "coupon"}]},
            {"name": "B", "quantity": 12.045, "unit_cost": 1},
            {"name": "C", "quantity": 10, "unit_cost": -1},
        ],
        discounts=[{"coupon": "coupon"}],
        taxes=[{"tax_rate": "tax"}],
    )
    assert body["currency"] == "eur"
    assert [line["amount"] for line in body["items"]] == [105.26, 12.05, -10]
    assert body["subtotal"] == 107.31
    assert amounts(body["items"][0]["discounts"]) == [5.26]
    assert amounts(body["discounts"]) == [5.10]
    assert amounts(body["taxes"]) == [4.85]
    assert body["total"] == 101.8
    assert body["balance"] == 101.8


def test_example_i4_tax_inclusive_document_tax(api):
    """Example I-4 / R7 / CT15: inclusive tax carved out; subtotal 2820.83, total 2985."""
    tax_rate(api, "vat-inclusive", 20, inclusive=True)
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        items=[
            {"name": "A", "quantity": 10, "unit_cost": 100},
            {"name": "B", "quantity": -1, "unit_cost": 15},
            {"name": "C", "quantity": 1, "unit_cost": 2000, "taxable": False},
        ],
        taxes=["vat-inclusive"],
    )
    assert [line["amount"] for line in body["items"]] == [1000, -15, 2000]
    assert amounts(body["taxes"]) == [164.17]
    assert body["taxes"][0]["tax_rate"]["inclusive"] is True
    assert body["subtotal"] == 2820.83
    assert body["total"] == 2985
    assert body["balance"] == 2985


def test_ct_example_a_percent_coupon_and_vat(api):
    """coupons_tax_rates.md Example A: 45 + 10, 20 % coupon, 5 % VAT -> 46.20."""
    coupon(api, "S8L47J", 20, name="Non-profit Discount")
    tax_rate(api, "vat", 5)
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        items=[{"name": "a", "unit_cost": 45}, {"name": "b", "unit_cost": 10}],
        discounts=[{"coupon": "S8L47J"}],
        taxes=[{"tax_rate": "vat"}],
    )
    assert body["subtotal"] == 55
    assert amounts(body["discounts"]) == [11]
    assert amounts(body["taxes"]) == [2.2]
    assert body["total"] == 46.2


@pytest.mark.parametrize(
    ("currency", "unit_cost", "total"),
    [("jpy", 1234.5, 1235), ("bhd", 1.2345, 1.235), ("usd", 12.045, 12.05), ("kwd", 1.005, 1.01)],
)
def test_c12_minor_units_per_currency(api, currency, unit_cost, total):
    """C12.1/C12.2: exponent 0 for JPY, 3 for BHD, 2 otherwise (KWD too); half away from zero."""
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        currency=currency.upper(),
        items=[{"name": "x", "unit_cost": unit_cost}],
    )
    assert body["currency"] == currency  # C4.6
    assert body["total"] == total


# ---------------------------------------------------------------------------------------------
# AR1-AR5: applied rates
# ---------------------------------------------------------------------------------------------


def test_ar1_unknown_rate_ids_are_400(api):
    """AR1 Decision: unknown rate -> 400 `No such tax rate/coupon: X`; param per list (C6.3)."""
    customer = make_customer(api)
    cid = customer["id"]
    before = total_count(api, "/invoices")
    cases = [
        ({"taxes": ["nope"]}, "taxes", "No such tax rate: nope"),
        ({"taxes": [{"tax_rate": "nope"}]}, "taxes", "No such tax rate: nope"),
        ({"taxes": [{"tax_rate": {"id": "nope"}}]}, "taxes", "No such tax rate: nope"),
        ({"discounts": ["nope"]}, "discounts", "No such coupon: nope"),
        ({"discounts": [{"coupon": "nope"}]}, "discounts", "No such coupon: nope"),
        ({"items": [{"name": "x", "taxes": ["nope"]}]}, "items", "No such tax rate: nope"),
        ({"items": [{"name": "x", "discounts": ["nope"]}]}, "items", "No such coupon: nope"),
    ]
    for body, param, message in cases:
        assert_error(api.post("/invoices", json={"customer": cid, **body}), 400, param, message)
    assert total_count(api, "/invoices") == before
    # Archived rates count as unknown (CT2).
    tax_rate(api, "old", 5)
    coupon(api, "gone", 5)
    assert api.delete("/tax_rates/old").status_code == 204
    assert api.delete("/coupons/gone").status_code == 204
    r = api.post("/invoices", json={"customer": cid, "taxes": ["old"]})
    assert_error(r, 400, "taxes", "No such tax rate: old")
    r = api.post("/invoices", json={"customer": cid, "discounts": ["gone"]})
    assert_error(r, 400, "discounts", "No such coupon: gone")


def test_ar2_same_rate_twice_counts_once(api):
    """AR2: the second occurrence of a rate id in one list is ignored."""
    tax_rate(api, "vat", 5)
    coupon(api, "ten", 10)
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        items=[{"name": "x", "unit_cost": 100}],
        taxes=["vat", {"tax_rate": "vat"}],
        discounts=[{"coupon": "ten"}, "ten"],
    )
    assert amounts(body["discounts"]) == [10]
    assert amounts(body["taxes"]) == [4.5]
    assert body["total"] == 94.5


def test_ar3_custom_zero_amount_is_not_stored(api):
    """AR3: `{"amount": 0}` entries are dropped, at both levels."""
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        items=[
            {"name": "x", "unit_cost": 10, "taxes": [{"amount": 0}], "discounts": [{"amount": 0}]}
        ],
        taxes=[{"amount": 0}, {"amount": 1}],
        discounts=[{"amount": 0}],
        shipping=[{"amount": 0}],
    )
    assert body["items"][0]["taxes"] == body["items"][0]["discounts"] == []
    assert amounts(body["taxes"]) == [1]
    assert body["discounts"] == body["shipping"] == []
    assert body["total"] == 11


def test_ar4_same_tax_rate_on_line_and_document(api):
    """AR4: one tax rate on a line and on the subtotal -> 400 exact message, param items."""
    tax_rate(api, "vat", 5)
    customer = make_customer(api)
    before = total_count(api, "/invoices")
    r = api.post(
        "/invoices",
        json={
            "customer": customer["id"],
            "items": [{"name": "x", "unit_cost": 10, "taxes": ["vat"]}],
            "taxes": ["vat"],
        },
    )
    assert_error(r, 400, "items", AR4_MESSAGE)
    assert total_count(api, "/invoices") == before
    # Also when a PATCH would create the overlap.
    body = make_invoice(
        api, customer["id"], items=[{"name": "x", "unit_cost": 10, "taxes": ["vat"]}]
    )
    r = api.patch(f"/invoices/{body['id']}", json={"taxes": ["vat"]})
    assert_error(r, 400, "items", AR4_MESSAGE)
    assert get_invoice(api, body["id"]) == body


def test_ar5_form_encoded_rates(api):
    """AR5 / C3.2: `taxes[0][amount]`, `taxes[1][tax_rate]`, `items[0][taxes][0]` in a form."""
    tax_rate(api, "gst", 5)
    tax_rate(api, "vat", 10)
    customer = make_customer(api)
    body = created(
        api.post(
            "/invoices",
            data={
                "customer": str(customer["id"]),
                "items[0][name]": "x",
                "items[0][unit_cost]": "100",
                "items[0][taxes][0]": "gst",
                "taxes[0][amount]": "3.85",
                "taxes[1][tax_rate]": "vat",
            },
        )
    )
    assert [t["tax_rate"]["id"] for t in body["items"][0]["taxes"]] == ["gst"]
    assert amounts(body["items"][0]["taxes"]) == [5]
    assert amounts(body["taxes"]) == [3.85, 10]
    assert [t["tax_rate"] and t["tax_rate"]["id"] for t in body["taxes"]] == [None, "vat"]
    assert body["total"] == 118.85  # 100 + 5 + 3.85 + 10


# ---------------------------------------------------------------------------------------------
# R11 / R13 / R15 / R17
# ---------------------------------------------------------------------------------------------


def test_r11_negative_total_is_rejected(api):
    """R11: total < 0 -> 400 `Total is invalid`, param total; on create and on PATCH."""
    customer = make_customer(api)
    before = total_count(api, "/invoices")
    r = api.post(
        "/invoices",
        json={"customer": customer["id"], "items": [{"name": "credit", "unit_cost": -5}]},
    )
    assert_error(r, 400, "total", "Total is invalid")
    r = api.post(
        "/invoices", json={"customer": customer["id"], "items": SEED_ITEMS, "discount": 200}
    )
    assert_error(r, 400, "total", "Total is invalid")
    assert total_count(api, "/invoices") == before
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    r = api.patch(f"/invoices/{body['id']}", json={"items": [{"name": "credit", "unit_cost": -1}]})
    assert_error(r, 400, "total", "Total is invalid")
    assert get_invoice(api, body["id"]) == body
    # A negative line is fine while the total stays >= 0.
    body = make_invoice(
        api, customer["id"], items=[{"name": "a", "unit_cost": 10}, {"name": "b", "unit_cost": -10}]
    )
    assert body["total"] == 0


def test_r13_r15_zero_total_issued_invoice_is_paid_and_closed(api):
    """R15 / Example I-5 step 6: no items -> total 0, paid, closed, status paid; U2."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"])
    assert body["total"] == body["balance"] == 0
    assert body["paid"] is True
    assert body["closed"] is True
    assert body["status"] == "paid"
    assert body["payment_url"] is None  # U2: paid
    assert body["url"] is not None and body["pdf_url"] is not None  # U1


def test_r13_draft_and_created_closed_are_not_paid(api):
    """R13: a draft is never paid; an invoice created closed is not paid either."""
    customer = make_customer(api)
    draft = make_invoice(api, customer["id"], draft=True)
    assert draft["paid"] is False
    assert draft["closed"] is False
    assert draft["status"] == "draft"
    closed = make_invoice(api, customer["id"], closed=True)
    assert closed["paid"] is False
    assert closed["closed"] is True
    assert closed["payment_url"] is None  # U2: closed
    # Draft with a balance: paid false, status draft (Example I-5 step 1).
    draft = make_invoice(api, customer["id"], draft=True, items=SEED_ITEMS)
    assert (draft["paid"], draft["status"], draft["balance"]) == (False, "draft", 145)
    assert draft["url"] is not None  # U1: drafts included


def test_r17_customer_taxes_assessed_on_create(api):
    """R17: the taxable customer's tax rates are appended (deduplicated) on create."""
    tax_rate(api, "vat", 5)
    customer = make_customer(api, name="Taxed", taxes=["vat"])
    cid = customer["id"]
    body = make_invoice(api, cid, items=[{"name": "x", "unit_cost": 100}])
    assert [t["tax_rate"]["id"] for t in body["taxes"]] == ["vat"]
    assert amounts(body["taxes"]) == [5]
    assert body["total"] == 105
    # Deduplicated with the same rate sent explicitly (AR2).
    body = make_invoice(api, cid, items=[{"name": "x", "unit_cost": 100}], taxes=["vat"])
    assert amounts(body["taxes"]) == [5]
    # Appended after the taxes that were sent.
    body = make_invoice(api, cid, items=[{"name": "x", "unit_cost": 100}], taxes=[{"amount": 1}])
    assert amounts(body["taxes"]) == [1, 5]
    assert body["total"] == 106
    # calculate_taxes=false disables assessment.
    body = make_invoice(api, cid, items=[{"name": "x", "unit_cost": 100}], calculate_taxes=False)
    assert body["taxes"] == []
    assert body["total"] == 100
    # Non-taxable customers are not assessed.
    exempt = make_customer(api, name="Exempt", taxes=["vat"], taxable=False)
    body = make_invoice(api, exempt["id"], items=[{"name": "x", "unit_cost": 100}])
    assert body["taxes"] == []


def test_r17_patch_does_not_assess_unless_calculate_taxes(api):
    """R17: on PATCH calculate_taxes defaults to false; when true the assessed list replaces."""
    tax_rate(api, "vat", 5)
    customer = make_customer(api, name="Taxed", taxes=["vat"])
    body = make_invoice(
        api, customer["id"], items=[{"name": "x", "unit_cost": 100}], calculate_taxes=False
    )
    body = patch_invoice(api, body["id"], items=[{"name": "y", "unit_cost": 200}])
    assert body["taxes"] == []
    assert body["total"] == 200
    body = patch_invoice(api, body["id"], taxes=[{"amount": 1}], calculate_taxes=True)
    assert [t["tax_rate"] and t["tax_rate"]["id"] for t in body["taxes"]] == ["vat"]
    assert body["total"] == 210


# ---------------------------------------------------------------------------------------------
# AutoPay (A1-A3), terms and due dates (D1-D6)
# ---------------------------------------------------------------------------------------------


def test_a1_a2_a3_autopay_inherited_from_customer(api):
    """A1/A2/A3: customer AutoPay -> invoice autopay, terms "AutoPay", no due date, attempt set."""
    t = 1_750_000_000
    with frozen_clock(api) as move:
        move(t)
        delayed = make_customer(api, name="Delayed", autopay=True, autopay_delay_days=3)
        assert delayed["autopay"] is True
        body = make_invoice(api, delayed["id"], date=t, items=SEED_ITEMS)
        assert body["autopay"] is True  # A1
        assert body["payment_terms"] == "AutoPay"  # A2
        assert body["due_date"] is None  # A2 / D2
        assert body["status"] == "not_sent"  # S6 needs attempt_count > 0
        assert body["attempt_count"] == 0
        # A3: max(date + 3 days, now + 1 h) = date + 3 days.
        assert body["next_payment_attempt"] == t + 3 * DAY

        # Account delay 0: max(date, now + 3600) = now + 1 h.
        prompt = make_customer(api, name="Prompt", autopay=True)
        body = make_invoice(api, prompt["id"], date=t - 10 * DAY, items=SEED_ITEMS)
        assert t + 3600 <= body["next_payment_attempt"] <= t + 3600 + 5
        assert body["due_date"] is None

        # A3: drafts and paid invoices get no attempt.
        body = make_invoice(api, prompt["id"], draft=True, items=SEED_ITEMS)
        assert body["autopay"] is True
        assert body["next_payment_attempt"] is None
        body = make_invoice(api, prompt["id"])
        assert body["paid"] is True
        assert body["next_payment_attempt"] is None

        # D5: an explicit due date is respected on AutoPay invoices.
        body = make_invoice(api, prompt["id"], due_date=t + 5 * DAY, items=SEED_ITEMS)
        assert body["due_date"] == t + 5 * DAY
        assert body["payment_terms"] == "AutoPay"

        # A1: `autopay` sent wins over the customer.
        body = make_invoice(api, prompt["id"], autopay=False, items=SEED_ITEMS)
        assert body["autopay"] is False
        assert body["payment_terms"] is None  # D1: the AutoPay customer has no terms
        assert body["next_payment_attempt"] is None


def test_a2_patch_autopay_on_switches_terms(api):
    """A2: autopay false -> true on PATCH: terms AutoPay, due_date null, attempt scheduled."""
    t = 1_750_000_000
    with frozen_clock(api) as move:
        move(t)
        customer = acme(api)
        body = make_invoice(api, customer["id"], date=t, items=SEED_ITEMS)
        assert (body["payment_terms"], body["due_date"]) == ("NET 30", t + 30 * DAY)
        body = patch_invoice(api, body["id"], autopay=True)
        assert body["autopay"] is True
        assert body["payment_terms"] == "AutoPay"
        assert body["due_date"] is None
        assert t + 3600 <= body["next_payment_attempt"] <= t + 3600 + 5


def test_a2_autopay_unsupported_by_account(api, db_url):
    """A2: the account does not support AutoPay -> 400 (CU7 message), param autopay."""
    customer = make_customer(api)
    set_account(db_url, api.account.id, autopay_supported=False)
    r = api.post("/invoices", json={"customer": customer["id"], "autopay": True})
    assert_error(
        r,
        400,
        "autopay",
        "Sorry, this business does not support AutoPay. Please enable a supported payment "
        "method in Settings > Payments first.",
    )
    assert total_count(api, "/invoices") == 0


def test_d1_terms_from_customer_then_account(api, db_url):
    """D1: customer terms, else account terms; an explicit due_date stops inheritance."""
    customer = acme(api)
    body = make_invoice(api, customer["id"], date=T0)
    assert (body["payment_terms"], body["due_date"]) == ("NET 30", T0 + 30 * DAY)
    body = make_invoice(api, customer["id"], date=T0, due_date=T0 + 5 * DAY)
    assert (body["payment_terms"], body["due_date"]) == (None, T0 + 5 * DAY)
    body = make_invoice(api, customer["id"], date=T0, payment_terms="NET 14")
    assert (body["payment_terms"], body["due_date"]) == ("NET 14", T0 + 14 * DAY)
    body = make_invoice(api, customer["id"], date=T0, payment_terms=None)
    assert (body["payment_terms"], body["due_date"]) == (None, None)

    account_terms = other_account_api(api, db_url, payment_terms="NET 7")
    # The customer explicitly has no terms of its own.
    plain = created(account_terms.post("/customers", json={"name": "Plain", "payment_terms": ""}))
    assert plain["payment_terms"] is None
    body = created(account_terms.post("/invoices", json={"customer": plain["id"], "date": T0}))
    assert (body["payment_terms"], body["due_date"]) == ("NET 7", T0 + 7 * DAY)


@pytest.mark.parametrize(
    ("terms", "date", "due"),
    [
        ("NET 14", 1_416_290_400, 1_417_500_000),
        ("NET 30", 1_700_000_000, 1_702_592_000),
        ("Due on Receipt", 1_700_000_000, 1_700_000_000),
        ("due on receipt", 1_700_000_000, 1_700_000_000),
        ("Net-45", 1_700_000_000, 1_700_000_000 + 45 * DAY),
        ("net 7", 1_700_000_000, 1_700_000_000 + 7 * DAY),
        ("2% 10 NET 30", 1_700_000_000, 1_702_592_000),
        ("Payment Plan", 1_700_000_000, None),
        ("Whenever you like", 1_700_000_000, None),
    ],
)
def test_d2_d3_d6_terms_examples(api, terms, date, due):
    """D2/D3/D6: terms parsing and due = date + D days (UTC)."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], date=date, payment_terms=terms, draft=True)
    assert body["payment_terms"] == terms
    assert body["due_date"] == due


def test_d4_d5_patch_recomputes_due_date(api):
    """D4: new date or terms recompute due_date unless it is sent; D5: explicit wins."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], date=T0, payment_terms="NET 30", draft=True)
    assert body["due_date"] == T0 + 30 * DAY
    body = patch_invoice(api, body["id"], date=T0 + DAY)
    assert body["due_date"] == T0 + 31 * DAY
    body = patch_invoice(api, body["id"], payment_terms="NET 14")
    assert body["due_date"] == T0 + 15 * DAY
    body = patch_invoice(api, body["id"], payment_terms="Custom terms")
    assert body["due_date"] is None
    body = patch_invoice(api, body["id"], payment_terms="NET 10", due_date=T0 + 99 * DAY)
    assert (body["payment_terms"], body["due_date"]) == ("NET 10", T0 + 99 * DAY)
    # A PATCH of something else keeps the explicit due date.
    body = patch_invoice(api, body["id"], notes="hello")
    assert body["due_date"] == T0 + 99 * DAY


# ---------------------------------------------------------------------------------------------
# Example I-5: lifecycle; S13, S15, S16; void (V1-V3)
# ---------------------------------------------------------------------------------------------


def test_example_i5_lifecycle(api):
    """Example I-5: draft -> issued -> sent -> past due; S16; void twice; empty invoice (R15)."""
    date = 1_416_290_400
    with frozen_clock(api) as move:
        move(date + 3600)  # "now" is one hour after the invoice date
        customer = make_customer(api, name="Lifecycle")
        cid = customer["id"]
        # 1. Draft with NET 14.
        body = make_invoice(
            api,
            cid,
            draft=True,
            payment_terms="NET 14",
            date=date,
            items=[{"name": "x", "unit_cost": 45}],
        )
        iid = body["id"]
        assert body["status"] == "draft"  # S2
        assert body["due_date"] == 1_417_500_000  # D6
        assert body["number"] == "INV-00001"  # N1: drafts get numbers too
        assert body["paid"] is False  # R13
        assert body["balance"] == 45
        # 2. Issue, then mark sent.
        body = patch_invoice(api, iid, draft=False)
        assert body["status"] == "not_sent"
        assert body["draft"] is False
        body = patch_invoice(api, iid, sent=True)
        assert body["status"] == "sent"  # S10 / S13
        # 3. Due on Receipt: due = date, which is in the past -> past_due (S8).
        body = patch_invoice(api, iid, payment_terms="Due on Receipt")
        assert body["due_date"] == date
        assert body["status"] == "past_due"
        assert get_invoice(api, iid)["status"] == "past_due"
        # 4. Back to draft is refused (S16).
        r = api.patch(f"/invoices/{iid}", json={"draft": True})
        assert_error(
            r, 400, "draft", "Cannot save as a draft because the document has already been issued."
        )
        assert get_invoice(api, iid) == body
        # 5. Void (V1), twice (V2).
        voided = ok(api.post(f"/invoices/{iid}/void"))
        assert voided["status"] == "voided"
        assert voided["balance"] == 0
        assert voided["paid"] is False
        assert voided["url"] is voided["pdf_url"] is voided["payment_url"] is None
        assert voided["next_payment_attempt"] is None
        for key in ("total", "subtotal", "items", "number", "due_date", "draft", "closed"):
            assert voided[key] == body[key], key  # V1: other fields unchanged
        assert get_invoice(api, iid) == voided
        assert_error(
            api.post(f"/invoices/{iid}/void"), 400, None, "This document has already been voided."
        )
        # 6. No items: paid and closed at once (R15).
        empty = make_invoice(api, cid)
        assert (empty["total"], empty["paid"], empty["closed"], empty["status"]) == (
            0,
            True,
            True,
            "paid",
        )


def test_s13_sending_a_draft_does_not_issue_it(api):
    """S13: `sent` never issues a draft and never reverts."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], draft=True, items=SEED_ITEMS)
    body = patch_invoice(api, body["id"], sent=True)
    assert body["draft"] is True
    assert body["status"] == "draft"
    body = patch_invoice(api, body["id"], draft=False)
    assert body["status"] == "sent"
    body = patch_invoice(api, body["id"], sent=False)
    assert body["status"] == "sent"
    # `sent` on create marks the invoice sent at once.
    body = make_invoice(api, customer["id"], sent=True, items=SEED_ITEMS)
    assert body["status"] == "sent"


def test_s15_closed_unpaid_invoice_keeps_its_status(api):
    """S15: closed, unpaid, not voided -> normal status, paid false, closed true."""
    customer = acme(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS, sent=True)
    body = patch_invoice(api, body["id"], closed=True)
    assert (body["status"], body["paid"], body["closed"]) == ("sent", False, True)
    assert body["payment_url"] is None  # U2
    assert body["balance"] == 145


def test_v3_drafts_and_closed_invoices_can_be_voided(api):
    """V3: a draft and a closed invoice can be voided; V1 for each."""
    customer = make_customer(api)
    draft = make_invoice(api, customer["id"], draft=True, items=SEED_ITEMS)
    closed = make_invoice(api, customer["id"], closed=True, items=SEED_ITEMS)
    paid = make_invoice(api, customer["id"])
    for body in (draft, closed, paid):
        voided = ok(api.post(f"/invoices/{body['id']}/void"))
        assert voided["status"] == "voided"
        assert voided["balance"] == 0
        assert voided["paid"] is False
        assert voided["url"] is None
    assert_error(api.post("/invoices/999999/void"), 404, None, "Invoice was not found: 999999")


def test_e2_voided_invoice_cannot_be_edited(api):
    """E2: any PATCH of a voided invoice -> 400 param voided."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    voided = ok(api.post(f"/invoices/{body['id']}/void"))
    for change in ({"notes": "x"}, {"closed": False}, {"items": []}, {"metadata": {"a": "b"}}):
        r = api.patch(f"/invoices/{body['id']}", json=change)
        assert_error(r, 400, "voided", VOIDED_MESSAGE)
    assert get_invoice(api, body["id"]) == voided


def test_e3_closed_invoice_needs_reopening(api):
    """E3: closed -> 400 param closed unless the same request sets closed=false."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS, closed=True)
    r = api.patch(f"/invoices/{body['id']}", json={"notes": "thanks"})
    assert_error(r, 400, "closed", CLOSED_MESSAGE)
    assert get_invoice(api, body["id"]) == body
    body = patch_invoice(api, body["id"], closed=False, notes="thanks")
    assert (body["closed"], body["notes"]) == (False, "thanks")

    # A paid invoice (R14 closed it): reopening leaves paid=true, closed=false.
    paid = make_invoice(api, customer["id"])
    r = api.patch(f"/invoices/{paid['id']}", json={"notes": "x"})
    assert_error(r, 400, "closed", CLOSED_MESSAGE)
    reopened = patch_invoice(api, paid["id"], closed=False)
    assert (reopened["paid"], reopened["closed"]) == (True, False)
    assert patch_invoice(api, paid["id"], notes="editable")["notes"] == "editable"


# ---------------------------------------------------------------------------------------------
# E1-E7: editing
# ---------------------------------------------------------------------------------------------


def test_e1_customer_cannot_change(api):
    """E1: a different customer -> 400 exact message, param customer; the same one is fine."""
    one = make_customer(api, name="One")
    two = make_customer(api, name="Two")
    body = make_invoice(api, one["id"], items=SEED_ITEMS)
    r = api.patch(f"/invoices/{body['id']}", json={"customer": two["id"], "notes": "x"})
    assert_error(
        r, 400, "customer", "Invalid request parameter `customer`. The customer cannot be modified."
    )
    assert get_invoice(api, body["id"]) == body
    same = patch_invoice(api, body["id"], customer=one["id"], notes="x")
    assert (same["customer"], same["notes"]) == (one["id"], "x")


def test_e4_currency_cannot_be_unset(api):
    """E4: currency "" or null -> 400 `The currency cannot be unset.`, param currency."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    for value in ("", None):
        r = api.patch(f"/invoices/{body['id']}", json={"currency": value})
        assert_error(r, 400, "currency", "The currency cannot be unset.")
    r = api.patch(f"/invoices/{body['id']}", data={"currency": ""})
    assert_error(r, 400, "currency", "The currency cannot be unset.")
    assert get_invoice(api, body["id"]) == body
    assert patch_invoice(api, body["id"], currency="EUR")["currency"] == "eur"
    assert_error(api.patch(f"/invoices/{body['id']}", json={"currency": "xyz"}), 400, "currency")


def test_example_i7_patch_items_with_ids_e5(api):
    """Example I-7 / E5: referenced lines merge, new lines are created, others are deleted."""
    customer = acme(api)
    body = created(api.post("/invoices", data={"customer": str(customer["id"]), **SEED_FORM}))
    first, second = (line["id"] for line in body["items"])
    tax_id = body["taxes"][0]["id"]
    patched = patch_invoice(
        api, body["id"], items=[{"id": second, "quantity": 2}, {"name": "Toner", "unit_cost": 20}]
    )
    delivery, toner = patched["items"]
    assert delivery["id"] == second
    assert (delivery["name"], delivery["unit_cost"], delivery["quantity"]) == ("Delivery", 10, 2)
    assert delivery["amount"] == 20
    assert (toner["name"], toner["unit_cost"], toner["quantity"], toner["amount"]) == (
        "Toner",
        20,
        1,
        20,
    )
    assert toner["id"] not in (first, second)
    assert patched["subtotal"] == 40
    assert amounts(patched["taxes"]) == [3.85]  # taxes unchanged
    assert patched["taxes"][0]["id"] == tax_id
    assert patched["total"] == 43.85
    assert patched["balance"] == 43.85
    assert get_invoice(api, body["id"]) == patched
    assert_error(
        api.get(f"/invoices/{body['id']}/line_items/{first}"),
        404,
        None,
        f"Line item was not found: {first}",
    )
    # An id that is not a line of this invoice.
    r = api.patch(f"/invoices/{body['id']}", json={"items": [{"id": 999}]})
    assert_error(r, 400, "items", "Referenced line item that does not exist: 999")
    assert get_invoice(api, body["id"]) == patched


def test_e5_line_of_another_invoice_cannot_be_referenced(api):
    """E5: an id of a line on another invoice (same account) -> 400 param items."""
    customer = make_customer(api)
    one = make_invoice(api, customer["id"], items=SEED_ITEMS)
    two = make_invoice(api, customer["id"], items=SEED_ITEMS)
    foreign = one["items"][0]["id"]
    r = api.patch(f"/invoices/{two['id']}", json={"items": [{"id": foreign, "quantity": 9}]})
    assert_error(r, 400, "items", f"Referenced line item that does not exist: {foreign}")
    assert get_invoice(api, one["id"]) == one
    assert get_invoice(api, two["id"]) == two
    # `items: []` removes every line.
    emptied = patch_invoice(api, two["id"], items=[])
    assert (emptied["items"], emptied["subtotal"], emptied["total"]) == ([], 0, 0)


def test_e6_rate_lists_replace_and_recalculate(api):
    """E6: sending only `taxes` recalculates with the stored lines; `id` keeps an applied rate."""
    tax_rate(api, "vat", 10)
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS, taxes=[{"amount": 3.85}])
    applied = body["taxes"][0]["id"]
    body = patch_invoice(api, body["id"], taxes=[{"id": applied}, "vat"])
    assert body["taxes"][0]["id"] == applied
    assert amounts(body["taxes"]) == [3.85, 14.5]
    assert body["total"] == 163.35  # 145 + 3.85 + 14.5
    body = patch_invoice(api, body["id"], discounts=[{"amount": 45}])
    assert amounts(body["taxes"]) == [3.85, 10]  # vat on 145 - 45
    assert body["total"] == 113.85  # 145 - 45 + 3.85 + 10
    body = patch_invoice(api, body["id"], taxes=[], discounts=[])
    assert body["taxes"] == body["discounts"] == []
    assert body["total"] == 145
    r = api.patch(f"/invoices/{body['id']}", json={"taxes": [{"id": 987654}]})
    assert_error(r, 400, "taxes")


def test_e7_c19_numbers(api):
    """C19 / E7 / N1: sequence, uniqueness (case-insensitive, trimmed), reuse after delete."""
    customer = make_customer(api)
    cid = customer["id"]
    first = make_invoice(api, cid)
    assert first["number"] == "INV-00001"
    # C19.3: a supplied number does not advance the sequence.
    manual = make_invoice(api, cid, number="INV-00002", draft=True)
    assert manual["number"] == "INV-00002"
    assert make_invoice(api, cid)["number"] == "INV-00003"  # C19.2: skips the used number
    assert make_invoice(api, cid, number="CUSTOM-1")["number"] == "CUSTOM-1"
    assert make_invoice(api, cid)["number"] == "INV-00004"
    before = total_count(api, "/invoices")
    for taken in ("inv-00001", " INV-00001 ", "custom-1"):
        r = api.post("/invoices", json={"customer": cid, "number": taken})
        assert_error(r, 400, "number")
    r = api.post("/invoices", json={"customer": cid, "number": "INV-00001"})
    assert_error(r, 400, "number", "The given invoice number has already been taken: INV-00001")
    assert_error(api.post("/invoices", json={"customer": cid, "number": "N" * 33}), 400, "number")
    assert total_count(api, "/invoices") == before
    # E7: PATCH to a taken number.
    r = api.patch(f"/invoices/{manual['id']}", json={"number": "Inv-00001"})
    assert_error(r, 400, "number")
    assert get_invoice(api, manual["id"])["number"] == "INV-00002"
    assert patch_invoice(api, manual["id"], number="INV-00002")["number"] == "INV-00002"
    assert patch_invoice(api, manual["id"], number="RENAMED-2")["number"] == "RENAMED-2"
    # N1 / DEL1: deleting frees the number.
    assert api.delete(f"/invoices/{first['id']}").status_code == 204
    assert make_invoice(api, cid, number="INV-00001")["number"] == "INV-00001"


def test_c19_numbers_are_per_account(api, other_api):
    """C19.1: each account has its own sequence."""
    mine = make_customer(api)
    theirs = make_customer(other_api)
    assert make_invoice(api, mine["id"])["number"] == "INV-00001"
    assert make_invoice(other_api, theirs["id"])["number"] == "INV-00001"
    assert make_invoice(other_api, theirs["id"], number="SHARED")["number"] == "SHARED"
    assert make_invoice(api, mine["id"], number="shared")["number"] == "shared"


# ---------------------------------------------------------------------------------------------
# §15 validation summary: every row -> 400 + param, and nothing stored
# ---------------------------------------------------------------------------------------------


def _metadata(n: int) -> dict[str, str]:
    return {f"k{i}": "v" for i in range(n)}


VALIDATION_ROWS: list[tuple[str, Callable[[int], dict[str, Any]], str, str | None]] = [
    ("customer missing", lambda c: {"items": SEED_ITEMS}, "customer", None),
    ("customer blank", lambda c: {"customer": ""}, "customer", None),
    (
        "customer not found",
        lambda c: {"customer": 987654321},
        "customer",
        "No such customer: 987654321",
    ),
    ("customer not numeric", lambda c: {"customer": "abc"}, "customer", "No such customer: abc"),
    ("customer object not found", lambda c: {"customer": {"id": 987654321}}, "customer", None),
    ("invalid currency", lambda c: {"customer": c, "currency": "xyz"}, "currency", None),
    ("number > 32 chars", lambda c: {"customer": c, "number": "N" * 33}, "number", None),
    (
        "purchase_order > 32",
        lambda c: {"customer": c, "purchase_order": "P" * 33},
        "purchase_order",
        None,
    ),
    (
        "payment_terms > 255",
        lambda c: {"customer": c, "payment_terms": "T" * 256},
        "payment_terms",
        None,
    ),
    ("date not a timestamp", lambda c: {"customer": c, "date": "not a date"}, "date", None),
    ("due_date not a timestamp", lambda c: {"customer": c, "due_date": "soon"}, "due_date", None),
    (
        "quantity not numeric",
        lambda c: {"customer": c, "items": [{"name": "x", "quantity": "abc"}]},
        "items",
        None,
    ),
    (
        "unit_cost not numeric",
        lambda c: {"customer": c, "items": [{"name": "x", "unit_cost": "abc"}]},
        "items",
        None,
    ),
    (
        "negative total",
        lambda c: {"customer": c, "items": [{"name": "x", "unit_cost": -5}]},
        "total",
        "Total is invalid",
    ),
    (
        "AR1 tax rate",
        lambda c: {"customer": c, "taxes": ["nope"]},
        "taxes",
        "No such tax rate: nope",
    ),
    (
        "AR1 coupon",
        lambda c: {"customer": c, "discounts": ["nope"]},
        "discounts",
        "No such coupon: nope",
    ),
    (
        "AR1 on a line",
        lambda c: {"customer": c, "items": [{"name": "x", "taxes": ["nope"]}]},
        "items",
        "No such tax rate: nope",
    ),
    (
        "AR4",
        lambda c: {
            "customer": c,
            "items": [{"name": "x", "unit_cost": 1, "taxes": ["vat"]}],
            "taxes": ["vat"],
        },
        "items",
        AR4_MESSAGE,
    ),
    (
        "R2 unknown item",
        lambda c: {"customer": c, "items": [{"catalog_item": "nope"}]},
        "items",
        "No such item: nope",
    ),
    *[
        (
            f"read-only {field}",
            (lambda f: lambda c: {"customer": c, "items": SEED_ITEMS, f: 1})(field),
            field,
            f"Mass assignment of {field} on Invoice is not allowed",
        )
        for field in (
            "subtotal",
            "total",
            "balance",
            "paid",
            "status",
            "viewed",
            "amount_paid",
            "amount_credited",
            "attempt_count",
            "date_paid",
            "created_at",
            "updated_at",
        )
    ],
    ("metadata 11 keys", lambda c: {"customer": c, "metadata": _metadata(11)}, "metadata", None),
    ("metadata long key", lambda c: {"customer": c, "metadata": {"k" * 41: "v"}}, "metadata", None),
    (
        "metadata long value",
        lambda c: {"customer": c, "metadata": {"k": "v" * 256}},
        "metadata",
        None,
    ),
    ("metadata not an object", lambda c: {"customer": c, "metadata": "x"}, "metadata", None),
    ("metadata null value", lambda c: {"customer": c, "metadata": {"k": None}}, "metadata", None),
    (
        "unknown attachment",
        lambda c: {"customer": c, "attachments": [987654]},
        "attachments",
        "No such file: 987654",
    ),
]


@pytest.mark.parametrize(
    ("build", "param", "message"),
    [row[1:] for row in VALIDATION_ROWS],
    ids=[row[0] for row in VALIDATION_ROWS],
)
def test_section_15_validation_rows(api, build, param, message):
    """§15: each invalid create -> 400 + param; no invoice stored, no event recorded (EV1)."""
    tax_rate(api, "vat", 5)
    customer = make_customer(api)
    invoices_before = total_count(api, "/invoices")
    events_before = events(api)
    r = api.post("/invoices", json=build(customer["id"]))
    assert_error(r, 400, param, message)
    assert total_count(api, "/invoices") == invoices_before
    assert events(api) == events_before
    assert total_count(api, "/customers") == 1


def test_section_15_read_only_fields_on_patch(api):
    """C3.9: rejected fields are rejected on PATCH too, and nothing changes."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    for field in ("subtotal", "total", "balance", "paid", "status", "date_paid"):
        r = api.patch(f"/invoices/{body['id']}", json={field: 0, "notes": "changed"})
        assert_error(r, 400, field, f"Mass assignment of {field} on Invoice is not allowed")
    assert get_invoice(api, body["id"]) == body


def test_c11_invoice_metadata(api):
    """C11: values stored as strings; PATCH replaces the map; {} clears it; filter matches."""
    customer = make_customer(api)
    body = make_invoice(
        api, customer["id"], items=SEED_ITEMS, metadata={"n": 12, "flag": True, "rep": "Jan"}
    )
    assert body["metadata"] == {"n": "12", "flag": "1", "rep": "Jan"}
    body = patch_invoice(api, body["id"], metadata={"rep": "Pam"})
    assert body["metadata"] == {"rep": "Pam"}
    body = patch_invoice(api, body["id"], notes="x")
    assert body["metadata"] == {"rep": "Pam"}
    assert listed_ids(api, {"metadata[rep]": "Pam"}) == [body["id"]]
    assert listed_ids(api, {"metadata[rep]": "Jan"}) == []
    assert patch_invoice(api, body["id"], metadata={})["metadata"] == {}
    line = make_invoice(
        api, customer["id"], items=[{"name": "x", "unit_cost": 1, "metadata": {"sku": 7}}]
    )
    assert line["items"][0]["metadata"] == {"sku": "7"}
    r = api.post(
        "/invoices",
        json={"customer": customer["id"], "items": [{"name": "x", "metadata": _metadata(11)}]},
    )
    assert_error(r, 400, "items")


# ---------------------------------------------------------------------------------------------
# More editing and input rules: R14, currency, ship_to, C3.5, C4.4, C14, CT9-CT11
# ---------------------------------------------------------------------------------------------


def test_r14_paying_closes_unless_closed_is_sent_and_unpaying_reopens(api):
    """R14: becoming paid closes the invoice unless the same PATCH sets `closed`; a balance
    above 0 again reopens it."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    body = patch_invoice(api, body["id"], items=[])
    assert (body["paid"], body["closed"], body["status"]) == (True, True, "paid")
    body = patch_invoice(api, body["id"], closed=False, items=SEED_ITEMS)
    assert (body["paid"], body["closed"], body["status"]) == (False, False, "not_sent")
    assert body["balance"] == 145
    body = patch_invoice(api, body["id"], items=[], closed=False)
    assert (body["paid"], body["closed"]) == (True, False)


def test_e5_the_same_line_twice_is_refused(api):
    """E5: one stored line referenced twice in one list -> 400 param items."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    line = body["items"][0]["id"]
    r = api.patch(f"/invoices/{body['id']}", json={"items": [{"id": line}, {"id": line}]})
    assert_error(r, 400, "items")
    assert get_invoice(api, body["id"]) == body


def test_e5_line_rates_are_replaced_through_items(api):
    """E5/E6: a referenced line's `taxes: []` clears its taxes; others keep theirs."""
    tax_rate(api, "gst", 10)
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        items=[
            {"name": "a", "unit_cost": 100, "taxes": ["gst"]},
            {"name": "b", "unit_cost": 50, "taxes": ["gst"]},
        ],
    )
    assert body["total"] == 165
    a, b = body["items"]
    body = patch_invoice(api, body["id"], items=[{"id": a["id"], "taxes": []}, {"id": b["id"]}])
    assert body["items"][0]["taxes"] == []
    assert amounts(body["items"][1]["taxes"]) == [5]
    assert body["items"][1]["taxes"][0]["id"] == b["taxes"][0]["id"]
    assert body["total"] == 155


def test_currency_default_and_change_recalculates(api, db_url):
    """§2: currency = customer currency, else account currency; a new currency recalculates
    in its own minor units (C12.1)."""
    euro = make_customer(api, name="Euro", currency="EUR")
    body = make_invoice(api, euro["id"], items=[{"name": "x", "unit_cost": 1234.5}])
    assert body["currency"] == "eur"
    body = patch_invoice(api, body["id"], currency="JPY")
    assert body["currency"] == "jpy"
    assert body["items"][0]["amount"] == 1235
    assert body["total"] == 1235
    canadian = other_account_api(api, db_url, currency="cad")
    plain = created(canadian.post("/customers", json={"name": "Plain"}))
    body = created(canadian.post("/invoices", json={"customer": plain["id"]}))
    assert body["currency"] == "cad"


def test_ship_to_object(api):
    """§2: ship_to has the eight documented keys; missing ones are null; null clears it."""
    customer = make_customer(api)
    body = make_invoice(
        api,
        customer["id"],
        draft=True,
        ship_to={"name": "Warehouse", "city": "Austin", "country": "US"},
    )
    assert body["ship_to"] == {
        "name": "Warehouse",
        "attention_to": None,
        "address1": None,
        "address2": None,
        "city": "Austin",
        "state": None,
        "postal_code": None,
        "country": "US",
    }
    assert patch_invoice(api, body["id"], ship_to=None)["ship_to"] is None


def test_c3_5_void_accepts_every_empty_body(api):
    """C3.5: void with an empty JSON body, `null`, `[]` or no body at all."""
    customer = make_customer(api)
    bodies = [
        {"content": b"", "headers": {"Content-Type": "application/json"}},
        {"content": b"null", "headers": {"Content-Type": "application/json"}},
        {"content": b"[]", "headers": {"Content-Type": "application/json"}},
        {},
    ]
    for kwargs in bodies:
        body = make_invoice(api, customer["id"], items=SEED_ITEMS)
        r = api.post(f"/invoices/{body['id']}/void", **kwargs)
        assert r.status_code == 200, (kwargs, r.text)
        assert r.json()["status"] == "voided"


def test_c4_4_timestamps_accept_numeric_strings_and_iso_8601(api):
    """C4.4: date as integer, numeric string or ISO-8601; due_date follows."""
    customer = acme(api)
    for date in (T0, str(T0), "2023-11-14T22:13:20Z"):
        body = make_invoice(api, customer["id"], date=date, draft=True)
        assert body["date"] == T0, date
        assert body["due_date"] == 1_702_592_000, date


def test_c14_idempotent_invoice_create(api):
    """C14.4: a repeated create with the same key returns the stored invoice, no new number."""
    customer = make_customer(api)
    headers = {"Idempotency-Key": "invoice-create-1"}
    body = {"customer": customer["id"], "items": SEED_ITEMS}
    first = created(api.post("/invoices", json=body, headers=headers))
    again = created(api.post("/invoices", json=body, headers=headers))
    assert again == first
    assert total_count(api, "/invoices") == 1
    assert make_invoice(api, customer["id"])["number"] == "INV-00002"


def test_ct9_ct10_ct11_coupon_limits_on_attachment(api):
    """CT9 exclusive coupons, CT10 expired coupons, CT11 max_redemptions -> 400 discounts."""
    customer = make_customer(api)
    cid = customer["id"]
    coupon(api, "solo", 10, exclusive=True)
    coupon(api, "other", 5)
    coupon(api, "expired", 5, expiration_date=T0)
    coupon(api, "once", 5, max_redemptions=1)
    line = [{"name": "x", "unit_cost": 100}]
    r = api.post("/invoices", json={"customer": cid, "items": line, "discounts": ["solo", "other"]})
    assert_error(r, 400, "discounts")
    r = api.post(
        "/invoices",
        json={
            "customer": cid,
            "items": [{"name": "x", "unit_cost": 100, "discounts": ["other"]}],
            "discounts": ["solo"],
        },
    )
    assert_error(r, 400, "discounts")  # CT9: line level counts too
    assert make_invoice(api, cid, items=line, discounts=["solo"])["total"] == 90
    r = api.post("/invoices", json={"customer": cid, "items": line, "discounts": ["expired"]})
    assert_error(r, 400, "discounts")
    assert make_invoice(api, cid, items=line, discounts=["once"])["total"] == 95
    r = api.post("/invoices", json={"customer": cid, "items": line, "discounts": ["once"]})
    assert_error(r, 400, "discounts")
    assert total_count(api, "/invoices") == 2


def test_autopay_invoice_lifecycle_a3_u2(api):
    """A3: issuing an AutoPay draft schedules the attempt; U2: without a payment source the
    payment URL stays; closing clears the attempt."""
    t = 1_750_000_000
    with frozen_clock(api) as move:
        move(t)
        customer = make_customer(api, autopay=True)
        body = make_invoice(api, customer["id"], draft=True, date=t, items=SEED_ITEMS)
        assert body["next_payment_attempt"] is None
        body = patch_invoice(api, body["id"], draft=False)
        assert t + 3600 <= body["next_payment_attempt"] <= t + 3600 + 5
        assert body["payment_url"] is not None
        body = patch_invoice(api, body["id"], closed=True)
        assert body["next_payment_attempt"] is None
        assert body["payment_url"] is None


# ---------------------------------------------------------------------------------------------
# Customers: CU8, CU12-CU15, CU14; balance CB1-CB4
# ---------------------------------------------------------------------------------------------


def test_cu8_turning_customer_autopay_off_switches_open_invoices_off(api):
    """CU8: unpaid, open, non-voided AutoPay invoices -> autopay false, terms null, no attempt."""
    customer = make_customer(api, name="Auto", autopay=True)
    cid = customer["id"]
    open_one = make_invoice(api, cid, items=SEED_ITEMS)
    with_due = make_invoice(api, cid, items=SEED_ITEMS, due_date=T0 + 40 * DAY)
    draft = make_invoice(api, cid, items=SEED_ITEMS, draft=True)
    paid = make_invoice(api, cid)
    closed = make_invoice(api, cid, items=SEED_ITEMS, closed=True)
    voided = make_invoice(api, cid, items=SEED_ITEMS)
    ok(api.post(f"/invoices/{voided['id']}/void"))
    assert open_one["next_payment_attempt"] is not None
    ok(api.patch(f"/customers/{cid}", json={"autopay": False}))
    for body in (open_one, with_due, draft):
        after = get_invoice(api, body["id"])
        assert after["autopay"] is False, body["id"]
        assert after["payment_terms"] is None
        assert after["next_payment_attempt"] is None
        assert after["due_date"] == body["due_date"]  # left unchanged
    for body in (paid, closed, voided):
        assert get_invoice(api, body["id"])["autopay"] is True, body["id"]
    # Turning AutoPay on again does not touch existing invoices.
    ok(api.patch(f"/customers/{cid}", json={"autopay": True}))
    assert get_invoice(api, open_one["id"])["autopay"] is False


def test_cu12_credit_hold_blocks_new_invoices(api):
    """CU12: credit hold -> 400 exact message, param total; nothing stored."""
    customer = make_customer(api, credit_hold=True)
    r = api.post("/invoices", json={"customer": customer["id"], "items": SEED_ITEMS})
    assert_error(
        r,
        400,
        "total",
        "New invoices cannot be created for this account because it has a credit hold.",
    )
    assert total_count(api, "/invoices") == 0
    assert "invoice.created" not in event_types(api)


def test_cu13_credit_limit(api):
    """CU13: open balances in the currency + new total > limit -> 400, param total."""
    customer = make_customer(api, credit_limit=200)
    cid = customer["id"]
    make_invoice(api, cid, items=SEED_ITEMS, tax=3.85)  # 148.85 outstanding
    make_invoice(api, cid, items=[{"name": "draft", "unit_cost": 1000}], draft=True)  # not counted
    make_invoice(
        api, cid, currency="eur", items=[{"name": "eur", "unit_cost": 190}]
    )  # other currency
    r = api.post("/invoices", json={"customer": cid, "items": [{"name": "x", "unit_cost": 100}]})
    assert_error(r, 400, "total")
    assert r.json()["message"].startswith(
        "This invoice cannot be created because the new amount outstanding"
    )
    assert "exceeds the account's credit limit" in r.json()["message"]
    assert total_count(api, "/invoices") == 3
    # Exactly up to the limit is fine: 148.85 + 51.15 = 200.
    make_invoice(api, cid, items=[{"name": "x", "unit_cost": 51.15}])


def test_cu15_inactive_customer(api):
    """CU15: inactive customer -> 400 exact message, param customer."""
    customer = make_customer(api, active=False)
    r = api.post("/invoices", json={"customer": customer["id"], "items": SEED_ITEMS})
    assert_error(r, 400, "customer", "This cannot be created because the customer is inactive")
    assert total_count(api, "/invoices") == 0


def test_cu14_customer_with_an_invoice_cannot_be_deleted(api):
    """CU14: an invoice references the customer -> 400 (no param); after deleting it -> 204."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], draft=True)
    r = api.delete(f"/customers/{customer['id']}")
    assert_error(r, 400, None, "Customers with transactions cannot be deleted")
    assert ok(api.get(f"/customers/{customer['id']}"))["id"] == customer["id"]
    assert api.delete(f"/invoices/{body['id']}").status_code == 204
    assert api.delete(f"/customers/{customer['id']}").status_code == 204


def balance(api, customer_id: int, **params: Any) -> dict[str, Any]:
    return ok(api.get(f"/customers/{customer_id}/balance", params=params or None))


def test_example_c3_balance_first_two_rows_cb2_cb4(api):
    """Example C-3 rows 1-2: 148.85 outstanding and due; 31 days later past_due true (CB4)."""
    t = 1_750_000_000
    with frozen_clock(api) as move:
        move(t)
        customer = acme(api)
        cid = customer["id"]
        body = created(api.post("/invoices", data={"customer": str(cid), **SEED_FORM}))
        body = patch_invoice(api, body["id"], sent=True)
        assert body["status"] == "sent"
        now = balance(api, cid)
        assert now == {
            "currency": "usd",
            "total_outstanding": 148.85,
            "due_now": 148.85,
            "past_due": False,
            "open_credit_notes": 0,
            "available_credits": 0,
            "history": [],
        }
        move(t + 31 * DAY)
        assert get_invoice(api, body["id"])["status"] == "past_due"  # S8
        later = balance(api, cid)
        assert later["total_outstanding"] == 148.85
        assert later["due_now"] == 148.85
        assert later["past_due"] is True


def test_cb1_cb2_cb3_balance_sets(api):
    """CB1: currency of the latest issued invoice; CB2 excludes drafts, voided, future dates;
    CB3: AutoPay invoices are due only once past due."""
    t = 1_750_000_000
    with frozen_clock(api) as move:
        move(t)
        customer = make_customer(api)
        cid = customer["id"]
        assert balance(api, cid)["currency"] == "usd"
        make_invoice(api, cid, currency="eur", items=[{"name": "e", "unit_cost": 10}])
        assert balance(api, cid)["currency"] == "eur"  # CB1
        assert balance(api, cid)["total_outstanding"] == 10
        make_invoice(api, cid, items=[{"name": "u", "unit_cost": 7}])
        usd = balance(api, cid, currency="USD")
        assert (usd["currency"], usd["total_outstanding"], usd["due_now"]) == ("usd", 7, 7)
        make_invoice(api, cid, draft=True, items=[{"name": "d", "unit_cost": 100}])
        make_invoice(api, cid, date=t + 10 * DAY, items=[{"name": "f", "unit_cost": 100}])
        voided = make_invoice(api, cid, items=[{"name": "v", "unit_cost": 100}])
        ok(api.post(f"/invoices/{voided['id']}/void"))
        make_invoice(api, cid, closed=True, items=[{"name": "c", "unit_cost": 100}])
        usd = balance(api, cid, currency="usd")
        assert (usd["total_outstanding"], usd["due_now"]) == (7, 7)  # CB2
        # CB3: AutoPay, not past due -> outstanding but not due now.
        make_invoice(api, cid, autopay=True, items=[{"name": "a", "unit_cost": 20}])
        usd = balance(api, cid, currency="usd")
        assert (usd["total_outstanding"], usd["due_now"]) == (27, 7)
        make_invoice(
            api, cid, autopay=True, due_date=t - DAY, items=[{"name": "late", "unit_cost": 30}]
        )
        usd = balance(api, cid, currency="usd")
        assert (usd["total_outstanding"], usd["due_now"], usd["past_due"]) == (57, 37, True)


# ---------------------------------------------------------------------------------------------
# S12: filter[status] agrees with GET
# ---------------------------------------------------------------------------------------------


def _assert_status_filter_agrees(api, ids: list[int]) -> dict[str, set[int]]:
    by_status: dict[str, set[int]] = {s: set() for s in STATUSES}
    for iid in ids:
        by_status[get_invoice(api, iid)["status"]].add(iid)
    for status in STATUSES:
        assert set(listed_ids(api, {"filter[status]": status})) == by_status[status], status
    return by_status


def test_s12_status_filter_agrees_with_get(api):
    """S12: for every status X, filter[status]=X returns exactly the invoices GET shows as X,
    before and after the clock passes a due date."""
    t = 1_750_000_000
    with frozen_clock(api) as move:
        move(t)
        customer = acme(api)
        cid = customer["id"]
        draft = make_invoice(api, cid, draft=True, items=SEED_ITEMS)
        not_sent = make_invoice(api, cid, items=SEED_ITEMS)  # NET 30
        sent = make_invoice(api, cid, items=SEED_ITEMS, sent=True)  # NET 30
        past_due = make_invoice(api, cid, items=SEED_ITEMS, due_date=t - DAY)
        paid = make_invoice(api, cid)
        voided = make_invoice(api, cid, items=SEED_ITEMS)
        ok(api.post(f"/invoices/{voided['id']}/void"))
        no_due = make_invoice(api, cid, items=SEED_ITEMS, payment_terms="Custom")
        ids = [b["id"] for b in (draft, not_sent, sent, past_due, paid, voided, no_due)]
        by_status = _assert_status_filter_agrees(api, ids)
        assert by_status["draft"] == {draft["id"]}
        assert by_status["not_sent"] == {not_sent["id"], no_due["id"]}
        assert by_status["sent"] == {sent["id"]}
        assert by_status["past_due"] == {past_due["id"]}
        assert by_status["paid"] == {paid["id"]}
        assert by_status["voided"] == {voided["id"]}

        move(t + 31 * DAY)  # past the NET 30 due dates
        by_status = _assert_status_filter_agrees(api, ids)
        assert by_status["past_due"] == {not_sent["id"], sent["id"], past_due["id"]}
        assert by_status["not_sent"] == {no_due["id"]}
        assert by_status["sent"] == set()
        assert by_status["draft"] == {draft["id"]}
        # Combined with other filters.
        both = {"filter[status]": "past_due", "filter[sent]": "1"}
        assert listed_ids(api, both) == [sent["id"]]
    assert_error(api.get("/invoices", params={"filter[status]": "bogus"}), 400, None)


# ---------------------------------------------------------------------------------------------
# Listing (§13, C7-C10)
# ---------------------------------------------------------------------------------------------


def test_list_filters(api):
    """§13 filters: customer, paid, closed, draft, number, total/balance (decimals), currency."""
    one = acme(api)
    two = make_customer(api, name="Two")
    a = make_invoice(api, one["id"], items=SEED_ITEMS, tax=3.85)  # 148.85
    b = make_invoice(api, one["id"], draft=True, items=[{"name": "x", "unit_cost": 12.5}])
    c = make_invoice(api, two["id"])  # paid, closed, total 0
    d = make_invoice(api, two["id"], currency="eur", items=[{"name": "x", "unit_cost": 148.85}])
    assert listed_ids(api) == [a["id"], b["id"], c["id"], d["id"]]  # C7.9: id asc
    assert listed_ids(api, {"filter[customer]": one["id"]}) == [a["id"], b["id"]]
    assert listed_ids(api, {"filter[customer]": two["id"]}) == [c["id"], d["id"]]
    assert listed_ids(api, {"filter[customer]": 987654}) == []
    assert listed_ids(api, {"filter[paid]": "1"}) == [c["id"]]
    assert listed_ids(api, {"filter[paid]": "False"}) == [a["id"], b["id"], d["id"]]  # C9.4
    assert listed_ids(api, {"filter[closed]": "true"}) == [c["id"]]
    assert listed_ids(api, {"filter[draft]": "1"}) == [b["id"]]
    assert listed_ids(api, {"filter[draft]": "no"}) == [a["id"], c["id"], d["id"]]
    assert listed_ids(api, {"filter[number]": "INV-00002"}) == [b["id"]]
    assert listed_ids(api, {"filter[total]": "148.85"}) == [a["id"], d["id"]]
    assert listed_ids(api, {"filter[balance]": "148.85"}) == [a["id"], d["id"]]
    assert listed_ids(api, {"filter[total]": "12.5"}) == [b["id"]]
    assert listed_ids(api, {"filter[total]": "12.50"}) == [b["id"]]
    assert listed_ids(api, {"filter[total]": "0"}) == [c["id"]]
    assert listed_ids(api, {"filter[subtotal]": "145"}) == [a["id"]]
    assert listed_ids(api, {"filter[currency]": "EUR"}) == [d["id"]]
    docs_example = {"filter[paid]": "0", "filter[closed]": "0", "filter[customer]": one["id"]}
    assert listed_ids(api, docs_example) == [a["id"], b["id"]]  # §13 docs example
    assert_error(api.get("/invoices", params={"filter[bogus]": "1"}), 400, None)
    assert_error(api.get("/invoices", params={"filter[total]": "abc"}), 400, None)


def test_list_start_end_date_sort_and_updated(api):
    """C9.9 start_date/end_date inclusive on `date`; C8 sort=date desc; C9.8 updated_*."""
    customer = make_customer(api)
    cid = customer["id"]
    a = make_invoice(api, cid, date=T0)
    b = make_invoice(api, cid, date=T0 + DAY)
    c = make_invoice(api, cid, date=T0 + 2 * DAY)
    assert listed_ids(api, {"start_date": T0 + DAY}) == [b["id"], c["id"]]
    assert listed_ids(api, {"end_date": T0 + DAY}) == [a["id"], b["id"]]
    assert listed_ids(api, {"start_date": T0 + DAY, "end_date": T0 + DAY}) == [b["id"]]
    assert listed_ids(api, {"start_date": 0}) == [a["id"], b["id"], c["id"]]  # <= 0 ignored
    assert listed_ids(api, {"sort": "date desc"}) == [c["id"], b["id"], a["id"]]
    assert listed_ids(api, {"sort": "date asc"}) == [a["id"], b["id"], c["id"]]
    assert listed_ids(api, {"sort": "date"}) == [a["id"], b["id"], c["id"]]  # no direction: dropped
    assert listed_ids(api, {"filter[date]": T0 + 2 * DAY}) == [c["id"]]
    newest = max(x["updated_at"] for x in (a, b, c))
    assert listed_ids(api, {"updated_after": newest}) == []
    assert listed_ids(api, {"updated_before": newest + 1}) == [a["id"], b["id"], c["id"]]


def test_list_pagination_headers(api):
    """C7: X-Total-Count and Link on the invoice list, per_page and page."""
    customer = make_customer(api)
    ids = [make_invoice(api, customer["id"])["id"] for _ in range(5)]
    r = api.get("/invoices", params={"per_page": 2, "page": 2})
    assert r.status_code == 200
    assert [o["id"] for o in r.json()] == ids[2:4]
    assert r.headers["X-Total-Count"] == "5"
    base = "http://localhost:8000/invoices"
    assert r.headers["Link"] == (
        f'<{base}?page=2&per_page=2>; rel="self", '
        f'<{base}?page=1&per_page=2>; rel="first", '
        f'<{base}?page=1&per_page=2>; rel="previous", '
        f'<{base}?page=3&per_page=2>; rel="next", '
        f'<{base}?page=3&per_page=2>; rel="last"'
    )
    r = api.get("/invoices", params={"filter[customer]": customer["id"], "per_page": 2, "page": 3})
    assert [o["id"] for o in r.json()] == ids[4:]
    assert "next" not in r.headers["Link"]
    assert "filter%5Bcustomer%5D=" in r.headers["Link"]
    r = api.get("/invoices", params={"page": 9})
    assert r.json() == []
    assert r.headers["X-Total-Count"] == "5"


def test_expand_customer_on_list_retrieve_create_update(api):
    """C10.1: expand=customer on list, retrieve, create and update responses."""
    customer = acme(api)
    full = ok(api.get(f"/customers/{customer['id']}"))
    r = api.post("/invoices", params={"expand": "customer"}, json={"customer": customer["id"]})
    body = created(r)
    assert body["customer"] == full
    assert get_invoice(api, body["id"], expand="customer")["customer"] == full
    assert get_invoice(api, body["id"])["customer"] == customer["id"]
    assert listed(api, params={"expand": "customer"})[0]["customer"] == full
    assert listed(api, params={"expand[]": "customer"})[0]["customer"] == full
    assert listed(api)[0]["customer"] == customer["id"]
    r = api.patch(
        f"/invoices/{body['id']}", params={"expand": "customer,bogus"}, json={"closed": False}
    )
    assert ok(r)["customer"] == full


# ---------------------------------------------------------------------------------------------
# Delete (DEL1), events (EV2, EV5, EV9)
# ---------------------------------------------------------------------------------------------


def test_del1_delete_invoice(api):
    """DEL1 / C16: 204 and gone (invoice, lines); a second delete -> 404."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    line = body["items"][0]["id"]
    r = api.delete(f"/invoices/{body['id']}")
    assert r.status_code == 204
    assert r.content == b""
    assert_error(
        api.get(f"/invoices/{body['id']}"), 404, None, f"Invoice was not found: {body['id']}"
    )
    assert_error(api.get(f"/invoices/{body['id']}/line_items/{line}"), 404, None)
    assert_error(api.delete(f"/invoices/{body['id']}"), 404, None)
    assert total_count(api, "/invoices") == 0
    # Voided and closed invoices can be deleted too (no payments applied).
    voided = make_invoice(api, customer["id"], items=SEED_ITEMS)
    ok(api.post(f"/invoices/{voided['id']}/void"))
    assert api.delete(f"/invoices/{voided['id']}").status_code == 204
    paid = make_invoice(api, customer["id"])
    assert api.delete(f"/invoices/{paid['id']}").status_code == 204


def test_c1_5_non_numeric_invoice_id_is_404(api):
    """C1.5: invalid path ids -> 404 `Invoice was not found: <id>`."""
    for path in ("/invoices/abc", "/invoices/1.5", "/invoices/-1"):
        r = api.get(path)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["type"] == "invalid_request"
    assert_error(api.get("/invoices/abc"), 404, None, "Invoice was not found: abc")
    assert_error(api.patch("/invoices/999999", json={"notes": "x"}), 404, None)
    assert_error(api.delete("/invoices/999999"), 404, None)


def test_ev2_ev9_invoice_created_embeds_the_customer(api):
    """EV2/EV9: invoice.created carries the invoice with `customer` expanded."""
    customer = acme(api)
    body = created(api.post("/invoices", data={"customer": str(customer["id"]), **SEED_FORM}))
    newest = events(api)[0]
    assert newest["type"] == "invoice.created"
    full_customer = ok(api.get(f"/customers/{customer['id']}"))
    assert newest["data"]["object"] == {**body, "customer": full_customer}
    assert "previous" not in newest["data"]
    related = events(api, {"related_to": f"customer,{customer['id']}"})
    assert "invoice.created" in [e["type"] for e in related]  # EV8


def test_ev5_invoice_updated_with_previous(api):
    """EV5: invoice.updated with previous = old values of changed keys."""
    with frozen_clock(api) as move:
        move(T0)
        customer = acme(api)
        body = make_invoice(api, customer["id"], items=SEED_ITEMS)
        move(T0 + 600)
        updated = patch_invoice(api, body["id"], notes="thanks", purchase_order="PO-1")
    newest = events(api)[0]
    assert newest["type"] == "invoice.updated"
    full_customer = ok(api.get(f"/customers/{customer['id']}"))
    assert newest["data"]["object"] == {**updated, "customer": full_customer}
    previous = newest["data"]["previous"]
    assert set(previous) - {"updated_at"} == {"notes", "purchase_order"}
    assert previous["notes"] is None
    assert previous["purchase_order"] is None
    if "updated_at" in previous:
        assert previous["updated_at"] == body["updated_at"]
    # EV3: a PATCH that changes nothing records nothing.
    before = events(api)
    patch_invoice(api, body["id"], notes="thanks")
    assert events(api) == before


def test_ev5_items_change_previous_has_old_arrays_and_totals(api):
    """EV5: a changed `items` array appears whole with its old value; totals too."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    patch_invoice(api, body["id"], items=[{"id": body["items"][0]["id"], "quantity": 1}])
    previous = events(api)[0]["data"]["previous"]
    assert previous["items"] == body["items"]
    assert previous["subtotal"] == 145
    assert previous["total"] == 145
    assert previous["balance"] == 145


def test_ev2_invoice_deleted_and_voided_events(api):
    """EV2: invoice.deleted carries the last state; void records invoice.updated."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    voided = ok(api.post(f"/invoices/{body['id']}/void"))
    newest = events(api)[0]
    assert newest["type"] == "invoice.updated"
    assert newest["data"]["object"]["status"] == "voided"
    assert newest["data"]["previous"]["status"] == "not_sent"
    assert api.delete(f"/invoices/{body['id']}").status_code == 204
    newest = events(api)[0]
    assert newest["type"] == "invoice.deleted"
    full_customer = ok(api.get(f"/customers/{customer['id']}"))
    assert newest["data"]["object"] == {**voided, "customer": full_customer}


def test_ev1_failed_invoice_requests_record_no_event(api):
    """EV1: rejected invoice requests commit nothing."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=SEED_ITEMS)
    before = events(api)
    bad = [
        api.post("/invoices", json={"customer": customer["id"], "total": 5}),
        api.patch(f"/invoices/{body['id']}", json={"draft": True}),
        api.patch(f"/invoices/{body['id']}", json={"items": [{"id": 999}]}),
        api.post(f"/invoices/{body['id']}/line_items", json={"taxes": ["nope"]}),
        api.patch("/invoices/999999", json={"notes": "x"}),
    ]
    assert [r.status_code for r in bad] == [400, 400, 400, 400, 404]
    assert events(api) == before
    assert get_invoice(api, body["id"]) == body


# ---------------------------------------------------------------------------------------------
# C19.4: concurrent creates against the real server
# ---------------------------------------------------------------------------------------------


async def _concurrent_posts(base_url: str, key: str, bodies: list[dict[str, Any]]) -> list[Any]:
    async with httpx.AsyncClient(base_url=base_url, auth=(key, ""), timeout=60) as client:
        return await asyncio.gather(*(client.post("/invoices", json=b) for b in bodies))


def test_c19_4_concurrent_invoice_creates_get_distinct_numbers(server, db_url):
    """C19.4: 32 concurrent creates without number -> INV-00001..INV-00032, no 5xx."""
    account = new_account(db_url)
    r = httpx.post(f"{server.base_url}/customers", auth=(account.key, ""), json={"name": "Acme"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    bodies = [
        {"customer": cid, "items": [{"name": f"Line {i}", "unit_cost": i}]} for i in range(32)
    ]
    responses = asyncio.run(_concurrent_posts(server.base_url, account.key, bodies))
    statuses = [r.status_code for r in responses]
    assert not [s for s in statuses if s >= 500], [
        r.text for r in responses if r.status_code >= 500
    ]
    assert statuses == [201] * 32, [r.text for r in responses if r.status_code != 201]
    numbers = sorted(r.json()["number"] for r in responses)
    assert numbers == [f"INV-{i:05d}" for i in range(1, 33)]
    r = httpx.get(f"{server.base_url}/invoices", auth=(account.key, ""))
    assert r.headers["X-Total-Count"] == "32"
