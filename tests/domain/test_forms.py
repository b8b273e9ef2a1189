"""Golden cases for PHP-style bracket notation in form bodies and query strings (C3.2, C3.10)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain.errors import InvalidRequest
from tally.http.forms import MAX_DEPTH, parse_pairs


def parse_query(text: str) -> dict:
    """What a form body or query string decodes to: percent-decoding, then brackets."""
    return parse_pairs(parse_qsl(text, keep_blank_values=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # C3.2 examples, verbatim from the spec.
        pytest.param(
            "metadata[icp_number]=123",
            {"metadata": {"icp_number": "123"}},
            id="C3.2-metadata",
        ),
        pytest.param(
            "items[0][name]=Copy paper&items[0][quantity]=3",
            {"items": [{"name": "Copy paper", "quantity": "3"}]},
            id="C3.2-items",
        ),
        pytest.param(
            "to[0][email]=a@b.com",
            {"to": [{"email": "a@b.com"}]},
            id="C3.2-to",
        ),
        pytest.param(
            "applied_to[1][amount]=290",
            {"applied_to": [{"amount": "290"}]},
            id="C3.2-applied_to-single-index-compacted",
        ),
        pytest.param(
            "taxes[0][amount]=3.85",
            {"taxes": [{"amount": "3.85"}]},
            id="C3.2-taxes",
        ),
        pytest.param(
            "items[0][name]=a&items[5][name]=b",
            {"items": [{"name": "a"}, {"name": "b"}]},
            id="C3.2-gaps-compacted",
        ),
        pytest.param(
            "items[5]=five&items[0]=zero&items[2]=two",
            {"items": ["zero", "two", "five"]},
            id="C3.2-ordered-by-index-value",
        ),
        pytest.param(
            "items[10]=ten&items[9]=nine",
            {"items": ["nine", "ten"]},
            id="C3.2-index-value-not-text-order",
        ),
        pytest.param(
            "a[0]=x&a[foo]=y",
            {"a": {"0": "x", "foo": "y"}},
            id="C3.2-mixed-keys-object",
        ),
        pytest.param(
            "a[foo]=x&a[bar]=y",
            {"a": {"foo": "x", "bar": "y"}},
            id="C3.2-non-numeric-keys-object",
        ),
        pytest.param(
            "disabled_payment_methods[]=check&disabled_payment_methods[]=cash",
            {"disabled_payment_methods": ["check", "cash"]},
            id="C3.2-empty-brackets-append",
        ),
        pytest.param(
            "a[][x]=1&a[][y]=2",
            {"a": [{"x": "1"}, {"y": "2"}]},
            id="C3.2-each-empty-bracket-new-element",
        ),
        pytest.param(
            "a[][x]=1&a[][x]=2&a[][x]=3",
            {"a": [{"x": "1"}, {"x": "2"}, {"x": "3"}]},
            id="C3.2-append-objects",
        ),
        pytest.param("name=a&name=b", {"name": "b"}, id="C3.2-repeated-plain-key-last-wins"),
        pytest.param(
            "name=a&email=x@y.z&name=c",
            {"name": "c", "email": "x@y.z"},
            id="C3.2-repeated-plain-key-last-wins-interleaved",
        ),
        pytest.param(
            "metadata[a]=1&metadata[a]=2",
            {"metadata": {"a": "2"}},
            id="C3.2-repeated-bracket-key-last-wins",
        ),
        pytest.param("name=", {"name": ""}, id="C3.4-empty-value-kept"),
        pytest.param(
            "items[0][name]=Paper&items[0][quantity]=3&items[1][name]=Pens&customer=12",
            {"items": [{"name": "Paper", "quantity": "3"}, {"name": "Pens"}], "customer": "12"},
            id="C3.2-two-line-items-and-plain-field",
        ),
        pytest.param(
            "items[0][metadata][color]=red",
            {"items": [{"metadata": {"color": "red"}}]},
            id="C3.2-nested-object-in-list",
        ),
        # C3.10: query strings use the same notation.
        pytest.param("filter[customer]=12", {"filter": {"customer": "12"}}, id="C3.10-filter"),
        pytest.param(
            "metadata[account-rep]=Jan",
            {"metadata": {"account-rep": "Jan"}},
            id="C3.10-metadata-filter",
        ),
        pytest.param(
            "expand[]=customer&expand[]=items.catalog_item",
            {"expand": ["customer", "items.catalog_item"]},
            id="C3.10-python-client-list",
        ),
        pytest.param(
            "filter%5Bcustomer%5D=12",
            {"filter": {"customer": "12"}},
            id="C3.10-percent-encoded-brackets",
        ),
        pytest.param(
            "items%5B0%5D%5Bname%5D=Copy+paper",
            {"items": [{"name": "Copy paper"}]},
            id="C3.2-percent-encoded-and-plus-space",
        ),
    ],
)
def test_c3_2_bracket_notation(query: str, expected: dict) -> None:
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("a[b", "1", id="unclosed"),
        pytest.param("a]b", "1", id="close-without-open"),
        pytest.param("[x]", "1", id="no-head"),
        pytest.param("a[b]c", "1", id="text-after-bracket"),
        pytest.param("a[b[c]]", "1", id="nested-brackets"),
        pytest.param("a[b]]", "1", id="extra-close"),
    ],
)
def test_c3_2_malformed_brackets_used_verbatim(key: str, value: str) -> None:
    assert parse_pairs([(key, value)]) == {key: value}


def test_c3_2_malformed_key_next_to_well_formed_keys() -> None:
    assert parse_pairs([("a[b", "1"), ("a[c]", "2")]) == {"a[b": "1", "a": {"c": "2"}}


def test_c3_2_nesting_at_max_depth_is_parsed() -> None:
    # MAX_DEPTH segments including the head: a[k1]...[k7] for MAX_DEPTH == 8.
    key = "a" + "".join(f"[k{i}]" for i in range(1, MAX_DEPTH))
    expected: object = "v"
    for i in reversed(range(1, MAX_DEPTH)):
        expected = {f"k{i}": expected}
    assert parse_pairs([(key, "v")]) == {"a": expected}


@pytest.mark.parametrize("extra", [1, 2, 20])
def test_c3_2_nesting_deeper_than_max_depth_is_invalid_request(extra: int) -> None:
    key = "deep" + "".join(f"[k{i}]" for i in range(1, MAX_DEPTH + extra))
    with pytest.raises(InvalidRequest) as caught:
        parse_pairs([(key, "v")])
    assert caught.value.param == "deep"  # C6.3: the top-level field


def test_c3_2_too_deep_empty_brackets_are_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        parse_pairs([("a" + "[]" * MAX_DEPTH, "v")])


def test_c3_5_no_pairs_is_empty_object() -> None:
    assert parse_pairs([]) == {}


# --- properties ---------------------------------------------------------------------------

# Plain field names as clients send them: start with a letter, no brackets.
plain_keys = st.from_regex(r"[A-Za-z][A-Za-z0-9_.\-]{0,20}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(st.lists(st.tuples(plain_keys, values), max_size=15))
def test_c3_2_flat_keys_round_trip_last_wins(pairs: list[tuple[str, str]]) -> None:
    assert parse_pairs(pairs) == dict(pairs)


@given(st.dictionaries(plain_keys, values, max_size=10))
def test_c3_2_flat_form_encoding_round_trips(data: dict[str, str]) -> None:
    assert parse_query(urlencode(data)) == data


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_\-]{0,20}", fullmatch=True), values, max_size=10
    )
)
def test_c3_2_metadata_object_round_trips(metadata: dict[str, str]) -> None:
    pairs = [(f"metadata[{k}]", v) for k, v in metadata.items()]
    expected = {"metadata": metadata} if metadata else {}
    assert parse_query(urlencode(pairs)) == expected


@given(st.lists(values, min_size=1, max_size=10))
def test_c3_2_appends_keep_order(items: list[str]) -> None:
    assert parse_pairs([("list[]", v) for v in items]) == {"list": items}


@given(st.lists(st.tuples(st.integers(0, 10_000), values), min_size=1, max_size=10), st.randoms())
def test_c3_2_numeric_indexes_ordered_and_compacted(entries, rnd) -> None:
    by_index = dict(entries)  # one value per index (the last one sent)
    pairs = [(f"items[{i}]", v) for i, v in by_index.items()]
    rnd.shuffle(pairs)
    assert parse_pairs(pairs) == {"items": [by_index[i] for i in sorted(by_index)]}
