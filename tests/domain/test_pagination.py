"""Golden cases for page arithmetic and the Link header (C7)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain.pagination import Page, clamp_page, clamp_per_page, link_header

BASE = "http://localhost:8000"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(None, 1, id="absent"),
        pytest.param("", 1, id="empty"),
        pytest.param("1", 1, id="one"),
        pytest.param("2", 2, id="two"),
        pytest.param("37", 37, id="thirty-seven"),
        pytest.param(" 3 ", 3, id="padded"),
        pytest.param(4, 4, id="int"),
        pytest.param("0", 1, id="zero"),
        pytest.param(0, 1, id="int-zero"),
        pytest.param("-1", 1, id="negative"),
        pytest.param("-100", 1, id="very-negative"),
        pytest.param("abc", 1, id="non-numeric"),
        pytest.param("2abc", 1, id="numeric-prefix"),
        pytest.param(["2"], 1, id="list"),
    ],
)
def test_c7_2_page_clamp(raw: object, expected: int) -> None:
    assert clamp_page(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(None, 100, id="absent-default-100"),
        pytest.param("0", 100, id="zero-is-100"),
        pytest.param(0, 100, id="int-zero-is-100"),
        pytest.param("1", 1, id="minimum"),
        pytest.param("10", 10, id="ten"),
        pytest.param("99", 99, id="ninety-nine"),
        pytest.param("100", 100, id="maximum"),
        pytest.param("101", 100, id="over-max-clamped"),
        pytest.param("1000", 100, id="far-over-max"),
        pytest.param(250, 100, id="int-over-max"),
        pytest.param("-1", 1, id="negative-is-1"),
        pytest.param("-50", 1, id="very-negative-is-1"),
        pytest.param(" 25 ", 25, id="padded"),
    ],
)
def test_c7_3_per_page_clamp(raw: object, expected: int) -> None:
    assert clamp_per_page(raw) == expected


@pytest.mark.parametrize(
    ("total", "per_page", "last"),
    [
        pytest.param(41, 10, 5, id="C7.5-example"),
        pytest.param(40, 10, 4, id="exact-multiple"),
        pytest.param(0, 10, 1, id="empty-is-1"),
        pytest.param(0, 100, 1, id="empty-default"),
        pytest.param(1, 100, 1, id="one"),
        pytest.param(100, 100, 1, id="full-page"),
        pytest.param(101, 100, 2, id="one-over"),
        pytest.param(7, 1, 7, id="per-page-1"),
    ],
)
def test_c7_5_last_page_is_ceiling(total: int, per_page: int, last: int) -> None:
    assert Page(1, per_page).last(total) == last


@pytest.mark.parametrize(
    ("page", "per_page", "offset"),
    [(1, 100, 0), (2, 100, 100), (3, 10, 20), (1, 1, 0), (5, 1, 4)],
)
def test_c7_page_offset(page: int, per_page: int, offset: int) -> None:
    assert Page(page, per_page).offset == offset


def test_c7_5_spec_example_exact() -> None:
    header = link_header(
        BASE, "/customers", [("page", "3"), ("per_page", "10")], Page(3, 10), total=41
    )
    assert header == (
        '<http://localhost:8000/customers?page=3&per_page=10>; rel="self", '
        '<http://localhost:8000/customers?page=1&per_page=10>; rel="first", '
        '<http://localhost:8000/customers?page=2&per_page=10>; rel="previous", '
        '<http://localhost:8000/customers?page=4&per_page=10>; rel="next", '
        '<http://localhost:8000/customers?page=5&per_page=10>; rel="last"'
    )


@pytest.mark.parametrize(
    ("page", "total", "expected"),
    [
        pytest.param(
            1,
            0,
            '<http://localhost:8000/customers?page=1>; rel="self", '
            '<http://localhost:8000/customers?page=1>; rel="first", '
            '<http://localhost:8000/customers?page=1>; rel="last"',
            id="C7.8-empty-result",
        ),
        pytest.param(
            1,
            100,
            '<http://localhost:8000/customers?page=1>; rel="self", '
            '<http://localhost:8000/customers?page=1>; rel="first", '
            '<http://localhost:8000/customers?page=1>; rel="last"',
            id="single-full-page",
        ),
        pytest.param(
            1,
            101,
            '<http://localhost:8000/customers?page=1>; rel="self", '
            '<http://localhost:8000/customers?page=1>; rel="first", '
            '<http://localhost:8000/customers?page=2>; rel="next", '
            '<http://localhost:8000/customers?page=2>; rel="last"',
            id="first-of-two",
        ),
        pytest.param(
            2,
            101,
            '<http://localhost:8000/customers?page=2>; rel="self", '
            '<http://localhost:8000/customers?page=1>; rel="first", '
            '<http://localhost:8000/customers?page=1>; rel="previous", '
            '<http://localhost:8000/customers?page=2>; rel="last"',
            id="last-of-two",
        ),
        pytest.param(
            9,
            101,
            '<http://localhost:8000/customers?page=9>; rel="self", '
            '<http://localhost:8000/customers?page=1>; rel="first", '
            '<http://localhost:8000/customers?page=8>; rel="previous", '
            '<http://localhost:8000/customers?page=2>; rel="last"',
            id="C7.7-past-the-end",
        ),
        pytest.param(
            3,
            0,
            '<http://localhost:8000/customers?page=3>; rel="self", '
            '<http://localhost:8000/customers?page=1>; rel="first", '
            '<http://localhost:8000/customers?page=2>; rel="previous", '
            '<http://localhost:8000/customers?page=1>; rel="last"',
            id="C7.7-past-the-end-of-empty",
        ),
    ],
)
def test_c7_5_c7_7_c7_8_links_default_per_page(page: int, total: int, expected: str) -> None:
    # per_page=100 is the default, so it never appears in the URLs (C7.6).
    header = link_header(BASE, "/customers", [("page", str(page))], Page(page, 100), total)
    assert header == expected


def test_c7_7_past_the_end_with_per_page() -> None:
    header = link_header(BASE, "/customers", [("per_page", "10")], Page(9, 10), total=41)
    assert header == (
        '<http://localhost:8000/customers?page=9&per_page=10>; rel="self", '
        '<http://localhost:8000/customers?page=1&per_page=10>; rel="first", '
        '<http://localhost:8000/customers?page=8&per_page=10>; rel="previous", '
        '<http://localhost:8000/customers?page=5&per_page=10>; rel="last"'
    )


def test_c7_6_per_page_100_sent_explicitly_is_omitted() -> None:
    header = link_header(BASE, "/customers", [("per_page", "100")], Page(1, 100), total=5)
    assert "per_page" not in header


def test_c7_6_other_parameters_keep_order_then_page_then_per_page() -> None:
    query = [
        ("sort", "date desc,number asc"),
        ("page", "2"),
        ("filter[customer]", "12"),
        ("per_page", "20"),
        ("metadata[account-rep]", "Jan"),
    ]
    header = link_header(BASE, "/invoices", query, Page(2, 20), total=45)
    self_url = header.split(">; ")[0].lstrip("<")
    assert self_url == (
        "http://localhost:8000/invoices?"
        "sort=date+desc%2Cnumber+asc"
        "&filter%5Bcustomer%5D=12"
        "&metadata%5Baccount-rep%5D=Jan"
        "&page=2&per_page=20"
    ) or self_url == (
        "http://localhost:8000/invoices?"
        "sort=date%20desc%2Cnumber%20asc"
        "&filter%5Bcustomer%5D=12"
        "&metadata%5Baccount-rep%5D=Jan"
        "&page=2&per_page=20"
    )


def test_c7_6_no_literal_commas_in_urls() -> None:
    query = [("sort", "name asc,id desc"), ("expand", "customer,items.catalog_item")]
    header = link_header(BASE, "/invoices", query, Page(2, 10), total=100)
    entries = header.split(", ")
    assert [re.fullmatch(r'<[^<>,]*>; rel="(\w+)"', e).group(1) for e in entries] == [
        "self",
        "first",
        "previous",
        "next",
        "last",
    ]
    assert "%2C" in header


@pytest.mark.parametrize(
    ("key", "value", "encoded"),
    [
        pytest.param("filter[customer]", "12", "filter%5Bcustomer%5D=12", id="brackets"),
        pytest.param("expand", "a,b", "expand=a%2Cb", id="comma"),
        pytest.param("q", "a&b=c", "q=a%26b%3Dc", id="ampersand-equals"),
        pytest.param("expand[]", "customer", "expand%5B%5D=customer", id="empty-brackets"),
    ],
)
def test_c7_6_percent_encoding(key: str, value: str, encoded: str) -> None:
    header = link_header(BASE, "/invoices", [(key, value)], Page(1, 100), total=1)
    assert header.startswith(f'<{BASE}/invoices?{encoded}&page=1>; rel="self"')


@pytest.mark.parametrize(
    ("base", "path"),
    [
        pytest.param(BASE, "/customers", id="plain"),
        pytest.param(BASE, "/customers/", id="trailing-slash-path"),
        pytest.param(BASE + "/", "/customers", id="trailing-slash-base"),
        pytest.param(BASE + "/", "/customers/", id="both"),
    ],
)
def test_c7_6_trailing_slashes_stripped(base: str, path: str) -> None:
    header = link_header(base, path, [], Page(1, 100), total=0)
    assert header.startswith('<http://localhost:8000/customers?page=1>; rel="self"')


def test_c7_1_nested_list_path() -> None:
    header = link_header(BASE, "/customers/5/contacts/", [], Page(1, 100), total=0)
    assert header.startswith('<http://localhost:8000/customers/5/contacts?page=1>; rel="self"')


# --- properties ---------------------------------------------------------------------------

query_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=15)


@given(
    query=st.lists(st.tuples(query_text, query_text), max_size=6),
    page=st.integers(1, 30),
    per_page=st.integers(1, 100),
    total=st.integers(0, 3000),
)
def test_c7_5_c7_6_links_parse_back(query, page, per_page, total) -> None:
    header = link_header(BASE, "/invoices", query, Page(page, per_page), total)
    entries = header.split(", ")
    # Commas never appear literally inside an entry (C7.6), so splitting is safe.
    rels = []
    numbers = {}
    kept = [(k, v) for k, v in query if k not in ("page", "per_page")]
    for entry in entries:
        match = re.fullmatch(r'<([^<>,]*)>; rel="(\w+)"', entry)
        assert match is not None, entry
        url, rel = match.groups()
        rels.append(rel)
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/invoices"
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        tail = [("page", pairs[len(kept)][1])]
        if per_page != 100:
            tail.append(("per_page", str(per_page)))
        assert pairs == [*kept, *tail]
        numbers[rel] = int(tail[0][1])
    last = max(1, -(-total // per_page))
    expected_rels = ["self", "first"]
    expected_rels += ["previous"] if page > 1 else []
    expected_rels += ["next"] if page < last else []
    expected_rels += ["last"]
    assert rels == expected_rels
    assert numbers["self"] == page
    assert numbers["first"] == 1
    assert numbers["last"] == last
    assert numbers.get("previous", page - 1) == page - 1
    assert numbers.get("next", page + 1) == page + 1
