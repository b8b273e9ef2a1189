"""HTTP conventions of spec/README.md (C1-C16), exercised in-process on the customers resource.

Each test cites the rule it checks. Messages are asserted exactly only where the spec (or the
lead's brief) fixes the wording; otherwise status, `type` and `param` are asserted.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest

BASE = "http://localhost:8000"
MISSING_KEY = (
    "Missing API key! HINT: You can pass in your API key as the username parameter "
    "using HTTP Basic Auth."
)
AUTH_HEADER = 'Basic realm="Invoiced"'
CACHE_HEADER = "no-cache, no-store"
ABSENT = object()  # "the param key must not be present" (C6.3)
ANY = object()  # the spec does not say whether a param applies
LINK_ENTRY = re.compile(r'^<([^<>]*)>; rel="([a-z]+)"$')


# --------------------------------------------------------------------------- helpers


def assert_error(r, status, *, param=ABSENT, message=None):
    """The C6 error object: `type` by status (C6.1), `param` present only when given (C6.3)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    expected_type = (
        "rate_limit_error" if status == 429 else "api_error" if status >= 500 else "invalid_request"
    )
    assert body["type"] == expected_type, body
    assert isinstance(body["message"], str) and body["message"], body
    if param is ABSENT:
        assert "param" not in body, body
        assert set(body) == {"type", "message"}, body
    elif param is ANY:
        assert set(body) <= {"type", "message", "param"}, body
    else:
        assert body.get("param") == param, body
        assert set(body) == {"type", "message", "param"}, body
    if message is not None:
        assert body["message"] == message, body
    return body


def assert_api_headers(r):
    """C2.7: every API response, success or error, carries these two headers."""
    assert r.headers.get("WWW-Authenticate") == AUTH_HEADER, (r.status_code, dict(r.headers))
    assert r.headers.get("Cache-Control") == CACHE_HEADER, (r.status_code, dict(r.headers))


def create_customer(api, **fields):
    fields.setdefault("name", "Acme")
    r = api.post("/customers", json=fields)
    assert r.status_code == 201, r.text
    return r.json()


def customer_count(api, **params):
    r = api.get("/customers", params=params)
    assert r.status_code == 200, r.text
    return int(r.headers["X-Total-Count"])


def parse_link(header):
    """Split `Link` the way every client does (on commas) and return [(rel, url)] (C7.5/C7.6)."""
    entries = []
    for part in header.split(","):
        match = LINK_ENTRY.match(part.strip())
        assert match, f"Link entry not parseable after splitting on ',': {part!r} in {header!r}"
        entries.append((match.group(2), match.group(1)))
    return entries


