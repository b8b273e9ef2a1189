"""Golden cases for metadata maps (C11)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain.errors import InvalidRequest
from tally.domain.metadata import FILTERABLE_KEY, normalize_metadata


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param({}, {}, id="C11.4-empty"),
        pytest.param({"icp_number": "123"}, {"icp_number": "123"}, id="string"),
        pytest.param({"n": 123}, {"n": "123"}, id="int"),
        pytest.param({"n": -5}, {"n": "-5"}, id="negative-int"),
        pytest.param({"n": 0}, {"n": "0"}, id="zero"),
        pytest.param({"n": Decimal("12.5")}, {"n": "12.5"}, id="decimal"),
        pytest.param({"n": Decimal("0.1")}, {"n": "0.1"}, id="decimal-0.1"),
        pytest.param({"n": 12.5}, {"n": "12.5"}, id="float"),
        pytest.param({"yes": True, "no": False}, {"yes": "1", "no": "0"}, id="booleans"),
        pytest.param({"s": ""}, {"s": ""}, id="empty-string"),
        pytest.param({"a b/c": "x"}, {"a b/c": "x"}, id="C11.3-any-key-characters"),
    ],
)
def test_c11_3_values_stored_as_strings(raw: dict, expected: dict) -> None:
    result = normalize_metadata(raw)
    assert result == expected
    assert all(type(v) is str for v in result.values())


@pytest.mark.parametrize(
    "value",
    [
        pytest.param([1, 2, "x"], id="array"),
        pytest.param({"a": 1, "b": {"c": "d"}}, id="object"),
        pytest.param([], id="empty-array"),
        pytest.param({}, id="empty-object"),
        pytest.param({"x": Decimal("1.5")}, id="object-with-json-decimal"),
        pytest.param([Decimal("12.5"), Decimal("0.01")], id="array-with-json-decimals"),
        pytest.param({"ok": True, "none": None}, id="object-with-bool-and-null"),
    ],
)
def test_c11_3_arrays_and_objects_stored_as_json_text(value: object) -> None:
    """Bodies parse JSON numbers as Decimal; the JSON text must keep them numbers."""
    text = normalize_metadata({"k": value})["k"]
    assert isinstance(text, str)
    assert json.loads(text, parse_float=Decimal) == value


def test_c11_3_json_number_with_exponent_stored_as_decimal_text() -> None:
    # `{"metadata": {"n": 1e2}}` arrives as Decimal("1E+2"); its decimal text is 100.
    assert normalize_metadata({"n": Decimal("1E+2")}) == {"n": "100"}


def test_c11_3_null_value_rejected() -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalize_metadata({"a": "1", "b": None})
    assert caught.value.param == "metadata"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param([], id="list"),
        pytest.param(["a"], id="list-of-string"),
        pytest.param("text", id="string"),
        pytest.param(5, id="number"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="null"),
    ],
)
def test_c11_5_non_object_rejected_exact_message(raw: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalize_metadata(raw)
    assert (caught.value.message, caught.value.param) == ("Metadata must be an object", "metadata")


def test_c11_2_ten_keys_allowed() -> None:
    raw = {f"key{i}": str(i) for i in range(10)}
    assert normalize_metadata(raw) == raw


@pytest.mark.parametrize("count", [11, 12, 25])
def test_c11_5_more_than_ten_keys_exact_message(count: int) -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalize_metadata({f"key{i}": "v" for i in range(count)})
    assert caught.value.message == (
        f"There can only be up to 10 metadata values. {count} values were provided."
    )
    assert caught.value.param == "metadata"


def test_c11_2_key_of_40_characters_allowed() -> None:
    key = "k" * 40
    assert normalize_metadata({key: "v"}) == {key: "v"}


@pytest.mark.parametrize("length", [41, 100])
def test_c11_5_key_over_40_characters_exact_message(length: int) -> None:
    key = "k" * length
    with pytest.raises(InvalidRequest) as caught:
        normalize_metadata({key: "v"})
    assert caught.value.message == f"The `{key}` metadata key exceeds the 40 character limit."
    assert caught.value.param == "metadata"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("v" * 255, id="ascii"),
        pytest.param("é" * 255, id="characters-not-bytes"),
        pytest.param(10**254, id="255-digit-number"),
        pytest.param(["x" * 251], id="json-text-of-255"),
    ],
)
def test_c11_2_value_of_255_characters_allowed(value: object) -> None:
    assert len(normalize_metadata({"k": value})["k"]) == 255


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("v" * 256, id="ascii"),
        pytest.param("é" * 256, id="characters"),
        pytest.param(10**255, id="256-digit-number"),
        pytest.param(["x" * 252], id="json-text-counted-after-conversion"),
    ],
)
def test_c11_5_value_over_255_characters_exact_message(value: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalize_metadata({"notes": value})
    assert caught.value.message == (
        "The provided value for metadata.notes exceeds the 255 character limit."
    )
    assert caught.value.param == "metadata"


@pytest.mark.parametrize(
    ("key", "filterable"),
    [
        ("account-rep", True),
        ("icp_number", True),
        ("ABC123", True),
        ("a b", False),
        ("a.b", False),
        ("a[b]", False),
        ("", False),
        ("ü", False),
    ],
)
def test_c9_7_filterable_keys(key: str, filterable: bool) -> None:
    assert (FILTERABLE_KEY.match(key) is not None) is filterable


# --- properties ---------------------------------------------------------------------------


@given(
    st.dictionaries(
        st.text(max_size=40),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=255),
        max_size=10,
    )
)
def test_c11_valid_string_maps_are_unchanged(raw: dict[str, str]) -> None:
    assert normalize_metadata(raw) == raw


@given(st.integers(-(10**30), 10**30))
def test_c11_3_integers_stored_as_decimal_text(value: int) -> None:
    assert normalize_metadata({"n": value}) == {"n": str(value)}
