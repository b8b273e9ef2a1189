"""Coupons and tax rates (spec: coupons_tax_rates.md §1-5; conventions: README.md).

Every test runs against a fresh account (fixture `api`, currency usd). Rule ids (CT1-CT6,
CT19) are cited in test names and docstrings. How a rate turns into an amount on a document
(CT7-CT18, Examples A-C totals) is tested with invoices.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tally.coupons import repository as coupon_repository
from tally.coupons.schemas import CouponOut
from tally.tax_rates import repository as tax_rate_repository
from tally.tax_rates.schemas import TaxRateOut
from tests.support import new_account

GENERATED_ID = re.compile(r"[A-Za-z0-9]{6}")
COUPONS = "/coupons"
TAX_RATES = "/tax_rates"
RESOURCES = (COUPONS, TAX_RATES)
NOT_FOUND = {COUPONS: "Coupon was not found: {}", TAX_RATES: "Tax rate was not found: {}"}
OUT = {COUPONS: CouponOut, TAX_RATES: TaxRateOut}


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


def create(api, path: str, **fields: Any) -> dict[str, Any]:
    r = api.post(path, json=fields)
    assert r.status_code == 201, r.text
    body = r.json()
    OUT[path].model_validate(body)
    return body


def listing(api, path: str, params: Any = None) -> tuple[list[str], int]:
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    return [o["id"] for o in r.json()], int(r.headers["X-Total-Count"])


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
# Objects (§2, §3) and the worked examples' rates
# ---------------------------------------------------------------------------------------------


def test_example_a_percent_coupon_and_vat_objects(api):
    """Example A's rates: coupon S8L47J 20 % "Non-profit Discount" and VAT 5 % (CT5, CT19)."""
    with frozen_clock(api) as move:
        move(1700000000)
        coupon = api.post(
            COUPONS, json={"id": "S8L47J", "name": "Non-profit Discount", "value": 20}
        )
        vat = api.post(TAX_RATES, data={"id": "vat", "name": "VAT", "value": "5"})
    assert coupon.status_code == 201, coupon.text
    assert coupon.json() == {
        "id": "S8L47J",
        "object": "coupon",
        "name": "Non-profit Discount",
        "currency": None,
        "value": 20,
        "is_percent": True,
        "exclusive": False,
        "expiration_date": None,
        "max_redemptions": 0,
        "duration": 0,
        "metadata": {},
        "created_at": 1700000000,
        "updated_at": 1700000000,
    }
    assert vat.status_code == 201, vat.text
    assert vat.json() == {
        "id": "vat",
        "object": "tax_rate",
        "name": "VAT",
        "currency": None,
        "value": 5,
        "is_percent": True,
        "inclusive": False,
        "metadata": {},
        "created_at": 1700000000,
        "updated_at": 1700000000,
    }
    assert api.get("/coupons/S8L47J").json() == coupon.json()
    assert api.get("/tax_rates/vat").json() == vat.json()


def test_example_b_inclusive_tax_rate(api):
    """Example B's rate: gst 10 % inclusive; `inclusive` is returned (§3)."""
    gst = create(api, TAX_RATES, id="gst", name="GST", value=10, inclusive=True)
    assert gst["inclusive"] is True
    assert gst["is_percent"] is True
    assert api.get("/tax_rates/gst").json()["inclusive"] is True
    form = api.post(TAX_RATES, data={"id": "gst2", "name": "GST", "value": "10", "inclusive": "1"})
    assert form.json()["inclusive"] is True


def test_example_c_fixed_coupon_with_duration(api):
    """Example C's coupon: my-coupon, fixed 167, duration 12; a fixed coupon gets the account
    currency (CT5)."""
    coupon = create(
        api, COUPONS, id="my-coupon", name="My Coupon", is_percent=False, value=167, duration=12
    )
    assert coupon["is_percent"] is False
    assert coupon["value"] == 167
    assert coupon["duration"] == 12
    assert coupon["currency"] == "usd"


