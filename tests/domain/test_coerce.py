"""Golden cases for lenient input coercion (C3.3, C9.4, C4.4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tally.domain.coerce import parse_bool, parse_decimal, parse_int, parse_timestamp

any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # C3.3 words, case-insensitive.
        *[pytest.param(w, True, id=f"true-{w}") for w in ["1", "true", "on", "yes"]],
        *[pytest.param(w, False, id=f"false-{w}") for w in ["0", "false", "off", "no"]],
        pytest.param("TRUE", True, id="TRUE"),
        pytest.param("Yes", True, id="Yes"),
        pytest.param("ON", True, id="ON"),
        pytest.param("FALSE", False, id="FALSE"),
        pytest.param("No", False, id="No"),
        pytest.param("Off", False, id="Off"),
        # C9.4: the Python client sends str() of a bool.
        pytest.param("True", True, id="C9.4-True"),
        pytest.param("False", False, id="C9.4-False"),
        # C3.3: JSON booleans and 1/0 as-is.
        pytest.param(True, True, id="json-true"),
        pytest.param(False, False, id="json-false"),
        pytest.param(1, True, id="json-1"),
        pytest.param(0, False, id="json-0"),
        # Not booleans.
        pytest.param("maybe", None, id="word"),
        pytest.param("2", None, id="string-2"),
        pytest.param(2, None, id="int-2"),
        pytest.param(-1, None, id="int-minus-1"),
        pytest.param("t", None, id="t"),
        pytest.param("y", None, id="y"),
        pytest.param([], None, id="list"),
        pytest.param({}, None, id="object"),
    ],
)
def test_c3_3_parse_bool(value: object, expected: bool | None) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("42", 42, id="string"),
        pytest.param("-7", -7, id="negative"),
        pytest.param("+3", 3, id="plus"),
        pytest.param(" 12 ", 12, id="padded"),
        pytest.param("007", 7, id="leading-zeros-base-10"),
        pytest.param("0", 0, id="zero"),
        pytest.param("12345678901234567890", 12345678901234567890, id="big"),
        pytest.param(5, 5, id="json-int"),
        pytest.param(Decimal("3"), 3, id="decimal-whole"),
        pytest.param(Decimal("3.00"), 3, id="decimal-whole-scale"),
        pytest.param(3.0, 3, id="float-whole"),
        pytest.param("3.5", None, id="string-fraction"),
        pytest.param(Decimal("3.5"), None, id="decimal-fraction"),
        pytest.param(3.5, None, id="float-fraction"),
        pytest.param("abc", None, id="non-numeric"),
        pytest.param("", None, id="empty"),
        pytest.param("1e3", None, id="exponent"),
        pytest.param("0x10", None, id="hex"),
        pytest.param("1_000", None, id="underscore"),
        pytest.param(True, None, id="bool-true"),
        pytest.param(False, None, id="bool-false"),
        pytest.param(None, None, id="none"),
        pytest.param([1], None, id="list"),
        # Non-numeric strings must give None (400 upstream), never an exception (500).
        pytest.param("+-5", None, id="plus-minus"),
        pytest.param("--5", None, id="double-minus"),
        pytest.param("-", None, id="lone-minus"),
        pytest.param("²", None, id="superscript-two"),
        pytest.param("1²", None, id="digit-superscript"),
    ],
)
def test_c3_3_parse_int(value: object, expected: int | None) -> None:
    result = parse_int(value)
    assert result == expected
    if expected is not None:
        assert type(result) is int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("12.045", Decimal("12.045"), id="string-exact"),
        pytest.param(" 1.50 ", Decimal("1.50"), id="padded"),
        pytest.param("-0.01", Decimal("-0.01"), id="negative"),
        pytest.param("100", Decimal("100"), id="whole-string"),
        pytest.param("1e3", Decimal("1000"), id="exponent-string"),
        pytest.param(Decimal("148.850"), Decimal("148.850"), id="decimal-passthrough"),
        pytest.param(5, Decimal(5), id="int"),
        pytest.param(12.045, Decimal("12.045"), id="float-via-shortest-repr"),
        pytest.param(0.1, Decimal("0.1"), id="float-0.1"),
        pytest.param("0.30000000000000004", Decimal("0.30000000000000004"), id="long"),
        pytest.param("abc", None, id="non-numeric"),
        pytest.param("", None, id="empty"),
        pytest.param("12,5", None, id="comma"),
        pytest.param("NaN", None, id="nan"),
        pytest.param("Infinity", None, id="infinity"),
        pytest.param("-inf", None, id="minus-inf"),
        pytest.param(float("nan"), None, id="float-nan"),
        pytest.param(float("inf"), None, id="float-inf"),
        pytest.param(True, None, id="bool"),
        pytest.param(None, None, id="none"),
        pytest.param({}, None, id="object"),
    ],
)
def test_c3_3_parse_decimal_exact(value: object, expected: Decimal | None) -> None:
    result = parse_decimal(value)
    if expected is None:
        assert result is None
    else:
        assert isinstance(result, Decimal)
        assert result == expected


def test_c12_2_parse_decimal_never_goes_through_binary_float() -> None:
    # Decimal(12.045) would be 12.0449999999999999289457264239899814128875732421875.
    assert str(parse_decimal("12.045")) == "12.045"
    assert str(parse_decimal(12.045)) == "12.045"
    assert parse_decimal("12.045") != Decimal.from_float(12.045)


def _ts(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(1700000000, 1700000000, id="int"),
        pytest.param("1700000000", 1700000000, id="numeric-string"),
        pytest.param(" 1700000000 ", 1700000000, id="padded"),
        pytest.param(Decimal("1700000000"), 1700000000, id="json-decimal-whole"),
        pytest.param("2024-01-15", 1705276800, id="iso-date-utc-midnight"),
        pytest.param("2024-01-15T10:30:00Z", 1705314600, id="iso-datetime-z"),
        pytest.param("2024-01-15T10:30:00+00:00", 1705314600, id="iso-datetime-offset-0"),
        pytest.param("2024-01-15T10:30:00+02:00", 1705307400, id="iso-datetime-offset"),
        pytest.param("2024-01-15T10:30:00", 1705314600, id="iso-naive-is-utc"),
        pytest.param("2024-01-15 10:30:00", 1705314600, id="iso-space"),
        pytest.param("1970-01-01", 0, id="epoch"),
        pytest.param("2024-02-29", _ts(2024, 2, 29), id="leap-day"),
        pytest.param("not a date", None, id="garbage"),
        pytest.param("2024-13-01", None, id="bad-month"),
        pytest.param("", None, id="empty"),
        pytest.param("   ", None, id="blank"),
        pytest.param(None, None, id="none"),
        pytest.param(True, None, id="bool"),
    ],
)
def test_c4_4_c9_6_parse_timestamp(value: object, expected: int | None) -> None:
    assert parse_timestamp(value) == expected


# --- properties ---------------------------------------------------------------------------


@given(any_text)
@example("²").via("superscript digit: isdigit() but not int()")
@example("+-5").via("sign characters stripped twice")
def test_c3_3_parse_int_never_raises(text: str) -> None:
    result = parse_int(text)
    assert result is None or type(result) is int


@given(st.integers())
def test_c3_3_parse_int_round_trips_base_10(value: int) -> None:
    assert parse_int(str(value)) == value
    assert parse_int(value) == value


@given(any_text)
def test_c3_3_parse_decimal_never_raises(text: str) -> None:
    result = parse_decimal(text)
    assert result is None or (isinstance(result, Decimal) and result.is_finite())


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_c3_3_parse_decimal_round_trips_exactly(value: Decimal) -> None:
    result = parse_decimal(str(value))
    assert result == value
    assert str(result) == str(value)


@given(any_text)
def test_c3_3_parse_bool_never_raises(text: str) -> None:
    assert parse_bool(text) in (True, False, None)


@given(any_text)
@example("²").via("superscript digit")
@example("--5").via("double sign")
def test_c4_4_parse_timestamp_never_raises(text: str) -> None:
    result = parse_timestamp(text)
    assert result is None or type(result) is int


@given(st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1)))
def test_c4_4_iso_datetimes_are_utc_seconds(moment: dt.datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=dt.UTC)
    expected = int(moment.timestamp())
    assert parse_timestamp(moment.isoformat()) == expected
    assert parse_timestamp(moment.strftime("%Y-%m-%dT%H:%M:%SZ")) == expected
