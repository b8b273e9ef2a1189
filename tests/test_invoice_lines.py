"""The line-item sub-resource `/invoices/{id}/line_items` (invoices.md §1, §3, R16, E2, E3).

Every change through the sub-resource recalculates the invoice (R16) and records
`invoice.updated` (C22.3, events_webhooks.md EV5). A line of another invoice is not found (404).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support import new_account
from tests.test_invoices import (
    CLOSED_MESSAGE,
    LINE_KEYS,
    SEED_ITEMS,
    VOIDED_MESSAGE,
    amounts,
    assert_error,
    catalog_item,
    created,
    events,
    get_invoice,
    make_customer,
    make_invoice,
    ok,
    patch_invoice,
    tax_rate,
)


def lines_path(invoice_id: int, line_id: int | None = None) -> str:
    path = f"/invoices/{invoice_id}/line_items"
    return path if line_id is None else f"{path}/{line_id}"


@pytest.fixture
def seed(api) -> dict[str, Any]:
    """Example I-1's invoice: lines 135 + 10, custom tax 3.85, total 148.85."""
    customer = make_customer(api, name="Acme", payment_terms="NET 30")
    return make_invoice(api, customer["id"], items=SEED_ITEMS, taxes=[{"amount": 3.85}])


def assert_unchanged(api, invoice: dict[str, Any]) -> None:
    assert get_invoice(api, invoice["id"]) == invoice


# ---------------------------------------------------------------------------------------------
# List and retrieve
# ---------------------------------------------------------------------------------------------


def test_list_line_items_is_paginated(api, seed):
    """§1 / C7.1: the nested list carries X-Total-Count and Link and honours per_page."""
    r = api.get(lines_path(seed["id"]))
    assert r.status_code == 200, r.text
    assert r.json() == seed["items"]
    assert r.headers["X-Total-Count"] == "2"
    base = f"http://localhost:8000/invoices/{seed['id']}/line_items"
    assert r.headers["Link"] == (
        f'<{base}?page=1>; rel="self", <{base}?page=1>; rel="first", <{base}?page=1>; rel="last"'
    )
    r = api.get(lines_path(seed["id"]), params={"per_page": 1, "page": 2})
    assert r.status_code == 200, r.text
    assert r.json() == seed["items"][1:]
    assert r.headers["X-Total-Count"] == "2"
    assert 'rel="previous"' in r.headers["Link"]
    assert 'rel="next"' not in r.headers["Link"]
    r = api.get(lines_path(seed["id"]), params={"per_page": 1})
    assert r.json() == seed["items"][:1]
    assert f'<{base}?page=2&per_page=1>; rel="next"' in r.headers["Link"]


