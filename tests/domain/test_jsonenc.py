"""Golden cases for JSON encoding of exact decimals (C4.5)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tally.jsonenc import decimal_text, dumps


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(Decimal("45.00"), "45", id="C4.5-whole-is-integer"),
        pytest.param(Decimal("45"), "45", id="whole"),
        pytest.param(Decimal("20.0"), "20", id="20.0"),
        pytest.param(Decimal("148.850"), "148.85", id="C4.5-trailing-zero-dropped"),
        pytest.param(Decimal("148.85"), "148.85", id="148.85"),
        pytest.param(Decimal("12.045"), "12.045", id="C4.5-exact"),
        pytest.param(Decimal("1E+2"), "100", id="exponent-whole"),
        pytest.param(Decimal("1.5E+3"), "1500", id="exponent-fraction-mantissa"),
        pytest.param(Decimal("1.25E+1"), "12.5", id="exponent-not-whole"),
        pytest.param(Decimal("0.00000001"), "0.00000001", id="btc-satoshi-no-exponent"),
        pytest.param(Decimal("1E-8"), "0.00000001", id="negative-exponent"),
        pytest.param(Decimal("0.10"), "0.1", id="0.10"),
        pytest.param(Decimal("0"), "0", id="zero"),
        pytest.param(Decimal("0.00"), "0", id="zero-scaled"),
        pytest.param(Decimal("-0"), "0", id="negative-zero"),
        pytest.param(Decimal("-0.50"), "-0.5", id="negative"),
        pytest.param(Decimal("-45.00"), "-45", id="negative-whole"),
        pytest.param(Decimal("1E+20"), "100000000000000000000", id="large-whole"),
        pytest.param(
            Decimal("12345678901234567890.123456789"),
            "12345678901234567890.123456789",
            id="beyond-float-precision",
        ),
    ],
)
def test_c4_5_decimal_text(value: Decimal, text: str) -> None:
    assert decimal_text(value) == text
    assert dumps({"v": value}) == f'{{"v":{text}}}'.encode()


def test_c4_5_nested_structures() -> None:
    payload = {
        "id": 12,
        "object": "invoice",
        "total": Decimal("148.850"),
        "paid": False,
        "notes": None,
        "items": [
            {"quantity": Decimal("1.0"), "unit_cost": Decimal("45.00"), "amount": Decimal("45")},
            {"quantity": Decimal("0.5"), "unit_cost": Decimal("12.045"), "amount": Decimal("6.02")},
        ],
        "taxes": [],
        "metadata": {"a": "1"},
        "rates": [Decimal("1E+2"), Decimal("0.00000001")],
    }
    assert dumps(payload) == (
        b'{"id":12,"object":"invoice","total":148.85,"paid":false,"notes":null,'
        b'"items":[{"quantity":1,"unit_cost":45,"amount":45},'
        b'{"quantity":0.5,"unit_cost":12.045,"amount":6.02}],'
        b'"taxes":[],"metadata":{"a":"1"},"rates":[100,0.00000001]}'
    )


def test_c4_5_integers_stay_integers() -> None:
    assert dumps({"id": 1, "created_at": 1705276800, "count": 0}) == (
        b'{"id":1,"created_at":1705276800,"count":0}'
    )


def test_c4_8_pretty_output_is_the_same_json() -> None:
    payload = {"total": Decimal("45.00"), "items": [{"amount": Decimal("12.045")}]}
    pretty = dumps(payload, pretty=True)
    assert b"\n" in pretty
    assert json.loads(pretty, parse_float=Decimal) == {
        "total": 45,
        "items": [{"amount": Decimal("12.045")}],
    }
    assert b"45.0" not in pretty


def test_unknown_types_are_not_silently_stringified() -> None:
    with pytest.raises(TypeError):
        dumps({"v": object()})


# --- properties ---------------------------------------------------------------------------

decimals = st.decimals(
    allow_nan=False, allow_infinity=False, min_value=-(10**18), max_value=10**18
) | st.decimals(allow_nan=False, allow_infinity=False, places=8, min_value=-1, max_value=1)


@given(decimals)
@example(Decimal("3.5548355898155951207524058084E-27")).via("29 significant digits")
@example(Decimal("12345678901234567890.123456789")).via("29 significant digits")
def test_c4_5_output_parses_back_to_the_same_value(value: Decimal) -> None:
    encoded = dumps({"v": value})
    decoded = json.loads(encoded, parse_float=Decimal)["v"]
    assert decoded == value
    assert b"e" not in encoded.lower()
    if value == value.to_integral_value():
        assert type(decoded) is int  # whole values are JSON integers (C4.5)
    else:
        assert isinstance(decoded, Decimal)
        assert not decimal_text(value).endswith("0")  # shortest exact form


@given(st.lists(decimals, max_size=5), st.dictionaries(st.text(max_size=5), decimals, max_size=5))
@example([Decimal("0.12345678901234567890123456789")], {}).via("29 significant digits")
def test_c4_5_nested_output_parses_back(items: list[Decimal], mapping: dict) -> None:
    decoded = json.loads(dumps({"items": items, "mapping": mapping}), parse_float=Decimal)
    assert decoded == {"items": items, "mapping": mapping}
