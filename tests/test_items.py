"""Items, at /items and the alias /catalog_items (spec: items.md; conventions: README.md).

Every test runs against a fresh account (fixture `api`, currency usd). Rule ids (IT1-IT9,
C3, C7-C11) are cited in test names and docstrings. The invoice halves of Examples IT-B,
IT-C and IT-D go through POST /invoices (invoices.md R2); line arithmetic itself is tested
with invoices.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tally.items import repository
from tally.items.schemas import ItemOut
from tests.support import new_account

PREFIXES = ("/items", "/catalog_items")
GENERATED_ID = re.compile(r"[A-Za-z0-9]{6}")
ITEM_KEYS = set(ItemOut.model_fields)


# ---------------------------------------------------------------------------------------------
# Helpers
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


def create(api, path: str = "/items", **fields: Any) -> dict[str, Any]:
    r = api.post(path, json=fields)
    assert r.status_code == 201, r.text
    body = r.json()
    ItemOut.model_validate(body)
    return body


def tax_rate(api, **fields: Any) -> dict[str, Any]:
    r = api.post("/tax_rates", json=fields)
    assert r.status_code == 201, r.text
    return r.json()


def listing(api, params: Any = None, path: str = "/items") -> tuple[list[str], int]:
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()], int(r.headers["X-Total-Count"])


@contextmanager
def frozen_clock(api) -> Iterator[Any]:
    """Move the server clock with POST /_test/clock (C23.2); back to real time afterwards."""

    def move(timestamp: int) -> None:
        r = api.post("/_test/clock", json={"now": timestamp})
        assert r.status_code == 200, r.text

    try:
        yield move
    finally:
        move(int(time.time()))


# ---------------------------------------------------------------------------------------------
# Worked examples
# ---------------------------------------------------------------------------------------------


def test_example_it_a_create_with_user_supplied_id_from_a_form(api):
    """Example IT-A (form body, C3), IT4 (account currency for a priced item), then IT3."""
    form = {
        "id": "copy_paper_20lb",
        "name": "Copy paper, Case",
        "type": "product",
        "unit_cost": "45",
    }
    with frozen_clock(api) as move:
        move(1700000000)
        r = api.post("/items", data=form)
    assert r.status_code == 201, r.text
    assert r.json() == {
        "id": "copy_paper_20lb",
        "object": "item",
        "name": "Copy paper, Case",
        "currency": "usd",
        "unit_cost": 45,
        "description": None,
        "type": "product",
        "taxable": True,
        "taxes": [],
        "discountable": True,
        "avalara_tax_code": None,
        "avalara_location_code": None,
        "gl_account": None,
        "metadata": {},
        "created_at": 1700000000,
        "updated_at": 1700000000,
    }
    assert isinstance(r.json()["unit_cost"], int)  # C4.5: 45, not 45.0
    assert api.get("/items/copy_paper_20lb").json() == r.json()

    again = api.post("/items", data=form)
    assert_error(again, 400, "id", "An item already exists with ID: copy_paper_20lb")
    assert listing(api) == (["copy_paper_20lb"], 1)


def customer(api) -> int:
    r = api.post("/customers", json={"name": "Acme"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def invoice(api, **fields: Any) -> dict[str, Any]:
    r = api.post("/invoices", json=fields)
    assert r.status_code == 201, r.text
    return r.json()


def lines(document: dict[str, Any]) -> list[tuple[Any, ...]]:
    keys = ("catalog_item", "type", "name", "quantity", "unit_cost", "amount")
    return [tuple(line[k] for k in keys) for line in document["items"]]


def test_example_it_b_seed_catalog_and_invoice_use(api):
    """Example IT-B, IT9: lines fill name, type and price from the items; totals as I-1."""
    create(api, id="copy_paper_20lb", name="Copy paper, Case", type="product", unit_cost=45)
    delivery = create(api, id="delivery", name="Delivery", type="service", unit_cost=10)
    assert delivery["type"] == "service"
    assert delivery["unit_cost"] == 10
    assert delivery["currency"] == "usd"
    assert listing(api) == (["copy_paper_20lb", "delivery"], 2)

    document = invoice(
        api,
        customer=customer(api),
        items=[{"catalog_item": "copy_paper_20lb", "quantity": 3}, {"catalog_item": "delivery"}],
        taxes=[{"amount": 3.85}],
    )
    assert lines(document) == [
        ("copy_paper_20lb", "product", "Copy paper, Case", 3, 45, 135),
        ("delivery", "service", "Delivery", 1, 10, 10),
    ]
    assert document["subtotal"] == 145
    assert document["total"] == 148.85


def test_example_it_c_limited_updates(api):
    """Example IT-C, IT5: the name changes, the create-only unit_cost is silently kept; a
    later line picks up the new name and the old price (IT9)."""
    create(api, id="delivery", name="Delivery", type="service", unit_cost=10)
    r = api.patch("/items/delivery", json={"name": "Express delivery", "unit_cost": 25})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Express delivery"
    assert r.json()["unit_cost"] == 10
    assert api.get("/items/delivery").json() == r.json()
    document = invoice(api, customer=customer(api), items=[{"catalog_item": "delivery"}])
    assert lines(document) == [("delivery", "service", "Express delivery", 1, 10, 10)]


def test_example_it_d_delete_and_reuse(api):
    """Example IT-D, IT7: archived items are not found, listed only with archived=1, and the
    id is free for a new item, which is then the one returned."""
    create(api, id="delivery", name="Delivery", type="service", unit_cost=10)
    create(api, id="pens", name="Pens", unit_cost=3)
    buyer = customer(api)
    earlier = invoice(api, customer=buyer, items=[{"catalog_item": "delivery"}])

    r = api.delete("/items/delivery")
    assert r.status_code == 204
    assert r.content == b""
    missing = "Item was not found: delivery"
    assert_error(api.get("/items/delivery"), 404, None, missing)
    assert_error(api.patch("/items/delivery", json={"name": "X"}), 404, None, missing)
    assert_error(api.delete("/items/delivery"), 404, None, missing)  # C16.4
    assert listing(api) == (["pens"], 1)
    archived = api.get("/items", params={"archived": 1})
    assert [i["id"] for i in archived.json()] == ["delivery"]
    assert archived.json()[0]["unit_cost"] == 10
    assert archived.headers["X-Total-Count"] == "1"

    # Step 2 (IT8): the earlier invoice is unaffected.
    kept = api.get(f"/invoices/{earlier['id']}").json()
    assert lines(kept) == [("delivery", "service", "Delivery", 1, 10, 10)]
    # Step 3: an archived item cannot be referenced by new lines.
    r = api.post("/invoices", json={"customer": buyer, "items": [{"catalog_item": "delivery"}]})
    assert_error(r, 400, "items", "No such item: delivery")

    # Step 4: the id is reused.
    reused = create(api, id="delivery", name="Delivery", unit_cost=12)
    assert reused["unit_cost"] == 12
    assert api.get("/items/delivery").json()["unit_cost"] == 12
    assert listing(api) == (["pens", "delivery"], 2)
    assert listing(api, {"archived": "1"}) == (["delivery"], 1)  # the old version
    later = invoice(api, customer=buyer, items=[{"catalog_item": "delivery"}])
    assert lines(later) == [("delivery", None, "Delivery", 1, 12, 12)]
    assert lines(api.get(f"/invoices/{earlier['id']}").json())[0][4] == 10


def test_example_it_e_generated_id_and_currency_default(api):
    """Example IT-E, IT1, IT4."""
    hour = create(api, name="Consulting hour")
    assert GENERATED_ID.fullmatch(hour["id"]), hour["id"]
    assert hour["unit_cost"] == 0
    assert hour["currency"] is None
    setup = create(api, name="Setup fee", unit_cost=99)
    assert setup["currency"] == "usd"
    assert GENERATED_ID.fullmatch(setup["id"])
    assert setup["id"] != hour["id"]
    assert api.get(f"/items/{hour['id']}").json() == hour


# ---------------------------------------------------------------------------------------------
# Validation table (§5)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ({"unit_cost": 5}, "name", "Name is missing"),  # IT2
        ({"name": ""}, "name", "Name is missing"),
        ({"name": "   "}, "name", "Name is missing"),
        ({"id": "a", "name": "A"}, "id", "Id is invalid"),  # IT1
        ({"id": "copy paper", "name": "A"}, "id", "Id is invalid"),
        ({"id": "slash/id", "name": "A"}, "id", "Id is invalid"),
        ({"id": "caf\u00e9", "name": "A"}, "id", "Id is invalid"),
        ({"id": "x" * 65, "name": "A"}, "id", "Id is invalid"),
        ({"name": "A", "unit_cost": "abc"}, "unit_cost", None),
        ({"name": "A", "unit_cost": [1]}, "unit_cost", None),
        ({"name": "A", "unit_cost": True}, "unit_cost", None),
        ({"name": "A", "currency": "xyz"}, "currency", "Currency is invalid"),  # C12.4
        ({"name": "A", "currency": "dollars"}, "currency", "Currency is invalid"),
        ({"name": "A", "taxes": ["nope"]}, "taxes", "No such tax rate: nope"),  # IT6
        ({"name": "A", "taxes": "vat"}, "taxes", None),
        ({"name": "A", "metadata": {str(i): "v" for i in range(11)}}, "metadata", None),
        ({"name": "A", "metadata": {"k" * 41: "v"}}, "metadata", None),
        ({"name": "A", "metadata": "text"}, "metadata", "Metadata must be an object"),
        ({"name": "A", "taxable": "maybe"}, "taxable", None),
        ({"name": "A", "type": "t" * 65}, "type", None),
    ],
)
@pytest.mark.parametrize("path", PREFIXES)
def test_validation_table_on_create(api, path, body, param, message):
    """§5 rows: status 400 and the responsible param; nothing is created."""
    assert_error(api.post(path, json=body), 400, param, message)
    assert listing(api) == ([], 0)


def test_validation_duplicate_active_id(api):
    """§5 / IT3: a duplicate live id is a 400 on `id`, on both paths."""
    create(api, id="delivery", name="Delivery")
    for path in PREFIXES:
        r = api.post(path, json={"id": "delivery", "name": "Again"})
        assert_error(r, 400, "id", "An item already exists with ID: delivery")


@pytest.mark.parametrize("path", PREFIXES)
def test_validation_unknown_id_is_404_on_every_item_route(api, path):
    """§5 last row, C5: `Item was not found: <id>`, no param."""
    missing = "Item was not found: nope"
    assert_error(api.get(f"{path}/nope"), 404, None, missing)
    assert_error(api.patch(f"{path}/nope", json={"name": "X"}), 404, None, missing)
    assert_error(api.delete(f"{path}/nope"), 404, None, missing)
    # An id that could never be stored (IT1) is simply not found.
    assert_error(api.get(f"{path}/x"), 404, None, "Item was not found: x")
    assert_error(api.get(f"{path}/a%20b"), 404, None, "Item was not found: a b")


def test_unknown_tax_rate_error_reports_the_first_unknown_id(api):
    tax_rate(api, id="vat", name="VAT", value=5)
    r = api.post("/items", json={"name": "A", "taxes": ["vat", "gone", "other"]})
    assert_error(r, 400, "taxes", "No such tax rate: gone")


# ---------------------------------------------------------------------------------------------
# IT1, IT3: ids
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("item_id", ["ab", "A-1", "copy_paper_20lb", "sku:42", "x" * 64, "__"])
def test_it1_valid_ids(api, item_id):
    assert create(api, id=item_id, name="Thing")["id"] == item_id
    assert api.get(f"/items/{item_id}").json()["id"] == item_id


def test_it1_empty_id_generates_one(api):
    item = create(api, id="", name="Thing")
    assert GENERATED_ID.fullmatch(item["id"])
    form = api.post("/items", data={"id": "", "name": "Form thing"})
    assert form.status_code == 201, form.text
    assert GENERATED_ID.fullmatch(form.json()["id"])


def test_it3_ids_are_case_sensitive(api):
    """IT3: exact comparison; `Delivery` and `delivery` are two items."""
    create(api, id="delivery", name="Lower")
    upper = create(api, id="Delivery", name="Upper")
    assert upper["id"] == "Delivery"
    assert api.get("/items/delivery").json()["name"] == "Lower"
    assert api.get("/items/Delivery").json()["name"] == "Upper"
    assert_error(api.get("/items/DELIVERY"), 404, None, "Item was not found: DELIVERY")


def test_path_ids_are_url_decoded(api):
    """§1: path ids are URL-decoded before the exact match."""
    create(api, id="sku:42", name="Colon")
    assert api.get("/items/sku%3A42").json()["id"] == "sku:42"
    assert api.get("/catalog_items/sku%3a42").json()["id"] == "sku:42"
    r = api.patch("/items/sku%3A42", json={"name": "Renamed"})
    assert r.json()["name"] == "Renamed"


def test_it3_concurrent_duplicate_insert_maps_to_400(api, monkeypatch):
    """IT3: when the pre-check misses a duplicate (a concurrent insert), the partial unique
    index refuses it at flush; that IntegrityError is the same 400, not a 500."""
    create(api, id="delivery", name="Delivery")

    async def nobody_uses(*_args: Any) -> bool:
        return False

    monkeypatch.setattr(repository.store, "in_use", nobody_uses)
    r = api.post("/items", json={"id": "delivery", "name": "Racer"})
    assert_error(r, 400, "id", "An item already exists with ID: delivery")
    monkeypatch.undo()
    assert listing(api) == (["delivery"], 1)
    assert api.get("/items/delivery").json()["name"] == "Delivery"


def test_it3_racing_creates_of_one_id_have_one_winner(server, db_url):
    """IT3 against the real server: one 201, the rest 400 on `id`, never a 5xx."""
    key = new_account(db_url).key

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=server.base_url, auth=(key, ""), timeout=30
        ) as client:
            return list(
                await asyncio.gather(
                    *(
                        client.post("/items", json={"id": "race", "name": f"Racer {n}"})
                        for n in range(6)
                    )
                )
            )

    responses = asyncio.run(main())
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [400] * 5, [r.text for r in responses]
    for r in responses:
        if r.status_code == 400:
            assert r.json() == {
                "type": "invalid_request",
                "message": "An item already exists with ID: race",
                "param": "id",
            }
    listed = httpx.get(f"{server.base_url}/items", auth=(key, ""))
    assert [i["id"] for i in listed.json()] == ["race"]


def test_it7_racing_deletes_have_one_winner(server, db_url):
    """IT7, C16.4 against the real server: of two concurrent DELETEs one archives (204), the
    other finds nothing live (404); a PATCH racing a DELETE is a 200 or a 404, never a 5xx."""
    key = new_account(db_url).key

    async def main() -> list[list[int]]:
        rounds = []
        async with httpx.AsyncClient(
            base_url=server.base_url, auth=(key, ""), timeout=30
        ) as client:
            for n in range(4):
                r = await client.post("/items", json={"id": f"item-{n}", "name": "N"})
                assert r.status_code == 201, r.text
                path = f"/items/item-{n}"
                deletes = await asyncio.gather(client.delete(path), client.delete(path))
                rounds.append(sorted(r.status_code for r in deletes))
                r = await client.post("/items", json={"id": f"item-{n}", "name": "Again"})
                assert r.status_code == 201, r.text
                mixed = await asyncio.gather(
                    client.delete(path), client.patch(path, json={"name": "Renamed"})
                )
                rounds.append([mixed[0].status_code, mixed[1].status_code])
        return rounds

    for n, codes in enumerate(asyncio.run(main())):
        assert codes in ([204, 404], [204, 200]), (n, codes)
    listed = httpx.get(f"{server.base_url}/items", auth=(key, ""), params={"archived": 1})
    assert listed.headers["X-Total-Count"] == "8"


# ---------------------------------------------------------------------------------------------
# IT4: currency
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "currency"),
    [
        ({"unit_cost": 0}, None),
        ({"unit_cost": "0.00"}, None),
        ({"unit_cost": 5}, "usd"),
        ({"unit_cost": -5}, "usd"),
        ({"unit_cost": 5, "currency": "EUR"}, "eur"),
        ({"unit_cost": 0, "currency": "gbp"}, "gbp"),
        ({"currency": "Jpy"}, "jpy"),
        ({"unit_cost": 5, "currency": ""}, "usd"),
    ],
)
def test_it4_currency(api, fields, currency):
    assert create(api, name="Thing", **fields)["currency"] == currency


def test_it4_account_currency_is_the_default(api, db_url):
    euro = type(api)(api.client, new_account(db_url, currency="eur"))
    assert create(euro, name="Thing", unit_cost=5)["currency"] == "eur"
    assert create(euro, name="Free")["currency"] is None


def test_unit_cost_is_stored_unrounded(api):
    """§2: the price per unit is stored unrounded; exact decimals, no float noise (C4.5)."""
    item = create(api, name="Fine", unit_cost="12.045")
    assert api.get(f"/items/{item['id']}").text.count('"unit_cost":12.045') == 1
    cheap = create(api, name="Cheap", unit_cost=0.1)
    assert api.get(f"/items/{cheap['id']}").json()["unit_cost"] == 0.1
    precise = create(api, name="Precise", unit_cost="0.000000000001")
    assert '"unit_cost":0.000000000001' in api.get(f"/items/{precise['id']}").text


# ---------------------------------------------------------------------------------------------
# IT5: PATCH
# ---------------------------------------------------------------------------------------------


def test_it5_mutable_fields_change(api):
    item = create(api, id="widget", name="Widget", metadata={"a": "1"})
    r = api.patch(
        "/items/widget",
        json={
            "name": "Widget 2",
            "description": "Blue",
            "type": "product",
            "avalara_tax_code": "P0000000",
            "avalara_location_code": "LOC1",
            "gl_account": "4000",
            "metadata": {"b": 2},
        },
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert {k: after[k] for k in after if after[k] != item[k]} == {
        "name": "Widget 2",
        "description": "Blue",
        "type": "product",
        "avalara_tax_code": "P0000000",
        "avalara_location_code": "LOC1",
        "gl_account": "4000",
        "metadata": {"b": "2"},  # C11.4: replaced, values as strings
        **(
            {"updated_at": after["updated_at"]} if after["updated_at"] != item["updated_at"] else {}
        ),
    }
    # C3.4: "" clears a nullable field; metadata {} clears the map.
    cleared = api.patch("/items/widget", data={"description": "", "metadata": ""}).json()
    assert cleared["description"] is None
    assert cleared["metadata"] == {}
    assert api.patch("/items/widget", json={"name": ""}).status_code == 400


def test_it5_create_only_fields_are_silently_ignored(api):
    """IT5: id, currency, unit_cost, taxable, taxes, discountable sent on PATCH are ignored,
    even when they would be invalid on create."""
    tax_rate(api, id="vat", name="VAT", value=5)
    item = create(api, id="widget", name="Widget", unit_cost=10, taxes=["vat"])
    for body in (
        {"id": "renamed", "currency": "eur", "unit_cost": 99},
        {"taxable": False, "discountable": False, "taxes": []},
        {"taxes": ["nope"], "unit_cost": "abc", "currency": "xyz", "id": "a", "taxable": "x"},
        {"object": "thing", "created_at": 1, "updated_at": 2},
    ):
        r = api.patch("/items/widget", json=body)
        assert r.status_code == 200, (body, r.text)
        assert r.json() == item, body
    assert_error(api.get("/items/renamed"), 404, None)


def test_it5_patch_without_changes_keeps_updated_at(api):
    with frozen_clock(api) as move:
        move(1700000000)
        create(api, id="widget", name="Widget")
        move(1700000100)
        same = api.patch("/items/widget", json={"name": "Widget"}).json()
        assert same["updated_at"] == 1700000000
        changed = api.patch("/items/widget", json={"name": "Gadget"}).json()
    assert changed["updated_at"] == 1700000100
    assert changed["created_at"] == 1700000000


# ---------------------------------------------------------------------------------------------
# IT6: taxes
# ---------------------------------------------------------------------------------------------


def test_it6_taxes_expand_to_tax_rate_objects_without_duplicates(api):
    vat = tax_rate(api, id="vat", name="VAT", value=5)
    gst = tax_rate(api, id="gst", name="GST", value=10, inclusive=True)
    item = create(api, name="Taxed", taxes=["vat", "gst", "vat"])
    assert item["taxes"] == [vat, gst]
    assert api.get(f"/items/{item['id']}").json()["taxes"] == [vat, gst]
    assert api.get("/items").json()[0]["taxes"] == [vat, gst]


def test_it6_taxes_from_a_form_and_as_objects(api):
    vat = tax_rate(api, id="vat", name="VAT", value=5)
    r = api.post("/items", data={"name": "Form", "taxes[]": ["vat", "vat"]})
    assert r.status_code == 201, r.text
    assert r.json()["taxes"] == [vat]
    # Clients that send an object back give tax-rate objects: their `id` is used.
    assert create(api, name="Objects", taxes=[vat])["taxes"] == [vat]
    assert create(api, name="Blank", taxes="")["taxes"] == []


def test_it6_archived_tax_rate_is_unknown_and_leaves_the_item_display(api):
    """IT6 with CT2: an archived rate is unknown to new items and, as on customers, no longer
    expands on items created earlier; a new rate with that id expands again."""
    vat = tax_rate(api, id="vat", name="VAT", value=5)
    gst = tax_rate(api, id="gst", name="GST", value=10)
    item = create(api, id="taxed", name="Taxed", taxes=["vat", "gst"])
    assert item["taxes"] == [vat, gst]
    assert api.delete("/tax_rates/vat").status_code == 204
    assert_error(
        api.post("/items", json={"name": "New", "taxes": ["vat"]}),
        400,
        "taxes",
        "No such tax rate: vat",
    )
    assert api.get("/items/taxed").json()["taxes"] == [gst]
    vat6 = tax_rate(api, id="vat", name="VAT", value=6)
    assert api.get("/items/taxed").json()["taxes"] == [vat6, gst]
    assert api.get("/items").json()[0]["taxes"] == [vat6, gst]


# ---------------------------------------------------------------------------------------------
# Alias /catalog_items
# ---------------------------------------------------------------------------------------------


def test_catalog_items_alias_serves_every_route_identically(api):
    """§1: every /items route also at /catalog_items, same responses, object `item`."""
    created = create(api, "/catalog_items", id="alias", name="Alias", unit_cost=3)
    assert created["object"] == "item"
    assert api.get("/catalog_items/alias").json() == api.get("/items/alias").json() == created

    r_items = api.get("/items")
    r_alias = api.get("/catalog_items")
    assert r_items.json() == r_alias.json() == [created]
    assert r_items.headers["X-Total-Count"] == r_alias.headers["X-Total-Count"] == "1"
    assert 'rel="self"' in r_alias.headers["Link"]
    assert "/catalog_items?" in r_alias.headers["Link"]

    patched = api.patch("/catalog_items/alias", json={"name": "Renamed"})
    assert patched.status_code == 200, patched.text
    assert patched.json() == api.get("/items/alias").json()
    assert patched.json()["name"] == "Renamed"

    assert api.delete("/catalog_items/alias").status_code == 204
    assert api.get("/items/alias").status_code == 404
    assert [i["id"] for i in api.get("/catalog_items", params={"archived": 1}).json()] == ["alias"]
    # An item created at /items is the same object at /catalog_items, and vice versa.
    create(api, id="alias", name="Again")
    assert api.get("/catalog_items/alias").json()["name"] == "Again"


def test_catalog_items_alias_trailing_slash(api):
    """C1.3 on the alias too."""
    create(api, id="slash", name="Slash")
    assert api.get("/catalog_items/slash/").json()["id"] == "slash"
    assert api.get("/catalog_items/").status_code == 200


# ---------------------------------------------------------------------------------------------
# Listing (§4)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def catalog(api):
    vat = tax_rate(api, id="vat", name="VAT", value=5)
    with frozen_clock(api) as move:
        move(1700000000)
        create(
            api,
            id="paper",
            name="Paper",
            type="product",
            unit_cost=45,
            description="Copy paper",
            gl_account="4000",
            avalara_tax_code="P1",
            avalara_location_code="L1",
            metadata={"shelf": "a1"},
            taxes=["vat"],
        )
        move(1700000100)
        create(api, id="delivery", name="Delivery", type="service", unit_cost="10.50")
        move(1700000200)
        create(
            api,
            id="advice",
            name="Advice",
            type="service",
            taxable=False,
            discountable=False,
            currency="eur",
            metadata={"shelf": "b2"},
        )
    return vat


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["paper", "delivery", "advice"]),
        ({"filter[id]": "delivery"}, ["delivery"]),
        ({"filter[name]": "Paper"}, ["paper"]),
        ({"filter[type]": "service"}, ["delivery", "advice"]),
        ({"filter[currency]": "USD"}, ["paper", "delivery"]),
        ({"filter[unit_cost]": "10.5"}, ["delivery"]),
        ({"filter[unit_cost]": "45"}, ["paper"]),
        ({"filter[description]": "Copy paper"}, ["paper"]),
        ({"filter[taxable]": "False"}, ["advice"]),
        ({"filter[taxable]": "1"}, ["paper", "delivery"]),
        ({"filter[discountable]": "false"}, ["advice"]),
        ({"filter[gl_account]": "4000"}, ["paper"]),
        ({"filter[avalara_tax_code]": "P1"}, ["paper"]),
        ({"filter[avalara_location_code]": "L1"}, ["paper"]),
        ({"filter[created_at]": "1700000100"}, ["delivery"]),
        ({"filter[updated_at]": "1700000200"}, ["advice"]),
        ({"filter[type]": "service", "filter[currency]": "eur"}, ["advice"]),
        ({"metadata[shelf]": "b2"}, ["advice"]),
        ({"metadata[shelf]": "zz"}, []),
        ({"updated_after": "1700000100"}, ["advice"]),
        ({"updated_before": "1700000100"}, ["paper"]),
        ({"updated_after": "0"}, ["paper", "delivery", "advice"]),
        ({"sort": "name asc"}, ["advice", "delivery", "paper"]),
        ({"sort": "name desc"}, ["paper", "delivery", "advice"]),
        ({"sort": "type asc,name desc"}, ["paper", "delivery", "advice"]),
        ({"sort": "name"}, ["paper", "delivery", "advice"]),  # C8: no direction, dropped
        ({"archived": "1"}, []),
        ({"archived": "0"}, ["paper", "delivery", "advice"]),
    ],
)
def test_listing_filters_and_sort(api, catalog, params, expected):
    """§4, C8, C9: filters on the whitelisted fields, metadata, updated_after/before, sort."""
    for path in PREFIXES:
        assert listing(api, params, path) == (expected, len(expected))


def test_listing_rejects_unknown_filters(api, catalog):
    """C9.2: `Invalid filter parameter` (no param); `taxes` is not filterable."""
    for field in ("taxes", "metadata", "archived", "nope"):
        assert_error(
            api.get("/items", params={f"filter[{field}]": "x"}),
            400,
            None,
            f"Invalid filter parameter: {field}",
        )
    assert_error(api.get("/items", params={"filter[taxable]": "maybe"}), 400, None)
    assert_error(api.get("/items", params={"filter[unit_cost]": "abc"}), 400, None)


def test_listing_pagination(api, catalog):
    """C7: Link and X-Total-Count on every page."""
    r = api.get("/items", params={"per_page": 2, "page": 2})
    assert [i["id"] for i in r.json()] == ["advice"]
    assert r.headers["X-Total-Count"] == "3"
    link = r.headers["Link"]
    assert '<http://localhost:8000/items?page=1&per_page=2>; rel="first"' in link
    assert '<http://localhost:8000/items?page=1&per_page=2>; rel="previous"' in link
    assert 'rel="next"' not in link
    page1 = api.get("/items", params={"per_page": 2})
    assert '<http://localhost:8000/items?page=2&per_page=2>; rel="next"' in page1.headers["Link"]


def test_listing_shows_expanded_taxes(api, catalog):
    first = api.get("/items").json()[0]
    assert first["taxes"] == [catalog]
    for item in api.get("/items").json():
        assert set(item) == ITEM_KEYS
        ItemOut.model_validate(item)


def test_listing_archived_items_with_filters(api, catalog):
    assert api.delete("/items/delivery").status_code == 204
    assert api.delete("/items/advice").status_code == 204
    assert listing(api, {"archived": "true"}) == (["delivery", "advice"], 2)
    assert listing(api, {"archived": "1", "filter[currency]": "eur"}) == (["advice"], 1)
    assert listing(api, {"archived": "1", "sort": "name asc"}) == (["advice", "delivery"], 2)
    assert listing(api) == (["paper"], 1)


# ---------------------------------------------------------------------------------------------
# Isolation (C2.9), events
# ---------------------------------------------------------------------------------------------


def test_other_account_gets_404_on_every_item_route(api, other_api):
    """C2.9: another account's item id behaves exactly like a missing one, on both paths."""
    create(api, id="secret", name="Secret", metadata={"rep": "alice"})
    before = api.get("/items/secret").json()
    for path in PREFIXES:
        missing = {"type": "invalid_request", "message": "Item was not found: secret"}
        for r in (
            other_api.get(f"{path}/secret"),
            other_api.patch(f"{path}/secret", json={"name": "Hacked"}),
            other_api.patch(f"{path}/secret", data={"metadata[rep]": "bob"}),
            other_api.delete(f"{path}/secret"),
        ):
            assert r.status_code == 404, r.text
            assert r.json() == missing
        assert listing(other_api, None, path) == ([], 0)
        assert listing(other_api, {"filter[id]": "secret"}, path) == ([], 0)
        assert listing(other_api, {"metadata[rep]": "alice"}, path) == ([], 0)
        assert listing(other_api, {"archived": 1}, path) == ([], 0)
    assert api.get("/items/secret").json() == before