def test_list_line_items_of_an_empty_invoice(api):
    """C7.8: empty list, X-Total-Count 0."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], draft=True)
    r = api.get(lines_path(body["id"]))
    assert r.status_code == 200
    assert r.json() == []
    assert r.headers["X-Total-Count"] == "0"


def test_retrieve_line_item(api, seed):
    """§1: GET one line returns the same object as in the invoice."""
    for line in seed["items"]:
        body = ok(api.get(lines_path(seed["id"], line["id"])))
        assert set(body) == LINE_KEYS
        assert body == line


def test_missing_invoice_or_line_is_404(api, seed):
    """C5 / C1.5: unknown invoice, unknown line, non-numeric ids -> 404 with the object name."""
    assert_error(api.get(lines_path(999999)), 404, None, "Invoice was not found: 999999")
    assert_error(
        api.post(lines_path(999999), json={"name": "x"}), 404, None, "Invoice was not found: 999999"
    )
    assert_error(
        api.get(lines_path(seed["id"], 999999)), 404, None, "Line item was not found: 999999"
    )
    assert_error(
        api.get(lines_path(seed["id"]) + "/abc"), 404, None, "Line item was not found: abc"
    )
    assert_error(api.get("/invoices/abc/line_items"), 404, None, "Invoice was not found: abc")
    assert_unchanged(api, seed)


def test_line_of_another_invoice_is_404(api, seed):
    """§1: a line that belongs to another invoice (same account) -> 404 on GET/PATCH/DELETE."""
    other = make_invoice(api, seed["customer"], items=[{"name": "Other", "unit_cost": 5}])
    foreign = other["items"][0]["id"]
    message = f"Line item was not found: {foreign}"
    path = lines_path(seed["id"], foreign)
    assert_error(api.get(path), 404, None, message)
    assert_error(api.patch(path, json={"quantity": 9}), 404, None, message)
    assert_error(api.patch(path, data={"quantity": "9"}), 404, None, message)
    assert_error(api.delete(path), 404, None, message)
    assert_unchanged(api, seed)
    assert_unchanged(api, other)


# ---------------------------------------------------------------------------------------------
# Create, update, delete: the invoice is recalculated (R16)
# ---------------------------------------------------------------------------------------------


def test_create_line_recalculates_invoice(api, seed):
    """R16: POST a line -> 201 line_item; GET invoice shows the new subtotal, total, balance."""
    r = api.post(lines_path(seed["id"]), json={"name": "Toner", "quantity": 2, "unit_cost": 20})
    line = created(r)
    assert set(line) == LINE_KEYS
    assert line["object"] == "line_item"
    assert (line["name"], line["quantity"], line["unit_cost"], line["amount"]) == (
        "Toner",
        2,
        20,
        40,
    )
    invoice = get_invoice(api, seed["id"])
    assert [x["id"] for x in invoice["items"]] == [*(x["id"] for x in seed["items"]), line["id"]]
    assert invoice["items"][-1] == line
    assert invoice["subtotal"] == 185
    assert invoice["total"] == 188.85
    assert invoice["balance"] == 188.85
    assert ok(api.get(lines_path(seed["id"], line["id"]))) == line
    r = api.get(lines_path(seed["id"]))
    assert r.headers["X-Total-Count"] == "3"


def test_create_line_form_encoded_with_rates(api, seed):
    """C3.2 / AR5: a form-encoded line with a line-level tax; the invoice total follows."""
    tax_rate(api, "gst", 10)
    r = api.post(
        lines_path(seed["id"]),
        data={"name": "Toner", "quantity": "2", "unit_cost": "20", "taxes[0]": "gst"},
    )
    line = created(r)
    assert line["amount"] == 40
    assert [t["tax_rate"]["id"] for t in line["taxes"]] == ["gst"]
    assert amounts(line["taxes"]) == [4]
    assert get_invoice(api, seed["id"])["total"] == 192.85  # 148.85 + 40 + 4


def test_create_line_from_catalog_item(api, seed):
    """R2 on the sub-resource: the item fills the line; request fields win."""
    catalog_item(api, "delivery", name="Delivery", type="service", unit_cost=10)
    line = created(api.post(lines_path(seed["id"]), json={"catalog_item": "delivery"}))
    assert (line["catalog_item"], line["name"], line["type"], line["unit_cost"]) == (
        "delivery",
        "Delivery",
        "service",
        10,
    )
    line = created(
        api.post(lines_path(seed["id"]), json={"catalog_item": "delivery", "unit_cost": 12})
    )
    assert line["amount"] == 12
    assert get_invoice(api, seed["id"])["total"] == 170.85  # 148.85 + 10 + 12
    r = api.post(lines_path(seed["id"]), json={"catalog_item": "nope"})
    assert r.status_code == 400, r.text
    assert r.json()["message"] == "No such item: nope"


def test_percent_document_tax_follows_line_changes(api):
    """R16 / R7: a document-level percent tax is recomputed after each line change."""
    tax_rate(api, "vat", 10)
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=[{"name": "a", "unit_cost": 100}], taxes=["vat"])
    assert body["total"] == 110
    line = created(api.post(lines_path(body["id"]), json={"name": "b", "unit_cost": 50}))
    invoice = get_invoice(api, body["id"])
    assert amounts(invoice["taxes"]) == [15]
    assert invoice["total"] == 165
    ok(api.patch(lines_path(body["id"], line["id"]), json={"unit_cost": 150}))
    invoice = get_invoice(api, body["id"])
    assert amounts(invoice["taxes"]) == [25]
    assert invoice["total"] == 275
    assert api.delete(lines_path(body["id"], line["id"])).status_code == 204
    invoice = get_invoice(api, body["id"])
    assert amounts(invoice["taxes"]) == [10]
    assert invoice["total"] == 110


def test_patch_line_recalculates_invoice(api, seed):
    """R16: PATCH a line merges the sent fields and recalculates the invoice."""
    paper = seed["items"][0]
    body = ok(api.patch(lines_path(seed["id"], paper["id"]), json={"quantity": 1}))
    assert body["id"] == paper["id"]
    assert (body["name"], body["quantity"], body["unit_cost"], body["amount"]) == (
        "Copy paper, Case",
        1,
        45,
        45,
    )
    invoice = get_invoice(api, seed["id"])
    assert invoice["items"][0] == body
    assert invoice["subtotal"] == 55
    assert invoice["total"] == 58.85
    body = ok(api.patch(lines_path(seed["id"], paper["id"]), data={"unit_cost": "12.045"}))
    assert body["amount"] == 12.05  # C12.2
    assert get_invoice(api, seed["id"])["total"] == 25.9  # 12.05 + 10 + 3.85
    body = ok(api.patch(lines_path(seed["id"], paper["id"]), json={"metadata": {"sku": 1}}))
    assert body["metadata"] == {"sku": "1"}


def test_patch_line_invalid_values_change_nothing(api, seed):
    """C3.3: non-numeric quantity -> 400; R11: a negative total -> 400 total."""
    paper = seed["items"][0]
    r = api.patch(lines_path(seed["id"], paper["id"]), json={"quantity": "abc"})
    assert r.status_code == 400, r.text
    assert r.json()["type"] == "invalid_request"
    r = api.patch(lines_path(seed["id"], paper["id"]), json={"unit_cost": -100})
    assert_error(r, 400, "total", "Total is invalid")
    r = api.post(lines_path(seed["id"]), json={"name": "Refund", "unit_cost": -1000})
    assert_error(r, 400, "total", "Total is invalid")
    assert_unchanged(api, seed)


def test_ar4_on_the_sub_resource(api):
    """AR4: a line-level tax equal to a document-level one -> 400 param items, nothing stored."""
    tax_rate(api, "vat", 5)
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=[{"name": "a", "unit_cost": 100}], taxes=["vat"])
    r = api.post(lines_path(body["id"]), json={"name": "b", "unit_cost": 1, "taxes": ["vat"]})
    assert_error(r, 400, "items")
    r = api.patch(lines_path(body["id"], body["items"][0]["id"]), json={"taxes": ["vat"]})
    assert_error(r, 400, "items")
    assert_unchanged(api, body)


def test_delete_line_recalculates_invoice(api, seed):
    """C16: 204 empty; the invoice loses the line; a second delete -> 404."""
    delivery = seed["items"][1]
    r = api.delete(lines_path(seed["id"], delivery["id"]))
    assert r.status_code == 204
    assert r.content == b""
    invoice = get_invoice(api, seed["id"])
    assert [x["id"] for x in invoice["items"]] == [seed["items"][0]["id"]]
    assert invoice["subtotal"] == 135
    assert invoice["total"] == 138.85
    assert invoice["balance"] == 138.85
    assert_error(
        api.delete(lines_path(seed["id"], delivery["id"])),
        404,
        None,
        f"Line item was not found: {delivery['id']}",
    )
    assert_error(api.get(lines_path(seed["id"], delivery["id"])), 404, None)


def test_deleting_the_last_line_pays_a_zero_invoice(api):
    """R14/R15: an issued invoice whose total drops to 0 becomes paid and closed."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], items=[{"name": "a", "unit_cost": 10}])
    assert api.delete(lines_path(body["id"], body["items"][0]["id"])).status_code == 204
    invoice = get_invoice(api, body["id"])
    assert (invoice["total"], invoice["paid"], invoice["closed"], invoice["status"]) == (
        0,
        True,
        True,
        "paid",
    )


