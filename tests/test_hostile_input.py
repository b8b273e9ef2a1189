"""Inputs that must be refused with a 400 (or simply match nothing), never a 500 or a 422.

PostgreSQL refuses out-of-range integers and over-long decimals with an error, and Python's
JSON decoder and orjson have recursion limits; each of these was a 500 before it was caught.
"""

from __future__ import annotations

import pytest

HUGE = "99999999999999999999"


@pytest.fixture
def customer(api):
    response = api.post("/customers", json={"name": "Acme", "owner": 7})
    assert response.status_code == 201
    return response.json()


@pytest.mark.parametrize(
    "query",
    [
        f"filter[id]={HUGE}",
        "filter[owner]=9999999999",  # INTEGER column: beyond 32 bits
        "filter[autopay_delay_days]=-9999999999",
        f"filter[created_at]={HUGE}",
        "filter[credit_limit]=1e400",
        "filter[credit_limit]=0.0000000000001",
        "filter[id]=²",
        "filter[id]=--5",
    ],
)
def test_c9_out_of_range_filter_values_are_invalid(api, customer, query):
    response = api.get(f"/customers?{query}")
    assert response.status_code == 400
    field = query.split("[", 1)[1].split("]", 1)[0]
    assert response.json() == {
        "type": "invalid_request",
        "message": f"Invalid value for `{field}` filter parameter",
    }


def test_c9_8_huge_or_odd_updated_after_is_ignored(api, customer):
    for value in (HUGE, "²", "1e400"):
        response = api.get(f"/customers?updated_after={value}")
        assert response.status_code == 200
        assert [c["id"] for c in response.json()] == [customer["id"]]


def test_owner_param_beyond_any_id_matches_nothing(api, customer):
    assert api.get(f"/customers?owner={HUGE}").json() == []
    assert [c["id"] for c in api.get("/customers?owner=7").json()] == [customer["id"]]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"owner": 99999999999}, "owner"),
        ({"chasing_cadence": -(2**31) - 1}, "chasing_cadence"),
        ({"parent_customer": int(HUGE)}, "parent_customer"),
        ({"parent_customer": 0}, "parent_customer"),
        ({"credit_limit": "1e30"}, "credit_limit"),
        ({"credit_limit": "0.0000000000001"}, "credit_limit"),
        ({"credit_limit": "NaN"}, "credit_limit"),
        ({"credit_limit": "Infinity"}, "credit_limit"),
        ({"credit_limit": -5}, "credit_limit"),
    ],
)
def test_out_of_range_numbers_in_bodies_are_400(api, customer, body, param):
    response = api.patch(f"/customers/{customer['id']}", json=body)
    assert response.status_code == 400
    assert response.json()["param"] == param
    assert api.get(f"/customers/{customer['id']}").json() == customer


def test_c4_5_trailing_zeros_beyond_twelve_places_are_just_zeros(api, customer):
    response = api.patch(
        f"/customers/{customer['id']}", json={"credit_limit": "12.500000000000000"}
    )
    assert response.status_code == 200
    assert '"credit_limit":12.5' in response.text


def test_c3_7_deeply_nested_json_is_invalid_json(api, customer):
    body = ("[" * 100_000 + "]" * 100_000).encode()
    response = api.patch(
        f"/customers/{customer['id']}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"type": "invalid_request", "message": "Invalid JSON body"}


def test_c11_deeply_nested_metadata_value_is_too_long(api, customer):
    body = '{"metadata": {"a": ' + "[" * 300 + "]" * 300 + "}}"
    response = api.patch(
        f"/customers/{customer['id']}",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "invalid_request",
        "message": "The provided value for metadata.a exceeds the 255 character limit.",
        "param": "metadata",
    }


def test_non_utf8_body_is_400(api, customer):
    response = api.patch(
        f"/customers/{customer['id']}",
        content=b"name=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert api.get(f"/customers/{customer['id']}").json()["name"] == "Acme"