def test_example_d_archiving_and_reuse(api):
    """Example D, CT2: DELETE archives; the id is then free for a new version; documents
    created earlier keep the version they copied, new ones use the new rate."""
    create(api, TAX_RATES, id="vat", name="VAT", value=5)
    buyer = api.post("/customers", json={"name": "Acme"}).json()["id"]
    document = {
        "customer": buyer,
        "items": [{"name": "Copy paper", "quantity": 1, "unit_cost": 100}],
        "taxes": [{"tax_rate": "vat"}],
    }
    earlier = api.post("/invoices", json=document)
    assert earlier.status_code == 201, earlier.text
    r = api.delete("/tax_rates/vat")
    assert r.status_code == 204
    assert r.content == b""
    assert_error(api.get("/tax_rates/vat"), 404, None, "Tax rate was not found: vat")
    assert listing(api, TAX_RATES) == ([], 0)
    new = api.post(TAX_RATES, json={"id": "vat", "name": "VAT", "value": 6})
    assert new.status_code == 201, new.text
    assert new.json()["value"] == 6
    assert api.get("/tax_rates/vat").json()["value"] == 6
    assert listing(api, TAX_RATES) == (["vat"], 1)

    kept = api.get(f"/invoices/{earlier.json()['id']}").json()
    assert kept["taxes"][0]["tax_rate"]["id"] == "vat"
    assert kept["taxes"][0]["tax_rate"]["value"] == 5
    assert kept["total"] == 105
    later = api.post("/invoices", json=document)
    assert later.status_code == 201, later.text
    assert later.json()["taxes"][0]["tax_rate"]["value"] == 6
    assert later.json()["total"] == 106


def test_ct2_coupon_archiving_and_reuse(api):
    create(api, COUPONS, id="S8L47J", name="Non-profit Discount", value=20)
    assert api.delete("/coupons/S8L47J").status_code == 204
    missing = "Coupon was not found: S8L47J"
    assert_error(api.get("/coupons/S8L47J"), 404, None, missing)
    assert_error(api.patch("/coupons/S8L47J", json={"name": "X"}), 404, None, missing)
    assert_error(api.delete("/coupons/S8L47J"), 404, None, missing)  # C16.4
    assert listing(api, COUPONS) == ([], 0)
    again = create(api, COUPONS, id="S8L47J", name="Non-profit Discount", value=25)
    assert api.get("/coupons/S8L47J").json() == again


@pytest.mark.parametrize("path", RESOURCES)
def test_generated_ids(api, path):
    """§2-3: random 6 alphanumerics when `id` is absent or empty."""
    first = create(api, path, name="Auto", value=5)
    second = create(api, path, id="", name="Auto", value=5)
    assert GENERATED_ID.fullmatch(first["id"]), first["id"]
    assert GENERATED_ID.fullmatch(second["id"]), second["id"]
    assert first["id"] != second["id"]
    assert api.get(f"{path}/{first['id']}").json() == first


# ---------------------------------------------------------------------------------------------
# CT1: ids
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", RESOURCES)
def test_ct1_duplicate_live_id(api, path):
    create(api, path, id="vat", name="VAT", value=5)
    assert_error(
        api.post(path, json={"id": "vat", "name": "VAT", "value": 6}),
        400,
        "id",
        "An item already exists with ID: vat",
    )
    assert listing(api, path) == (["vat"], 1)


@pytest.mark.parametrize("path", RESOURCES)
def test_ct1_ids_are_case_sensitive_and_per_kind(api, path):
    create(api, path, id="vat", name="Lower", value=5)
    assert create(api, path, id="VAT", name="Upper", value=6)["id"] == "VAT"
    assert api.get(f"{path}/vat").json()["name"] == "Lower"
    assert api.get(f"{path}/VAT").json()["name"] == "Upper"
    assert_error(api.get(f"{path}/Vat"), 404, None, NOT_FOUND[path].format("Vat"))
    # Unique among rates of the same kind only: the other kind may use the id.
    other = TAX_RATES if path == COUPONS else COUPONS
    assert create(api, other, id="vat", name="Other kind", value=5)["id"] == "vat"


@pytest.mark.parametrize("path", RESOURCES)
def test_ct1_ids_are_unique_per_account_only(api, other_api, path):
    create(api, path, id="shared", name="A", value=5)
    assert create(other_api, path, id="shared", name="B", value=6)["name"] == "B"
    assert api.get(f"{path}/shared").json()["name"] == "A"