# ---------------------------------------------------------------------------------------------
# E2 / E3: voided and closed invoices
# ---------------------------------------------------------------------------------------------


def test_e3_closed_invoice_lines_cannot_change(api, seed):
    """E3: closed -> 400 param closed for POST, PATCH and DELETE; reads still work."""
    closed = patch_invoice(api, seed["id"], closed=True)
    line = seed["items"][0]
    for r in (
        api.post(lines_path(seed["id"]), json={"name": "x", "unit_cost": 1}),
        api.patch(lines_path(seed["id"], line["id"]), json={"quantity": 9}),
        api.delete(lines_path(seed["id"], line["id"])),
    ):
        assert_error(r, 400, "closed", CLOSED_MESSAGE)
    assert_unchanged(api, closed)
    assert ok(api.get(lines_path(seed["id"], line["id"]))) == line
    assert api.get(lines_path(seed["id"])).json() == seed["items"]
    # Paid (R14 closed it) behaves the same.
    paid = make_invoice(api, seed["customer"])
    r = api.post(lines_path(paid["id"]), json={"name": "x", "unit_cost": 1})
    assert_error(r, 400, "closed", CLOSED_MESSAGE)


def test_e2_voided_invoice_lines_cannot_change(api, seed):
    """E2: voided -> 400 param voided for POST, PATCH and DELETE."""
    voided = ok(api.post(f"/invoices/{seed['id']}/void"))
    line = seed["items"][0]
    for r in (
        api.post(lines_path(seed["id"]), json={"name": "x", "unit_cost": 1}),
        api.patch(lines_path(seed["id"], line["id"]), json={"quantity": 9}),
        api.delete(lines_path(seed["id"], line["id"])),
    ):
        assert_error(r, 400, "voided", VOIDED_MESSAGE)
    assert_unchanged(api, voided)