def link_pairs(url):
    """Decoded query pairs of a Link URL, in order."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def page_url(page, per_page=None, path="/customers"):
    url = f"{BASE}{path}?page={page}"
    if per_page is not None:
        url += f"&per_page={per_page}"
    return url


def names(r):
    return [c["name"] for c in r.json()]


# --------------------------------------------------------------------------- C2 authentication


def test_c2_5_missing_credentials_401(app_client):
    r = app_client.get("/customers")
    assert_error(r, 401, message=MISSING_KEY)
    assert_api_headers(r)
    r = app_client.post("/customers", json={"name": "Nobody"})
    assert_error(r, 401, message=MISSING_KEY)


def test_c2_5_basic_without_username_is_missing_key(app_client):
    # `curl -u :` sends an empty username and password: no key at all.
    r = app_client.get("/customers", auth=("", ""))
    assert_error(r, 401, message=MISSING_KEY)


@pytest.mark.parametrize(
    ("key", "scrubbed"),
    [
        ("sk_live_1234abcd", "sk_**********bcd"),  # the C2.6 example
        ("abcdefg", "abc*efg"),  # 7 chars: one hidden
        ("abcdef", "abcdef"),  # 6 chars: not longer than 6, shown as given
        ("abc", "abc"),
    ],
)
def test_c2_6_unknown_key_401_with_scrubbed_key(app_client, key, scrubbed):
    r = app_client.get("/customers", auth=(key, ""))
    assert_error(r, 401, message=f"We could not authenticate you with the API Key: {scrubbed}")
    assert_api_headers(r)


def test_c2_2_basic_key_as_username(api, app_client):
    r = app_client.get("/customers", auth=(api.account.key, ""))
    assert r.status_code == 200, r.text


def test_c2_4_bearer_token(api, app_client):
    created = create_customer(api, name="Bearer Co")
    r = app_client.get(
        f"/customers/{created['id']}", headers={"Authorization": f"Bearer {api.account.key}"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created["id"]
    assert_api_headers(r)
    r = app_client.get("/customers", headers={"Authorization": "Bearer sk_live_1234abcd"})
    assert_error(r, 401, message="We could not authenticate you with the API Key: sk_**********bcd")


def test_c2_3_basic_with_password_uses_password_as_key(api, app_client):
    created = create_customer(api, name="Login Co")
    r = app_client.get(f"/customers/{created['id']}", auth=(api.account.username, api.account.key))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created["id"]


def test_c2_3_basic_with_password_wrong_username_401(api, app_client):
    r = app_client.get("/customers", auth=("someone-else", api.account.key))
    assert_error(r, 401, message="We did not find an account matching the username: someone-else")
    assert_api_headers(r)


def test_c2_3_basic_with_password_unknown_key_401(api, app_client):
    r = app_client.get("/customers", auth=(api.account.username, "sk_live_1234abcd"))
    assert_error(r, 401, message="We could not authenticate you with the API Key: sk_**********bcd")
    # With a non-empty password the password is the key, even when the username is a key.
    r = app_client.get("/customers", auth=(api.account.key, "wrongpass"))
    assert_error(r, 401, message="We could not authenticate you with the API Key: wro***ass")


def test_c2_1_health_needs_no_auth(app_client):
    r = app_client.get("/health")
    assert r.status_code == 200, r.text


def test_c2_7_headers_on_every_kind_of_response(api, app_client):
    responses = []
    r = api.post("/customers", json={"name": "Headers"})
    responses.append(r)
    cid = r.json()["id"]
    responses.append(api.get(f"/customers/{cid}"))
    responses.append(api.patch(f"/customers/{cid}", json={"phone": "123"}))
    responses.append(api.get("/customers"))
    responses.append(api.get(f"/customers/{cid}/balance"))
    responses.append(api.post("/customers", json={}))  # 400
    responses.append(api.get("/customers", params={"filter[foo]": "1"}))  # 400
    responses.append(api.get("/customers/424242424242"))  # 404 object
    responses.append(api.get("/no_such_route"))  # 404 route
    responses.append(api.request("PUT", "/customers"))  # 405
    responses.append(app_client.get("/customers"))  # 401 missing
    responses.append(app_client.get("/customers", auth=("sk_live_nope0000", "")))  # 401 bad key
    responses.append(api.delete(f"/customers/{cid}"))  # 204
    responses.append(api.delete(f"/customers/{cid}"))  # 404 again
    statuses = [r.status_code for r in responses]
    assert statuses == [201, 200, 200, 200, 200, 400, 400, 404, 404, 405, 401, 401, 204, 404]
    for r in responses:
        assert_api_headers(r)


def test_c4_9_list_headers_canonical_case(api):
    create_customer(api)
    r = api.get("/customers")
    raw_names = [name for name, _ in r.headers.raw]
    assert b"Link" in raw_names, raw_names
    assert b"X-Total-Count" in raw_names, raw_names
    assert b"WWW-Authenticate" in raw_names, raw_names


# --------------------------------------------------------------------------- C3 request bodies


def test_c3_2_form_body_bracket_notation(api):
    r = api.post(
        "/customers",
        data={"name": "Form Co", "metadata[icp_number]": "123", "metadata[rep]": "Jan"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "Form Co"
    assert body["metadata"] == {"icp_number": "123", "rep": "Jan"}


def test_c3_1_json_body(api):
    r = api.post("/customers", json={"name": "Json Co", "metadata": {"icp_number": "123"}})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Json Co"
    assert r.json()["metadata"] == {"icp_number": "123"}


def test_c3_6_json_body_with_form_content_type(api):
    body = b'  {"name": "Charge Co", "metadata": {"a": "b"}}'
    r = api.post(
        "/customers",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Charge Co"
    assert r.json()["metadata"] == {"a": "b"}


def test_c3_6_json_body_without_content_type(api):
    r = api.post("/customers", content=b'{"name": "Bare Co"}')
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Bare Co"


@pytest.mark.parametrize("raw", [b"", b"null", b"[]", b"  ", b" null ", b"{}"])
def test_c3_5_empty_bodies_mean_empty_object(api, raw):
    """POST /customers with "no parameters" is the CU1 error, never "Invalid JSON body"."""
    r = api.post("/customers", content=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400, param="name", message="Name is missing")


def test_c3_5_no_body_no_content_type(api):
    r = api.post("/customers")
    assert_error(r, 400, param="name", message="Name is missing")


@pytest.mark.parametrize("raw", [b"", b"null", b"[]"])
def test_c3_5_empty_bodies_on_patch_change_nothing(api, raw):
    created = create_customer(api, city="Oslo")
    r = api.patch(
        f"/customers/{created['id']}", content=raw, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert r.json() == created


def test_c3_5_empty_json_body_on_get_and_delete(api):
    cid = create_customer(api)["id"]
    headers = {"Content-Type": "application/json"}
    r = api.request("GET", f"/customers/{cid}", content=b"", headers=headers)
    assert r.status_code == 200, r.text
    r = api.request("GET", "/customers", content=b"null", headers=headers)
    assert r.status_code == 200, r.text
    r = api.request("DELETE", f"/customers/{cid}", content=b"", headers=headers)
    assert r.status_code == 204, r.text


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "Acme"',  # truncated
        b'{"name": "Acme",}',  # trailing comma
        b"{name: Acme}",  # no quotes at all: the lenient retry fails too
        b"{\"name\": 'Acme'}",  # mixed quotes: contains '"', so no retry
    ],
)
def test_c3_7_malformed_json_400(api, raw):
    r = api.post("/customers", content=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400, message="Invalid JSON body")
    assert customer_count(api) == 0


def test_c3_7_single_quoted_json_retry_with_decimal_comma(api):
    r = api.post(
        "/customers",
        content=b"{'name':'Dotnet Co','credit_limit':12,5}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Dotnet Co"
    assert r.json()["credit_limit"] == 12.5


def test_c3_7_lenient_retry_leaves_commas_inside_strings_alone(api):
    """Only a *number* written with a decimal comma is rewritten; string values are data."""
    r = api.post(
        "/customers",
        content=b"{'name':'Unit 1,5','metadata':{'range':'3,4'}}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Unit 1,5"
    assert r.json()["metadata"] == {"range": "3,4"}


def test_c3_2_repeated_plain_form_keys_last_wins(api):
    r = api.post(
        "/customers",
        content=b"name=First&name=Last&metadata%5Ba%5D=1&metadata%5Ba%5D=2",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Last"


def test_c3_1_content_types_with_charset(api):
    r = api.post(
        "/customers",
        content=b'{"name":"Charset Json"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Charset Json"
    r = api.post(
        "/customers",
        content=b"name=Charset+Form&metadata%5Bk%5D=v",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Charset Form"
    assert r.json()["metadata"] == {"k": "v"}


def test_c3_3_json_strings_coerced_for_numbers(api):
    r = api.post(
        "/customers",
        json={"name": "Strings", "credit_limit": "12.5", "autopay_delay_days": "3", "owner": "7"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["credit_limit"] == 12.5
    assert body["autopay_delay_days"] == 3
    assert body["owner"] == 7


def test_c3_8_unknown_fields_ignored(api):
    r = api.post(
        "/customers",
        json={"name": "Extra Co", "foo": "bar", "nested": {"x": [1, 2]}, "balance_due": 5},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    for key in ("foo", "nested", "balance_due"):
        assert key not in body
    r = api.patch(f"/customers/{body['id']}", data={"foo": "bar", "phone": "555"})
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "555"
    assert "foo" not in r.json()


@pytest.mark.parametrize(
    "field", ["credit_balance", "statement_pdf_url", "sign_up_url", "created_at", "updated_at"]
)
def test_c3_9_rejected_read_only_fields(api, field):
    r = api.post("/customers", json={"name": "RO Co", field: 5})
    assert_error(
        r, 400, param=field, message=f"Mass assignment of {field} on Customer is not allowed"
    )
    assert customer_count(api) == 0
    cid = create_customer(api)["id"]
    before = api.get(f"/customers/{cid}").json()
    r = api.patch(f"/customers/{cid}", data={field: "5", "phone": "555"})
    assert_error(
        r, 400, param=field, message=f"Mass assignment of {field} on Customer is not allowed"
    )
    assert api.get(f"/customers/{cid}").json() == before


def test_c3_9_id_and_object_silently_ignored(api):
    r = api.post("/customers", json={"name": "Ids Co", "id": 987654321, "object": "invoice"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] != 987654321
    assert body["object"] == "customer"
    r = api.patch(f"/customers/{body['id']}", json={"id": 987654321, "object": "x", "city": "Y"})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == body["id"]
    assert r.json()["object"] == "customer"
    assert r.json()["city"] == "Y"


BOOLEAN_WORDS = [
    ("1", True),
    ("0", False),
    ("true", True),
    ("false", False),
    ("yes", True),
    ("no", False),
    ("on", True),
    ("off", False),
    ("TRUE", True),
    ("False", False),
    ("Yes", True),
    ("OFF", False),
]


def test_c3_3_boolean_strings_from_forms(api):
    cid = create_customer(api)["id"]
    for word, expected in BOOLEAN_WORDS:
        r = api.patch(f"/customers/{cid}", data={"credit_hold": word, "taxable": word})
        assert r.status_code == 200, (word, r.text)
        assert r.json()["credit_hold"] is expected, word
        assert r.json()["taxable"] is expected, word


def test_c3_3_boolean_strings_in_json_and_json_numbers(api):
    cid = create_customer(api)["id"]
    for value, expected in [("yes", True), ("off", False), (1, True), (0, False), (True, True)]:
        r = api.patch(f"/customers/{cid}", json={"chase": value})
        assert r.status_code == 200, (value, r.text)
        assert r.json()["chase"] is expected, value


def test_c3_3_boolean_on_create_form(api):
    r = api.post("/customers", data={"name": "B", "taxable": "0", "credit_hold": "on"})
    assert r.status_code == 201, r.text
    assert r.json()["taxable"] is False
    assert r.json()["credit_hold"] is True


@pytest.mark.parametrize("value", ["maybe", "2", "tru", "nope", 2, -1])
def test_c3_3_bad_boolean_400_param(api, value):
    r = api.post("/customers", data={"name": "Bad Bool", "taxable": str(value)})
    assert_error(r, 400, param="taxable")
    r = api.post("/customers", json={"name": "Bad Bool", "credit_hold": value})
    assert_error(r, 400, param="credit_hold")
    assert customer_count(api) == 0


def test_c3_3_empty_string_is_false_for_non_nullable_boolean(api):
    r = api.post("/customers", data={"name": "Empty Bool", "taxable": ""})
    assert r.status_code == 201, r.text
    assert r.json()["taxable"] is False


@pytest.mark.parametrize(
    ("field", "value"),
    [("credit_limit", "abc"), ("autopay_delay_days", "x"), ("owner", "1.5x"), ("chase", "xyz")],
)
def test_c3_3_non_numeric_for_number_field_400_param(api, field, value):
    r = api.post("/customers", data={"name": "N", field: value})
    assert_error(r, 400, param=field)


NULLABLE_VALUES = {
    "email": "billing@example.com",
    "phone": "555-1234",
    "attention_to": "Sarah",
    "address1": "1 Main St",
    "city": "Hill Valley",
    "state": "CA",
    "postal_code": "94523",
    "tax_id": "893-934835",
    "notes": "Private",
    "language": "en",
    "currency": "eur",
    "credit_limit": 500,
    "autopay_delay_days": 3,
    "owner": 7,
    "payment_terms": "NET 30",
}


@pytest.mark.parametrize("encoding", ["form", "json"])
def test_c3_4_empty_string_clears_nullable_fields(api, encoding):
    created = create_customer(api, **NULLABLE_VALUES)
    for field, value in NULLABLE_VALUES.items():
        assert created[field] == value, field
    cleared = {field: "" for field in NULLABLE_VALUES}
    if encoding == "form":
        r = api.patch(f"/customers/{created['id']}", data=cleared)
    else:
        r = api.patch(f"/customers/{created['id']}", json=cleared)
    assert r.status_code == 200, r.text
    for field in NULLABLE_VALUES:
        assert r.json()[field] is None, field
    again = api.get(f"/customers/{created['id']}").json()
    for field in NULLABLE_VALUES:
        assert again[field] is None, field


def test_c3_4_empty_country_falls_back_to_account_country(api):
    created = create_customer(api, country="FR")
    assert created["country"] == "FR"
    r = api.patch(f"/customers/{created['id']}", data={"country": ""})
    assert r.status_code == 200, r.text
    assert r.json()["country"] == "US"  # CU4 + C21 default country


# --------------------------------------------------------------------------- C4 responses


def _raw_field(text, field):
    match = re.search(rf'"{field}":\s*([^,}}\s]+)', text)
    assert match, (field, text)
    return match.group(1)


@pytest.mark.parametrize(
    ("sent", "expected_text", "expected_value"),
    [
        ("1000.00", "1000", 1000),
        ("1000", "1000", 1000),
        ("12.045", "12.045", 12.045),
        ("148.850", "148.85", 148.85),
        ("0.5", "0.5", 0.5),
        ("1E+3", "1000", 1000),
        ("0.0000001", "0.0000001", 0.0000001),
    ],
)
def test_c4_5_decimals_whole_values_as_integers(api, sent, expected_text, expected_value):
    # Form string, then the same value as a raw JSON number (no float on the way in).
    r = api.post("/customers", data={"name": "Dec", "credit_limit": sent})
    assert r.status_code == 201, r.text
    assert _raw_field(r.text, "credit_limit") == expected_text
    value = r.json()["credit_limit"]
    assert value == expected_value
    assert isinstance(value, int) is isinstance(expected_value, int)
    # The stored value round-trips the same way.
    got = api.get(f"/customers/{r.json()['id']}")
    assert _raw_field(got.text, "credit_limit") == expected_text
    raw = b'{"name":"Dec","credit_limit":' + sent.encode() + b"}"
    r = api.post("/customers", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert _raw_field(r.text, "credit_limit") == expected_text
    listed = api.get("/customers", params={"filter[id]": r.json()["id"]})
    assert _raw_field(listed.text, "credit_limit") == expected_text


def test_c4_5_credit_balance_zero_is_integer(api):
    r = api.post("/customers", json={"name": "Zero"})
    assert _raw_field(r.text, "credit_balance") == "0"


def test_c4_6_currency_lowercase_country_uppercase(api):
    r = api.post("/customers", json={"name": "Case", "currency": "USD", "country": "gb"})
    assert r.status_code == 201, r.text
    assert r.json()["currency"] == "usd"
    assert r.json()["country"] == "GB"
    r = api.patch(f"/customers/{r.json()['id']}", data={"currency": "Eur", "country": "de"})
    assert r.status_code == 200, r.text
    assert r.json()["currency"] == "eur"
    assert r.json()["country"] == "DE"
    r = api.get(f"/customers/{r.json()['id']}/balance")
    assert r.json()["currency"] == "eur"


def test_c4_1_content_type_json(api):
    r = api.post("/customers", json={"name": "CT"})
    assert r.headers["Content-Type"].startswith("application/json")
    r = api.get("/customers")
    assert r.headers["Content-Type"].startswith("application/json")
    assert isinstance(r.json(), list)


# --------------------------------------------------------------------------- C1 paths


def test_c1_4_unknown_path_404(api):
    r = api.get("/foo")
    assert_error(r, 404, message="Request was not recognized: GET /foo")
    r = api.post("/foo/bar", json={})
    assert_error(r, 404, message="Request was not recognized: POST /foo/bar")


def test_c1_4_wrong_method_405(api):
    r = api.request("PUT", "/customers")
    assert_error(r, 405, message="Method not allowed: PUT /customers")
    r = api.request("DELETE", "/customers")
    assert_error(r, 405, message="Method not allowed: DELETE /customers")
    cid = create_customer(api)["id"]
    r = api.request("PUT", f"/customers/{cid}", json={"name": "x"})
    assert_error(r, 405, message=f"Method not allowed: PUT /customers/{cid}")
    r = api.post(f"/customers/{cid}", json={"name": "x"})
    assert_error(r, 405, message=f"Method not allowed: POST /customers/{cid}")
    assert api.get(f"/customers/{cid}").json()["name"] == "Acme"


def test_c1_4_events_are_read_only_405(api):
    """events_webhooks.md §1/§7: events cannot be created, edited or deleted."""
    create_customer(api)
    event_id = api.get("/events").json()[0]["id"]
    assert_error(api.post("/events", json={}), 405, message="Method not allowed: POST /events")
    r = api.patch(f"/events/{event_id}", json={"type": "x"})
    assert_error(r, 405, message=f"Method not allowed: PATCH /events/{event_id}")
    r = api.delete(f"/events/{event_id}")
    assert_error(r, 405, message=f"Method not allowed: DELETE /events/{event_id}")
    assert api.get(f"/events/{event_id}").status_code == 200


def test_c1_3_trailing_slash_accepted(api):
    r = api.post("/customers/", json={"name": "Slash"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = api.get(f"/customers/{cid}/")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == cid
    r = api.patch(f"/customers/{cid}/", json={"city": "Paris"})
    assert r.status_code == 200, r.text
    assert r.json()["city"] == "Paris"
    r = api.get("/customers/", params={"per_page": 10})
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()] == [cid]
    # C7.6: the request path's trailing slash is stripped in Link URLs.
    self_url = dict(parse_link(r.headers["Link"]))["self"]
    assert self_url == page_url(1, 10)
    r = api.get(f"/customers/{cid}/balance/")
    assert r.status_code == 200, r.text
    r = api.delete(f"/customers/{cid}/")
    assert r.status_code == 204, r.text


@pytest.mark.parametrize("bad_id", ["abc", "12abc", "1.5", "-1", "0x10", "99999999999999999999999"])
def test_c1_5_invalid_path_id_404(api, bad_id):
    message = f"Customer was not found: {bad_id}"
    assert_error(api.get(f"/customers/{bad_id}"), 404, message=message)
    assert_error(api.patch(f"/customers/{bad_id}", json={"name": "x"}), 404, message=message)
    assert_error(api.delete(f"/customers/{bad_id}"), 404, message=message)
    assert_error(api.get(f"/customers/{bad_id}/balance"), 404, message=message)
    assert_error(api.get(f"/customers/{bad_id}/contacts"), 404, message=message)


def test_c1_5_non_numeric_contact_and_event_ids_404(api):
    cid = create_customer(api)["id"]
    r = api.get(f"/customers/{cid}/contacts/abc")
    assert_error(r, 404, message="Contact was not found: abc")
    r = api.get("/events/abc")
    assert_error(r, 404, message="Event was not found: abc")


def test_c5_missing_numeric_id_404(api):
    assert_error(api.get("/customers/424242"), 404, message="Customer was not found: 424242")


# --------------------------------------------------------------------------- C6 error object


def test_c6_3_param_present_only_when_a_field_is_responsible(api):
    body = assert_error(api.post("/customers", json={}), 400, param="name")
    assert body["message"] == "Name is missing"
    assert_error(api.post("/customers", json={"name": "X", "email": "nope"}), 400, param="email")
    assert_error(api.post("/customers", json={"name": "X", "type": "alien"}), 400, param="type")
    # No single field responsible: the key is absent, not null.
    assert_error(api.get("/customers", params={"filter[foo]": "1"}), 400)
    assert_error(api.get("/customers/424242"), 404)
    assert_error(api.get("/nowhere"), 404)
    assert_error(api.request("PUT", "/customers"), 405)


# (method, path, request kwargs, expected status: 400, or None where the spec leaves the
# outcome open and only "no 422, no 5xx, C6 shape if an error" is required, expected param).
STRICT, OPEN = 400, None
BAD_INPUTS = [
    ("POST", "/customers", {"json": {"name": ["list"]}}, STRICT, "name"),
    ("POST", "/customers", {"json": {"name": {"a": 1}}}, STRICT, "name"),
    ("POST", "/customers", {"json": {"name": "X", "email": 5}}, STRICT, "email"),
    ("POST", "/customers", {"json": {"name": "X", "email": "a@"}}, STRICT, "email"),
    ("POST", "/customers", {"json": {"name": "X", "credit_limit": "NaN"}}, STRICT, "credit_limit"),
    ("POST", "/customers", {"json": {"name": "X", "credit_limit": "1e"}}, STRICT, "credit_limit"),
    ("POST", "/customers", {"json": {"name": "X", "owner": "me"}}, STRICT, "owner"),
    (
        "POST",
        "/customers",
        {"json": {"name": "X", "autopay_delay_days": "soon"}},
        STRICT,
        "autopay_delay_days",
    ),
    ("POST", "/customers", {"json": {"name": "X", "taxes": "vat"}}, STRICT, "taxes"),
    ("POST", "/customers", {"json": {"name": "X", "taxes": ["vat"]}}, STRICT, "taxes"),
    ("POST", "/customers", {"json": {"name": "X", "disabled_payment_methods": 5}}, STRICT, None),
    ("POST", "/customers", {"json": {"name": "X", "metadata": "x"}}, STRICT, "metadata"),
    ("POST", "/customers", {"json": {"name": "X" * 300}}, STRICT, "name"),
    ("POST", "/customers", {"json": {"name": "X", "type": "alien"}}, STRICT, "type"),
    ("POST", "/customers", {"json": {"name": "X", "country": "ZZ"}}, STRICT, "country"),
    ("POST", "/customers", {"json": {"name": "X", "currency": "XYZ"}}, STRICT, "currency"),
    ("POST", "/customers", {"json": {"name": "X", "language": "english"}}, STRICT, "language"),
    (
        "POST",
        "/customers",
        {"json": {"name": "X", "parent_customer": "abc"}},
        STRICT,
        "parent_customer",
    ),
    (
        "POST",
        "/customers",
        {"json": {"name": "X", "parent_customer": 424242424}},
        STRICT,
        "parent_customer",
    ),
    ("POST", "/customers", {"content": b'"just a string"'}, OPEN, None),
    ("POST", "/customers", {"content": b"42"}, OPEN, None),
    ("POST", "/customers", {"data": {"name[]": "a", "name[x]": "b"}}, STRICT, None),
    ("GET", "/customers", {"params": {"filter[created_at]": "notadate"}}, OPEN, None),
    ("GET", "/customers", {"params": {"filter[autopay]": "maybe"}}, OPEN, None),
    ("GET", "/customers", {"params": {"filter[id]": "abc"}}, OPEN, None),
    ("GET", "/customers", {"params": {"filter[type]": "alien"}}, STRICT, None),  # C9.5
    ("GET", "/customers", {"params": {"filter": "x"}}, OPEN, None),
    ("GET", "/customers", {"params": {"sort[]": "name"}}, OPEN, None),
    ("GET", "/customers", {"params": {"page[]": "2", "per_page[x]": "1"}}, OPEN, None),
    ("GET", "/events", {"params": {"related_to": "spaceship,1"}}, STRICT, None),  # EV12
    ("GET", "/events", {"params": {"related_to": "customer,abc"}}, OPEN, None),
    ("GET", "/customers/{id}/balance", {"params": {"currency": "XYZ"}}, OPEN, None),
    ("GET", "/customers/{id}/balance", {"params": {"currency[]": "usd"}}, OPEN, None),
    ("PATCH", "/customers/{id}", {"json": {"name": ""}}, STRICT, "name"),
    ("PATCH", "/customers/{id}", {"json": {"credit_limit": "lots"}}, STRICT, "credit_limit"),
    ("POST", "/customers/{id}/contacts", {"json": {}}, STRICT, "name"),
    ("POST", "/customers/{id}/contacts", {"json": {"name": "N", "email": "x"}}, STRICT, "email"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "param"), BAD_INPUTS)
def test_c5_never_422(api, method, path, kwargs, status, param):
    """C5/C6: validation failures are 400 with the C6 shape; never FastAPI's 422 (or a 500)."""
    if "{id}" in path:
        path = path.replace("{id}", str(create_customer(api, name="Target")["id"]))
    if "content" in kwargs:
        kwargs = {**kwargs, "headers": {"Content-Type": "application/json"}}
    before = customer_count(api)
    r = api.request(method, path, **kwargs)
    assert r.status_code != 422, r.text
    assert r.status_code < 500, r.text
    if status is not None:
        assert r.status_code == status, r.text
    if r.status_code >= 400:
        body = r.json()
        assert body["type"] == "invalid_request", body
        assert set(body) <= {"type", "message", "param"}, body
        if param is not None:
            assert body.get("param") == param, body
    if status is not None:
        assert customer_count(api) == before