@pytest.mark.parametrize(
    ("path", "repository"),
    [(COUPONS, coupon_repository), (TAX_RATES, tax_rate_repository)],
)
def test_ct1_concurrent_duplicate_insert_maps_to_400(api, monkeypatch, path, repository):
    """CT1: a duplicate the pre-check misses (a concurrent insert) is refused by the partial
    unique index at flush; that IntegrityError is the same 400, not a 500."""
    create(api, path, id="vat", name="VAT", value=5)

    async def nobody_uses(*_args: Any) -> bool:
        return False

    monkeypatch.setattr(repository.store, "in_use", nobody_uses)
    r = api.post(path, json={"id": "vat", "name": "Racer", "value": 7})
    assert_error(r, 400, "id", "An item already exists with ID: vat")
    monkeypatch.undo()
    assert listing(api, path) == (["vat"], 1)
    assert api.get(f"{path}/vat").json()["value"] == 5


@pytest.mark.parametrize("path", RESOURCES)
def test_path_ids_are_url_decoded(api, path):
    create(api, path, id="eu:vat", name="EU VAT", value=5)
    assert api.get(f"{path}/eu%3Avat").json()["id"] == "eu:vat"
    assert api.patch(f"{path}/eu%3avat", json={"name": "EU"}).json()["name"] == "EU"


# ---------------------------------------------------------------------------------------------
# Validation table (§5)
# ---------------------------------------------------------------------------------------------

COMMON_INVALID = [
    ({"id": "a", "name": "N", "value": 5}, "id", "Id is invalid"),
    ({"id": "spring sale", "name": "N", "value": 5}, "id", "Id is invalid"),
    ({"id": "x" * 65, "name": "N", "value": 5}, "id", "Id is invalid"),
    ({"value": 5}, "name", "Name is missing"),
    ({"name": "", "value": 5}, "name", "Name is missing"),
    ({"name": "Spring Sale!", "value": 5}, "name", None),  # CT3
    ({"name": "50% off, today", "value": 5}, "name", None),
    ({"name": "Caf\u00e9", "value": 5}, "name", None),
    ({"name": "n" * 256, "value": 5}, "name", None),
    ({"name": "N"}, "value", "Value is missing"),  # CT4
    ({"name": "N", "value": ""}, "value", "Value is missing"),
    ({"name": "N", "value": "abc"}, "value", None),
    ({"name": "N", "value": [5]}, "value", None),
    ({"name": "N", "value": 101}, "value", None),
    ({"name": "N", "value": "100.01"}, "value", None),
    ({"name": "N", "value": -1}, "value", None),
    ({"name": "N", "value": -5, "is_percent": False}, "value", None),
    ({"name": "N", "value": 5, "currency": "xyz"}, "currency", "Currency is invalid"),
    ({"name": "N", "value": 5, "is_percent": False, "currency": "euro"}, "currency", None),
    ({"name": "N", "value": 5, "is_percent": "maybe"}, "is_percent", None),
    ({"name": "N", "value": 5, "metadata": {str(i): "v" for i in range(11)}}, "metadata", None),
    ({"name": "N", "value": 5, "metadata": [1]}, "metadata", None),
]
COUPON_INVALID = [
    ({"name": "N", "value": 5, "max_redemptions": "abc"}, "max_redemptions", None),
    ({"name": "N", "value": 5, "max_redemptions": 1.5}, "max_redemptions", None),
    ({"name": "N", "value": 5, "max_redemptions": -1}, "max_redemptions", None),
    ({"name": "N", "value": 5, "duration": "twelve"}, "duration", None),
    ({"name": "N", "value": 5, "duration": -3}, "duration", None),
    ({"name": "N", "value": 5, "expiration_date": "soon"}, "expiration_date", None),
    ({"name": "N", "value": 5, "exclusive": "maybe"}, "exclusive", None),
]
TAX_RATE_INVALID = [
    ({"name": "N", "value": 5, "inclusive": "maybe"}, "inclusive", None),
]


