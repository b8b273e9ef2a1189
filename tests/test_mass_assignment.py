"""Mass assignment (README C3.9, C3.8; issue 7 deliverable 3).

Read-only fields sent on create or update are never stored. Two behaviours, per resource file:

* the fields a resource lists as "Rejected if sent" answer 400, param = the field, exact message
  `Mass assignment of <field> on <Object> is not allowed`, and nothing is written (no object, no
  change, no event): customers.md §2 (`credit_balance`, `statement_pdf_url`, `sign_up_url`,
  `created_at`, `updated_at`) and invoices.md §2 (`subtotal`, `total`, `balance`, `paid`,
  `status`, `viewed`, `amount_paid`, `amount_credited`, `attempt_count`, `date_paid`,
  `created_at`, `updated_at`);
* every other read-only field (`—`/`ro` in the field tables: `id`, `object`, URLs, line
  `amount`, payment `balance`/`voided`/`charge`..., transaction `payment`/`pdf_url`...,
  timestamps of the resources without a rejected list) is silently ignored: the request
  succeeds and the object equals the one the same request without that field produces (the
  "control"), with the computed value, in the response and on a later GET. Create-only fields
  sent to PATCH are ignored too, and account ids are never accepted from a body.

Every case is sent as JSON and form-encoded (C3.1, C3.2). Resources covered: customers,
contacts, items, coupons, tax rates, invoices and their line items sub-resource, transactions,
payments and credit balance adjustments.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from tests.test_invoices import assert_error, created
from tests.test_transactions import exact, total_count

D = Decimal
DAY = 86_400
HOSTILE_ID = 987_654_321
EVIL = "https://evil.example/steal"
ENCODINGS = ("json", "form")
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{48}")
# Objects whose create/update record events about themselves (events_webhooks.md §4).
EVENTFUL = {"customer", "invoice", "transaction", "payment", "credit_balance_adjustment"}
# Keys a body may use to name an account (C3.9 "Account ids are never accepted from a body").
ACCOUNT_KEYS = ("account", "account_id", "tenant", "tenant_id")


class Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


ABSENT = Sentinel("ABSENT")  # not part of the representation at all
NOW = Sentinel("NOW")  # a server timestamp of this test, never the one sent
FRESH = Sentinel("FRESH")  # a server-assigned id, never the one sent


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def form(body: dict[str, Any]) -> dict[str, str]:
    """PHP bracket notation, as curl -d sends it (C3.2); booleans as 1/0, null as ""."""
    out: dict[str, str] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                walk(inner, f"{key}[{name}]" if key else str(name))
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{key}[{index}]")
        elif value is True or value is False:
            out[key] = "1" if value else "0"
        elif value is None:
            out[key] = ""
        else:
            out[key] = str(value)

    walk(body, "")
    return out


def send(api, method: str, path: str, body: dict[str, Any], encoding: str, params=None):
    if encoding == "form":
        return api.request(method, path, data=form(body), params=params)
    return api.request(method, path, json=body, params=params)


def normalized(value: Any) -> Any:
    """What two otherwise identical requests must agree on: everything except the ids, numbers
    and timestamps the server assigns per object, and the random client ids inside URLs."""
    if isinstance(value, dict):
        return {
            key: normalized(inner)
            for key, inner in value.items()
            if key not in {"id", "number", "created_at", "updated_at"}
        }
    if isinstance(value, list):
        return [normalized(inner) for inner in value]
    if isinstance(value, str):
        return CLIENT_ID.sub("<client_id>", value)
    return value


def without_updated_at(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_updated_at(v) for k, v in value.items() if k != "updated_at"}
    if isinstance(value, list):
        return [without_updated_at(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# The account under test and the objects the resources hang off
# ---------------------------------------------------------------------------------------------


@dataclass
class Ctx:
    api: Any
    other: Any
    started: int
    date: int
    customer: int = 0
    customer2: int = 0
    foreign_customer: int = 0
    invoice: int = 0  # total 100.00, issued: transactions and payments pay 10.00 of it
    invoice2: int = 0  # another invoice of `customer`
    lines_invoice: int = 0  # total 10.00: the line items sub-resource adds to it
    payment: int = 0  # an unapplied payment (no money effect)

    def pattern(self, kind: str, suffix: str = "") -> re.Pattern[str]:
        """README C18 client-facing URLs of this account."""
        ident = re.escape(self.api.account.identifier)
        return re.compile(
            rf"http://localhost:8000/portal/{kind}/{ident}/[A-Za-z0-9_-]{{48}}{re.escape(suffix)}"
        )


@pytest.fixture
def ctx(api, other_api) -> Ctx:
    now = int(time.time())
    c = Ctx(api=api, other=other_api, started=now, date=now - DAY)
    c.customer = created(api.post("/customers", json={"name": "Acme"}))["id"]
    c.customer2 = created(api.post("/customers", json={"name": "Globex"}))["id"]
    c.foreign_customer = created(other_api.post("/customers", json={"name": "Foreign"}))["id"]
    line = {"name": "Widget", "quantity": 2, "unit_cost": 50}
    c.invoice = created(
        api.post("/invoices", json={"customer": c.customer, "date": c.date, "items": [line]})
    )["id"]
    c.invoice2 = created(
        api.post("/invoices", json={"customer": c.customer, "date": c.date, "items": [line]})
    )["id"]
    c.lines_invoice = created(
        api.post(
            "/invoices",
            json={"customer": c.customer, "items": [{"name": "Base", "unit_cost": 10}]},
        )
    )["id"]
    c.payment = created(
        api.post("/payments", json={"customer": c.customer, "amount": 5, "method": "check"})
    )["id"]
    return c


# ---------------------------------------------------------------------------------------------
# Resources: where to create, a valid body, a benign PATCH, and the read-only fields
# ---------------------------------------------------------------------------------------------

Value = Any  # a literal, or a callable of Ctx
Case = tuple[str, Value, Value]  # (field, hostile value sent, expected value in the response)


@dataclass
class Resource:
    name: str
    object_name: str
    collection: Callable[[Ctx], str]
    body: Callable[[Ctx], dict[str, Any]]
    benign: dict[str, Any]  # a PATCH that really changes something, merged into the result
    ignored_create: list[Case]
    ignored_patch: list[Case]
    rejected: tuple[str, ...] = ()
    params: dict[str, str] | None = None
    top_level: bool = True  # listed by GET <collection> of the other account too
    effect: Callable[[Ctx, int], None] | None = None  # money effect after n creates

    def path(self, ctx: Ctx, obj: dict[str, Any]) -> str:
        return f"{self.collection(ctx)}/{obj['id']}"


def resolve(value: Value, ctx: Ctx) -> Any:
    return value(ctx) if callable(value) else value


STAMPS: list[Case] = [("created_at", 1, NOW), ("updated_at", 2, NOW)]


def common(object_type: str, object_other: str) -> list[Case]:
    """`id`, `object` and the timestamps: read-only on every resource with integer ids."""
    return [("id", HOSTILE_ID, FRESH), ("object", object_other, object_type), *STAMPS]


def invoice_balance(expected: Decimal) -> Callable[[Ctx, int], None]:
    def check(ctx: Ctx, n: int) -> None:
        body = exact(ctx.api.get(f"/invoices/{ctx.invoice}"))
        assert body["balance"] == expected - 10 * n, body

    return check


def lines_total(ctx: Ctx, n: int) -> None:
    """R16: the sub-resource recalculates the invoice from the computed line amounts."""
    body = exact(ctx.api.get(f"/invoices/{ctx.lines_invoice}"))
    assert [line["amount"] for line in body["items"]] == [10] + [D("7.5")] * n, body
    assert body["total"] == 10 + D("7.5") * n, body


def credit_balance(ctx: Ctx, n: int) -> None:
    body = exact(ctx.api.get(f"/customers/{ctx.customer}"))
    assert body["credit_balance"] == 5 * n, body


def receipt(ctx: Ctx) -> re.Pattern[str]:
    return ctx.pattern("payments", "/pdf")


CUSTOMER_REJECTED = (
    "credit_balance",
    "statement_pdf_url",
    "sign_up_url",
    "created_at",
    "updated_at",
)
INVOICE_REJECTED = (
    "subtotal",
    "total",
    "balance",
    "paid",
    "status",
    "viewed",
    "amount_paid",
    "amount_credited",
    "attempt_count",
    "date_paid",
    "created_at",
    "updated_at",
)
# A hostile, well-typed value for each rejected field.
REJECTED_VALUES = {
    "credit_balance": 1_000_000,
    "statement_pdf_url": EVIL,
    "sign_up_url": EVIL,
    "created_at": 1,
    "updated_at": 2,
    "subtotal": 0,
    "total": 0,
    "balance": 0,
    "paid": True,
    "status": "paid",
    "viewed": True,
    "amount_paid": 100,
    "amount_credited": 100,
    "attempt_count": 7,
    "date_paid": 1,
}

INVOICE_URLS: list[Case] = [
    ("url", EVIL, lambda c: c.pattern("invoices")),
    ("pdf_url", EVIL + ".pdf", lambda c: c.pattern("invoices", "/pdf")),
    ("payment_url", EVIL + "/pay", lambda c: c.pattern("invoices", "/payment")),
    ("csv_url", EVIL + ".csv", lambda c: c.pattern("invoices", "/csv")),
]
INVOICE_IGNORED: list[Case] = [
    ("id", HOSTILE_ID, FRESH),
    ("object", "customer", "invoice"),
    *INVOICE_URLS,
    ("next_payment_attempt", 1_900_000_000, None),
    ("subscription", 42, None),
    ("payment_plan", 42, None),
    ("payment_source", {"id": 42, "object": "card"}, None),
    ("next_chase_on", 1_900_000_000, None),
    # Not part of the invoice representation; voiding is POST /invoices/{id}/void only (§10).
    ("voided", True, ABSENT),
    ("date_voided", 1_700_000_000, ABSENT),
    # Line items inside the invoice body (invoices.md §3: `amount` is computed, R1).
    ("items[].amount", 999, [100]),
    ("items[].object", "discount", ["line_item"]),
    ("items[].created_at", 1, [NOW]),
    ("items[].plan", "gold", [ABSENT]),
]

RESOURCES = [
    Resource(
        name="customers",
        object_name="Customer",
        collection=lambda c: "/customers",
        body=lambda c: {
            "name": "Hostile Co",
            "email": "ap@hostile.example",
            "payment_terms": "NET 30",
        },
        benign={"phone": "555-0100"},
        rejected=CUSTOMER_REJECTED,
        ignored_create=[
            ("id", HOSTILE_ID, FRESH),
            ("object", "invoice", "customer"),
            ("payment_source", {"id": 42, "object": "card", "brand": "Visa"}, None),
        ],
        ignored_patch=[
            ("id", HOSTILE_ID, FRESH),
            ("object", "invoice", "customer"),
            ("payment_source", {"id": 42, "object": "card", "brand": "Visa"}, None),
        ],
    ),
    Resource(
        name="contacts",
        object_name="Contact",
        collection=lambda c: f"/customers/{c.customer}/contacts",
        body=lambda c: {"name": "Nancy Talty", "email": "nancy@example.com"},
        benign={"title": "AP clerk"},
        top_level=False,
        ignored_create=[
            *common("contact", "customer"),
            # customers.md §6: `customer` comes from the path.
            ("customer", lambda c: c.customer2, lambda c: c.customer),
        ],
        ignored_patch=[
            *common("contact", "customer"),
            ("customer", lambda c: c.customer2, lambda c: c.customer),
        ],
    ),
    Resource(
        name="items",
        object_name="Item",
        collection=lambda c: "/items",
        body=lambda c: {"name": "Widget", "unit_cost": 50, "description": "A widget"},
        benign={"description": "Changed"},
        # `id` is user-chosen on create (items.md IT1): only create-only on PATCH.
        ignored_create=[("object", "coupon", "item"), *STAMPS],
        ignored_patch=[
            ("id", "hijacked-id", FRESH),
            ("object", "coupon", "item"),
            *STAMPS,
            # IT5: create-only, silently ignored on PATCH.
            ("unit_cost", 1, 50),
            ("currency", "eur", "usd"),
            ("taxable", False, True),
            ("discountable", False, True),
        ],
    ),
    Resource(
        name="coupons",
        object_name="Coupon",
        collection=lambda c: "/coupons",
        body=lambda c: {"name": "Spring", "value": 20},
        benign={"name": "Spring Sale"},
        ignored_create=[("object", "tax_rate", "coupon"), *STAMPS],
        ignored_patch=[
            ("id", "hijacked-id", FRESH),
            ("object", "tax_rate", "coupon"),
            *STAMPS,
            # CT6: create-only.
            ("value", 99, 20),
            ("is_percent", False, True),
            ("currency", "eur", None),
        ],
    ),
    Resource(
        name="tax_rates",
        object_name="Tax Rate",
        collection=lambda c: "/tax_rates",
        body=lambda c: {"name": "VAT", "value": 5},
        benign={"name": "VAT 5%"},
        ignored_create=[("object", "coupon", "tax_rate"), *STAMPS],
        ignored_patch=[
            ("id", "hijacked-id", FRESH),
            ("object", "coupon", "tax_rate"),
            *STAMPS,
            ("value", 99, 5),
            ("is_percent", False, True),
            ("inclusive", True, False),
        ],
    ),
    Resource(
        name="invoices",
        object_name="Invoice",
        collection=lambda c: "/invoices",
        body=lambda c: {
            "customer": c.customer,
            "date": c.date,
            "payment_terms": "NET 30",
            "items": [{"name": "Widget", "quantity": 2, "unit_cost": 50}],
        },
        benign={"notes": "patched"},
        rejected=INVOICE_REJECTED,
        ignored_create=INVOICE_IGNORED,
        ignored_patch=INVOICE_IGNORED,
    ),
    Resource(
        name="line_items",
        object_name="Line Item",
        collection=lambda c: f"/invoices/{c.lines_invoice}/line_items",
        body=lambda c: {"name": "Bolt", "quantity": 3, "unit_cost": 2.5},
        benign={"name": "Bolts"},
        top_level=False,
        effect=lines_total,
        ignored_create=[
            *common("line_item", "invoice"),
            ("amount", 999, D("7.5")),
            # Present only on plan/subscription lines (invoices.md §3).
            ("plan", "gold", ABSENT),
            ("subscription", 42, ABSENT),
            ("period_start", 1, ABSENT),
            ("prorated", True, ABSENT),
        ],
        ignored_patch=[
            *common("line_item", "invoice"),
            ("amount", 999, D("7.5")),
            ("plan", "gold", ABSENT),
            ("subscription", 42, ABSENT),
            ("catalog_item", "no-such-item", None),  # C only (§3): ignored on PATCH
        ],
    ),
    Resource(
        name="transactions",
        object_name="Transaction",
        collection=lambda c: "/transactions",
        body=lambda c: {
            "invoice": c.invoice,
            "amount": 10,
            "method": "check",
            "gateway_id": "1450",
            "date": c.date,
        },
        benign={"notes": "patched"},
        effect=invoice_balance(D(100)),
        ignored_create=[
            *common("transaction", "payment"),
            # A2: `payment` is set only by Payments; a legacy transaction naming one would
            # become uneditable (TX10) and take the payment's receipt (TX13).
            ("payment", lambda c: c.payment, None),
            ("pdf_url", EVIL, receipt),
            ("payment_source", {"id": 42, "object": "card"}, None),
        ],
        ignored_patch=[
            *common("transaction", "payment"),
            ("payment", lambda c: c.payment, None),
            ("pdf_url", EVIL, receipt),
            ("payment_source", {"id": 42, "object": "card"}, None),
            # TX8: create-only.
            ("type", "refund", "payment"),
            ("currency", "eur", "usd"),
            ("invoice", lambda c: c.invoice2, lambda c: c.invoice),
        ],
    ),
    Resource(
        name="payments",
        object_name="Payment",
        collection=lambda c: "/payments",
        params={"include": "applied_to"},
        body=lambda c: {
            "customer": c.customer,
            "amount": 10,
            "method": "check",
            "reference": "1450",
            "date": c.date,
            "applied_to": [{"type": "invoice", "invoice": c.invoice, "amount": 10}],
        },
        benign={"notes": "patched"},
        effect=invoice_balance(D(100)),
        ignored_create=[
            *common("payment", "transaction"),
            ("balance", 10, 0),  # PY8: amount - applied
            ("voided", True, False),  # voiding is DELETE only (PY16)
            ("matched", True, None),
            ("charge", {"id": 42, "amount": 10, "status": "succeeded"}, None),
            ("pdf_url", EVIL, receipt),
            ("surcharge_percentage", 3, 0),
        ],
        ignored_patch=[
            *common("payment", "transaction"),
            ("balance", 10, 0),
            ("voided", True, False),
            ("matched", True, None),
            ("charge", {"id": 42, "amount": 10, "status": "succeeded"}, None),
            ("pdf_url", EVIL, receipt),
            ("surcharge_percentage", 3, 0),
        ],
    ),
    Resource(
        name="credit_balance_adjustments",
        object_name="Credit Balance Adjustment",
        collection=lambda c: "/credit_balance_adjustments",
        body=lambda c: {"customer": c.customer, "amount": 5, "date": c.date, "notes": "outage"},
        benign={"notes": "patched"},
        effect=credit_balance,
        ignored_create=common("credit_balance_adjustment", "transaction"),
        ignored_patch=[
            *common("credit_balance_adjustment", "transaction"),
            # credit_balances.md §2: create-only.
            ("customer", lambda c: c.customer2, lambda c: c.customer),
            ("currency", "eur", "usd"),
        ],
    ),
]
BY_NAME = {r.name: r for r in RESOURCES}


def set_field(body: dict[str, Any], name: str, value: Any, before: dict | None = None) -> dict:
    """`items[].x` sets x on every line (on PATCH, lines are named by id: invoices.md E5)."""
    body = dict(body)
    if name.startswith("items[]."):
        sub = name.removeprefix("items[].")
        if before is None:
            body["items"] = [{**line, sub: value} for line in body["items"]]
        else:
            body["items"] = [{"id": line["id"], sub: value} for line in before["items"]]
    else:
        body[name] = value
    return body


def value_at(body: dict[str, Any], name: str) -> Any:
    if name.startswith("items[]."):
        sub = name.removeprefix("items[].")
        return [line.get(sub, ABSENT) for line in body["items"]]
    return body.get(name, ABSENT)


def check_value(ctx: Ctx, got: Any, hostile: Any, expected: Any) -> None:
    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), (got, expected)
        for one, want in zip(got, expected, strict=True):
            check_value(ctx, one, hostile, want)
        return
    if expected is ABSENT:
        assert got is ABSENT, got
        return
    assert got != hostile, got
    if expected is NOW:
        assert type(got) is int and ctx.started - 5 <= got <= int(time.time()) + 5, got
    elif expected is FRESH:
        assert type(got) in (int, str) and got, got
    elif isinstance(expected, re.Pattern):
        assert isinstance(got, str) and expected.fullmatch(got), got
    else:
        assert got == expected and type(got) is type(expected), (got, expected)


def assert_no_event_carries(ctx: Ctx, obj: dict[str, Any], name: str, hostile: Any) -> None:
    """EV2/EV5: an event embeds the object as stored, so none of this object's events (nor
    their `previous` values) may show the value that was sent."""
    if name.startswith("items[]."):
        return
    r = ctx.api.get("/events", params={"per_page": 100})
    assert r.status_code == 200, r.text
    seen = 0
    for event in exact(r):
        subject = event["data"]["object"]
        if subject.get("object") != obj["object"] or subject.get("id") != obj["id"]:
            continue
        seen += 1
        for shown in (subject, event["data"].get("previous") or {}):
            assert shown.get(name, ABSENT) != hostile, event
    if obj["object"] in EVENTFUL:
        assert seen, f"no event of {obj['object']} {obj['id']}"


def make(ctx: Ctx, res: Resource, body: dict[str, Any], encoding: str = "json") -> dict:
    r = send(ctx.api, "POST", res.collection(ctx), body, encoding, res.params)
    assert r.status_code == 201, (body, r.text)
    return exact(r)


def fetch(ctx: Ctx, res: Resource, obj: dict[str, Any], api=None) -> Any:
    return (api or ctx.api).get(res.path(ctx, obj), params=res.params)


def retrieved(ctx: Ctx, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    r = fetch(ctx, res, obj)
    assert r.status_code == 200, r.text
    return exact(r)


def counts(ctx: Ctx, res: Resource) -> tuple[int, int]:
    return total_count(ctx.api, res.collection(ctx)), total_count(ctx.api, "/events")


def cases_of(kind: str) -> list[Any]:
    out = []
    for res in RESOURCES:
        for case in getattr(res, kind):
            for encoding in ENCODINGS:
                out.append(
                    pytest.param(res.name, case, encoding, id=f"{res.name}-{case[0]}-{encoding}")
                )
    return out


# ---------------------------------------------------------------------------------------------
# C3.9: rejected fields -> 400, exact message, nothing written
# ---------------------------------------------------------------------------------------------

REJECTED = [
    pytest.param(res.name, name, variant, id=f"{res.name}-{name}-{variant}")
    for res in RESOURCES
    for name in res.rejected
    for variant in ("json", "form", "json-null")
]


def rejected_body(name: str, variant: str) -> tuple[dict[str, Any], str]:
    if variant == "json-null":
        return {name: None}, "json"
    return {name: REJECTED_VALUES[name]}, variant


@pytest.mark.parametrize(("resource", "name", "variant"), REJECTED)
def test_c3_9_rejected_field_on_create_is_a_400_and_stores_nothing(ctx, resource, name, variant):
    """customers.md §2 / invoices.md §2 "Rejected if sent": 400, param = field, exact message;
    no object is created and no event recorded (EV1)."""
    res = BY_NAME[resource]
    before = counts(ctx, res)
    extra, encoding = rejected_body(name, variant)
    r = send(ctx.api, "POST", res.collection(ctx), {**res.body(ctx), **extra}, encoding)
    assert_error(r, 400, name, f"Mass assignment of {name} on {res.object_name} is not allowed")
    assert counts(ctx, res) == before


@pytest.mark.parametrize(("resource", "name", "variant"), REJECTED)
def test_c3_9_rejected_field_on_patch_is_a_400_and_changes_nothing(ctx, resource, name, variant):
    """The same on PATCH, even alongside a valid change: the object and the event log stay
    exactly as they were."""
    res = BY_NAME[resource]
    obj = make(ctx, res, res.body(ctx))
    before = retrieved(ctx, res, obj)
    events_before = total_count(ctx.api, "/events")
    extra, encoding = rejected_body(name, variant)
    r = send(ctx.api, "PATCH", res.path(ctx, obj), {**res.benign, **extra}, encoding)
    assert_error(r, 400, name, f"Mass assignment of {name} on {res.object_name} is not allowed")
    assert retrieved(ctx, res, obj) == before
    assert total_count(ctx.api, "/events") == events_before


def test_c3_9_every_rejected_field_of_a_resource_file_is_covered():
    """The rejected lists above are exactly the spec's (customers.md §2, invoices.md §2); every
    other resource has none."""
    assert {r.name: set(r.rejected) for r in RESOURCES if r.rejected} == {
        "customers": {
            "credit_balance",
            "statement_pdf_url",
            "sign_up_url",
            "created_at",
            "updated_at",
        },
        "invoices": {
            "subtotal",
            "total",
            "balance",
            "paid",
            "status",
            "viewed",
            "amount_paid",
            "amount_credited",
            "attempt_count",
            "date_paid",
            "created_at",
            "updated_at",
        },
    }
    assert set(REJECTED_VALUES) == set(CUSTOMER_REJECTED) | set(INVOICE_REJECTED)


# ---------------------------------------------------------------------------------------------
# C3.9: every other read-only field is ignored: the computed value, never the sent one
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("resource", "case", "encoding"), cases_of("ignored_create"))
def test_c3_9_read_only_field_on_create_is_ignored(ctx, resource, case, encoding):
    """201, and the object is the one the same request without the field makes (control):
    the computed value in the response and on GET, and the usual money effect."""
    res = BY_NAME[resource]
    name, hostile, expected = case
    hostile, expected = resolve(hostile, ctx), resolve(expected, ctx)
    control = make(ctx, res, res.body(ctx), encoding)
    body = make(ctx, res, set_field(res.body(ctx), name, hostile), encoding)
    check_value(ctx, value_at(body, name), hostile, expected)
    assert normalized(body) == normalized(control)
    assert type(body["id"]) is type(control["id"]) and body["id"] != control["id"]
    assert retrieved(ctx, res, body) == body
    if expected is FRESH:
        missing = ctx.api.get(f"{res.collection(ctx)}/{hostile}")
        assert missing.status_code == 404, missing.text
    assert_no_event_carries(ctx, body, name, hostile)
    if res.effect is not None:
        res.effect(ctx, 2)


@pytest.mark.parametrize(("resource", "case", "encoding"), cases_of("ignored_patch"))
def test_c3_9_read_only_or_create_only_field_on_patch_is_ignored(ctx, resource, case, encoding):
    """200; only the benign change is applied, the read-only/create-only field keeps its
    computed/original value in the response and on GET."""
    res = BY_NAME[resource]
    name, hostile, expected = case
    hostile, expected = resolve(hostile, ctx), resolve(expected, ctx)
    obj = make(ctx, res, res.body(ctx))
    before = retrieved(ctx, res, obj)
    patch = set_field(res.benign, name, hostile, before=before)
    r = send(ctx.api, "PATCH", res.path(ctx, obj), patch, encoding, res.params)
    assert r.status_code == 200, r.text
    body = exact(r)
    if expected is FRESH:
        check_value(ctx, body["id"], hostile, before["id"])
    elif expected is NOW:
        check_value(ctx, value_at(body, name), hostile, NOW)
    else:
        check_value(ctx, value_at(body, name), hostile, expected)
    assert without_updated_at(body) == without_updated_at({**before, **res.benign})
    assert retrieved(ctx, res, body) == body
    if expected is FRESH:
        missing = ctx.api.get(f"{res.collection(ctx)}/{hostile}")
        assert missing.status_code == 404, missing.text
    assert_no_event_carries(ctx, body, name, hostile)
    if res.effect is not None:
        res.effect(ctx, 1)


# ---------------------------------------------------------------------------------------------
# C3.9 "Account ids are never accepted from a body"
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("resource", [r.name for r in RESOURCES])
def test_c3_9_account_ids_in_a_body_never_move_an_object(ctx, resource, encoding):
    """Another account's id as account/account_id/tenant/tenant_id, on create and on PATCH:
    the object stays in the caller's account (C2.9: the other account gets 404 and lists
    nothing of it) and is the one the request without those keys makes."""
    res = BY_NAME[resource]
    target = ctx.other.account.id
    hostile = dict.fromkeys(ACCOUNT_KEYS, target)
    control = make(ctx, res, res.body(ctx), encoding)
    body = make(ctx, res, {**res.body(ctx), **hostile}, encoding)
    assert normalized(body) == normalized(control)
    assert not set(ACCOUNT_KEYS) & set(body)
    before = retrieved(ctx, res, body)
    r = send(ctx.api, "PATCH", res.path(ctx, body), {**res.benign, **hostile}, encoding, res.params)
    assert r.status_code == 200, r.text
    assert without_updated_at(exact(r)) == without_updated_at({**before, **res.benign})
    assert retrieved(ctx, res, body) == exact(r)
    r = fetch(ctx, res, body, api=ctx.other)
    assert r.status_code == 404, r.text
    if res.top_level:
        r = ctx.other.get(res.collection(ctx))
        assert r.status_code == 200, r.text
        own = {"/customers": [ctx.foreign_customer]}.get(res.collection(ctx), [])
        assert [o["id"] for o in r.json()] == own
    if res.effect is not None:
        res.effect(ctx, 2)


# ---------------------------------------------------------------------------------------------
# Customer ids: another account's customer never receives an object
# ---------------------------------------------------------------------------------------------


def foreign_untouched(ctx: Ctx) -> None:
    """The other account still has exactly its one customer, with nothing attached."""
    other = ctx.other
    assert [c["id"] for c in other.get("/customers").json()] == [ctx.foreign_customer]
    for path in ("/invoices", "/transactions", "/payments", "/credit_balance_adjustments"):
        r = other.get(path)
        assert r.status_code == 200 and r.json() == [], (path, r.text)
    assert other.get(f"/customers/{ctx.foreign_customer}/contacts").json() == []
    assert other.get(f"/customers/{ctx.foreign_customer}").json()["credit_balance"] == 0


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_c3_9_contact_customer_in_body_is_ignored_even_when_foreign(ctx, encoding):
    """customers.md §6: a contact's `customer` is the path's, never the body's."""
    res = BY_NAME["contacts"]
    body = make(ctx, res, {**res.body(ctx), "customer": ctx.foreign_customer}, encoding)
    assert body["customer"] == ctx.customer
    r = send(ctx.api, "PATCH", res.path(ctx, body), {"customer": ctx.foreign_customer}, encoding)
    assert r.status_code == 200, r.text
    assert r.json()["customer"] == ctx.customer
    assert [c["id"] for c in ctx.api.get(res.collection(ctx)).json()] == [body["id"]]
    foreign_untouched(ctx)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(
    ("resource", "status"),
    [
        ("invoices", 400),  # E1: customer cannot change
        ("transactions", 400),  # TX1: customer cannot change on PATCH
        ("payments", 400),  # PY13: C U, but the id is looked up in the caller's account
        ("credit_balance_adjustments", 200),  # §2: create-only, ignored
    ],
)
def test_c3_9_patch_naming_a_foreign_customer_never_moves_the_object(
    ctx, resource, status, encoding
):
    """C2.9 with C3.9: PATCH {customer: <another account's customer>} is refused (param
    customer) or ignored as the resource file says; either way the object keeps its customer
    and its money stays where it was."""
    res = BY_NAME[resource]
    obj = make(ctx, res, res.body(ctx))
    before = retrieved(ctx, res, obj)
    r = send(ctx.api, "PATCH", res.path(ctx, obj), {"customer": ctx.foreign_customer}, encoding)
    assert r.status_code == status, r.text
    if status == 400:
        assert_error(r, 400, "customer")
        assert retrieved(ctx, res, obj) == before
    else:
        assert without_updated_at(exact(r)) == without_updated_at(before)
    assert retrieved(ctx, res, obj)["customer"] == ctx.customer
    if res.effect is not None:
        res.effect(ctx, 1)
    foreign_untouched(ctx)


