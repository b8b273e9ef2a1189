"""Golden and property cases for money: exponents and rounding (README C12, invoices.md §5)."""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tally.domain.money import (
    exponent,
    from_minor,
    multiply,
    round_half_up,
    round_up,
    to_minor,
)

ZERO_DECIMAL_CURRENCIES = [
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "JPY",
    "KMF",
    "KRW",
    "MGA",
    "PYG",
    "RWF",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
]


def reference_minor(text: str, exp: int) -> int:
    """m(d) computed with exact fractions: |d| x 10^e + 1/2 floored, sign restored (C12.2)."""
    scaled = Fraction(Decimal(text)) * Fraction(10) ** exp
    magnitude = math.floor(abs(scaled) + Fraction(1, 2))
    return magnitude if scaled >= 0 else -magnitude


# --- C12.1 exponents ----------------------------------------------------------------------


@pytest.mark.parametrize("code", ZERO_DECIMAL_CURRENCIES)
def test_c12_1_zero_decimal_currencies(code: str) -> None:
    assert exponent(code) == 0
    assert exponent(code.lower()) == 0


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("usd", 2, id="usd"),
        pytest.param("USD", 2, id="usd-upper"),
        pytest.param("eur", 2, id="eur"),
        pytest.param("gbp", 2, id="gbp"),
        pytest.param("cad", 2, id="cad"),
        pytest.param("bhd", 3, id="bhd-3"),
        pytest.param("BHD", 3, id="bhd-upper"),
        pytest.param("btc", 8, id="btc-8"),
        pytest.param("BTC", 8, id="btc-upper"),
        # Decision C12.1: the backend table, not ISO 4217, so these keep 2 decimals.
        pytest.param("kwd", 2, id="kwd-2-not-iso-3"),
        pytest.param("jod", 2, id="jod-2-not-iso-3"),
        pytest.param("omr", 2, id="omr-2-not-iso-3"),
        pytest.param("tnd", 2, id="tnd-2-not-iso-3"),
        pytest.param("isk", 2, id="isk-not-in-zero-list"),
        pytest.param("huf", 2, id="huf"),
    ],
)
def test_c12_1_exponent_table(code: str, expected: int) -> None:
    assert exponent(code) == expected


# --- C12.2 to_minor: half away from zero, exact decimals ---------------------------------


@pytest.mark.parametrize(
    ("amount", "exp", "minor"),
    [
        pytest.param("12.045", 2, 1205, id="C12.2-12.045-is-12.05"),
        pytest.param("-12.045", 2, -1205, id="negative-tie-away-from-zero"),
        pytest.param("12.044", 2, 1204, id="below-tie"),
        pytest.param("12.0449999999", 2, 1204, id="just-below-tie"),
        pytest.param("-12.0449999999", 2, -1204, id="negative-just-below-tie"),
        pytest.param("0.005", 2, 1, id="half-cent-up"),
        pytest.param("-0.005", 2, -1, id="negative-half-cent"),
        pytest.param("0.0049", 2, 0, id="under-half-cent"),
        pytest.param("-0.0049", 2, 0, id="negative-under-half-cent"),
        pytest.param("2.675", 2, 268, id="float-would-give-267"),
        pytest.param("1.005", 2, 101, id="float-would-give-100"),
        pytest.param("0.125", 2, 13, id="not-bankers-even"),
        pytest.param("0.135", 2, 14, id="odd-neighbour"),
        pytest.param("148.85", 2, 14885, id="I-1-total"),
        pytest.param("15.58068", 2, 1558, id="I-2-line-b-unit-cost"),
        pytest.param("-15.58068", 2, -1558, id="I-2-line-b-amount"),
        pytest.param("45", 2, 4500, id="whole"),
        pytest.param("0", 2, 0, id="zero"),
        pytest.param("-0", 2, 0, id="negative-zero"),
        pytest.param("1E+2", 2, 10000, id="exponent-notation"),
        pytest.param("0.5", 0, 1, id="jpy-half"),
        pytest.param("-0.5", 0, -1, id="jpy-negative-half"),
        pytest.param("2.5", 0, 3, id="jpy-2.5-not-bankers-2"),
        pytest.param("1000.49", 0, 1000, id="jpy-below-half"),
        pytest.param("1.2345", 3, 1235, id="bhd-half-up-at-4th-decimal"),
        pytest.param("-1.2345", 3, -1235, id="bhd-negative"),
        pytest.param("1.23449", 3, 1234, id="bhd-below-half"),
        pytest.param("0.0005", 3, 1, id="bhd-smallest-tie"),
        pytest.param("0.000000005", 8, 1, id="btc-half-satoshi"),
        pytest.param("1.23456789", 8, 123456789, id="btc-exact"),
        pytest.param("0.123456785", 8, 12345679, id="btc-tie"),
        pytest.param("-0.123456785", 8, -12345679, id="btc-negative-tie"),
        pytest.param(
            "99999999999999999999999999.995",
            2,
            10000000000000000000000000000,
            id="beyond-default-28-digit-context",
        ),
        pytest.param(
            "12345678901234567890123456.785000000001",
            2,
            1234567890123456789012345679,
            id="long-fraction-not-pre-rounded",
        ),
    ],
)
def test_c12_2_to_minor_golden(amount: str, exp: int, minor: int) -> None:
    result = to_minor(Decimal(amount), exp)
    assert result == minor
    assert type(result) is int