@pytest.mark.parametrize(("body", "param", "message"), COMMON_INVALID + COUPON_INVALID)
def test_coupon_validation_table(api, body, param, message):
    assert_error(api.post(COUPONS, json=body), 400, param, message)
    assert listing(api, COUPONS) == ([], 0)


@pytest.mark.parametrize(("body", "param", "message"), COMMON_INVALID + TAX_RATE_INVALID)
def test_tax_rate_validation_table(api, body, param, message):
    assert_error(api.post(TAX_RATES, json=body), 400, param, message)
    assert listing(api, TAX_RATES) == ([], 0)


@pytest.mark.parametrize("path", RESOURCES)
def test_validation_unknown_id_in_path_is_404(api, path):
    for rate_id in ("nope", "x", "a b"):
        message = NOT_FOUND[path].format(rate_id)
        assert_error(api.get(f"{path}/{rate_id}"), 404, None, message)
        assert_error(api.patch(f"{path}/{rate_id}", json={"name": "X"}), 404, None, message)
        assert_error(api.delete(f"{path}/{rate_id}"), 404, None, message)


@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize(
    "name", ["Non-profit Discount", "VAT 20%", "under_score", "A", "100% off", "x" * 255]
)
def test_ct3_valid_names(api, path, name):
    assert create(api, path, name=name, value=5)["name"] == name


@pytest.mark.parametrize("path", RESOURCES)
def test_ct3_name_is_validated_on_patch_too(api, path):
    create(api, path, id="r1", name="Fine", value=5)
    assert_error(api.patch(f"{path}/r1", json={"name": "Spring Sale!"}), 400, "name")
    assert_error(api.patch(f"{path}/r1", json={"name": ""}), 400, "name", "Name is missing")
    assert api.get(f"{path}/r1").json()["name"] == "Fine"


@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize(
    ("fields", "value"),
    [
        ({"value": 0}, 0),
        ({"value": 100}, 100),
        ({"value": "12.5"}, 12.5),
        ({"value": 0.001}, 0.001),
        ({"value": 150, "is_percent": False}, 150),
        ({"value": "0", "is_percent": "0"}, 0),
    ],
)
def test_ct4_value_ranges(api, path, fields, value):
    """CT4 Decision: percentages 0-100, fixed values >= 0."""
    assert create(api, path, name="N", **fields)["value"] == value


@pytest.mark.parametrize("path", RESOURCES)
def test_ct19_whole_values_are_json_integers(api, path):
    """CT19 / C4.5: `20`, not `20.0`; fractional values as they are."""
    create(api, path, id="whole", name="Whole", value="20.00")
    r = api.get(f"{path}/whole")
    assert '"value":20,' in r.text
    assert isinstance(r.json()["value"], int)
    create(api, path, id="frac", name="Frac", value=12.5)
    assert '"value":12.5,' in api.get(f"{path}/frac").text
    listed = api.get(path)
    assert '"value":20,' in listed.text


# ---------------------------------------------------------------------------------------------
# CT5: currency
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize(
    ("fields", "currency"),
    [
        ({}, None),
        ({"currency": "eur"}, None),  # stored, but a percent rate shows null
        ({"is_percent": False}, "usd"),
        ({"is_percent": False, "currency": "EUR"}, "eur"),
        ({"is_percent": False, "currency": ""}, "usd"),
    ],
)
def test_ct5_currency(api, path, fields, currency):
    created = create(api, path, name="N", value=5, **fields)
    assert created["currency"] == currency
    assert api.get(f"{path}/{created['id']}").json()["currency"] == currency


@pytest.mark.parametrize("path", RESOURCES)
def test_ct5_account_currency_for_fixed_rates(api, db_url, path):
    euro = type(api)(api.client, new_account(db_url, currency="eur"))
    assert create(euro, path, name="N", value=5, is_percent=False)["currency"] == "eur"


# ---------------------------------------------------------------------------------------------
# CT6: PATCH
# ---------------------------------------------------------------------------------------------