def test_c5_lenient_query_values_are_not_errors(api):
    create_customer(api)
    for params in ({"page": "abc"}, {"per_page": "lots"}, {"page": "-3"}, {"sort": "bogus"}):
        r = api.get("/customers", params=params)
        assert r.status_code == 200, (params, r.text)
        assert len(r.json()) == 1


# --------------------------------------------------------------------------- C7 pagination


@pytest.fixture
def forty_one(api):
    ids = [create_customer(api, name=f"Customer {n:02d}")["id"] for n in range(1, 42)]
    assert ids == sorted(ids)
    return ids


def test_c7_5_link_header_exact_example(api, forty_one):
    r = api.get("/customers", params={"page": 3, "per_page": 10})
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == "41"
    assert r.headers["Link"] == (
        f'<{BASE}/customers?page=3&per_page=10>; rel="self", '
        f'<{BASE}/customers?page=1&per_page=10>; rel="first", '
        f'<{BASE}/customers?page=2&per_page=10>; rel="previous", '
        f'<{BASE}/customers?page=4&per_page=10>; rel="next", '
        f'<{BASE}/customers?page=5&per_page=10>; rel="last"'
    )
    assert [c["id"] for c in r.json()] == forty_one[20:30]  # C7.9: id ascending
    # Query order sent by the client does not move page/per_page (C7.6).
    r2 = api.get("/customers?per_page=10&page=3")
    assert r2.headers["Link"] == r.headers["Link"]