# ---------------------------------------------------------------------------------------------
# Consequences: an ignored field really was not stored
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_tx10_transaction_naming_a_payment_stays_a_plain_transaction(ctx, encoding):
    """`payment` sent to POST /transactions is ignored, so the transaction is not payment-owned:
    it stays editable and deletable (TX10 does not apply), and deleting it reverses only its
    own 10.00 (TX11); the named payment keeps its balance."""
    res = BY_NAME["transactions"]
    body = make(ctx, res, {**res.body(ctx), "payment": ctx.payment}, encoding)
    assert body["payment"] is None
    r = ctx.api.patch(f"/transactions/{body['id']}", json={"amount": 12})
    assert r.status_code == 200, r.text
    assert exact(ctx.api.get(f"/invoices/{ctx.invoice}"))["balance"] == 88
    assert ctx.api.delete(f"/transactions/{body['id']}").status_code == 204
    assert exact(ctx.api.get(f"/invoices/{ctx.invoice}"))["balance"] == 100
    payment = exact(ctx.api.get(f"/payments/{ctx.payment}", params={"include": "applied_to"}))
    assert (payment["balance"], payment["voided"], payment["applied_to"]) == (5, False, [])


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_py16_payment_sent_as_voided_is_a_live_payment(ctx, encoding):
    """`voided` sent on create is ignored (voiding is DELETE only, PY16): the split pays the
    invoice, the payment can be edited, and a real DELETE then voids it once."""
    res = BY_NAME["payments"]
    body = make(ctx, res, {**res.body(ctx), "voided": True, "balance": 10}, encoding)
    assert (body["voided"], body["balance"], body["amount"]) == (False, 0, 10)
    assert exact(ctx.api.get(f"/invoices/{ctx.invoice}"))["balance"] == 90
    r = ctx.api.patch(f"/payments/{body['id']}", json={"reference": "1451"})
    assert r.status_code == 200, r.text
    r = ctx.api.delete(f"/payments/{body['id']}")
    assert r.status_code == 200, r.text
    assert (r.json()["voided"], r.json()["balance"]) == (True, 10)
    assert exact(ctx.api.get(f"/invoices/{ctx.invoice}"))["balance"] == 100


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_v1_invoice_patched_as_voided_is_not_voided(ctx, encoding):
    """`voided` is not writable: PATCH leaves the invoice open and payable, and the real
    void endpoint still works afterwards (V1)."""
    r = send(ctx.api, "PATCH", f"/invoices/{ctx.invoice2}", {"voided": True}, encoding)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["balance"], r.json()["url"] is not None) == (
        "not_sent",
        100,
        True,
    )
    r = ctx.api.post("/transactions", json={"invoice": ctx.invoice2, "amount": 30})
    assert r.status_code == 201, r.text
    assert exact(ctx.api.get(f"/invoices/{ctx.invoice2}"))["balance"] == 70