def test_ct6_coupon_patch_changes_name_metadata_and_redemption_fields(api):
    create(api, COUPONS, id="spring", name="Spring", value=20, metadata={"a": "1"})
    r = api.patch(
        "/coupons/spring",
        json={
            "name": "Spring 2024",
            "metadata": {"b": True},
            "exclusive": True,
            "expiration_date": "2030-01-01T00:00:00Z",
            "max_redemptions": 5,
            "duration": 3,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "Spring 2024"
    assert body["metadata"] == {"b": "1"}  # C11.3, replaced (C11.4)
    assert body["exclusive"] is True
    assert body["expiration_date"] == 1893456000
    assert body["max_redemptions"] == 5
    assert body["duration"] == 3
    assert api.get("/coupons/spring").json() == body
    # A form body; "" clears the expiration date (C3.4) and zeroes the counts.
    cleared = api.patch(
        "/coupons/spring",
        data={"expiration_date": "", "max_redemptions": "", "duration": "0", "exclusive": "0"},
    ).json()
    assert cleared["expiration_date"] is None
    assert cleared["max_redemptions"] == 0
    assert cleared["duration"] == 0
    assert cleared["exclusive"] is False
    # Invalid values of mutable fields are still refused.
    assert_error(api.patch("/coupons/spring", json={"duration": -1}), 400, "duration")
    assert_error(
        api.patch("/coupons/spring", json={"max_redemptions": "x"}), 400, "max_redemptions"
    )


def test_ct6_coupon_create_only_fields_are_silently_ignored(api):
    coupon = create(api, COUPONS, id="spring", name="Spring", value=20)
    for body in (
        {"value": 50, "is_percent": False, "currency": "eur", "id": "other"},
        {"value": "abc", "is_percent": "maybe", "currency": "xyz", "id": "a"},
        {"object": "x", "created_at": 1, "updated_at": 2},
    ):
        r = api.patch("/coupons/spring", json=body)
        assert r.status_code == 200, (body, r.text)
        assert r.json() == coupon
    assert_error(api.get("/coupons/other"), 404, None)


def test_ct6_tax_rate_patch_changes_name_and_metadata_only(api):
    rate = create(api, TAX_RATES, id="vat", name="VAT", value=5)
    r = api.patch(
        "/tax_rates/vat",
        json={
            "name": "VAT 5%",
            "metadata": {"region": "eu"},
            "value": 6,
            "is_percent": False,
            "currency": "eur",
            "inclusive": True,
            "id": "other",
        },
    )
    assert r.status_code == 200, r.text
    changed = {k: v for k, v in r.json().items() if v != rate[k]}
    changed.pop("updated_at", None)
    assert changed == {"name": "VAT 5%", "metadata": {"region": "eu"}}
    invalid_create_only = {"value": "abc", "inclusive": "maybe", "currency": "xyz", "id": "a"}
    assert api.patch("/tax_rates/vat", json=invalid_create_only).status_code == 200
    assert api.patch("/tax_rates/vat", data={"metadata": ""}).json()["metadata"] == {}
    assert_error(api.get("/tax_rates/other"), 404, None)


@pytest.mark.parametrize("path", RESOURCES)
def test_updated_at_moves_only_on_change(api, path):
    with frozen_clock(api) as move:
        move(1700000000)
        create(api, path, id="r1", name="Rate", value=5)
        move(1700000050)
        assert api.patch(f"{path}/r1", json={"name": "Rate"}).json()["updated_at"] == 1700000000
        renamed = api.patch(f"{path}/r1", json={"name": "Renamed"}).json()
    assert renamed["updated_at"] == 1700000050
    assert renamed["created_at"] == 1700000000


def test_coupon_expiration_date_input_forms(api):
    """C4.4: integers, numeric strings and ISO dates."""
    assert (
        create(api, COUPONS, name="A", value=5, expiration_date=1893456000)["expiration_date"]
        == 1893456000
    )
    assert (
        create(api, COUPONS, name="B", value=5, expiration_date="1893456000")["expiration_date"]
        == 1893456000
    )
    assert (
        create(api, COUPONS, name="C", value=5, expiration_date="2030-01-01")["expiration_date"]
        == 1893456000
    )
    assert create(api, COUPONS, name="D", value=5, expiration_date=None)["expiration_date"] is None


# ---------------------------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def coupons(api):
    with frozen_clock(api) as move:
        move(1700000000)
        create(api, COUPONS, id="S8L47J", name="Non-profit Discount", value=20)
        move(1700000100)
        create(
            api,
            COUPONS,
            id="my-coupon",
            name="My Coupon",
            is_percent=False,
            value=167,
            duration=12,
            metadata={"campaign": "spring"},
        )
        move(1700000200)
        create(
            api,
            COUPONS,
            id="vip",
            name="VIP",
            value="12.5",
            exclusive=True,
            max_redemptions=3,
            expiration_date=1893456000,
        )
        create(api, COUPONS, id="gone", name="Gone", value=1)
        assert api.delete("/coupons/gone").status_code == 204


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["S8L47J", "my-coupon", "vip"]),
        ({"sort": "name asc"}, ["my-coupon", "S8L47J", "vip"]),
        ({"sort": "created_at desc"}, ["vip", "my-coupon", "S8L47J"]),
        ({"filter[id]": "vip"}, ["vip"]),
        ({"filter[id]": "gone"}, []),  # archived coupons are excluded
        ({"filter[name]": "My Coupon"}, ["my-coupon"]),
        ({"filter[is_percent]": "false"}, ["my-coupon"]),
        ({"filter[exclusive]": "True"}, ["vip"]),
        ({"filter[value]": "12.5"}, ["vip"]),
        ({"filter[currency]": "USD"}, ["my-coupon"]),
        ({"filter[duration]": "12"}, ["my-coupon"]),
        ({"filter[max_redemptions]": "3"}, ["vip"]),
        ({"filter[expiration_date]": "1893456000"}, ["vip"]),
        ({"filter[created_at]": "1700000100"}, ["my-coupon"]),
        ({"metadata[campaign]": "spring"}, ["my-coupon"]),
        ({"updated_after": "1700000100"}, ["vip"]),
        ({"updated_before": "1700000100"}, ["S8L47J"]),
    ],
)
def test_coupon_listing(api, coupons, params, expected):
    """§1: `sort`, `filter`, `updated_after`, metadata; archived coupons never listed."""
    assert listing(api, COUPONS, params) == (expected, len(expected))