def test_c7_5_first_and_last_pages(api, forty_one):
    r = api.get("/customers", params={"per_page": 10})
    assert [c["id"] for c in r.json()] == forty_one[:10]
    assert parse_link(r.headers["Link"]) == [
        ("self", page_url(1, 10)),
        ("first", page_url(1, 10)),
        ("next", page_url(2, 10)),
        ("last", page_url(5, 10)),
    ]
    r = api.get("/customers", params={"per_page": 10, "page": 5})
    assert [c["id"] for c in r.json()] == forty_one[40:]
    assert r.headers["X-Total-Count"] == "41"
    assert parse_link(r.headers["Link"]) == [
        ("self", page_url(5, 10)),
        ("first", page_url(1, 10)),
        ("previous", page_url(4, 10)),
        ("last", page_url(5, 10)),
    ]
    # Default per_page 100: one page, per_page left out of the links.
    r = api.get("/customers")
    assert len(r.json()) == 41
    assert parse_link(r.headers["Link"]) == [
        ("self", page_url(1)),
        ("first", page_url(1)),
        ("last", page_url(1)),
    ]


def test_c7_7_page_past_the_end(api, forty_one):
    r = api.get("/customers", params={"per_page": 10, "page": 7})
    assert r.status_code == 200, r.text
    assert r.json() == []
    assert r.headers["X-Total-Count"] == "41"
    assert parse_link(r.headers["Link"]) == [
        ("self", page_url(7, 10)),
        ("first", page_url(1, 10)),
        ("previous", page_url(6, 10)),
        ("last", page_url(5, 10)),
    ]


