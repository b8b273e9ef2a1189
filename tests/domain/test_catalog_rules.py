"""Golden cases for the price-list rules that need no database (items.md IT1-IT4,
coupons_tax_rates.md CT1-CT5, CT9-CT11)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain import catalog
from tally.domain.errors import InvalidRequest


@contextmanager
def raises(param: str, message: str | None = None) -> Iterator[None]:
    """Expect a 400 InvalidRequest with this param (C6.3) and, when given, this exact message."""
    with pytest.raises(InvalidRequest) as caught:
        yield
    assert caught.value.param == param
    if message is not None:
        assert caught.value.message == message


# --- IT1 ids ------------------------------------------------------------------------------

VALID_IDS = ["ab", "A1", "copy_paper_20lb", "delivery", "S8L47J", "my-coupon", "sku:42", "__"]
VALID_IDS += ["--", "::", "x" * 64, "Z9_-:"]
INVALID_IDS = ["a", "copy paper", "slash/id", "dot.id", "caf\u00e9", "tab\tid", "x" * 65]
INVALID_IDS += ["new\nline", "ab\n", "percent%", "\uff21\uff22", "\u0661\u0662", "a+b"]


@pytest.mark.parametrize("value", VALID_IDS)
def test_it1_valid_ids(value: str) -> None:
    assert catalog.is_valid_id(value)
    assert catalog.chosen_id(value) == value


@pytest.mark.parametrize("value", INVALID_IDS)
def test_it1_invalid_ids(value: str) -> None:
    assert not catalog.is_valid_id(value)
    with raises("id", "Id is invalid"):
        catalog.chosen_id(value)


@pytest.mark.parametrize("value", [None, ""])
def test_it1_absent_or_empty_id_means_generate(value: str | None) -> None:
    assert catalog.chosen_id(value) is None


def test_it1_generated_id_golden() -> None:
    """Six characters drawn from the 62 alphanumerics, with an injectable random source."""
    rng = random.Random(7)
    generated = catalog.generate_id(rng.choice)
    rng = random.Random(7)
    assert generated == "".join(rng.choice(catalog.ID_ALPHABET) for _ in range(6))
    assert catalog.generate_id(lambda alphabet: alphabet[0]) == "AAAAAA"
    assert catalog.generate_id(lambda alphabet: alphabet[-1]) == "999999"
    assert len(catalog.ID_ALPHABET) == len(set(catalog.ID_ALPHABET)) == 62


@given(st.integers(min_value=0, max_value=1000))
def test_it1_generated_ids_are_valid_ids(seed: int) -> None:
    generated = catalog.generate_id(random.Random(seed).choice)
    assert len(generated) == 6
    assert generated.isascii() and generated.isalnum()
    assert catalog.is_valid_id(generated)


@given(st.text(max_size=70))
def test_it1_validity_matches_the_pattern(value: str) -> None:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:-")
    expected = 2 <= len(value) <= 64 and set(value) <= allowed
    assert catalog.is_valid_id(value) is expected


def test_it3_ct1_duplicate_message() -> None:
    error = catalog.already_exists("copy_paper_20lb")
    assert error.message == "An item already exists with ID: copy_paper_20lb"
    assert error.param == "id"


# --- CT3 names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["Non-profit Discount", "VAT 20%", "GST", "a", "under_score", "100% off", " x "]
)
def test_ct3_valid_names(value: str) -> None:
    assert catalog.rate_name(value) == value


@pytest.mark.parametrize(
    "value", ["Spring Sale!", "VAT (20%)", "50% off, today", "Caf\u00e9", "a/b", "x.y", "tab\t"]
)
def test_ct3_invalid_names(value: str) -> None:
    with raises("name"):
        catalog.rate_name(value)


@pytest.mark.parametrize("value", [None, ""])
def test_ct3_missing_name(value: str | None) -> None:
    with raises("name", "Name is missing"):
        catalog.rate_name(value)


# --- CT4 values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "is_percent"),
    [
        ("0", True),
        ("100", True),
        ("20", True),
        ("12.5", True),
        ("99.999999999999", True),
        ("0", False),
        ("167", False),
        ("1000000", False),
        ("0.01", False),
    ],
)
def test_ct4_values_in_range(value: str, is_percent: bool) -> None:
    assert catalog.rate_value(Decimal(value), is_percent) == Decimal(value)


@pytest.mark.parametrize(
    ("value", "is_percent"),
    [("100.01", True), ("101", True), ("-1", True), ("-0.01", True), ("-5", False)],
)
def test_ct4_values_out_of_range(value: str, is_percent: bool) -> None:
    with raises("value"):
        catalog.rate_value(Decimal(value), is_percent)


@pytest.mark.parametrize("is_percent", [True, False])
def test_ct4_missing_value(is_percent: bool) -> None:
    with raises("value", "Value is missing"):
        catalog.rate_value(None, is_percent)


@pytest.mark.parametrize(("value", "stored"), [(None, 0), (0, 0), (12, 12), (2**31 - 1, 2**31 - 1)])
def test_coupon_counts_non_negative(value: int | None, stored: int) -> None:
    assert catalog.non_negative(value, "duration") == stored


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("duration", "Duration must not be negative"),
        ("max_redemptions", "Max redemptions must not be negative"),
    ],
)
def test_coupon_counts_negative(field: str, message: str) -> None:
    with raises(field, message):
        catalog.non_negative(-1, field)


# --- IT4 / CT5 currency ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "unit_cost", "account", "expected"),
    [
        (None, "45", "usd", "usd"),  # Example IT-A
        (None, "0", "usd", None),  # Example IT-E
        (None, "0.00", "eur", None),
        (None, "-3", "eur", "eur"),
        ("", "99", "usd", "usd"),
        ("EUR", "45", "usd", "eur"),
        (" gbp ", "0", "usd", "gbp"),
        ("jpy", "0", "usd", "jpy"),
    ],
)
def test_it4_item_currency(sent: str | None, unit_cost: str, account: str, expected: str) -> None:
    assert catalog.item_currency(sent, Decimal(unit_cost), account) == expected


@pytest.mark.parametrize("sent", ["xyz", "dollars", "us", "EURO"])
def test_it4_ct5_invalid_currency(sent: str) -> None:
    with raises("currency", "Currency is invalid"):
        catalog.item_currency(sent, Decimal(1), "usd")
    with raises("currency", "Currency is invalid"):
        catalog.rate_currency(sent, False, "usd")


@pytest.mark.parametrize(
    ("sent", "is_percent", "account", "stored", "shown"),
    [
        (None, True, "usd", None, None),
        ("EUR", True, "usd", "eur", None),  # stored, but always returned as null
        (None, False, "usd", "usd", "usd"),
        (None, False, "eur", "eur", "eur"),
        ("Gbp", False, "usd", "gbp", "gbp"),
        ("", False, "usd", "usd", "usd"),
    ],
)
def test_ct5_rate_currency(
    sent: str | None, is_percent: bool, account: str, stored: str | None, shown: str | None
) -> None:
    assert catalog.rate_currency(sent, is_percent, account) == stored
    assert catalog.shown_currency(stored, is_percent) == shown


# --- CT9-CT11 redemption limits ---------------------------------------------------------------

NOW = 1_700_000_000


@pytest.mark.parametrize(
    ("expiration_date", "max_redemptions", "redemptions"),
    [
        (None, 0, 0),
        (None, 0, 10_000),  # 0 = unlimited (CT11)
        (NOW, 0, 0),  # expires now: not yet before now (CT10)
        (NOW + 1, 3, 2),
        (None, 1, 0),
    ],
)
def test_ct10_ct11_redeemable(
    expiration_date: int | None, max_redemptions: int, redemptions: int
) -> None:
    catalog.check_coupon_redeemable(
        "S8L47J",
        expiration_date=expiration_date,
        max_redemptions=max_redemptions,
        redemptions=redemptions,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("expiration_date", "max_redemptions", "redemptions", "message"),
    [
        (NOW - 1, 0, 0, "Coupon has expired: S8L47J"),
        (NOW - 1, 1, 5, "Coupon has expired: S8L47J"),
        (None, 1, 1, "Coupon has reached its maximum number of redemptions: S8L47J"),
        (NOW + 10, 3, 4, "Coupon has reached its maximum number of redemptions: S8L47J"),
    ],
)
def test_ct10_ct11_not_redeemable(
    expiration_date: int | None, max_redemptions: int, redemptions: int, message: str
) -> None:
    with raises("discounts", message):
        catalog.check_coupon_redeemable(
            "S8L47J",
            expiration_date=expiration_date,
            max_redemptions=max_redemptions,
            redemptions=redemptions,
            now=NOW,
        )


@pytest.mark.parametrize(
    "coupons",
    [
        [],
        [("vip", True)],
        [("a", False), ("b", False)],
        [("a", False), ("b", False), ("c", False)],
    ],
)
def test_ct9_combinable(coupons: list[tuple[str, bool]]) -> None:
    catalog.check_combinable(coupons)


@pytest.mark.parametrize(
    ("coupons", "culprit"),
    [
        ([("vip", True), ("a", False)], "vip"),
        ([("a", False), ("vip", True)], "vip"),
        ([("vip", True), ("vip2", True)], "vip"),
        ([("vip", True), ("vip", True)], "vip"),  # the same exclusive coupon twice
    ],
)
def test_ct9_exclusive_coupon_is_not_combinable(
    coupons: list[tuple[str, bool]], culprit: str
) -> None:
    with raises("discounts", f"Coupon cannot be combined with other coupons: {culprit}"):
        catalog.check_combinable(coupons)