@pytest.fixture
def tax_rates(api):
    with frozen_clock(api) as move:
        move(1700000000)
        create(api, TAX_RATES, id="vat", name="VAT", value=5, metadata={"region": "eu"})
        move(1700000100)
        create(api, TAX_RATES, id="gst", name="GST", value=10, inclusive=True)
        move(1700000200)
        create(api, TAX_RATES, id="eco", name="Eco fee", value=2, is_percent=False)
        create(api, TAX_RATES, id="old", name="Old", value=1)
        assert api.delete("/tax_rates/old").status_code == 204


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["vat", "gst", "eco"]),
        ({"sort": "name asc"}, ["eco", "gst", "vat"]),
        ({"sort": "name desc"}, ["vat", "gst", "eco"]),
        ({"filter[id]": "old"}, []),
        ({"filter[name]": "GST"}, ["gst"]),
        ({"filter[inclusive]": "1"}, ["gst"]),
        ({"filter[is_percent]": "0"}, ["eco"]),
        ({"filter[value]": "10"}, ["gst"]),
        ({"filter[currency]": "usd"}, ["eco"]),
        ({"filter[updated_at]": "1700000100"}, ["gst"]),
        ({"metadata[region]": "eu"}, ["vat"]),
        ({"updated_after": "1700000000"}, ["gst", "eco"]),
        ({"updated_after": "-5"}, ["vat", "gst", "eco"]),  # C9.8: ignored
    ],
)
def test_tax_rate_listing(api, tax_rates, params, expected):
    assert listing(api, TAX_RATES, params) == (expected, len(expected))