def test_c7_8_empty_result(api):
    r = api.get("/customers")
    assert r.status_code == 200, r.text
    assert r.json() == []
    assert r.headers["X-Total-Count"] == "0"
    assert r.headers["Link"] == (
        f'<{BASE}/customers?page=1>; rel="self", '
        f'<{BASE}/customers?page=1>; rel="first", '
        f'<{BASE}/customers?page=1>; rel="last"'
    )
    create_customer(api, name="Someone")
    r = api.get("/customers", params={"filter[name]": "Nobody", "per_page": 5, "page": 2})
    assert r.json() == []
    assert r.headers["X-Total-Count"] == "0"
    rels = [rel for rel, _ in parse_link(r.headers["Link"])]
    assert rels == ["self", "first", "previous", "last"]
    last = dict(parse_link(r.headers["Link"]))["last"]
    assert link_pairs(last) == [("filter[name]", "Nobody"), ("page", "1"), ("per_page", "5")]


def test_c7_3_per_page_clamps(api):
    ids = [create_customer(api, name=f"C{n}")["id"] for n in range(3)]
    cases = [
        ({"per_page": 0}, 3, None, 1),  # 0 means the default 100
        ({"per_page": 1000}, 3, None, 1),  # clamped to 100
        ({"per_page": 101}, 3, None, 1),
        ({"per_page": 100}, 3, None, 1),  # C7.6: per_page only in links when != 100
        ({"per_page": -5}, 1, 1, 3),  # negative means 1
        ({"per_page": 2}, 2, 2, 2),
        ({"per_page": 1, "page": 0}, 1, 1, 3),  # C7.2: page < 1 is 1
        ({"per_page": 1, "page": "abc"}, 1, 1, 3),
    ]
    for params, count, per_page, last in cases:
        r = api.get("/customers", params=params)
        assert r.status_code == 200, (params, r.text)
        assert [c["id"] for c in r.json()] == ids[:count], params
        assert r.headers["X-Total-Count"] == "3", params
        links = dict(parse_link(r.headers["Link"]))
        assert links["self"] == page_url(1, per_page), params
        assert links["last"] == page_url(last, per_page), params