def test_e5_line_id_of_another_invoice_on_create_is_refused_not_moved(ctx):
    """A line `id` in POST /invoices names no line of the new invoice (E5): 400 param items, and
    the other invoice keeps its line; nothing is created."""
    source = exact(ctx.api.get(f"/invoices/{ctx.invoice2}"))
    line = source["items"][0]["id"]
    before = total_count(ctx.api, "/invoices")
    r = ctx.api.post(
        "/invoices",
        json={"customer": ctx.customer, "items": [{"id": line, "name": "Stolen", "unit_cost": 1}]},
    )
    assert_error(r, 400, "items", f"Referenced line item that does not exist: {line}")
    assert total_count(ctx.api, "/invoices") == before
    assert exact(ctx.api.get(f"/invoices/{ctx.invoice2}")) == source


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_c3_9_customer_created_through_an_invoice_stores_no_read_only_value(ctx, encoding):
    """invoices.md §15: `customer` given as an object without `id` creates that customer; its
    read-only values (credit balance, URLs, account) are never taken from the body."""
    nested = {
        "name": "Nested Co",
        "credit_balance": 500,
        "statement_pdf_url": EVIL,
        "account_id": ctx.other.account.id,
        "object": "invoice",
    }
    r = send(ctx.api, "POST", "/invoices", {"customer": nested}, encoding)
    assert r.status_code in (201, 400), r.text
    if r.status_code == 400:  # refused as a whole (C3.9 on the nested Customer)
        assert r.json()["param"] in ("customer", "credit_balance", "statement_pdf_url")
        assert [c["name"] for c in ctx.api.get("/customers").json()] == ["Acme", "Globex"]
    else:
        made = exact(ctx.api.get(f"/customers/{r.json()['customer']}"))
        assert (made["name"], made["object"], made["credit_balance"]) == (
            "Nested Co",
            "customer",
            0,
        )
        assert ctx.pattern("statements", "/pdf").fullmatch(made["statement_pdf_url"])
        balance = exact(ctx.api.get(f"/customers/{made['id']}/balance"))
        assert balance["available_credits"] == 0
    foreign_untouched(ctx)