def test_ids_are_unique_per_account_only(api, other_api):
    """IT3 is per account: another account may use the same id."""
    create(api, id="shared", name="A's")
    theirs = create(other_api, id="shared", name="B's")
    assert theirs["name"] == "B's"
    assert api.get("/items/shared").json()["name"] == "A's"
    assert other_api.delete("/items/shared").status_code == 204
    assert api.get("/items/shared").json()["name"] == "A's"


def test_other_accounts_tax_rates_are_unknown(api, other_api):
    """IT6 with C2.9: tax-rate ids in a body are looked up in the caller's account only."""
    tax_rate(api, id="vat", name="VAT", value=5)
    r = other_api.post("/items", json={"name": "Sneaky", "taxes": ["vat"]})
    assert_error(r, 400, "taxes", "No such tax rate: vat")


def test_items_record_no_events(api):
    """item.* is not an emitted event type (events_webhooks.md)."""
    create(api, id="quiet", name="Quiet")
    api.patch("/items/quiet", json={"name": "Still quiet"})
    api.delete("/items/quiet")
    r = api.get("/events")
    assert r.json() == []
    assert r.headers["X-Total-Count"] == "0"


def test_account_id_in_body_is_ignored(api, other_api):
    """C3.9: account ids are never accepted from a body."""
    target = other_api.account.id
    create(api, id="mine", name="Mine", account_id=target, account=target)
    assert listing(other_api) == ([], 0)
    assert listing(api) == (["mine"], 1)


