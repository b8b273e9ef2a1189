"""Regressions found in review of the invoicing code; each test names the rule it guards."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import event

from tests.support import new_account


def created(response):
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def customer(api):
    return created(api.post("/customers", json={"name": "Acme"}))["id"]


def invoice(api, customer, **fields):
    return created(api.post("/invoices", json={"customer": customer, **fields}))


def test_e5_line_rates_left_out_are_removed_for_good(api, customer):
    created(api.post("/tax_rates", json={"id": "vat", "name": "VAT", "value": 10}))
    inv = invoice(api, customer, items=[{"name": "x", "unit_cost": 100, "taxes": ["vat"]}])
    assert inv["total"] == 110
    line = inv["items"][0]["id"]
    path = f"/invoices/{inv['id']}/line_items/{line}"
    assert api.patch(path, json={"taxes": []}).json()["taxes"] == []
    assert api.get(f"/invoices/{inv['id']}").json()["total"] == 100
    assert api.patch(path, json={"quantity": 2}).status_code == 200
    assert api.get(f"/invoices/{inv['id']}").json()["total"] == 200


def test_ar2_the_same_rate_on_a_line_twice_counts_once(api, customer):
    created(api.post("/tax_rates", json={"id": "vat", "name": "VAT", "value": 10}))
    inv = invoice(api, customer, items=[{"name": "x", "unit_cost": 100}])
    line = inv["items"][0]["id"]
    patched = api.patch(f"/invoices/{inv['id']}", json={"items": [{"id": line, "taxes": ["vat"]}]})
    assert patched.json()["total"] == 110
    again = api.patch(f"/invoices/{inv['id']}", json={"items": [{"id": line, "quantity": 1}]})
    assert again.json()["total"] == 110
    assert len(again.json()["items"][0]["taxes"]) == 1


def test_ar2_the_same_applied_rate_id_twice_counts_once(api, customer):
    inv = invoice(api, customer, items=[{"name": "x", "unit_cost": 100}], taxes=[{"amount": 5}])
    tax = inv["taxes"][0]["id"]
    patched = api.patch(f"/invoices/{inv['id']}", json={"taxes": [{"id": tax}, {"id": tax}]})
    assert patched.json()["total"] == 105
    assert [t["id"] for t in patched.json()["taxes"]] == [tax]
    assert api.get(f"/invoices/{inv['id']}").json()["total"] == 105


def test_ct2_rates_sent_back_whole_are_kept_even_after_archiving(api, customer):
    created(api.post("/tax_rates", json={"id": "vat", "name": "VAT", "value": 5}))
    inv = invoice(api, customer, items=[{"name": "x", "unit_cost": 100}], taxes=["vat"])
    assert api.delete("/tax_rates/vat").status_code == 204
    patched = api.patch(f"/invoices/{inv['id']}", json={"taxes": inv["taxes"]})
    assert patched.status_code == 200, patched.text
    assert [t["id"] for t in patched.json()["taxes"]] == [inv["taxes"][0]["id"]]
    assert patched.json()["total"] == 105


def test_r17_it9_archived_rates_on_customers_and_items_are_skipped(api):
    created(api.post("/tax_rates", json={"id": "vat", "name": "VAT", "value": 5}))
    created(
        api.post("/items", json={"id": "box", "name": "Box", "unit_cost": 10, "taxes": ["vat"]})
    )
    buyer = created(api.post("/customers", json={"name": "Taxed", "taxes": ["vat"]}))["id"]
    assert api.delete("/tax_rates/vat").status_code == 204
    inv = invoice(api, buyer, items=[{"catalog_item": "box"}])
    assert inv["taxes"] == [] and inv["items"][0]["taxes"] == []
    assert inv["total"] == 10


def test_r15_zero_total_created_with_closed_false_is_closed(api, customer):
    inv = invoice(api, customer, closed=False)
    assert (inv["paid"], inv["closed"], inv["status"]) == (True, True, "paid")


def test_ev3_a_patch_that_changes_nothing_records_no_event(api, customer):
    inv = invoice(api, customer, items=[{"name": "a", "unit_cost": 1}])
    line = inv["items"][0]["id"]
    count = api.get("/events").headers["X-Total-Count"]
    same = api.patch(f"/invoices/{inv['id']}", json={"items": [{"id": line, "quantity": 1}]})
    assert same.json()["updated_at"] == inv["updated_at"]
    api.patch(f"/invoices/{inv['id']}/line_items/{line}", json={"name": "a"})
    assert api.get("/events").headers["X-Total-Count"] == count


def test_cu8_switching_autopay_off_records_invoice_events(api):
    buyer = created(api.post("/customers", json={"name": "Auto", "autopay": True}))["id"]
    inv = invoice(api, buyer, items=[{"name": "x", "unit_cost": 10}])
    assert inv["autopay"] is True
    assert api.patch(f"/customers/{buyer}", json={"autopay": False}).status_code == 200
    events = api.get("/events", params={"filter[type]": "invoice.updated"}).json()
    assert len(events) == 1
    assert events[0]["data"]["object"]["autopay"] is False
    assert events[0]["data"]["previous"]["autopay"] is True
    assert events[0]["data"]["previous"]["payment_terms"] == "AutoPay"


def test_ct12_changing_currency_rechecks_fixed_coupons(api, customer):
    created(
        api.post("/coupons", json={"id": "ten", "name": "Ten", "value": 10, "is_percent": False})
    )
    inv = invoice(api, customer, items=[{"name": "x", "unit_cost": 100}], discounts=["ten"])
    assert inv["total"] == 90
    response = api.patch(f"/invoices/{inv['id']}", json={"currency": "jpy"})
    assert (response.status_code, response.json()["param"]) == (400, "discounts")
    assert api.get(f"/invoices/{inv['id']}").json()["currency"] == "usd"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"date": 9223372036854775807, "payment_terms": "NET 30"}, "date"),
        ({"due_date": -99999999999999}, "due_date"),
    ],
)
def test_dates_beyond_year_9999_are_invalid(api, customer, body, param):
    response = api.post("/invoices", json={"customer": customer, **body})
    assert (response.status_code, response.json()["param"]) == (400, param)


@pytest.mark.parametrize("name", ["total", "balance", "subtotal", "amount_paid"])
def test_money_filters_beyond_any_amount_match_nothing(api, customer, name):
    invoice(api, customer, items=[{"name": "x", "unit_cost": 1}])
    response = api.get(f"/invoices?filter[{name}]=1e20")
    assert response.status_code == 200
    assert response.json() == []


def test_expand_catalog_items_takes_a_fixed_number_of_queries(api, app_client, customer):
    """C10: expanding lines' catalog items costs the same few queries for 2 or 20 invoices."""
    created(api.post("/items", json={"id": "box", "name": "Box", "unit_cost": 10}))
    engine = app_client.app.state.database.engine.sync_engine
    statements: list[str] = []

    def count(*_args):
        statements.append("q")

    def queries_for_page() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = api.get("/invoices", params={"expand": "items.catalog_item,customer"})
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200
        assert all(i["items"][0]["catalog_item"]["id"] == "box" for i in response.json())
        return len(statements)

    for _ in range(2):
        invoice(api, customer, items=[{"catalog_item": "box"}])
    few = queries_for_page()
    for _ in range(18):
        invoice(api, customer, items=[{"catalog_item": "box"}])
    assert queries_for_page() == few


