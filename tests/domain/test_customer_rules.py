"""Golden cases for the customer rules that need no database (customers.md CU3-CU10)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain import customers
from tally.domain.errors import InvalidRequest

AUTOPAY_UNSUPPORTED = (
    "Sorry, this business does not support AutoPay. Please enable a supported payment "
    "method in Settings > Payments first."
)


@contextmanager
def raises(param: str, message: str | None = None) -> Iterator[None]:
    """Expect a 400 InvalidRequest with this param (C6.3) and, when given, this exact message."""
    with pytest.raises(InvalidRequest) as caught:
        yield
    assert caught.value.param == param
    if message is not None:
        assert caught.value.message == message


# --- CU3 type -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["company", "person", "government", "non_profit"])
def test_cu3_allowed_types(value: str) -> None:
    assert customers.customer_type(value, "company") == value


@pytest.mark.parametrize("default", ["company", "person"])
def test_cu3_absent_type_is_account_default(default: str) -> None:
    assert customers.customer_type(None, default) == default


@pytest.mark.parametrize("value", ["business", "individual", "", "non-profit", "nonprofit"])
def test_cu3_other_types_rejected(value: str) -> None:
    with raises("type"):
        customers.customer_type(value, "company")


# --- CU4 country, language, currency ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "stored"),
    [("US", "US"), ("us", "US"), ("De", "DE"), ("gb", "GB"), (" nl ", "NL"), (None, None)],
)
def test_cu4_country_stored_uppercase(value: str | None, stored: str | None) -> None:
    assert customers.country(value) == stored


@pytest.mark.parametrize("value", ["XX", "USA", "U", "UK", "12", "zz"])
def test_cu4_invalid_country(value: str) -> None:
    with raises("country"):
        customers.country(value)


def test_cu4_invalid_country_reports_given_param() -> None:
    with raises("ship_to"):
        customers.country("XX", "ship_to")


@pytest.mark.parametrize(
    ("value", "stored"),
    [("en", "en"), ("EN", "en"), ("Fr", "fr"), ("de", "de"), (None, None)],
)
def test_cu4_language_stored_lowercase(value: str | None, stored: str | None) -> None:
    assert customers.language(value) == stored


@pytest.mark.parametrize("value", ["eng", "english", "e", "xx", "en-US"])
def test_cu4_invalid_language(value: str) -> None:
    with raises("language"):
        customers.language(value)


@pytest.mark.parametrize(
    ("value", "stored"),
    [("usd", "usd"), ("USD", "usd"), ("Eur", "eur"), ("jpy", "jpy"), (None, None)],
)
def test_c12_4_currency_stored_lowercase(value: str | None, stored: str | None) -> None:
    assert customers.currency(value) == stored


@pytest.mark.parametrize("value", ["xyz", "us", "dollars", "US$"])
def test_c12_4_invalid_currency_exact_message(value: str) -> None:
    with raises("currency", "Currency is invalid"):
        customers.currency(value)


# --- CU6/CU7 payment terms ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("creating", "autopay", "terms_sent", "terms", "current", "account", "expected"),
    [
        # CU6: create, AutoPay off.
        pytest.param(True, False, False, None, None, "NET 30", "NET 30", id="CU6-account-terms"),
        pytest.param(True, False, False, None, None, None, None, id="CU6-account-terms-null"),
        pytest.param(True, False, True, "NET 15", None, "NET 30", "NET 15", id="CU6-sent-wins"),
        pytest.param(True, False, True, None, None, "NET 30", None, id="CU6-sent-null-clears"),
        # CU7: AutoPay on -> null, a value sent in the same request is discarded.
        pytest.param(True, True, True, "NET 15", None, "NET 30", None, id="CU7-create-sent"),
        pytest.param(True, True, False, None, None, "NET 30", None, id="CU7-create-not-sent"),
        pytest.param(False, True, False, None, "NET 30", "NET 30", None, id="CU7-update-on"),
        pytest.param(False, True, True, "NET 10", None, "NET 30", None, id="CU7-update-sent"),
        # Update, AutoPay off.
        pytest.param(False, False, False, None, "NET 10", "NET 30", "NET 10", id="update-keep"),
        pytest.param(False, False, True, "NET 45", "NET 10", "NET 30", "NET 45", id="update-set"),
        pytest.param(False, False, True, None, "NET 10", "NET 30", None, id="update-clear"),
        pytest.param(False, False, False, None, None, "NET 30", None, id="update-keeps-null"),
    ],
)
def test_cu6_cu7_payment_terms_after_change(
    creating, autopay, terms_sent, terms, current, account, expected
) -> None:
    result = customers.payment_terms_after_change(
        autopay=autopay,
        terms_sent=terms_sent,
        terms=terms,
        current_terms=current,
        account_terms=account,
        creating=creating,
    )
    assert result == expected


@given(
    creating=st.booleans(),
    terms_sent=st.booleans(),
    terms=st.none() | st.text(max_size=10),
    current=st.none() | st.text(max_size=10),
    account=st.none() | st.text(max_size=10),
)
def test_cu7_autopay_always_means_no_terms(creating, terms_sent, terms, current, account) -> None:
    result = customers.payment_terms_after_change(
        autopay=True,
        terms_sent=terms_sent,
        terms=terms,
        current_terms=current,
        account_terms=account,
        creating=creating,
    )
    assert result is None


def test_cu7_autopay_unsupported_exact_message() -> None:
    assert customers.AUTOPAY_UNSUPPORTED == AUTOPAY_UNSUPPORTED
    with raises("autopay", AUTOPAY_UNSUPPORTED):
        customers.check_autopay_supported(True, False)


@pytest.mark.parametrize(("autopay", "supported"), [(True, True), (False, False), (False, True)])
def test_cu7_autopay_supported_or_off_is_fine(autopay: bool, supported: bool) -> None:
    customers.check_autopay_supported(autopay, supported)


# --- CU10 parent customer ------------------------------------------------------------------

SELF = "Cannot set parent customer as self."
SUB = "Cannot set sub-customer as a parent."
DEEP = "A customer cannot have more than five levels of sub-customers."


@pytest.mark.parametrize(
    ("customer_id", "parent_id", "chain", "height", "message"),
    [
        pytest.param(5, 5, [5], 0, SELF, id="self"),
        pytest.param(5, 5, [5, 1], 0, SELF, id="self-with-ancestors"),
        pytest.param(5, 7, [7, 5], 0, SUB, id="child-as-parent"),
        pytest.param(5, 9, [9, 8, 5, 1], 1, SUB, id="grandchild-as-parent"),
        pytest.param(None, 1, [1, 2, 3, 4, 5], 0, DEEP, id="new-customer-sixth-level"),
        pytest.param(10, 1, [1, 2, 3, 4, 5], 0, DEEP, id="leaf-sixth-level"),
        pytest.param(10, 1, [1, 2, 3], 2, DEEP, id="subtree-pushed-below-five"),
        pytest.param(10, 1, [1], 4, DEEP, id="deep-subtree-under-root"),
    ],
)
def test_cu10_invalid_parent_exact_message(customer_id, parent_id, chain, height, message):
    with raises("parent_customer", message):
        customers.check_parent(customer_id, parent_id, chain, height)


@pytest.mark.parametrize(
    ("customer_id", "parent_id", "chain", "height"),
    [
        pytest.param(None, 1, [1], 0, id="new-under-root"),
        pytest.param(None, 4, [4, 3, 2, 1], 0, id="new-fifth-level"),
        pytest.param(10, 4, [4, 3, 2, 1], 0, id="leaf-fifth-level"),
        pytest.param(10, 2, [2, 1], 2, id="subtree-fits-exactly"),
        pytest.param(10, 1, [1], 3, id="deep-subtree-fits"),
        pytest.param(5, 7, [7, 6], 0, id="sibling-branch"),
    ],
)
def test_cu10_valid_parent(customer_id, parent_id, chain, height) -> None:
    customers.check_parent(customer_id, parent_id, chain, height)


# --- CU9 taxes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(None, [], id="null"),
        pytest.param("", [], id="C3.4-empty-string"),
        pytest.param([], [], id="empty-list"),
        pytest.param(["vat"], ["vat"], id="one"),
        pytest.param(["vat", "gst", "vat"], ["vat", "gst"], id="duplicate-removed-first-kept"),
        pytest.param(["b", "a", "b", "a", "c"], ["b", "a", "c"], id="order-of-first-occurrence"),
        pytest.param([{"id": "vat"}, "gst"], ["vat", "gst"], id="objects-with-id"),
        pytest.param([{"id": "vat"}, {"id": "vat"}], ["vat"], id="duplicate-objects"),
        pytest.param([12, "12"], ["12"], id="number-and-string-same-id"),
        pytest.param([7], ["7"], id="number"),
    ],
)
def test_cu9_unique_tax_ids(raw: object, expected: list[str]) -> None:
    assert customers.unique_tax_ids(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("vat", id="string-not-list"),
        pytest.param({"id": "vat"}, id="object-not-list"),
        pytest.param([True], id="boolean"),
        pytest.param([None], id="null-element"),
        pytest.param([""], id="empty-id"),
        pytest.param([["vat"]], id="nested-list"),
        pytest.param([{"name": "VAT"}], id="object-without-id"),
        pytest.param([{"id": None}], id="object-null-id"),
    ],
)
def test_cu9_invalid_taxes(raw: object) -> None:
    with raises("taxes"):
        customers.unique_tax_ids(raw)


@given(st.lists(st.text(min_size=1, max_size=5)))
def test_cu9_dedupe_keeps_first_occurrence(ids: list[str]) -> None:
    assert customers.unique_tax_ids(ids) == list(dict.fromkeys(ids))