# ---------------------------------------------------------------------------------------------
# OpenAPI
# ---------------------------------------------------------------------------------------------


def test_openapi_describes_item_bodies_and_responses(app_client):
    schema = app_client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    for path in PREFIXES:
        create_op = schema["paths"][path]["post"]
        body = create_op["requestBody"]["content"]
        assert body["application/json"]["schema"]["$ref"] == "#/components/schemas/ItemInputCreate"
        assert set(body) == {"application/json", "application/x-www-form-urlencoded"}
        ok = create_op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
        assert ok == "#/components/schemas/ItemOut"
        patch_op = schema["paths"][f"{path}/{{item_id}}"]["patch"]
        patch_body = patch_op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert patch_body == "#/components/schemas/ItemUpdate"
        listing_op = schema["paths"][path]["get"]["responses"]["200"]
        assert set(listing_op["headers"]) == {"Link", "X-Total-Count"}
        assert set(schema["paths"][f"{path}/{{item_id}}"]) == {"get", "patch", "delete"}
    assert schema["paths"]["/catalog_items"]["post"].get("deprecated") is True
    assert components["ItemInputCreate"] == {
        "allOf": [{"$ref": "#/components/schemas/ItemInput"}],
        "required": ["name"],
    }
    create_fields = set(components["ItemInput"]["properties"])
    assert create_fields == {
        "id",
        "name",
        "currency",
        "unit_cost",
        "description",
        "type",
        "taxable",
        "taxes",
        "discountable",
        "avalara_tax_code",
        "avalara_location_code",
        "gl_account",
        "metadata",
    }
    assert set(components["ItemUpdate"]["properties"]) == {
        "name",
        "description",
        "type",
        "avalara_tax_code",
        "avalara_location_code",
        "gl_account",
        "metadata",
    }
    assert set(components["ItemOut"]["properties"]) == ITEM_KEYS