def _race(server, key, *requests):
    async def main():
        async with httpx.AsyncClient(
            base_url=server.base_url, auth=(key, ""), timeout=30
        ) as client:
            return await asyncio.gather(*(request(client) for request in requests))

    return asyncio.run(main())


def test_c19_3_concurrent_patches_to_one_number_have_one_winner(server, db_url):
    key = new_account(db_url).key
    with httpx.Client(base_url=server.base_url, auth=(key, "")) as http:
        buyer = http.post("/customers", json={"name": "A"}).json()["id"]
        ids = [
            http.post("/invoices", json={"customer": buyer, "items": [{"unit_cost": 1}]}).json()[
                "id"
            ]
            for _ in range(2)
        ]
    for trial in range(6):
        responses = _race(
            server,
            key,
            *[
                (lambda c, i=i, t=trial: c.patch(f"/invoices/{i}", json={"number": f"DUP-{t}"}))
                for i in ids
            ],
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 400], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 400)
        assert loser.json()["param"] == "number"


def test_cu14_invoice_create_racing_customer_delete_never_fails(server, db_url):
    key = new_account(db_url).key
    for _ in range(6):
        with httpx.Client(base_url=server.base_url, auth=(key, "")) as http:
            buyer = http.post("/customers", json={"name": "A"}).json()["id"]
        made, deleted = _race(
            server,
            key,
            lambda c, b=buyer: c.post("/invoices", json={"customer": b}),
            lambda c, b=buyer: c.delete(f"/customers/{b}"),
        )
        assert (made.status_code, deleted.status_code) in ((201, 400), (400, 204)), (
            made.text,
            deleted.text,
        )
        if made.status_code == 400:
            assert made.json()["param"] == "customer"


def test_ct11_last_redemption_goes_to_one_document(server, db_url):
    key = new_account(db_url).key
    with httpx.Client(base_url=server.base_url, auth=(key, "")) as http:
        buyer = http.post("/customers", json={"name": "A"}).json()["id"]
        http.post(
            "/coupons", json={"id": "once", "name": "Once", "value": 10, "max_redemptions": 1}
        )
        ids = [
            http.post(
                "/invoices", json={"customer": buyer, "items": [{"name": "x", "unit_cost": 5}]}
            ).json()["id"]
            for _ in range(8)
        ]
    responses = _race(
        server,
        key,
        *[(lambda c, i=i: c.patch(f"/invoices/{i}", json={"discounts": ["once"]})) for i in ids],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [400] * 7, [r.text for r in responses]