def test_c7_6_query_params_kept_encoded_without_literal_commas(api):
    for _ in range(3):
        create_customer(api, name="Acme, Inc", metadata={"team": "a,b"})
    query = [
        ("page", "2"),
        ("filter[name]", "Acme, Inc"),
        ("metadata[team]", "a,b"),
        ("sort", "name desc,number asc"),
        ("per_page", "1"),
    ]
    r = api.get("/customers", params=query)
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == "3"
    header = r.headers["Link"]
    entries = parse_link(header)  # fails if a URL carried a literal comma
    assert [rel for rel, _ in entries] == ["self", "first", "previous", "next", "last"]
    kept = [
        ("filter[name]", "Acme, Inc"),
        ("metadata[team]", "a,b"),
        ("sort", "name desc,number asc"),
    ]
    expected_pages = {"self": "2", "first": "1", "previous": "1", "next": "3", "last": "3"}
    for rel, url in entries:
        assert url.startswith(f"{BASE}/customers?"), url
        assert "[" not in url and "]" not in url, url
        assert "," not in url, url
        assert "%5B" in url and "%5D" in url and "%2C" in url, url
        assert link_pairs(url) == [*kept, ("page", expected_pages[rel]), ("per_page", "1")], url


def test_c7_6_links_followed_return_the_same_filtered_set(api):
    wanted = [create_customer(api, name="Keep", metadata={"k": "v"})["id"] for _ in range(3)]
    create_customer(api, name="Drop")
    seen = []
    url = "/customers?metadata[k]=v&per_page=2"
    for _ in range(5):
        r = api.get(url)
        assert r.headers["X-Total-Count"] == "3"
        seen.extend(c["id"] for c in r.json())
        links = dict(parse_link(r.headers["Link"]))
        if "next" not in links:
            break
        url = links["next"].removeprefix(BASE)
    assert seen == wanted


def test_c20_1_link_base_from_host_not_untrusted_forwarded_headers(api):
    create_customer(api)
    r = api.get("/customers", params={"per_page": 5}, headers={"Host": "api.example.com:9000"})
    assert r.status_code == 200, r.text
    assert dict(parse_link(r.headers["Link"]))["self"] == (
        "http://api.example.com:9000/customers?page=1&per_page=5"
    )
    # TRUST_PROXY_HEADERS is off by default: X-Forwarded-* must not change the base.
    r = api.get(
        "/customers",
        params={"per_page": 5},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
    )
    assert dict(parse_link(r.headers["Link"]))["self"] == page_url(1, 5)


def test_c7_1_nested_and_event_lists_have_pagination_headers(api):
    cid = create_customer(api)["id"]
    for n in range(3):
        r = api.post(f"/customers/{cid}/contacts", json={"name": f"Contact {n}"})
        assert r.status_code == 201, r.text
    r = api.get(f"/customers/{cid}/contacts", params={"per_page": 2})
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == "3"
    path = f"/customers/{cid}/contacts"
    assert parse_link(r.headers["Link"]) == [
        ("self", page_url(1, 2, path)),
        ("first", page_url(1, 2, path)),
        ("next", page_url(2, 2, path)),
        ("last", page_url(2, 2, path)),
    ]
    r = api.get("/events", params={"per_page": 1})
    assert r.status_code == 200, r.text
    assert int(r.headers["X-Total-Count"]) >= 4
    assert dict(parse_link(r.headers["Link"]))["self"] == page_url(1, 1, "/events")


# --------------------------------------------------------------------------- C8 sorting


def test_c8_sort(api):
    created = [create_customer(api, name=n) for n in ("b", "a", "c", "a")]
    ids = [c["id"] for c in created]
    r = api.get("/customers", params={"sort": "name desc"})
    assert names(r) == ["c", "b", "a", "a"]
    # id asc is the tie-breaker (C7.9).
    assert [c["id"] for c in r.json()][2:] == [ids[1], ids[3]]
    r = api.get("/customers", params={"sort": "name asc"})
    assert names(r) == ["a", "a", "b", "c"]
    assert [c["id"] for c in r.json()][:2] == [ids[1], ids[3]]
    r = api.get("/customers", params={"sort": "name asc,number desc"})
    assert [c["id"] for c in r.json()] == [ids[3], ids[1], ids[0], ids[2]]


@pytest.mark.parametrize(
    "sort", ["name", "name sideways", "bogus desc", "credit_balance desc", "name desc extra", ""]
)
def test_c8_invalid_sort_entries_dropped(api, sort):
    ids = [create_customer(api, name=n)["id"] for n in ("b", "a", "c")]
    r = api.get("/customers", params={"sort": sort})
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()] == ids


def test_c8_invalid_entry_dropped_valid_one_kept(api):
    ids = [create_customer(api, name=n)["id"] for n in ("b", "a", "c")]
    r = api.get("/customers", params={"sort": "bogus desc,name desc"})
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()] == [ids[2], ids[0], ids[1]]


# --------------------------------------------------------------------------- C9 filtering


def test_c9_2_unknown_filter_400(api):
    r = api.get("/customers", params={"filter[foo]": "1"})
    assert_error(r, 400, message="Invalid filter parameter: foo")
    r = api.get("/customers", params={"filter[balance]": "1"})
    assert_error(r, 400, message="Invalid filter parameter: balance")
    cid = create_customer(api)["id"]
    r = api.get(f"/customers/{cid}/contacts", params={"filter[foo]": "1"})
    assert_error(r, 400, message="Invalid filter parameter: foo")
    r = api.get("/events", params={"filter[foo]": "1"})
    assert_error(r, 400, message="Invalid filter parameter: foo")


@pytest.mark.parametrize(
    "params",
    [
        [("filter[name][]", "Acme")],
        [("filter[name][]", "Acme"), ("filter[name][]", "Other")],
        [("filter[name][x]", "Acme")],
    ],
)
def test_c9_2_array_filter_value_400(api, params):
    create_customer(api)
    r = api.get("/customers", params=params)
    assert_error(r, 400, message="Invalid value for `name` filter parameter")


def test_c9_1_filters_exact_and_anded(api):
    a = create_customer(api, name="Acme", city="Paris")
    create_customer(api, name="Acme", city="Rome")
    create_customer(api, name="Acme Corp", city="Paris")
    r = api.get("/customers", params={"filter[name]": "Acme", "filter[city]": "Paris"})
    assert [c["id"] for c in r.json()] == [a["id"]]
    assert r.headers["X-Total-Count"] == "1"
    r = api.get("/customers", params={"filter[id]": a["id"]})
    assert [c["id"] for c in r.json()] == [a["id"]]


def test_c9_4_boolean_filters(api):
    held = create_customer(api, name="Held", credit_hold=True)["id"]
    free = create_customer(api, name="Free", credit_hold=False)["id"]
    for word in ("True", "true", "1", "yes"):
        r = api.get("/customers", params={"filter[credit_hold]": word})
        assert r.status_code == 200, (word, r.text)
        assert [c["id"] for c in r.json()] == [held], word
    for word in ("False", "false", "0", "no"):
        r = api.get("/customers", params={"filter[credit_hold]": word})
        assert r.status_code == 200, (word, r.text)
        assert [c["id"] for c in r.json()] == [free], word