@pytest.mark.parametrize("path", RESOURCES)
def test_listing_rejects_unknown_filters_and_paginates(api, path):
    for n in range(3):
        create(api, path, id=f"r{n}", name=f"R{n}", value=n)
    assert_error(
        api.get(path, params={"filter[archived]": "1"}),
        400,
        None,
        "Invalid filter parameter: archived",
    )
    assert_error(api.get(path, params={"filter[value]": "abc"}), 400, None)
    r = api.get(path, params={"per_page": 2, "page": 2})
    assert [o["id"] for o in r.json()] == ["r2"]
    assert r.headers["X-Total-Count"] == "3"
    assert f'<http://localhost:8000{path}?page=1&per_page=2>; rel="previous"' in r.headers["Link"]
    for body in api.get(path).json():
        assert set(body) == set(OUT[path].model_fields)


# ---------------------------------------------------------------------------------------------
# Isolation (C2.9), events, OpenAPI
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", RESOURCES)
def test_other_account_gets_404_on_every_route(api, other_api, path):
    create(api, path, id="secret", name="Secret", value=5, metadata={"rep": "alice"})
    before = api.get(f"{path}/secret").json()
    missing = {"type": "invalid_request", "message": NOT_FOUND[path].format("secret")}
    for r in (
        other_api.get(f"{path}/secret"),
        other_api.patch(f"{path}/secret", json={"name": "Hacked"}),
        other_api.patch(f"{path}/secret", data={"metadata[rep]": "bob"}),
        other_api.delete(f"{path}/secret"),
    ):
        assert r.status_code == 404, r.text
        assert r.json() == missing
    assert listing(other_api, path) == ([], 0)
    assert listing(other_api, path, {"filter[id]": "secret"}) == ([], 0)
    assert listing(other_api, path, {"metadata[rep]": "alice"}) == ([], 0)
    assert api.get(f"{path}/secret").json() == before
    assert listing(api, path) == (["secret"], 1)


@pytest.mark.parametrize("path", RESOURCES)
def test_rates_record_no_events(api, path):
    """coupon.* and tax_rate.* are not emitted event types (events_webhooks.md)."""
    create(api, path, id="quiet", name="Quiet", value=5)
    assert api.patch(f"{path}/quiet", json={"name": "Still quiet"}).status_code == 200
    assert api.delete(f"{path}/quiet").status_code == 204
    r = api.get("/events")
    assert r.json() == []
    assert r.headers["X-Total-Count"] == "0"


@pytest.mark.parametrize(
    ("path", "name", "create_fields", "update_fields", "out_fields"),
    [
        (
            COUPONS,
            "Coupon",
            {
                "id",
                "name",
                "currency",
                "value",
                "is_percent",
                "exclusive",
                "expiration_date",
                "max_redemptions",
                "duration",
                "metadata",
            },
            {"name", "exclusive", "expiration_date", "max_redemptions", "duration", "metadata"},
            set(CouponOut.model_fields),
        ),
        (
            TAX_RATES,
            "TaxRate",
            {"id", "name", "currency", "value", "is_percent", "inclusive", "metadata"},
            {"name", "metadata"},
            set(TaxRateOut.model_fields),
        ),
    ],
)
def test_openapi_describes_bodies_and_responses(
    app_client, path, name, create_fields, update_fields, out_fields
):
    schema = app_client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    create_op = schema["paths"][path]["post"]
    body = create_op["requestBody"]["content"]
    assert body["application/json"]["schema"]["$ref"] == f"#/components/schemas/{name}InputCreate"
    assert components[f"{name}InputCreate"] == {
        "allOf": [{"$ref": f"#/components/schemas/{name}Input"}],
        "required": ["name"],
    }
    assert set(body) == {"application/json", "application/x-www-form-urlencoded"}
    ok = create_op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert ok == f"#/components/schemas/{name}Out"
    one = schema["paths"][f"{path}/{{{path[1:-1]}_id}}"]
    assert set(one) == {"get", "patch", "delete"}
    patch_ref = one["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert patch_ref == f"#/components/schemas/{name}Update"
    assert set(schema["paths"][path]["get"]["responses"]["200"]["headers"]) == {
        "Link",
        "X-Total-Count",
    }
    assert set(components[f"{name}Input"]["properties"]) == create_fields
    assert set(components[f"{name}Update"]["properties"]) == update_fields
    assert set(components[f"{name}Out"]["properties"]) == out_fields
