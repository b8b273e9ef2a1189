"""Golden cases for request-body decoding (C3.1, C3.5, C3.6, C3.7)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain.errors import InvalidRequest
from tally.http.body import parse_body

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        pytest.param(b"", JSON, id="empty-json"),
        pytest.param(b"   \n", JSON, id="whitespace-json"),
        pytest.param(b"null", JSON, id="json-null"),
        pytest.param(b"[]", JSON, id="json-empty-array"),
        pytest.param(b" null\n", JSON, id="json-null-padded"),
        pytest.param(b"[ ]", JSON, id="json-empty-array-spaced"),
        pytest.param(b"{}", JSON, id="json-empty-object"),
        pytest.param(b"", "", id="no-body-no-content-type"),
        pytest.param(b"", FORM, id="empty-form"),
        pytest.param(b"", "application/json; charset=utf-8", id="empty-json-charset"),
        pytest.param(b"null", "application/json; charset=UTF-8", id="null-json-charset"),
    ],
)
def test_c3_5_no_parameters_is_empty_object(raw: bytes, content_type: str) -> None:
    assert parse_body(raw, content_type) == {}


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        pytest.param(b'{"name":"Acme"}', JSON, {"name": "Acme"}, id="json"),
        pytest.param(b'{"name":"Acme"}', "Application/JSON", {"name": "Acme"}, id="json-case"),
        pytest.param(
            b'{"name":"Acme"}', "application/vnd.invoiced+json", {"name": "Acme"}, id="plus-json"
        ),
        pytest.param(
            b'{"name":"Acme"}', "application/json; charset=utf-8", {"name": "Acme"}, id="charset"
        ),
        pytest.param(
            b"name=Acme&metadata[a]=1",
            FORM,
            {"name": "Acme", "metadata": {"a": "1"}},
            id="C3.1-form",
        ),
        pytest.param(
            b"name=Acme+Corp&email=a%40b.com",
            FORM,
            {"name": "Acme Corp", "email": "a@b.com"},
            id="C3.1-form-percent-decoding",
        ),
        pytest.param(b"name=", FORM, {"name": ""}, id="C3.4-form-empty-string-kept"),
        pytest.param(b"name=Caf%C3%A9", FORM, {"name": "Café"}, id="form-utf8-percent-encoded"),
    ],
)
def test_c3_1_json_and_form_bodies(raw: bytes, content_type: str, expected: dict) -> None:
    assert parse_body(raw, content_type) == expected


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(FORM, id="form"),
        pytest.param(f"{FORM}; charset=utf-8", id="form-charset"),
        pytest.param("", id="missing"),
    ],
)
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            b'{"amount": 100, "currency": "usd"}',
            {"amount": 100, "currency": "usd"},
            id="charge",
        ),
        pytest.param(
            b'  \n{"amount": 10.5}\n', {"amount": Decimal("10.5")}, id="padded-with-decimal"
        ),
        pytest.param(b'{"a": {"b": [1, 2]}}', {"a": {"b": [1, 2]}}, id="nested"),
    ],
)
def test_c3_6_form_or_missing_content_type_with_json_object(
    raw: bytes, content_type: str, expected: dict
) -> None:
    assert parse_body(raw, content_type) == expected


def test_c3_6_form_body_starting_with_brace_that_is_not_json_is_form_parsed() -> None:
    """C3.6 treats the body as JSON only when it "parses as a JSON object"; otherwise form."""
    assert parse_body(b"{foo=1&bar=2", FORM) == {"{foo": "1", "bar": "2"}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"name":', id="truncated"),
        pytest.param(b'{"name": "Acme",}', id="trailing-comma"),
        pytest.param(b"{name: Acme}", id="unquoted"),
        pytest.param(b'{"amount":12,5}', id="decimal-comma-with-double-quotes-no-retry"),
        pytest.param(b"{'name': \"Acme\"}", id="mixed-quotes-no-retry"),
        pytest.param(b"not json", id="plain-text"),
        pytest.param(b"{", id="lone-brace"),
        pytest.param(b"{'amount':}", id="retry-also-fails"),
    ],
)
def test_c3_7_malformed_json_is_invalid_json_body(raw: bytes) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_body(raw, JSON)
    assert caught.value.message == "Invalid JSON body"
    assert caught.value.param is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b"{'amount':12,5}", {"amount": Decimal("12.5")}, id="dotnet-decimal-comma"),
        pytest.param(b"{'amount':12.5}", {"amount": Decimal("12.5")}, id="dotnet-decimal-point"),
        pytest.param(b"{'amount':12}", {"amount": 12}, id="dotnet-integer"),
        pytest.param(b"{'amount':0,01}", {"amount": Decimal("0.01")}, id="dotnet-cents"),
        pytest.param(b"{'amount':1234,56}", {"amount": Decimal("1234.56")}, id="dotnet-large"),
        pytest.param(b"{'a':'b'}", {"a": "b"}, id="single-quoted-strings"),
        pytest.param(b"{'a':1,'b':2}", {"a": 1, "b": 2}, id="separator-commas-kept"),
    ],
)
def test_c3_7_single_quote_retry(raw: bytes, expected: dict) -> None:
    result = parse_body(raw, JSON)
    assert result == expected
    for key, value in expected.items():
        assert type(result[key]) is type(value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b'{"amount": 12.045}', Decimal("12.045"), id="12.045"),
        pytest.param(b'{"amount": 0.1}', Decimal("0.1"), id="0.1"),
        pytest.param(b'{"amount": 148.850}', Decimal("148.850"), id="trailing-zero-kept"),
        pytest.param(b'{"amount": 0.30000000000000004}', Decimal("0.30000000000000004"), id="long"),
        pytest.param(
            b'{"amount": 12345678901234567.89}', Decimal("12345678901234567.89"), id="beyond-float"
        ),
        pytest.param(b'{"amount": 1e2}', Decimal("1E+2"), id="exponent"),
        pytest.param(b'{"amount": -5.5}', Decimal("-5.5"), id="negative"),
    ],
)
def test_c12_json_floats_are_exact_decimals(raw: bytes, expected: Decimal) -> None:
    amount = parse_body(raw, JSON)["amount"]
    assert isinstance(amount, Decimal)
    assert amount == expected
    assert str(amount) == str(expected)


def test_c3_3_json_integers_stay_integers() -> None:
    result = parse_body(b'{"quantity": 3, "big": 12345678901234567890}', JSON)
    assert result == {"quantity": 3, "big": 12345678901234567890}
    assert type(result["quantity"]) is int


def test_c12_nested_json_floats_are_decimals() -> None:
    result = parse_body(b'{"items":[{"unit_cost":19.99,"quantity":1.5}],"taxes":[2.5]}', JSON)
    assert result == {
        "items": [{"unit_cost": Decimal("19.99"), "quantity": Decimal("1.5")}],
        "taxes": [Decimal("2.5")],
    }
    assert isinstance(result["items"][0]["unit_cost"], Decimal)
    assert isinstance(result["taxes"][0], Decimal)


def test_c3_1_multipart_outside_files_is_parsed_like_form_encoding() -> None:
    """C3.1: multipart/form-data is accepted for POST /files "and otherwise parsed like form
    encoding" -- bracket notation included."""
    boundary = "XyZ123"
    raw = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="name"\r\n\r\n'
        "Acme\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="metadata[a]"\r\n\r\n'
        "1\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    result = parse_body(raw, f"multipart/form-data; boundary={boundary}")
    assert result == {"name": "Acme", "metadata": {"a": "1"}}


# --- properties ---------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    )
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _to_json(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value) if "E" not in str(value) else format(value, "f")
    if isinstance(value, list):
        return "[" + ",".join(_to_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_to_json(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_c3_1_json_objects_round_trip_exactly(data: dict) -> None:
    assert parse_body(_to_json(data).encode(), JSON) == data