def test_c9_4_python_client_style_autopay_filter(api):
    """customers.md Example C-2 step 7: `filter[autopay]=False`."""
    manual = create_customer(api, name="Manual")["id"]
    auto = create_customer(api, name="Auto", autopay=True)["id"]
    r = api.get("/customers", params={"filter[autopay]": "False"})
    assert [c["id"] for c in r.json()] == [manual]
    r = api.get("/customers", params={"filter[autopay]": "True"})
    assert [c["id"] for c in r.json()] == [auto]


def test_c9_7_metadata_filter(api):
    pam = create_customer(api, name="Pam's", metadata={"account_rep": "Pam", "n": 123})["id"]
    create_customer(api, name="Jan's", metadata={"account_rep": "Jan"})
    create_customer(api, name="None")
    r = api.get("/customers", params={"metadata[account_rep]": "Pam"})
    assert [c["id"] for c in r.json()] == [pam]
    assert r.headers["X-Total-Count"] == "1"
    # String compare against the stored text of a number (C11.3).
    r = api.get("/customers", params={"metadata[n]": "123"})
    assert [c["id"] for c in r.json()] == [pam]
    r = api.get("/customers", params={"metadata[account_rep]": "pam"})
    assert r.json() == []
    r = api.get("/customers", params={"metadata[missing]": "Pam"})
    assert r.json() == []
    # Keys outside ^[A-Za-z0-9_-]+$ are silently ignored.
    r = api.get("/customers", params={"metadata[bad key!]": "nothing"})
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == "3"


def test_c9_8_updated_after_and_before_are_strict(api):
    customer = create_customer(api, name="Timed")
    cid, t = customer["id"], customer["updated_at"]

    def ids(**params):
        r = api.get("/customers", params=params)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()]

    assert ids(updated_after=t) == []
    assert ids(updated_after=t - 1) == [cid]
    assert ids(updated_before=t) == []
    assert ids(updated_before=t + 1) == [cid]
    assert ids(updated_after=t - 1, updated_before=t + 1) == [cid]
    # Values <= 0 or non-numeric are ignored.
    assert ids(updated_after=0) == [cid]
    assert ids(updated_before=0) == [cid]
    assert ids(updated_before=-5) == [cid]
    assert ids(updated_after="soon") == [cid]


# --------------------------------------------------------------------------- C11 metadata


def test_c11_limits_accepted_at_the_boundary(api):
    metadata = {f"k{n}": "v" for n in range(9)}
    metadata["x" * 40] = "y" * 255
    r = api.post("/customers", json={"name": "Boundary", "metadata": metadata})
    assert r.status_code == 201, r.text
    assert r.json()["metadata"] == metadata


def test_c11_too_many_keys(api):
    metadata = {f"k{n}": "v" for n in range(11)}
    r = api.post("/customers", json={"name": "Many", "metadata": metadata})
    assert_error(
        r,
        400,
        param="metadata",
        message="There can only be up to 10 metadata values. 11 values were provided.",
    )
    cid = create_customer(api)["id"]
    r = api.patch(f"/customers/{cid}", json={"metadata": metadata})
    assert_error(r, 400, param="metadata")
    assert api.get(f"/customers/{cid}").json()["metadata"] == {}


def test_c11_key_too_long(api):
    key = "k" * 41
    r = api.post("/customers", json={"name": "Long key", "metadata": {key: "v"}})
    assert_error(
        r,
        400,
        param="metadata",
        message=f"The `{key}` metadata key exceeds the 40 character limit.",
    )


def test_c11_value_too_long(api):
    r = api.post("/customers", json={"name": "Long value", "metadata": {"note": "v" * 256}})
    assert_error(
        r,
        400,
        param="metadata",
        message="The provided value for metadata.note exceeds the 255 character limit.",
    )
    # Form encoding goes through the same rule.
    r = api.post("/customers", data={"name": "Long value", "metadata[note]": "v" * 256})
    assert_error(r, 400, param="metadata")


@pytest.mark.parametrize("value", ["x", 5, ["a", "b"], True])
def test_c11_metadata_must_be_an_object(api, value):
    r = api.post("/customers", json={"name": "Not object", "metadata": value})
    assert_error(r, 400, param="metadata", message="Metadata must be an object")
    assert customer_count(api) == 0


def test_c11_null_value_rejected(api):
    r = api.post("/customers", json={"name": "Null", "metadata": {"a": None}})
    assert_error(r, 400, param="metadata")


