"""Regression tests for what the fuzzing of issue 7 found (tests/test_fuzz.py, and the
Schemathesis CLI run with every check, `-c all`, on SQLite and PostgreSQL).

Each failure is replayed as a plain minimal request. The server's answer is asserted exactly
(it was right in every case below); what was wrong was the published /openapi.json, or a
missing header. All are fixed; each test keeps the fix in place.

The fuzzing found no 5xx, no 2xx body that breaks its declared schema, no 422 response and no
error object off the C6 shape, on either database.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

ERROR_STATUSES = {"400", "401", "404", "429"}  # what every other operation documents


def openapi(api) -> dict[str, Any]:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def error(message: str, param: str | None = None) -> dict[str, str]:
    body = {"type": "invalid_request", "message": message}
    if param is not None:
        body["param"] = param
    return body


# -- 1. DELETE operations document none of their errors (Schemathesis ST103) -----------------

DELETES = [
    ("/customers/{customer_id}", "/customers/999999", "Customer was not found: 999999"),
    (
        "/customers/{customer_id}/contacts/{contact_id}",
        "/customers/999999/contacts/999999",
        "Customer was not found: 999999",
    ),
    ("/catalog_items/{item_id}", "/catalog_items/nope", "Item was not found: nope"),
    ("/items/{item_id}", "/items/nope", "Item was not found: nope"),
    ("/coupons/{coupon_id}", "/coupons/nope", "Coupon was not found: nope"),
    ("/tax_rates/{tax_rate_id}", "/tax_rates/nope", "Tax rate was not found: nope"),
    ("/invoices/{invoice_id}", "/invoices/999999", "Invoice was not found: 999999"),
    (
        "/invoices/{invoice_id}/line_items/{line_id}",
        "/invoices/999999/line_items/999999",
        "Invoice was not found: 999999",
    ),
    ("/transactions/{transaction_id}", "/transactions/999999", "Transaction was not found: 999999"),
    (
        "/credit_balance_adjustments/{adjustment_id}",
        "/credit_balance_adjustments/999999",
        "Credit balance adjustment was not found: 999999",
    ),
]


@pytest.mark.parametrize(("template", "path", "message"), DELETES, ids=[d[0] for d in DELETES])
def test_c5_delete_documents_its_error_statuses(api, template, path, message):
    response = api.delete(path)
    assert response.status_code == 404
    assert response.json() == error(message)
    documented = openapi(api)["paths"][template]["delete"]["responses"]
    assert set(documented) >= ERROR_STATUSES, sorted(documented)
    schema = documented["404"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorOut"}


# -- 2. 422 is documented everywhere, though C5 forbids it and the server never sends it ------


def test_c5_no_operation_documents_422(api):
    # The request FastAPI would have answered with 422 gets the C6 400/404 instead.
    assert api.get("/customers/not-a-number").json() == error(
        "Customer was not found: not-a-number"
    )
    schema = openapi(api)
    documented = [
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "422" in operation.get("responses", {})
    ]
    assert documented == []
    assert "HTTPValidationError" not in schema["components"]["schemas"]


# -- 3. 405 without an Allow header (RFC 9110 15.5.6; Schemathesis ST204) ---------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/invoices", {"GET", "POST"}),
        ("PUT", "/invoices/1", {"GET", "PATCH", "DELETE"}),
        ("POST", "/events", {"GET"}),
    ],
)
def test_c1_4_405_names_the_allowed_methods(api, method, path, allowed):
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.json() == error(f"Method not allowed: {method} {path}")
    assert "allow" in response.headers
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


# -- 4. List query parameters (C7-C10) are not documented -------------------------------------


def test_c7_list_query_parameters_are_documented(api):
    assert api.post("/customers", json={"name": "Acme"}).status_code == 201
    response = api.get("/customers?filter[name]=Acme&sort=name asc&per_page=1&page=1")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()] == ["Acme"]
    assert response.headers["X-Total-Count"] == "1"
    schema = openapi(api)
    missing = {}
    for path, item in schema["paths"].items():
        operation = item.get("get", {})
        if "X-Total-Count" not in operation.get("responses", {}).get("200", {}).get("headers", {}):
            continue
        names = {p["name"] for p in operation.get("parameters", [])}
        lacking = sorted({"page", "per_page", "sort", "filter"} - names)
        if lacking:
            missing[path] = lacking
    assert missing == {}


# -- 5. Requests valid under the published schema that the server rejects (ST202) -------------
# The request models are shared by create and update and carry no `required`, formats, enums
# or patterns, so the published schema accepts bodies that always get a 400.

REJECTED = [
    ("/customers", {}, "Name is missing", "name"),
    ("/customers/{customer}/contacts", {}, "Name is missing", "name"),
    ("/items", {}, "Name is missing", "name"),
    ("/coupons", {}, "Name is missing", "name"),
    ("/tax_rates", {}, "Name is missing", "name"),
    ("/invoices", {}, "Customer is missing", "customer"),
    ("/payments", {}, "Amount is missing", "amount"),
    ("/credit_balance_adjustments", {}, "Customer is missing", "customer"),
]
# Formats, enums, patterns and ranges the request models publish (once known gaps).
LOOSE_FORMATS = [
    ("/customers", {"name": "A", "email": "nope"}, "Email must be a valid email address", "email"),
    ("/customers", {"name": "A", "currency": "zzz"}, "Currency is invalid", "currency"),
    ("/customers", {"name": "A", "country": "ZZ"}, "Country is invalid", "country"),
    (
        "/customers",
        {"name": "A", "type": "robot"},
        "Type must be one of the allowed values",
        "type",
    ),
    ("/customers", {"name": "A", "metadata": 0}, "Metadata must be an object", "metadata"),
    ("/items", {"name": "x", "unit_cost": "abc"}, "Unit cost is invalid", "unit_cost"),
    ("/items", {"name": "x", "id": "a b!"}, "Id is invalid", "id"),
    ("/payments", {"amount": 1, "customer": 0}, "Customer is invalid", "customer"),
]
REJECTED = [*REJECTED, *LOOSE_FORMATS]


def request_schema(schema: dict[str, Any], template: str) -> jsonschema_rs.Validator:
    body = schema["paths"][template]["post"]["requestBody"]["content"]["application/json"]
    return jsonschema_rs.validator_for({**body["schema"], "components": schema["components"]})


@pytest.mark.parametrize(
    ("template", "body", "message", "param"),
    REJECTED,
    ids=[f"{r[0]}-{'-'.join(r[1]) or 'empty'}" for r in REJECTED],
)
def test_c6_schema_valid_request_that_is_refused(api, template, body, message, param):
    path = template
    if "{customer}" in template:
        customer = api.post("/customers", json={"name": "Acme"}).json()["id"]
        path = template.replace("{customer}", str(customer))
        template = template.replace("{customer}", "{customer_id}")
    response = api.post(path, json=body)
    assert response.status_code == 400
    assert response.json() == error(message, param)
    validator = request_schema(openapi(api), template)
    assert not validator.is_valid(body), f"the published schema accepts {body}"
