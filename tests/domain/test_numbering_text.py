"""Golden cases for document numbers (C19) and small text helpers (C2.6, C6.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain.numbering import (
    DEFAULT_TEMPLATES,
    format_number,
    number_key,
    number_taken,
    too_many_tries,
)
from tally.domain.text import field_title, scrub_key


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        pytest.param("CUST-%05d", 1, "CUST-00001", id="C19.1-first-customer"),
        pytest.param("INV-%05d", 1, "INV-00001", id="C19.1-first-invoice"),
        pytest.param("CN-%05d", 1, "CN-00001", id="C19.1-credit-note"),
        pytest.param("EST-%05d", 1, "EST-00001", id="C19.1-estimate"),
        pytest.param("CUST-%05d", 42, "CUST-00042", id="padded"),
        pytest.param("INV-%05d", 99999, "INV-99999", id="five-digits"),
        pytest.param("INV-%05d", 123456, "INV-123456", id="wider-than-padding"),
        pytest.param("%d", 7, "7", id="bare-d"),
        pytest.param("%d", 123456, "123456", id="bare-d-large"),
        pytest.param("INV-%d", 12, "INV-12", id="unpadded"),
        pytest.param("%05d", 3, "00003", id="only-conversion"),
        pytest.param("N%5d", 42, "N   42", id="space-padded"),
        pytest.param("INV-%04d-2024", 16, "INV-0016-2024", id="suffix"),
    ],
)
def test_c19_format_number(template: str, value: int, expected: str) -> None:
    assert format_number(template, value) == expected


def test_c19_1_default_templates() -> None:
    assert DEFAULT_TEMPLATES["customer"] == "CUST-%05d"
    assert DEFAULT_TEMPLATES["invoice"] == "INV-%05d"
    assert DEFAULT_TEMPLATES["credit_note"] == "CN-%05d"
    assert DEFAULT_TEMPLATES["estimate"] == "EST-%05d"


@pytest.mark.parametrize("template", ["CUST", "INV-", ""])
def test_c19_2_template_without_conversion_still_gives_distinct_numbers(template: str) -> None:
    numbers = [format_number(template, n) for n in (1, 2, 10, 11, 123456)]
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith(template) for n in numbers)


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("INV-00001", "inv-00001"),
        (" inv-00001 ", "inv-00001"),
        ("Cust-7\t", "cust-7"),
    ],
)
def test_c19_3_number_key_case_insensitive_trimmed(number: str, key: str) -> None:
    assert number_key(number) == key


def test_c19_2_too_many_tries_exact_message() -> None:
    error = too_many_tries()
    assert error.message == "Could not find a unique number after 100 iterations"
    assert error.param == "number"


@pytest.mark.parametrize(
    ("label", "number", "message"),
    [
        (
            "customer",
            "CUST-00001",
            "The given customer number has already been taken: CUST-00001",
        ),
        ("invoice", "INV-7", "The given invoice number has already been taken: INV-7"),
    ],
)
def test_c19_3_cu2_number_taken_exact_message(label: str, number: str, message: str) -> None:
    error = number_taken(label, number)
    assert (error.message, error.param) == (message, "number")


@pytest.mark.parametrize(
    ("key", "scrubbed"),
    [
        pytest.param("sk_live_1234abcd", "sk_**********bcd", id="C2.6-example"),
        pytest.param("abcdefg", "abc*efg", id="seven"),
        pytest.param("abcdef", "abcdef", id="six-as-given"),
        pytest.param("abc", "abc", id="short-as-given"),
        pytest.param("a", "a", id="one"),
        pytest.param("", "", id="empty"),
        pytest.param("12345678", "123**678", id="eight"),
    ],
)
def test_c2_6_scrub_key(key: str, scrubbed: str) -> None:
    assert scrub_key(key) == scrubbed


@pytest.mark.parametrize(
    ("field", "title"),
    [
        pytest.param("name", "Name", id="C6.4-name"),
        pytest.param("customer", "Customer", id="C6.4-customer"),
        pytest.param("payment_terms", "Payment terms", id="underscores"),
        pytest.param("parent_customer", "Parent customer", id="parent"),
        pytest.param("email", "Email", id="email"),
        pytest.param("autopay_delay_days", "Autopay delay days", id="three-words"),
    ],
)
def test_c6_4_field_title(field: str, title: str) -> None:
    assert field_title(field) == title


# --- properties ---------------------------------------------------------------------------

affix = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="%"), max_size=8)


@given(
    affix,
    st.sampled_from(["%d", "%05d", "%5d", "%08d", "%1d", "%3d"]),
    affix,
    st.integers(0, 10**9),
)
def test_c19_format_number_is_printf(prefix: str, conversion: str, suffix: str, value: int):
    template = prefix + conversion + suffix
    assert format_number(template, value) == template % value


@given(st.text(max_size=60))
def test_c2_6_scrub_key_shape(key: str) -> None:
    scrubbed = scrub_key(key)
    if len(key) <= 6:
        assert scrubbed == key
    else:
        assert len(scrubbed) == len(key)
        assert scrubbed == key[:3] + "*" * (len(key) - 6) + key[-3:]
