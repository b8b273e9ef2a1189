"""Helpers for tests/test_fuzz.py (issue 7): the schema under test, seeded data, the contract.

The request schemas in /openapi.json are loose (most fields are "any string", nothing is
required), so purely schema-driven data almost never gets past validation into the business
rules. The fuzz test therefore seeds a fresh account with one object of every kind and, for
part of the generated cases, swaps in real ids and plausible values (`plausible_*` below).
Everything else is what Schemathesis generates from the server's own schema.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st

from tally.app import create_app
from tally.config import Settings

# The API's error statuses (spec C5). Operations document 400/401/404/429 (DELETEs document
# none of them); 405 (known path, wrong method), 409 (idempotency conflict) and 413 (body too
# large) come from routing or middleware and are documented nowhere. Any of these is accepted,
# documented or not, as long as it carries the C6 error object. 422 never is (C5).
ERROR_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 413, 429})
ERROR_KEYS = frozenset({"type", "message", "param"})


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def served_schema() -> dict[str, Any]:
    """The document the server publishes at /openapi.json, built by the same code.

    Building it needs no database; `test_fuzz_schema_is_the_served_schema` proves it equals
    what the real server returns.
    """
    settings = Settings(database_url="sqlite+aiosqlite://", test_mode=True)
    app = create_app(settings, check_migrations=False)
    return json.loads(json.dumps(app.openapi()))


# C7-C10 query parameters. Lists now declare them in /openapi.json (http/docs.py); retrieves
# read `expand`/`include` without declaring them. The fuzz test adds whatever an operation
# does not declare to its copy of the schema, so Schemathesis sends them too.
LIST_PARAMETERS: list[dict[str, Any]] = [
    {"name": "page", "in": "query", "schema": {"type": "integer"}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer"}},
    {"name": "sort", "in": "query", "schema": {"type": "string"}},
    {"name": "updated_after", "in": "query", "schema": {"type": "integer"}},
    {
        "name": "filter",
        "in": "query",
        "style": "deepObject",
        "explode": True,
        "schema": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    {
        "name": "metadata",
        "in": "query",
        "style": "deepObject",
        "explode": True,
        "schema": {"type": "object", "additionalProperties": {"type": "string"}},
    },
]
READ_PARAMETERS: list[dict[str, Any]] = [
    {"name": "expand", "in": "query", "schema": {"type": "string"}},
    {"name": "include", "in": "query", "schema": {"type": "string"}},
]


def is_list_operation(operation: dict[str, Any]) -> bool:
    ok = operation.get("responses", {}).get("200", {})
    return "X-Total-Count" in ok.get("headers", {})


def with_query_parameters(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of `raw` whose GET operations declare the query parameters the server reads."""
    schema = copy.deepcopy(raw)
    for item in schema["paths"].values():
        operation = item.get("get")
        if operation is None:
            continue
        declared = {p["name"] for p in operation.get("parameters", [])}
        extra = READ_PARAMETERS + (LIST_PARAMETERS if is_list_operation(operation) else [])
        operation["parameters"] = operation.get("parameters", []) + [
            copy.deepcopy(p) for p in extra if p["name"] not in declared
        ]
    return schema


def body_properties(raw: dict[str, Any]) -> dict[tuple[str, str], frozenset[str]]:
    """(METHOD, path) -> the property names of the operation's JSON request body."""
    components = raw.get("components", {}).get("schemas", {})
    result = {}
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema", {})
            ref = body.get("$ref", "")
            if ref:
                body = components.get(ref.rsplit("/", 1)[-1], {})
            result[(method.upper(), path)] = frozenset(body.get("properties", {}))
    return result


def error_problems(status: int, body: bytes) -> list[str]:
    """Why a non-2xx response breaks the Invoiced error contract (C5, C6); empty when it holds."""
    problems = []
    if status == 422:
        problems.append("422 is never returned (C5): validation failures are 400")
    elif status not in ERROR_STATUSES:
        problems.append(f"unexpected status {status}")
    try:
        payload = json.loads(body)
    except ValueError:
        return [*problems, f"error body is not JSON: {body[:200]!r}"]
    if not isinstance(payload, dict):
        return [*problems, f"error body is not an object: {payload!r}"]
    extra = set(payload) - ERROR_KEYS
    if extra:
        problems.append(f"error object has extra keys {sorted(extra)}")
    expected_type = "rate_limit_error" if status == 429 else "invalid_request"
    if payload.get("type") != expected_type:
        problems.append(f"type is {payload.get('type')!r}, expected {expected_type!r} (C6.1)")
    message = payload.get("message")
    if not isinstance(message, str) or not message.strip():
        problems.append(f"message is not a sentence: {message!r} (C6.2)")
    if "param" in payload and not isinstance(payload["param"], str):
        problems.append(f"param must be a field name or absent, got {payload['param']!r} (C6.3)")
    return problems


@dataclass
class Seeded:
    """A fresh account holding one object of every kind, so fuzzed ids can hit real rows."""

    key: str
    ids: dict[str, list[Any]] = field(default_factory=dict)