def test_c11_3_values_stored_as_strings(api):
    raw = (
        b'{"name":"Types","metadata":{"int":123,"dec":12.5,"yes":true,"no":false,'
        b'"text":"hi","obj":{"a":1},"list":[1,2]}}'
    )
    r = api.post("/customers", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    metadata = r.json()["metadata"]
    assert all(isinstance(v, str) for v in metadata.values()), metadata
    assert metadata["int"] == "123"
    assert metadata["dec"] == "12.5"
    assert metadata["yes"] == "1"
    assert metadata["no"] == "0"
    assert metadata["text"] == "hi"
    assert json.loads(metadata["obj"]) == {"a": 1}
    assert json.loads(metadata["list"]) == [1, 2]
    assert api.get(f"/customers/{r.json()['id']}").json()["metadata"] == metadata


def test_c11_3_numbers_stored_as_plain_decimal_text(api):
    """A JSON number in exponent form is still stored as decimal text, not `1E+3`."""
    raw = b'{"name":"Exp","metadata":{"big":1e3,"small":2.5E-2,"mid":1.5e1}}'
    r = api.post("/customers", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    metadata = r.json()["metadata"]
    expected = {"big": Decimal("1000"), "small": Decimal("0.025"), "mid": Decimal("15")}
    for key, value in expected.items():
        text = metadata[key]
        assert re.fullmatch(r"-?\d+(\.\d+)?", text), (key, text)
        assert Decimal(text) == value, (key, text)


def test_c11_4_patch_replaces_and_empty_object_clears(api):
    cid = create_customer(api, metadata={"icp_number": "1", "account_rep": "Jan"})["id"]
    r = api.patch(f"/customers/{cid}", json={"metadata": {"account_rep": "Pam"}})
    assert r.json()["metadata"] == {"account_rep": "Pam"}
    r = api.patch(f"/customers/{cid}", json={"city": "Oslo"})
    assert r.json()["metadata"] == {"account_rep": "Pam"}
    r = api.patch(f"/customers/{cid}", json={"metadata": {}})
    assert r.json()["metadata"] == {}


# --------------------------------------------------------------------------- C14 idempotency


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_c14_2_idempotency_key_only_on_post_and_patch(api, method):
    cid = create_customer(api)["id"]
    r = api.request(method, f"/customers/{cid}", headers={"Idempotency-Key": "key-123456"})
    assert_error(r, 400, param=ANY)
    assert r.json()["message"].startswith(f"Unsupported method: {method}.")
    assert api.get(f"/customers/{cid}").status_code == 200  # DELETE did not run


@pytest.mark.parametrize("key", ["abcde", "k" * 65])
def test_c14_3_idempotency_key_length(api, key):
    r = api.post("/customers", json={"name": "Len"}, headers={"Idempotency-Key": key})
    assert_error(r, 400, param=ANY)
    assert customer_count(api) == 0


@pytest.mark.parametrize("key", ["abcdef", "k" * 64])
def test_c14_3_idempotency_key_length_bounds_accepted(api, key):
    r = api.post("/customers", json={"name": "Len"}, headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text


def test_c14_4_same_key_same_body_replays(api):
    headers = {"Idempotency-Key": "create-acme-0001"}
    first = api.post("/customers", json={"name": "Once"}, headers=headers)
    assert first.status_code == 201, first.text
    second = api.post("/customers", json={"name": "Once"}, headers=headers)
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert_api_headers(second)
    assert customer_count(api) == 1
    # The Python client sends the header name in lowercase (C14.1).
    third = api.post(
        "/customers", json={"name": "Once"}, headers={"idempotency-key": "create-acme-0001"}
    )
    assert third.status_code == 201
    assert third.json() == first.json()
    assert customer_count(api) == 1


def test_c14_4_trailing_slash_is_the_same_path(api):
    """C1.3: `/customers/` is `/customers`, so the retry replays instead of mismatching."""
    headers = {"Idempotency-Key": "slash-key-0001"}
    first = api.post("/customers", json={"name": "Slash"}, headers=headers)
    assert first.status_code == 201, first.text
    second = api.post("/customers/", json={"name": "Slash"}, headers=headers)
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert customer_count(api) == 1


def test_c14_4_patch_replayed(api):
    cid = create_customer(api, name="Patch me")["id"]
    headers = {"Idempotency-Key": "patch-key-0001"}
    first = api.patch(f"/customers/{cid}", json={"city": "Oslo"}, headers=headers)
    assert first.status_code == 200, first.text
    api.patch(f"/customers/{cid}", json={"city": "Rome"})
    second = api.patch(f"/customers/{cid}", json={"city": "Oslo"}, headers=headers)
    assert second.status_code == 200
    assert second.json() == first.json()
    # Not re-executed: the later change stands.
    assert api.get(f"/customers/{cid}").json()["city"] == "Rome"


def test_c14_4_same_key_different_request_400(api):
    headers = {"Idempotency-Key": "create-acme-0002"}
    first = api.post("/customers", json={"name": "First"}, headers=headers)
    assert first.status_code == 201, first.text
    r = api.post("/customers", json={"name": "Second"}, headers=headers)
    assert_error(r, 400, param="Idempotency-Key")
    assert customer_count(api) == 1
    # Same key, different method and path.
    r = api.patch(f"/customers/{first.json()['id']}", json={"name": "First"}, headers=headers)
    assert_error(r, 400, param="Idempotency-Key")
    assert api.get(f"/customers/{first.json()['id']}").json()["name"] == "First"


def test_c14_4_error_response_is_replayed(api):
    """A stored 400 comes back even after the cause is gone: nothing is re-executed."""
    holder = create_customer(api, name="Holder", number="DUP-1")["id"]
    headers = {"Idempotency-Key": "dup-number-0001"}
    body = {"name": "Copy", "number": "DUP-1"}
    first = api.post("/customers", json=body, headers=headers)
    assert_error(first, 400, param="number")
    assert api.delete(f"/customers/{holder}").status_code == 204
    second = api.post("/customers", json=body, headers=headers)
    assert second.status_code == 400, second.text
    assert second.json() == first.json()
    assert customer_count(api) == 0
    # Without the key the same request now succeeds (C14.5).
    assert api.post("/customers", json=body).status_code == 201


def test_c14_5_no_key_no_caching(api):
    assert api.post("/customers", json={"name": "Twice"}).status_code == 201
    assert api.post("/customers", json={"name": "Twice"}).status_code == 201
    assert customer_count(api) == 2


def test_c14_4_scope_is_the_api_key(api, other_api):
    headers = {"Idempotency-Key": "shared-key-0001"}
    mine = api.post("/customers", json={"name": "Mine"}, headers=headers)
    assert mine.status_code == 201, mine.text
    theirs = other_api.post("/customers", json={"name": "Mine"}, headers=headers)
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != mine.json()["id"]
    different = other_api.post(
        "/customers", json={"name": "Other body"}, headers={"Idempotency-Key": "shared-key-0002"}
    )
    assert different.status_code == 201
    assert customer_count(api) == 1
    assert customer_count(other_api) == 2


# --------------------------------------------------------------------------- C16 DELETE


def test_c16_delete_204_then_404(api):
    cid = create_customer(api)["id"]
    r = api.delete(f"/customers/{cid}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_api_headers(r)
    message = f"Customer was not found: {cid}"
    assert_error(api.get(f"/customers/{cid}"), 404, message=message)
    assert_error(api.delete(f"/customers/{cid}"), 404, message=message)
    assert customer_count(api) == 0


def test_c16_3_delete_ignores_query_parameters(api):
    cid = create_customer(api)["id"]
    r = api.delete(f"/customers/{cid}", params={"force": "true", "foo": "bar"})
    assert r.status_code == 204, r.text


def test_c16_contact_delete_204_then_404(api):
    cid = create_customer(api)["id"]
    contact = api.post(f"/customers/{cid}/contacts", json={"name": "Nancy"}).json()
    path = f"/customers/{cid}/contacts/{contact['id']}"
    r = api.delete(path)
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_error(api.delete(path), 404, message=f"Contact was not found: {contact['id']}")


# --------------------------------------------------------------------------- 413 body limit


def test_body_over_limit_413(api):
    body = json.dumps({"name": "Huge", "notes": "x" * (1024 * 1024 + 10)}).encode()
    r = api.post("/customers", content=body, headers={"Content-Type": "application/json"})
    assert_error(r, 413)
    assert_api_headers(r)
    assert customer_count(api) == 0


def test_chunked_body_over_limit_413(api):
    chunk = b"x" * 65536
    chunks = math.ceil((1024 * 1024) / len(chunk)) + 1

    def stream():
        yield b'{"name": "Huge", "notes": "'
        for _ in range(chunks):
            yield chunk
        yield b'"}'

    r = api.post("/customers", content=stream(), headers={"Content-Type": "application/json"})
    assert_error(r, 413)
    assert customer_count(api) == 0


def test_body_under_limit_is_parsed(api):
    # Just under 1 MiB: read normally (the unknown `padding` field is ignored, C3.8).
    body = json.dumps({"name": "Big", "padding": "x" * (1024 * 1024 - 100)}).encode()
    assert len(body) < 1024 * 1024
    r = api.post("/customers", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text[:200]