def test_c12_2_to_minor_ignores_a_hostile_ambient_context() -> None:
    """The money context is used, not whatever precision/rounding the caller has set."""
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = ROUND_FLOOR
        assert to_minor(Decimal("12.045"), 2) == 1205
        assert to_minor(Decimal("-12345.675"), 2) == -1234568
        assert multiply(Decimal("15.58068"), Decimal("-1")) == Decimal("-15.58068")


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    ),
    st.sampled_from([0, 2, 3, 8]),
)
@example(Decimal("12.045"), 2)
@example(Decimal("-0.5"), 0)
def test_c12_2_to_minor_matches_exact_half_away_rounding(amount: Decimal, exp: int) -> None:
    text = str(amount)
    assert to_minor(Decimal(text), exp) == reference_minor(text, exp)


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from([0, 2, 3, 8]),
    st.integers(min_value=-499, max_value=499),
)
def test_c12_2_within_half_a_minor_unit(minor: int, exp: int, thousandths: int) -> None:
    """Anything strictly within half a minor unit of n rounds to n; exact ties go away from 0."""
    exact = from_minor(minor, exp) + Decimal(thousandths).scaleb(-exp - 3)
    assert to_minor(exact, exp) == minor
    tie = from_minor(minor, exp) + Decimal(5).scaleb(-exp - 1) * (1 if minor >= 0 else -1)
    assert to_minor(tie, exp) == minor + (1 if minor >= 0 else -1)


# --- from_minor exact -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "exp", "text"),
    [
        pytest.param(1205, 2, "12.05", id="usd"),
        pytest.param(-1205, 2, "-12.05", id="usd-negative"),
        pytest.param(14885, 2, "148.85", id="I-1-total"),
        pytest.param(5, 2, "0.05", id="five-cents"),
        pytest.param(0, 2, "0.00", id="zero"),
        pytest.param(1001, 0, "1001", id="jpy"),
        pytest.param(-7, 0, "-7", id="jpy-negative"),
        pytest.param(1235, 3, "1.235", id="bhd"),
        pytest.param(1, 8, "1E-8", id="btc-satoshi"),
        pytest.param(123456789, 8, "1.23456789", id="btc"),
        pytest.param(2**63 - 1, 2, "92233720368547758.07", id="bigint-max"),
        pytest.param(-(2**63), 8, "-92233720368.54775808", id="bigint-min-btc"),
    ],
)
def test_from_minor_exact(minor: int, exp: int, text: str) -> None:
    result = from_minor(minor, exp)
    assert isinstance(result, Decimal)
    assert result == Decimal(text)
    assert str(result) == text


def test_from_minor_keeps_whole_values_equal() -> None:
    assert from_minor(4500, 2) == 45
    assert from_minor(1000, 3) == 1
    assert from_minor(100000000, 8) == 1


def test_from_minor_exact_beyond_28_digits() -> None:
    """from_minor is exact for any integer, not only below the default 28-digit context."""
    assert from_minor(10**30 + 1, 2) == Decimal("10000000000000000000000000000.01")
    assert from_minor(-(10**30) - 1, 8) == Decimal("-10000000000000000000000.00000001")


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.sampled_from([0, 2, 3, 8]))
def test_from_minor_round_trips(minor: int, exp: int) -> None:
    assert to_minor(from_minor(minor, exp), exp) == minor
    assert Fraction(from_minor(minor, exp)) == Fraction(minor, 10**exp)


# --- the two rounding helpers (R4/CT14 half away, CT15 ceiling) -------------------------------


@pytest.mark.parametrize(
    ("value", "half_up", "ceiling"),
    [
        ("2.5", 3, 3),
        ("-2.5", -3, -2),
        ("0.5", 1, 1),
        ("-0.5", -1, 0),
        ("1.4999", 1, 2),
        ("-1.4999", -1, -1),
        ("909.0909", 909, 910),  # CT15 example B: ceil(10000 x 10 / 110)
        ("909", 909, 909),  # CT15 example B: 99990 / 110 exactly
        ("16416.666666", 16417, 16417),  # I-4
        ("4.0000000000000000000000000000000001", 4, 5),
        ("7", 7, 7),
    ],
)
def test_round_half_up_and_round_up(value: str, half_up: int, ceiling: int) -> None:
    assert round_half_up(Decimal(value)) == half_up
    assert round_up(Decimal(value)) == ceiling
    assert type(round_half_up(Decimal(value))) is int
    assert type(round_up(Decimal(value))) is int


def test_multiply_is_exact_beyond_28_digits() -> None:
    a = Decimal("12345678901234567890123456.123456789012")
    b = Decimal("98765432109876543210987654.987654321098")
    assert Fraction(multiply(a, b)) == Fraction(a) * Fraction(b)