def test_draft_invoice_lines_can_change(api):
    """A draft is editable; its status stays draft and it is never paid (R13)."""
    customer = make_customer(api)
    body = make_invoice(api, customer["id"], draft=True)
    line = created(api.post(lines_path(body["id"]), json={"name": "a", "unit_cost": 7}))
    assert api.delete(lines_path(body["id"], line["id"])).status_code == 204
    invoice = get_invoice(api, body["id"])
    assert (invoice["status"], invoice["paid"], invoice["total"]) == ("draft", False, 0)


# ---------------------------------------------------------------------------------------------
# Events: a sub-resource change is an invoice.updated (C22.3, EV5)
# ---------------------------------------------------------------------------------------------


def test_line_changes_record_invoice_updated(api, seed):
    """EV5: each line create/update/delete records invoice.updated with the old totals."""
    start = len(events(api))
    line = created(api.post(lines_path(seed["id"]), json={"name": "Toner", "unit_cost": 20}))
    newest = events(api)[0]
    assert newest["type"] == "invoice.updated"
    assert newest["data"]["object"]["id"] == seed["id"]
    assert newest["data"]["object"]["total"] == 168.85
    assert isinstance(newest["data"]["object"]["customer"], dict)  # EV9
    previous = newest["data"]["previous"]
    assert previous["total"] == 148.85
    assert previous["subtotal"] == 145
    assert previous["items"] == seed["items"]

    ok(api.patch(lines_path(seed["id"], line["id"]), json={"unit_cost": 25}))
    newest = events(api)[0]
    assert newest["type"] == "invoice.updated"
    assert newest["data"]["previous"]["total"] == 168.85
    assert newest["data"]["object"]["total"] == 173.85

    assert api.delete(lines_path(seed["id"], line["id"])).status_code == 204
    newest = events(api)[0]
    assert newest["type"] == "invoice.updated"
    assert newest["data"]["previous"]["total"] == 173.85
    assert newest["data"]["object"]["total"] == 148.85
    assert len(events(api)) == start + 3
    # No `line_item.*` events: those are for pending line items only (§4).
    assert not [e for e in events(api) if e["type"].startswith("line_item.")]


def test_failed_line_requests_record_no_event(api, seed):
    """EV1: rejected line requests commit nothing."""
    before = events(api)
    bad = [
        api.post(lines_path(seed["id"]), json={"taxes": ["nope"]}),
        api.patch(lines_path(seed["id"], seed["items"][0]["id"]), json={"unit_cost": -1000}),
        api.delete(lines_path(seed["id"], 999999)),
    ]
    assert [r.status_code for r in bad] == [400, 400, 404]
    assert events(api) == before
    assert_unchanged(api, seed)


# ---------------------------------------------------------------------------------------------
# C22: concurrent line changes on one invoice against the real server
# ---------------------------------------------------------------------------------------------


async def _concurrent_line_posts(base_url: str, key: str, path: str, n: int) -> list[Any]:
    async with httpx.AsyncClient(base_url=base_url, auth=(key, ""), timeout=60) as client:
        return await asyncio.gather(
            *(client.post(path, json={"name": f"L{i}", "unit_cost": i + 1}) for i in range(n))
        )


def test_c22_concurrent_line_creates_lose_no_update(server, db_url):
    """C22.1/C22.2: 16 concurrent line creates -> 16 lines, total = the sum, no 5xx."""
    account = new_account(db_url)
    auth = (account.key, "")
    base = server.base_url
    r = httpx.post(f"{base}/customers", auth=auth, json={"name": "Acme"})
    assert r.status_code == 201, r.text
    r = httpx.post(f"{base}/invoices", auth=auth, json={"customer": r.json()["id"], "draft": True})
    assert r.status_code == 201, r.text
    invoice_id = r.json()["id"]
    responses = asyncio.run(
        _concurrent_line_posts(base, account.key, f"/invoices/{invoice_id}/line_items", 16)
    )
    statuses = [r.status_code for r in responses]
    assert not [s for s in statuses if s >= 500], [
        r.text for r in responses if r.status_code >= 500
    ]
    assert statuses == [201] * 16, [r.text for r in responses if r.status_code != 201]
    invoice = httpx.get(f"{base}/invoices/{invoice_id}", auth=auth).json()
    assert len(invoice["items"]) == 16
    assert invoice["subtotal"] == invoice["total"] == invoice["balance"] == sum(range(1, 17))