def _created(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 201, (path, response.status_code, response.text)
    return response.json()


def seed(base_url: str, key: str) -> Seeded:
    """One object of each resource under `key`'s account, created through the API."""
    with httpx.Client(base_url=base_url, auth=(key, ""), timeout=30) as client:
        customer = _created(client, "/customers", {"name": "Fuzz Co", "email": "ap@example.com"})
        contact = _created(client, f"/customers/{customer['id']}/contacts", {"name": "Ann"})
        item = _created(client, "/items", {"id": "widget", "name": "Widget", "unit_cost": 10})
        coupon = _created(
            client, "/coupons", {"id": "tenoff", "name": "Ten off", "value": 10, "is_percent": True}
        )
        tax = _created(
            client, "/tax_rates", {"id": "vat", "name": "VAT", "value": 20, "is_percent": True}
        )
        invoice = _created(
            client,
            "/invoices",
            {
                "customer": customer["id"],
                "items": [
                    {"catalog_item": "widget", "quantity": 3, "taxes": ["vat"]},
                    {"name": "Fee", "unit_cost": 5},
                ],
                "discounts": ["tenoff"],
                "draft": False,
            },
        )
        line = client.get(f"/invoices/{invoice['id']}/line_items").json()[0]
        transaction = _created(
            client,
            "/transactions",
            {"invoice": invoice["id"], "amount": 7, "method": "check", "type": "payment"},
        )
        payment = _created(
            client,
            "/payments",
            {
                "customer": customer["id"],
                "amount": 4,
                "method": "cash",
                "applied_to": [{"type": "invoice", "invoice": invoice["id"], "amount": 1}],
            },
        )
        adjustment = _created(
            client,
            "/credit_balance_adjustments",
            {"customer": customer["id"], "amount": 3, "currency": "usd"},
        )
        event = client.get("/events").json()[0]
    return Seeded(
        key,
        {
            "customer_id": [customer["id"]],
            "contact_id": [contact["id"]],
            "item_id": [item["id"]],
            "coupon_id": [coupon["id"]],
            "tax_rate_id": [tax["id"]],
            "invoice_id": [invoice["id"]],
            "line_id": [line["id"]],
            "transaction_id": [transaction["id"]],
            "payment_id": [payment["id"]],
            "adjustment_id": [adjustment["id"]],
            "event_id": [event["id"]],
        },
    )


DAY = 86_400
T = 1_700_000_000


def plausible_body(seeded: Seeded) -> dict[str, list[Any]]:
    """Values that get past validation, by body field name (any resource)."""
    ids = seeded.ids
    customer, invoice = ids["customer_id"][0], ids["invoice_id"][0]
    return {
        "customer": [customer, {"id": customer}, {"name": "Inline Co"}],
        "invoice": [invoice],
        "parent_transaction": ids["transaction_id"],
        "catalog_item": ["widget"],
        "id": ["fz-1", "widget", "tenoff", "vat"],
        "name": ["Fuzz", "Ünïcode ☃"],
        "currency": ["usd", "eur", "jpy", "USD"],
        "country": ["US", "DE"],
        "language": ["en", "fr"],
        "email": ["billing@example.com"],
        "type": ["company", "person", "payment", "charge", "refund", "adjustment", "product"],
        "method": ["check", "cash", "ach", "credit_card", "wire_transfer", "other", "balance"],
        "status": ["succeeded", "pending", "failed"],
        "amount": [1, "2.50", 0, -1, 0.1, "1000000"],
        "value": [10, "2.5", 100],
        "quantity": [1, 2.5, 0, -1],
        "unit_cost": [10, "0.01", -5, "1e3"],
        "is_percent": [True, False],
        "date": [T, T + 40 * DAY],
        "due_date": [T + 30 * DAY],
        "payment_terms": ["NET 30", "AutoPay", "Due on receipt"],
        "draft": [True, False],
        "closed": [True, False],
        "sent": [True],
        "metadata": [{"po": "42"}, {}],
        "items": [
            [{"name": "Thing", "quantity": 2, "unit_cost": "9.99"}],
            [{"catalog_item": "widget", "quantity": 1, "taxes": ["vat"], "discounts": ["tenoff"]}],
        ],
        "taxes": [["vat"], [{"tax_rate": "vat"}], [{"amount": 1}]],
        "discounts": [["tenoff"], [{"coupon": "tenoff"}], [{"amount": 1}]],
        "applied_to": [
            [{"type": "invoice", "invoice": invoice, "amount": 1}],
            [{"type": "credit", "amount": 1}],
            [{"type": "applied_credit", "invoice": invoice, "amount": 1}],
            [{"type": "convenience_fee", "amount": 1}],
        ],
    }


def plausible_query(seeded: Seeded) -> dict[str, list[Any]]:
    ids = seeded.ids
    customer = str(ids["customer_id"][0])
    return {
        "page": [1, 2, 0, -1, 2**40],
        "per_page": [1, 100, 101, 0],
        "sort": ["id desc", "date asc,number desc", "name asc", "amount desc", "nope up"],
        "updated_after": [T, 0, 2**40],
        "filter": [
            {"customer": customer},
            {"id": customer},
            {"currency": "USD"},
            {"status": "paid"},
            {"created_at": str(T)},
            {"value": "10"},
            {"is_percent": "1"},
            {"type": "payment"},
            {"name": "Fuzz Co"},
            {"nope": "1"},
        ],
        "metadata": [{"po": "42"}, {"bad key!": "x"}],
        "expand": ["customer", "customer,invoice", "nope"],
        "include": ["applied_to", "nope"],
    }


def overlay(
    value: dict[str, Any], fields: frozenset[str] | set[str], choices: dict[str, list[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """`value` with some of `fields` set to plausible values (added when absent)."""
    keys = sorted(name for name in fields if choices.get(name))
    if not keys:
        return st.just(value)
    picks = st.fixed_dictionaries(
        {name: st.one_of(st.just(KEEP), st.sampled_from(choices[name])) for name in keys}
    )
    return picks.map(lambda chosen: {**value, **{k: v for k, v in chosen.items() if v is not KEEP}})


KEEP = object()