# ---------------------------------------------------------------------------------------------
# `id` naming an existing object of the same account never overwrites or adopts it
# ---------------------------------------------------------------------------------------------

INTEGER_IDS = [r.name for r in RESOURCES if r.name not in ("items", "coupons", "tax_rates")]
# Adjustments are stored as transactions (credit_balances.md CB8): ids of one must not reach
# the other either.
VICTIMS = [(name, name) for name in INTEGER_IDS] + [
    ("transactions", "credit_balance_adjustments"),
    ("credit_balance_adjustments", "transactions"),
]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(
    ("resource", "victim"), VICTIMS, ids=[f"{r}-id-of-{v}" for r, v in VICTIMS]
)
def test_c3_9_id_of_an_existing_object_never_overwrites_it(ctx, resource, victim, encoding):
    """C3.9 `id` is ignored: on create a fresh id is assigned and the object named is left
    alone; on PATCH the patched object keeps its id and the object named is left alone."""
    res, vic = BY_NAME[resource], BY_NAME[victim]
    target = make(ctx, vic, vic.body(ctx))
    target_before = retrieved(ctx, vic, target)
    body = make(ctx, res, {**res.body(ctx), "id": target["id"]}, encoding)
    assert body["id"] != target["id"]
    if res is vic:
        assert normalized(body) == normalized(target_before)
    before = retrieved(ctx, res, body)
    patch = {**res.benign, "id": target["id"]}
    r = send(ctx.api, "PATCH", res.path(ctx, body), patch, encoding, res.params)
    assert r.status_code == 200, r.text
    assert without_updated_at(exact(r)) == without_updated_at({**before, **res.benign})
    assert retrieved(ctx, vic, target) == target_before
    if res.effect is not None and res is vic:
        res.effect(ctx, 2)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_py11_split_id_of_another_payment_is_no_application_of_this_one(ctx, encoding):
    """PY11: a split `id` names an application of *this* payment; another payment's split id
    (same account) is refused on create and on PATCH, and that payment and its invoice keep
    their money."""
    res = BY_NAME["payments"]
    first = make(ctx, res, res.body(ctx))
    (split,) = first["applied_to"]
    first_before = retrieved(ctx, res, first)
    entry = {"id": split["id"], "type": "invoice", "invoice": ctx.invoice, "amount": 5}
    body = {"customer": ctx.customer, "amount": 5, "applied_to": [entry]}
    missing = f"No such payment application: {split['id']}"
    count = total_count(ctx.api, "/payments")
    r = send(ctx.api, "POST", "/payments", body, encoding, res.params)
    assert_error(r, 400, "applied_to", missing)
    assert total_count(ctx.api, "/payments") == count
    second = make(ctx, res, {"customer": ctx.customer, "amount": 5})
    second_before = retrieved(ctx, res, second)
    r = send(ctx.api, "PATCH", res.path(ctx, second), {"applied_to": [entry]}, encoding)
    assert_error(r, 400, "applied_to", missing)
    assert retrieved(ctx, res, first) == first_before
    assert retrieved(ctx, res, second) == second_before
    assert exact(ctx.api.get(f"/invoices/{ctx.invoice}"))["balance"] == 90


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_e5_patch_naming_a_line_of_another_invoice_is_refused(ctx, encoding):
    """E5: a line `id` of another invoice of the same account is not adopted: 400 param items,
    both invoices unchanged."""
    source = exact(ctx.api.get(f"/invoices/{ctx.invoice2}"))
    target = exact(ctx.api.get(f"/invoices/{ctx.lines_invoice}"))
    line = source["items"][0]["id"]
    body = {"items": [{"id": line, "quantity": 5}]}
    r = send(ctx.api, "PATCH", f"/invoices/{ctx.lines_invoice}", body, encoding)
    assert_error(r, 400, "items", f"Referenced line item that does not exist: {line}")
    assert exact(ctx.api.get(f"/invoices/{ctx.invoice2}")) == source
    assert exact(ctx.api.get(f"/invoices/{ctx.lines_invoice}")) == target
