"""Customers, contacts and the customer balance (spec: customers.md; conventions: README.md).

Every test runs against a fresh account (fixture `api`), so numbering starts at CUST-00001.
Rule ids (CU2, CT3, C19.4, ...) are cited in test names and docstrings.
"""

from __future__ import annotations

import asyncio
import re
import time
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from tally.models import Account
from tests.support import new_account

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

# Example C-1: the customer created from `name=Acme&email=...&payment_terms=NET 30&type=company`
# on a fresh account, minus the fields that differ per object (id, number, timestamps, URL).
ACME = {
    "object": "customer",
    "name": "Acme",
    "email": "billing@acmecorp.com",
    "type": "company",
    "autopay": False,
    "autopay_delay_days": None,
    "payment_terms": "NET 30",
    "payment_source": None,
    "attention_to": None,
    "address1": None,
    "address2": None,
    "city": None,
    "state": None,
    "postal_code": None,
    "country": "US",
    "language": None,
    "currency": None,
    "chase": True,
    "chasing_cadence": None,
    "next_chase_step": None,
    "phone": None,
    "credit_hold": False,
    "credit_limit": None,
    "owner": None,
    "taxable": True,
    "taxes": [],
    "tax_id": None,
    "avalara_entity_use_code": None,
    "avalara_exemption_number": None,
    "parent_customer": None,
    "notes": None,
    "sign_up_page": None,
    "sign_up_url": None,
    "ach_gateway": None,
    "cc_gateway": None,
    "active": True,
    # customers.md §2: exposed read-only (Decision), 0 while no credit exists.
    "credit_balance": 0,
    "metadata": {},
}
PER_OBJECT_KEYS = {"id", "number", "created_at", "updated_at", "statement_pdf_url"}
CUSTOMER_KEYS = set(ACME) | PER_OBJECT_KEYS
BOOLEAN_FIELDS = ("autopay", "chase", "credit_hold", "taxable", "active")
CONTACT_KEYS = {
    "id",
    "object",
    "customer",
    "name",
    "title",
    "department",
    "phone",
    "email",
    "primary",
    "sms_enabled",
    "send_new_invoices",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
    "country",
    "created_at",
    "updated_at",
}
BALANCE_KEYS = {
    "currency",
    "total_outstanding",
    "due_now",
    "past_due",
    "open_credit_notes",
    "available_credits",
    "history",
}
CLIENT_ID = r"[A-Za-z0-9_-]{48}"


def create(api, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", "Customer")
    r = api.post("/customers", json=fields)
    assert r.status_code == 201, r.text
    return r.json()


def get(api, customer_id: int) -> dict[str, Any]:
    r = api.get(f"/customers/{customer_id}")
    assert r.status_code == 200, r.text
    return r.json()


def patch(api, customer_id: int, **fields: Any) -> dict[str, Any]:
    r = api.patch(f"/customers/{customer_id}", json=fields)
    assert r.status_code == 200, r.text
    return r.json()


def listing(api, params: Any = None) -> tuple[list[dict[str, Any]], int]:
    r = api.get("/customers", params=params)
    assert r.status_code == 200, r.text
    return r.json(), int(r.headers["X-Total-Count"])


def ids(api, params: Any = None) -> list[int]:
    return [c["id"] for c in listing(api, params)[0]]


def state(api) -> tuple[int, int]:
    """(customers, events) in the account: a failed request must change neither (EV1)."""
    customers = api.get("/customers")
    events = api.get("/events")
    assert customers.status_code == 200, customers.text
    assert events.status_code == 200, events.text
    return int(customers.headers["X-Total-Count"]), int(events.headers["X-Total-Count"])


def assert_error(r, status: int, param: str | None, message: str | None = None) -> None:
    """C6: `type`, and `param` present only when one field is responsible."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == "invalid_request", body
    if param is None:
        assert "param" not in body, body
    else:
        assert body.get("param") == param, body
    if message is not None:
        assert body["message"] == message, body


def other_account_api(api, db_url: str, **options: str):
    """An `Api` of the same kind as `api`, for a fresh account created with `options`."""
    return type(api)(api.client, new_account(db_url, **options))


def set_account(db_url: str, account_id: int, **values: Any) -> None:
    """Account settings are configured out of band (C21); tests set them in the database."""

    async def work() -> None:
        engine = create_async_engine(db_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    update(Account).where(Account.id == account_id).values(**values)
                )
        finally:
            await engine.dispose()

    asyncio.run(work())


@contextmanager
def frozen_clock(api):
    """Move the server clock with POST /_test/clock (C23.2); back to real time afterwards."""

    def move(timestamp: int) -> None:
        r = api.post("/_test/clock", json={"now": timestamp})
        assert r.status_code == 200, r.text

    try:
        yield move
    finally:
        # Timestamps are integer seconds (C4.4): a float `now` is not one.
        move(int(time.time()))


# ---------------------------------------------------------------------------------------------
# Example C-1: form and JSON produce the same object
# ---------------------------------------------------------------------------------------------


def test_example_c1_form_and_json_create_the_same_customer(api):
    """Example C-1, CU16, C18: the documented object, identical from form and JSON bodies."""
    started = int(time.time())
    form = api.post(
        "/customers",
        data={
            "name": "Acme",
            "email": "billing@acmecorp.com",
            "payment_terms": "NET 30",
            "type": "company",
        },
    )
    assert form.status_code == 201, form.text
    as_json = api.post(
        "/customers",
        json={
            "name": "Acme",
            "email": "billing@acmecorp.com",
            "payment_terms": "NET 30",
            "type": "company",
        },
    )
    assert as_json.status_code == 201, as_json.text
    finished = int(time.time())
    first, second = form.json(), as_json.json()

    for body in (first, second):
        assert set(body) == CUSTOMER_KEYS
        assert {k: v for k, v in body.items() if k not in PER_OBJECT_KEYS} == ACME
        for name in BOOLEAN_FIELDS:
            assert type(body[name]) is bool, name
        assert isinstance(body["id"], int)
        assert "disabled_payment_methods" not in body  # write-only
        assert type(body["created_at"]) is int
        assert body["created_at"] == body["updated_at"]
        assert started - 1 <= body["created_at"] <= finished + 1
        identifier = api.account.identifier
        assert len(identifier) == 24
        assert re.fullmatch(
            rf"http://localhost:8000/portal/statements/{re.escape(identifier)}/{CLIENT_ID}/pdf",
            body["statement_pdf_url"],
        ), body["statement_pdf_url"]

    assert first["number"] == "CUST-00001"
    assert second["number"] == "CUST-00002"
    assert first["id"] != second["id"]
    # C18.2: one unguessable client id per object.
    assert first["statement_pdf_url"] != second["statement_pdf_url"]
    # GET returns the same object as the create response.
    assert get(api, first["id"]) == first
    assert get(api, second["id"]) == second


def test_c18_statement_pdf_url_is_stable(api):
    """C18.2: the client id is stable for the object's life."""
    customer = create(api, name="Stable")
    updated = patch(api, customer["id"], name="Stable Inc")
    assert updated["statement_pdf_url"] == customer["statement_pdf_url"]


# ---------------------------------------------------------------------------------------------
# Example C-2: update, AutoPay interplay, metadata replace
# ---------------------------------------------------------------------------------------------


def test_example_c2_update_steps(api):
    """Example C-2, steps 1-7 (CU7, CU11, C9.4, C9.7)."""
    customer = create(api, name="Acme", email="billing@acmecorp.com", payment_terms="NET 30")
    cid = customer["id"]
    other = create(api, name="Other", autopay=True, metadata={"account_rep": "Jim"})

    # 1. Form-encoded update of address fields and terms.
    r = api.patch(
        f"/customers/{cid}",
        data={
            "attention_to": "Sarah Fisher",
            "address1": "342 Amber St",
            "city": "Hill Valley",
            "state": "CA",
            "postal_code": "94523",
            "tax_id": "893-934835",
            "phone": "(820) 297-2983",
            "payment_terms": "NET 14",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["attention_to"] == "Sarah Fisher"
    assert body["address1"] == "342 Amber St"
    assert body["city"] == "Hill Valley"
    assert body["state"] == "CA"
    assert body["postal_code"] == "94523"
    assert body["tax_id"] == "893-934835"
    assert body["phone"] == "(820) 297-2983"
    assert body["payment_terms"] == "NET 14"
    # Fields not sent are unchanged.
    assert body["name"] == "Acme"
    assert body["email"] == "billing@acmecorp.com"
    assert body["number"] == customer["number"]

    # 2. Metadata with two keys.
    body = patch(api, cid, metadata={"icp_number": "1234567890", "account_rep": "Jan"})
    assert body["metadata"] == {"icp_number": "1234567890", "account_rep": "Jan"}

    # 3. Metadata is replaced as a whole (CU11).
    body = patch(api, cid, metadata={"account_rep": "Pam"})
    assert body["metadata"] == {"account_rep": "Pam"}

    # 4. AutoPay on discards payment terms sent in the same request (CU7).
    body = patch(api, cid, autopay=True, payment_terms="NET 7")
    assert body["autopay"] is True
    assert body["payment_terms"] is None

    # 5. AutoPay off: payment terms stay null.
    body = patch(api, cid, autopay=False)
    assert body["autopay"] is False
    assert body["payment_terms"] is None
    assert get(api, cid) == body
    # The address of step 1 survived every later step.
    assert body["city"] == "Hill Valley"
    assert body["metadata"] == {"account_rep": "Pam"}

    # 6. Metadata filter.
    r = api.get("/customers", params={"metadata[account_rep]": "Pam"})
    assert r.status_code == 200, r.text
    assert r.json() == [body]
    assert r.headers["X-Total-Count"] == "1"

    # 7. Python-client style boolean filter.
    found = ids(api, {"filter[autopay]": "False"})
    assert cid in found
    assert other["id"] not in found
    assert ids(api, {"filter[autopay]": "True"}) == [other["id"]]


# ---------------------------------------------------------------------------------------------
# Example C-4 and CT1-CT7: contacts
# ---------------------------------------------------------------------------------------------


def test_example_c4_contact_create(api):
    """Example C-4: form-encoded contact; defaults primary=true, sms_enabled=null, country."""
    customer = create(api, name="Acme", email="billing@acmecorp.com")
    r = api.post(
        f"/customers/{customer['id']}/contacts",
        data={"name": "Nancy Talty", "email": "nancy.talty@example.com"},
    )
    assert r.status_code == 201, r.text
    contact = r.json()
    assert set(contact) == CONTACT_KEYS  # CT7: no metadata
    assert isinstance(contact["id"], int)
    assert contact["object"] == "contact"
    assert contact["customer"] == customer["id"]
    assert contact["name"] == "Nancy Talty"
    assert contact["email"] == "nancy.talty@example.com"
    assert contact["primary"] is True
    assert contact["sms_enabled"] is None
    assert contact["send_new_invoices"] is False
    assert contact["country"] == "US"
    for name in ("title", "department", "phone", "address1", "address2", "city", "state"):
        assert contact[name] is None, name
    assert contact["postal_code"] is None
    assert type(contact["created_at"]) is int
    assert contact["created_at"] == contact["updated_at"]

    r = api.get(f"/customers/{customer['id']}/contacts/{contact['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == contact


def test_ct1_contacts_of_missing_customer_are_404(api):
    """CT1 / Example C-4: `POST /customers/999/contacts` -> 404."""
    before = state(api)
    r = api.post("/customers/999999/contacts", json={"name": "Nancy"})
    assert_error(r, 404, None, "Customer was not found: 999999")
    assert_error(api.get("/customers/999999/contacts"), 404, None)
    assert state(api) == before


def test_ct1_contacts_of_another_accounts_customer_are_404(api, other_api):
    """C2.9: another account's customer behaves exactly like a missing one."""
    customer = create(api, name="Mine")
    contact = api.post(f"/customers/{customer['id']}/contacts", json={"name": "Nancy"}).json()
    path = f"/customers/{customer['id']}/contacts"
    assert_error(other_api.post(path, json={"name": "Eve"}), 404, None)
    assert_error(other_api.get(path), 404, None)
    assert_error(other_api.get(f"{path}/{contact['id']}"), 404, None)


def test_ct2_contact_name_required(api):
    """CT2: name is required on create (also empty) and cannot be cleared."""
    customer = create(api)
    path = f"/customers/{customer['id']}/contacts"
    before = state(api)
    assert_error(api.post(path, json={"email": "a@example.com"}), 400, "name", "Name is missing")
    assert_error(api.post(path, json={"name": ""}), 400, "name", "Name is missing")
    assert state(api) == before
    contact = api.post(path, json={"name": "Nancy"}).json()
    assert_error(api.patch(f"{path}/{contact['id']}", json={"name": ""}), 400, "name")
    assert api.get(f"{path}/{contact['id']}").json()["name"] == "Nancy"


def test_ct3_at_most_100_contacts_per_customer(api):
    """CT3: the 101st contact is refused with the exact message and no param."""
    customer = create(api)
    path = f"/customers/{customer['id']}/contacts"
    for i in range(100):
        r = api.post(path, json={"name": f"Contact {i:03d}"})
        assert r.status_code == 201, (i, r.text)
    before = state(api)
    r = api.post(path, json={"name": "One too many"})
    assert_error(
        r, 400, None, "The maximum number of contacts (100) per customer has been reached."
    )
    assert state(api) == before
    r = api.get(path)
    assert r.headers["X-Total-Count"] == "100"
    # The limit is per customer: another customer still takes contacts.
    second = create(api, name="Second")
    assert api.post(f"/customers/{second['id']}/contacts", json={"name": "x"}).status_code == 201


def test_ct4_contact_country_defaults_to_customer_country(api):
    """CT4: default from the customer's country at creation; explicit values uppercased."""
    customer = create(api, name="Maple", country="CA")
    path = f"/customers/{customer['id']}/contacts"
    assert api.post(path, json={"name": "A"}).json()["country"] == "CA"
    assert api.post(path, json={"name": "B", "country": "fr"}).json()["country"] == "FR"
    # "at creation": a later change of the customer's country does not move the contact.
    contact = api.post(path, json={"name": "C"}).json()
    patch(api, customer["id"], country="DE")
    assert api.get(f"{path}/{contact['id']}").json()["country"] == "CA"
    assert api.post(path, json={"name": "D"}).json()["country"] == "DE"


def test_ct5_contact_of_another_customer_is_404(api):
    """CT5 / Example C-4: `GET /customers/2/contacts/10` -> 404 when 10 belongs to customer 1."""
    first = create(api, name="First")
    second = create(api, name="Second")
    contact = api.post(f"/customers/{first['id']}/contacts", json={"name": "Nancy"}).json()
    wrong = f"/customers/{second['id']}/contacts/{contact['id']}"
    message = f"Contact was not found: {contact['id']}"
    before = state(api)
    assert_error(api.get(wrong), 404, None, message)
    assert_error(api.patch(wrong, json={"name": "Hijack"}), 404, None, message)
    assert_error(api.delete(wrong), 404, None, message)
    assert state(api) == before
    r = api.get(f"/customers/{first['id']}/contacts/{contact['id']}")
    assert r.json() == contact


def test_contact_email_must_be_valid(api):
    """§6: contact `email` must be a valid address -> else 400 param email."""
    customer = create(api)
    path = f"/customers/{customer['id']}/contacts"
    before = state(api)
    assert_error(api.post(path, json={"name": "N", "email": "not-an-email"}), 400, "email")
    assert state(api) == before
    contact = api.post(path, json={"name": "N", "email": "n@example.com"}).json()
    r = api.patch(f"{path}/{contact['id']}", json={"email": "bad"})
    assert_error(r, 400, "email")
    assert api.get(f"{path}/{contact['id']}").json()["email"] == "n@example.com"


def test_contact_update_and_delete(api):
    """§6: PATCH changes the sent fields only; DELETE -> 204 then 404 (C16)."""
    customer = create(api)
    path = f"/customers/{customer['id']}/contacts"
    contact = api.post(path, json={"name": "Nancy", "title": "CFO", "primary": True}).json()
    r = api.patch(f"{path}/{contact['id']}", json={"primary": False, "phone": "555-0100"})
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["primary"] is False
    assert updated["phone"] == "555-0100"
    assert updated["title"] == "CFO"
    assert updated["name"] == "Nancy"
    assert updated["customer"] == customer["id"]
    r = api.delete(f"{path}/{contact['id']}")
    assert r.status_code == 204
    assert r.content == b""
    assert_error(api.get(f"{path}/{contact['id']}"), 404, None)
    assert_error(api.delete(f"{path}/{contact['id']}"), 404, None)


def test_ct6_contact_list_order_sort_and_filters(api):
    """CT6: default id asc; sort; whitelisted filters; unknown filter -> 400 (C9.2)."""
    customer = create(api)
    path = f"/customers/{customer['id']}/contacts"
    zed = api.post(path, json={"name": "Zed", "email": "zed@example.com"}).json()
    amy = api.post(path, json={"name": "Amy", "primary": False, "city": "Oslo"}).json()
    bob = api.post(path, json={"name": "Bob", "department": "Sales"}).json()
    # Another customer's contacts never show up.
    other = create(api, name="Other")
    api.post(f"/customers/{other['id']}/contacts", json={"name": "Aaron"})

    r = api.get(path)
    assert r.status_code == 200
    assert [c["id"] for c in r.json()] == [zed["id"], amy["id"], bob["id"]]
    assert r.headers["X-Total-Count"] == "3"
    assert "Link" in r.headers

    r = api.get(path, params={"sort": "name asc"})
    assert [c["name"] for c in r.json()] == ["Amy", "Bob", "Zed"]
    r = api.get(path, params={"sort": "name desc"})
    assert [c["name"] for c in r.json()] == ["Zed", "Bob", "Amy"]

    r = api.get(path, params={"filter[email]": "zed@example.com"})
    assert [c["id"] for c in r.json()] == [zed["id"]]
    r = api.get(path, params={"filter[primary]": "0"})
    assert [c["id"] for c in r.json()] == [amy["id"]]
    assert r.headers["X-Total-Count"] == "1"
    r = api.get(path, params={"filter[primary]": "true"})
    assert [c["id"] for c in r.json()] == [zed["id"], bob["id"]]
    r = api.get(path, params={"filter[department]": "Sales"})
    assert [c["id"] for c in r.json()] == [bob["id"]]
    r = api.get(path, params={"filter[city]": "Oslo", "filter[name]": "Amy"})
    assert [c["id"] for c in r.json()] == [amy["id"]]
    r = api.get(path, params={"filter[country]": "US"})
    assert r.headers["X-Total-Count"] == "3"

    assert_error(api.get(path, params={"filter[customer]": "1"}), 400, None)
    assert_error(api.get(path, params={"filter[metadata]": "x"}), 400, None)


# ---------------------------------------------------------------------------------------------
# Example C-5: errors leave the database unchanged
# ---------------------------------------------------------------------------------------------

ELEVEN_KEYS = {f"key{i}": str(i) for i in range(11)}
CREATE_ERRORS = [
    pytest.param({}, "name", "Name is missing", id="no-name"),
    pytest.param({"name": ""}, "name", "Name is missing", id="empty-name-CU1"),
    pytest.param({"name": "N" * 256}, "name", None, id="name-too-long-§2"),
    pytest.param({"name": "X", "email": "not-an-email"}, "email", None, id="email-CU5"),
    pytest.param({"name": "X", "number": "N" * 33}, "number", None, id="number-too-long-§2"),
    pytest.param(
        {"name": "X", "number": "CUST-00001"},
        "number",
        "The given customer number has already been taken: CUST-00001",
        id="number-taken-CU2",
    ),
    pytest.param({"name": "X", "type": "alien"}, "type", None, id="type-CU3"),
    pytest.param(
        {"name": "X", "metadata": ELEVEN_KEYS},
        "metadata",
        "There can only be up to 10 metadata values. 11 values were provided.",
        id="metadata-11-keys-C11",
    ),
    pytest.param({"name": "X", "country": "XX"}, "country", None, id="country-CU4"),
    pytest.param({"name": "X", "currency": "ABC"}, "currency", None, id="currency-CU4"),
    pytest.param({"name": "X", "language": "fra"}, "language", None, id="language-CU4"),
    pytest.param({"name": "X", "taxes": ["vat"]}, "taxes", "No such tax rate: vat", id="taxes-CU9"),
    pytest.param(
        {"name": "X", "parent_customer": 987654321},
        "parent_customer",
        "No such customer: 987654321",
        id="parent-CU10",
    ),
    pytest.param({"name": "X", "credit_balance": 10}, "credit_balance", None, id="read-only-C3.9"),
    pytest.param(
        {"name": "X", "statement_pdf_url": "http://x"},
        "statement_pdf_url",
        None,
        id="read-only-url-C3.9",
    ),
]


@pytest.mark.parametrize(("body", "param", "message"), CREATE_ERRORS)
def test_example_c5_create_errors_change_nothing(api, body, param, message):
    """Example C-5 (and the field rules it stands for): 400 + param, nothing stored (EV1)."""
    create(api, name="Existing")  # CUST-00001
    before = state(api)
    assert_error(api.post("/customers", json=body), 400, param, message)
    assert state(api) == before
    # A failed create does not consume a number (C19.4: gaps allowed, but none needed).
    assert create(api, name="Next")["number"] == "CUST-00002"


def test_example_c5_not_found_and_bad_filter(api):
    """Example C-5: 404 for a missing customer, 400 (no param) for an unknown filter."""
    create(api)
    before = state(api)
    assert_error(api.get("/customers/424242"), 404, None, "Customer was not found: 424242")
    assert_error(api.patch("/customers/424242", json={"name": "x"}), 404, None)
    assert_error(api.delete("/customers/424242"), 404, None)
    assert_error(api.get("/customers/abc"), 404, None)  # C1.5
    assert_error(
        api.get("/customers", params={"filter[foo]": "1"}),
        400,
        None,
        "Invalid filter parameter: foo",
    )
    assert state(api) == before


def test_failed_patch_changes_nothing(api):
    """EV1 / C-5 on update: a refused PATCH leaves the stored customer and events untouched."""
    customer = create(api, name="Keep", email="keep@example.com", metadata={"a": "1"})
    other = create(api, name="Taken", number="TAKEN-1")
    before = state(api)
    bad_bodies = [
        ({"name": "Changed", "email": "not-an-email"}, "email"),
        ({"name": "Changed", "type": "alien"}, "type"),
        ({"name": "Changed", "number": "taken-1"}, "number"),
        ({"name": "Changed", "taxes": ["vat"]}, "taxes"),
        ({"name": "Changed", "metadata": ELEVEN_KEYS}, "metadata"),
        ({"name": "Changed", "parent_customer": customer["id"]}, "parent_customer"),
        ({"name": ""}, "name"),
        ({"name": "Changed", "updated_at": 1}, "updated_at"),
    ]
    for body, param in bad_bodies:
        assert_error(api.patch(f"/customers/{customer['id']}", json=body), 400, param)
    assert state(api) == before
    assert get(api, customer["id"]) == customer
    assert get(api, other["id"]) == other


def test_id_and_object_in_body_are_ignored(api):
    """§2 / C3.9: `id` and `object` sent in a body are silently ignored."""
    customer = create(api, id=424242, object="invoice")
    assert customer["id"] != 424242
    assert customer["object"] == "customer"
    updated = patch(api, customer["id"], id=1, object="invoice", city="Oslo")
    assert updated["id"] == customer["id"]
    assert updated["object"] == "customer"
    assert updated["city"] == "Oslo"
    assert_error(api.get("/customers/424242"), 404, None)


def test_delete_customer(api):
    """C16: 204 empty, then 404 on GET and on a second DELETE; contacts go with it (CU14)."""
    customer = create(api)
    api.post(f"/customers/{customer['id']}/contacts", json={"name": "Nancy"})
    r = api.delete(f"/customers/{customer['id']}")
    assert r.status_code == 204
    assert r.content == b""
    assert_error(api.get(f"/customers/{customer['id']}"), 404, None)
    assert_error(api.get(f"/customers/{customer['id']}/contacts"), 404, None)
    assert_error(api.delete(f"/customers/{customer['id']}"), 404, None)
    assert listing(api)[1] == 0


def test_customers_are_isolated_by_account(api, other_api):
    """C2.9: another account's customer id behaves exactly like a missing id."""
    customer = create(api)
    path = f"/customers/{customer['id']}"
    message = f"Customer was not found: {customer['id']}"
    assert_error(other_api.get(path), 404, None, message)
    assert_error(other_api.patch(path, json={"name": "x"}), 404, None, message)
    assert_error(other_api.delete(path), 404, None, message)
    assert_error(other_api.get(path + "/balance"), 404, None, message)
    assert listing(other_api) == ([], 0)
    assert get(api, customer["id"]) == customer
    # Each account numbers its own customers (C19.1).
    assert create(other_api)["number"] == "CUST-00001"


# ---------------------------------------------------------------------------------------------
# CU2 / C19: numbering
# ---------------------------------------------------------------------------------------------


def test_cu2_auto_numbers_and_supplied_numbers(api):
    """CU2, C19.1-C19.3: CUST-00001.., supplied numbers never advance the sequence."""
    assert create(api)["number"] == "CUST-00001"
    assert create(api)["number"] == "CUST-00002"
    assert create(api, number="ACME-7")["number"] == "ACME-7"
    assert create(api)["number"] == "CUST-00003"
    # Empty number means "generate" (CU2: absent/empty).
    assert create(api, number="")["number"] == "CUST-00004"
    # A supplied number that the sequence would produce next is skipped over (C19.2).
    assert create(api, number="CUST-00005")["number"] == "CUST-00005"
    assert create(api)["number"] == "CUST-00006"
    # Case-insensitive: a number taken in another case is skipped too.
    assert create(api, number="cust-00007")["number"] == "cust-00007"
    assert create(api)["number"] == "CUST-00008"


def test_cu2_duplicate_numbers_are_case_insensitive(api):
    """CU2, C19.3: "cust-00001" collides with "CUST-00001" (trimmed, case-insensitive)."""
    create(api)  # CUST-00001
    before = state(api)
    for number in ("CUST-00001", "cust-00001", " Cust-00001 "):
        r = api.post("/customers", json={"name": "Dup", "number": number})
        assert_error(r, 400, "number")
    r = api.post("/customers", json={"name": "Dup", "number": "cust-00001"})
    assert r.json()["message"] == "The given customer number has already been taken: cust-00001"
    assert state(api) == before


def test_cu2_external_id_is_an_alias_of_number(api):
    """CU2: `external_id` on input sets `number` (also form-encoded and on PATCH)."""
    customer = create(api, external_id="EXT-1")
    assert customer["number"] == "EXT-1"
    r = api.post("/customers", data={"name": "Form", "external_id": "EXT-2"})
    assert r.status_code == 201, r.text
    assert r.json()["number"] == "EXT-2"
    assert_error(
        api.post("/customers", json={"name": "Dup", "external_id": "ext-1"}), 400, "number"
    )
    assert patch(api, customer["id"], external_id="EXT-9")["number"] == "EXT-9"
    # The sequence was never advanced by the supplied numbers.
    assert create(api)["number"] == "CUST-00001"


def test_cu2_patch_to_a_taken_number(api):
    """CU2: on PATCH, changing to another customer's number (any case) -> 400 param number."""
    first = create(api)  # CUST-00001
    second = create(api)  # CUST-00002
    before = state(api)
    for number in ("CUST-00001", "cust-00001"):
        r = api.patch(f"/customers/{second['id']}", json={"number": number})
        assert_error(r, 400, "number")
    assert state(api) == before
    assert get(api, second["id"])["number"] == "CUST-00002"
    # Keeping one's own number is not a collision.
    assert patch(api, first["id"], number="CUST-00001", name="Renamed")["number"] == "CUST-00001"
    # A free number is accepted.
    assert patch(api, second["id"], number="VIP-1")["number"] == "VIP-1"
    # The freed number can be taken again.
    assert create(api, number="CUST-00002")["number"] == "CUST-00002"


# ---------------------------------------------------------------------------------------------
# CU3-CU5: type, country/language/currency, email
# ---------------------------------------------------------------------------------------------


def test_cu3_type(api, db_url):
    """CU3: default company; the four allowed values; anything else -> 400 param type."""
    assert create(api)["type"] == "company"
    for kind in ("company", "person", "government", "non_profit"):
        assert create(api, type=kind)["type"] == kind
    customer = create(api)
    assert patch(api, customer["id"], type="person")["type"] == "person"
    assert_error(api.patch(f"/customers/{customer['id']}", json={"type": "alien"}), 400, "type")
    assert get(api, customer["id"])["type"] == "person"
    # The default follows the account setting (C21 default_customer_type).
    persons = other_account_api(api, db_url)
    set_account(db_url, persons.account.id, default_customer_type="person")
    assert create(persons)["type"] == "person"


def test_cu4_country_language_currency_normalised(api):
    """CU4, C4.6: country uppercase, language and currency lowercase."""
    customer = create(api, country="ca", language="FR", currency="EUR")
    assert customer["country"] == "CA"
    assert customer["language"] == "fr"
    assert customer["currency"] == "eur"
    assert get(api, customer["id"]) == customer
    updated = patch(api, customer["id"], country="de", language="De", currency="GbP")
    assert (updated["country"], updated["language"], updated["currency"]) == ("DE", "de", "gbp")
    # Form-encoded input is normalised the same way.
    r = api.post("/customers", data={"name": "Form", "country": "nl", "currency": "Usd"})
    assert r.status_code == 201, r.text
    assert (r.json()["country"], r.json()["currency"]) == ("NL", "usd")


def test_cu4_country_defaults_to_account_country(api, db_url):
    """CU4: absent country = account country (US by default, CA for a Canadian account)."""
    assert create(api)["country"] == "US"
    canadian = other_account_api(api, db_url, country="CA")
    assert create(canadian)["country"] == "CA"


def test_cu4_empty_string_clears(api):
    """CU4, C3.4: "" clears; country falls back to the account country."""
    customer = create(api, country="FR", language="fr", currency="eur")
    cleared = patch(api, customer["id"], country="", language="", currency="")
    assert cleared["country"] == "US"
    assert cleared["language"] is None
    assert cleared["currency"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country", "XX"),
        ("country", "USA"),
        ("country", "U"),
        ("language", "fra"),
        ("language", "f"),
        ("currency", "ABC"),
        ("currency", "dollars"),
    ],
)
def test_cu4_invalid_codes(api, field, value):
    """CU4, C12.4: invalid codes -> 400 with param = field, on create and on PATCH."""
    customer = create(api, country="CA", language="en", currency="cad")
    before = state(api)
    assert_error(api.post("/customers", json={"name": "X", field: value}), 400, field)
    assert_error(api.patch(f"/customers/{customer['id']}", json={field: value}), 400, field)
    assert state(api) == before
    assert get(api, customer["id"]) == customer


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com"])
def test_cu5_invalid_email(api, email):
    """CU5: a syntactically invalid address -> 400 param email."""
    customer = create(api, email="ok@example.com")
    before = state(api)
    assert_error(api.post("/customers", json={"name": "X", "email": email}), 400, "email")
    assert_error(api.patch(f"/customers/{customer['id']}", json={"email": email}), 400, "email")
    assert state(api) == before
    assert get(api, customer["id"])["email"] == "ok@example.com"


def test_cu5_valid_and_null_email(api):
    """CU5: valid addresses are stored; null / "" clear it (C3.4)."""
    customer = create(api, email="billing@acmecorp.com")
    assert customer["email"] == "billing@acmecorp.com"
    assert patch(api, customer["id"], email=None)["email"] is None
    assert patch(api, customer["id"], email="ap@example.org")["email"] == "ap@example.org"
    assert patch(api, customer["id"], email="")["email"] is None
    assert create(api)["email"] is None


# ---------------------------------------------------------------------------------------------
# CU6 / CU7: AutoPay and payment terms
# ---------------------------------------------------------------------------------------------


def test_cu6_defaults_without_account_terms(api):
    """CU6: autopay false when not sent; payment_terms = account terms (null by default)."""
    customer = create(api)
    assert customer["autopay"] is False
    assert customer["payment_terms"] is None
    assert create(api, payment_terms="NET 15")["payment_terms"] == "NET 15"


def test_cu6_account_payment_terms_are_the_default(api, db_url):
    """CU6: with account payment_terms NET 30, a customer without terms gets NET 30."""
    net30 = other_account_api(api, db_url, payment_terms="NET 30")
    assert create(net30)["payment_terms"] == "NET 30"
    assert create(net30, payment_terms="NET 10")["payment_terms"] == "NET 10"
    assert create(net30, autopay=False)["payment_terms"] == "NET 30"
    # CU7: AutoPay customers get no terms even though the account has some.
    autopay = create(net30, autopay=True)
    assert autopay["autopay"] is True
    assert autopay["payment_terms"] is None


def test_cu7_autopay_forces_null_payment_terms(api):
    """CU7: whenever autopay is (or becomes) true, payment_terms is null."""
    created = create(api, autopay=True, payment_terms="NET 7")
    assert created["autopay"] is True
    assert created["payment_terms"] is None
    # Form-encoded booleans (C3.3).
    r = api.post("/customers", data={"name": "F", "autopay": "1", "payment_terms": "NET 7"})
    assert r.status_code == 201, r.text
    assert (r.json()["autopay"], r.json()["payment_terms"]) == (True, None)

    customer = create(api, payment_terms="NET 14")
    assert customer["payment_terms"] == "NET 14"
    on = patch(api, customer["id"], autopay=True)
    assert (on["autopay"], on["payment_terms"]) == (True, None)
    # Terms sent while AutoPay stays on are discarded too.
    still = patch(api, customer["id"], payment_terms="NET 10")
    assert (still["autopay"], still["payment_terms"]) == (True, None)
    # Once AutoPay is off, terms can be set again.
    off = patch(api, customer["id"], autopay=False, payment_terms="NET 10")
    assert (off["autopay"], off["payment_terms"]) == (False, "NET 10")


def test_cu7_autopay_unsupported_by_account(api, db_url):
    """CU7: account without AutoPay support -> 400 exact message, param autopay."""
    set_account(db_url, api.account.id, autopay_supported=False)
    customer = create(api, name="Manual")
    before = state(api)
    message = (
        "Sorry, this business does not support AutoPay. Please enable a supported payment "
        "method in Settings > Payments first."
    )
    assert_error(
        api.post("/customers", json={"name": "X", "autopay": True}), 400, "autopay", message
    )
    assert_error(
        api.patch(f"/customers/{customer['id']}", json={"autopay": True}), 400, "autopay", message
    )
    assert state(api) == before
    assert create(api, autopay=False)["autopay"] is False


# ---------------------------------------------------------------------------------------------
# CU9-CU11: taxes, parent customer, metadata
# ---------------------------------------------------------------------------------------------


def test_cu9_unknown_tax_rate(api):
    """CU9 Decision: an unknown tax-rate id -> 400 `No such tax rate: X`, param taxes."""
    customer = create(api)
    before = state(api)
    for taxes, missing in ((["vat"], "vat"), ([{"id": "gst"}], "gst"), (["vat", "vat"], "vat")):
        r = api.post("/customers", json={"name": "X", "taxes": taxes})
        assert_error(r, 400, "taxes", f"No such tax rate: {missing}")
        r = api.patch(f"/customers/{customer['id']}", json={"taxes": taxes})
        assert_error(r, 400, "taxes", f"No such tax rate: {missing}")
    assert state(api) == before
    assert get(api, customer["id"])["taxes"] == []
    assert create(api, taxes=[])["taxes"] == []


def test_cu10_parent_customer_must_exist(api, other_api):
    """CU10: missing parent (also another account's customer, C2.9) -> `No such customer: X`."""
    child = create(api, name="Child")
    foreign = create(other_api, name="Foreign")
    before = state(api)
    for parent in (999999, foreign["id"]):
        message = f"No such customer: {parent}"
        r = api.post("/customers", json={"name": "X", "parent_customer": parent})
        assert_error(r, 400, "parent_customer", message)
        r = api.patch(f"/customers/{child['id']}", json={"parent_customer": parent})
        assert_error(r, 400, "parent_customer", message)
    assert state(api) == before


def test_cu10_parent_set_and_cleared(api):
    """CU10: a valid parent is stored; null clears it."""
    parent = create(api, name="Parent")
    child = create(api, name="Child", parent_customer=parent["id"])
    assert child["parent_customer"] == parent["id"]
    assert ids(api, {"filter[parent_customer]": parent["id"]}) == [child["id"]]
    assert patch(api, child["id"], parent_customer=None)["parent_customer"] is None


def test_cu10_parent_cannot_be_self(api):
    """CU10: `Cannot set parent customer as self.`"""
    customer = create(api)
    r = api.patch(f"/customers/{customer['id']}", json={"parent_customer": customer["id"]})
    assert_error(r, 400, "parent_customer", "Cannot set parent customer as self.")
    assert get(api, customer["id"])["parent_customer"] is None


def test_cu10_parent_cannot_be_a_descendant(api):
    """CU10: `Cannot set sub-customer as a parent.` (child and grandchild)."""
    root = create(api, name="Root")
    child = create(api, name="Child", parent_customer=root["id"])
    grandchild = create(api, name="Grandchild", parent_customer=child["id"])
    message = "Cannot set sub-customer as a parent."
    for descendant in (child, grandchild):
        r = api.patch(f"/customers/{root['id']}", json={"parent_customer": descendant["id"]})
        assert_error(r, 400, "parent_customer", message)
    r = api.patch(f"/customers/{child['id']}", json={"parent_customer": grandchild["id"]})
    assert_error(r, 400, "parent_customer", message)
    assert get(api, root["id"])["parent_customer"] is None
    assert get(api, child["id"])["parent_customer"] == root["id"]


def test_cu10_hierarchy_depth_at_most_five_levels(api):
    """CU10: depth may not exceed 5 levels, on create and when a subtree moves."""
    message = "A customer cannot have more than five levels of sub-customers."
    levels = [create(api, name="Level 1")]
    for depth in range(2, 6):
        levels.append(create(api, name=f"Level {depth}", parent_customer=levels[-1]["id"]))
    assert [c["parent_customer"] for c in levels] == [None] + [c["id"] for c in levels[:-1]]
    before = state(api)
    r = api.post("/customers", json={"name": "Level 6", "parent_customer": levels[-1]["id"]})
    assert_error(r, 400, "parent_customer", message)
    assert state(api) == before

    # A two-level subtree moved under level 4 would make six levels.
    top = create(api, name="Top")
    below = create(api, name="Below", parent_customer=top["id"])
    r = api.patch(f"/customers/{top['id']}", json={"parent_customer": levels[3]["id"]})
    assert_error(r, 400, "parent_customer", message)
    # Under level 3 it makes exactly five: allowed.
    assert (
        patch(api, top["id"], parent_customer=levels[2]["id"])["parent_customer"]
        == (levels[2]["id"])
    )
    assert get(api, below["id"])["parent_customer"] == top["id"]


def test_cu11_metadata(api):
    """CU11, C11: values stored as strings; PATCH replaces; omitted keeps; {} clears."""
    customer = create(api, metadata={"n": 5, "flag": True, "s": "x"})
    assert customer["metadata"] == {"n": "5", "flag": "1", "s": "x"}
    replaced = patch(api, customer["id"], metadata={"s": "y"})
    assert replaced["metadata"] == {"s": "y"}
    assert patch(api, customer["id"], name="Renamed")["metadata"] == {"s": "y"}
    r = api.patch(f"/customers/{customer['id']}", data={"metadata[a]": "1", "metadata[b]": "2"})
    assert r.status_code == 200, r.text
    assert r.json()["metadata"] == {"a": "1", "b": "2"}
    assert patch(api, customer["id"], metadata={})["metadata"] == {}
    assert_error(
        api.patch(f"/customers/{customer['id']}", json={"metadata": {"k": None}}), 400, "metadata"
    )
    assert_error(
        api.patch(f"/customers/{customer['id']}", json={"metadata": "text"}), 400, "metadata"
    )
    assert_error(
        api.patch(f"/customers/{customer['id']}", json={"metadata": {"k" * 41: "v"}}),
        400,
        "metadata",
    )
    assert_error(
        api.patch(f"/customers/{customer['id']}", json={"metadata": {"k": "v" * 256}}),
        400,
        "metadata",
    )
    ten = {f"k{i}": "v" for i in range(10)}
    assert patch(api, customer["id"], metadata=ten)["metadata"] == ten


# ---------------------------------------------------------------------------------------------
# CU18: updated_at
# ---------------------------------------------------------------------------------------------


def test_cu18_updated_at_changes_only_when_something_changed(api):
    """CU18: updated_at moves on a PATCH that changes a stored value, and only then."""
    t0 = 1_700_000_000
    with frozen_clock(api) as move:
        move(t0)
        customer = create(api, name="Clocked", metadata={"a": "1"})
        assert t0 <= customer["created_at"] <= t0 + 2
        assert customer["updated_at"] == customer["created_at"]
        created_at = customer["created_at"]

        move(t0 + 1000)
        same = patch(api, customer["id"], name="Clocked", metadata={"a": "1"})
        assert same["updated_at"] == created_at
        empty = patch(api, customer["id"])
        assert empty["updated_at"] == created_at

        move(t0 + 2000)
        renamed = patch(api, customer["id"], name="Clocked Inc")
        assert t0 + 2000 <= renamed["updated_at"] <= t0 + 2002
        assert renamed["created_at"] == created_at

        move(t0 + 3000)
        meta = patch(api, customer["id"], metadata={"a": "2"})
        assert t0 + 3000 <= meta["updated_at"] <= t0 + 3002

        # disabled_payment_methods is write-only but still a stored value.
        move(t0 + 4000)
        methods = patch(api, customer["id"], disabled_payment_methods=["check"])
        assert t0 + 4000 <= methods["updated_at"] <= t0 + 4002
        move(t0 + 5000)
        again = patch(api, customer["id"], disabled_payment_methods=["check"])
        assert again["updated_at"] == methods["updated_at"]

        assert get(api, customer["id"])["updated_at"] == methods["updated_at"]


def test_c9_8_updated_after_and_before(api):
    """§4 / C9.8: updated_after strict >, updated_before strict <."""
    t0 = 1_700_000_000
    with frozen_clock(api) as move:
        move(t0)
        old = create(api, name="Old")
        move(t0 + 1000)
        new = create(api, name="New")
    old_ts, new_ts = old["updated_at"], new["updated_at"]
    assert ids(api, {"updated_after": old_ts}) == [new["id"]]
    assert ids(api, {"updated_before": new_ts}) == [old["id"]]
    assert ids(api, {"updated_after": old_ts - 1}) == [old["id"], new["id"]]
    assert ids(api, {"updated_after": 0}) == [old["id"], new["id"]]  # <= 0 ignored


# ---------------------------------------------------------------------------------------------
# §4: listing
# ---------------------------------------------------------------------------------------------


def test_list_filters(api):
    """§4 / C9: whitelisted exact-match filters, owner=-1, sort, X-Total-Count."""
    acme = create(api, name="Acme", country="US", city="Austin", owner=7, currency="usd")
    beta = create(
        api, name="Beta", type="person", country="CA", taxable=False, email="b@example.com"
    )
    gamma = create(api, name="Gamma", country="CA", owner=9, currency="EUR", credit_hold=True)

    customers, total = listing(api)
    assert [c["id"] for c in customers] == [acme["id"], beta["id"], gamma["id"]]
    assert total == 3
    assert ids(api, {"filter[name]": "Beta"}) == [beta["id"]]
    assert ids(api, {"filter[number]": gamma["number"]}) == [gamma["id"]]
    assert ids(api, {"filter[country]": "CA"}) == [beta["id"], gamma["id"]]
    assert ids(api, {"filter[type]": "person"}) == [beta["id"]]
    assert ids(api, {"filter[taxable]": "0"}) == [beta["id"]]
    assert ids(api, {"filter[taxable]": "true"}) == [acme["id"], gamma["id"]]
    assert ids(api, {"filter[credit_hold]": "1"}) == [gamma["id"]]
    assert ids(api, {"filter[city]": "Austin"}) == [acme["id"]]
    assert ids(api, {"filter[email]": "b@example.com"}) == [beta["id"]]
    assert ids(api, {"filter[currency]": "eur"}) == [gamma["id"]]
    assert ids(api, {"filter[id]": acme["id"]}) == [acme["id"]]
    assert ids(api, {"filter[country]": "CA", "filter[type]": "company"}) == [gamma["id"]]
    assert listing(api, {"filter[name]": "Nobody"}) == ([], 0)

    # owner: a user id, or -1 for customers without owner.
    assert ids(api, {"owner": "-1"}) == [beta["id"]]
    assert ids(api, {"owner": "9"}) == [gamma["id"]]
    assert ids(api, {"filter[owner]": "7"}) == [acme["id"]]

    # No invoices, payment sources or credits exist: these narrow to nobody / everybody.
    assert ids(api, {"payment_source": "1"}) == []
    assert ids(api, {"payment_source": "0"}) == [acme["id"], beta["id"], gamma["id"]]
    assert ids(api, {"open_balance": "1"}) == []
    assert ids(api, {"open_balance": "0"}) == [acme["id"], beta["id"], gamma["id"]]

    # C8 sort.
    assert ids(api, {"sort": "name desc"}) == [gamma["id"], beta["id"], acme["id"]]
    assert ids(api, {"sort": "country asc,name desc"}) == [gamma["id"], beta["id"], acme["id"]]


def test_list_unknown_or_bad_filter(api):
    """§4: `filter[balance]` -> 400 `Invalid filter parameter: balance`, no param (C9.2)."""
    create(api)
    assert_error(
        api.get("/customers", params={"filter[balance]": "0"}),
        400,
        None,
        "Invalid filter parameter: balance",
    )
    # C9.2: an array/object value is a 400 too; C9.5: enum values are checked.
    assert_error(api.get("/customers", params={"filter[name][x]": "1"}), 400, None)
    assert_error(api.get("/customers", params={"filter[type]": "alien"}), 400, None)


def test_list_metadata_filter(api):
    """C9.7: exact string match; objects lacking the key are excluded."""
    rep = create(api, metadata={"account-rep": "Jan", "tier": "1"})
    create(api, metadata={"account-rep": "Pam"})
    create(api)
    assert ids(api, {"metadata[account-rep]": "Jan"}) == [rep["id"]]
    assert ids(api, {"metadata[tier]": "1"}) == [rep["id"]]
    assert ids(api, {"metadata[tier]": "2"}) == []


# ---------------------------------------------------------------------------------------------
# §5: balance
# ---------------------------------------------------------------------------------------------


def test_cb1_balance_keys_and_currency_choice(api, db_url):
    """§5 / CB1: seven keys; query currency (lowercased) > customer currency > account."""
    plain = create(api, name="Plain")
    r = api.get(f"/customers/{plain['id']}/balance")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == BALANCE_KEYS
    assert body == {
        "currency": "usd",
        "total_outstanding": 0,
        "due_now": 0,
        "past_due": False,
        "open_credit_notes": 0,
        "available_credits": 0,
        "history": [],
    }

    r = api.get(f"/customers/{plain['id']}/balance", params={"currency": "EUR"})
    assert r.json()["currency"] == "eur"

    pounds = create(api, name="Pounds", currency="gbp")
    assert api.get(f"/customers/{pounds['id']}/balance").json()["currency"] == "gbp"
    r = api.get(f"/customers/{pounds['id']}/balance", params={"currency": "JPY"})
    assert r.json()["currency"] == "jpy"

    canadian = other_account_api(api, db_url, currency="cad")
    customer = create(canadian)
    assert canadian.get(f"/customers/{customer['id']}/balance").json()["currency"] == "cad"

    assert_error(api.get("/customers/999999/balance"), 404, None, "Customer was not found: 999999")


# ---------------------------------------------------------------------------------------------
# C19.4: concurrency against the real server
# ---------------------------------------------------------------------------------------------


async def _concurrent_posts(base_url: str, key: str, bodies: list[dict[str, Any]]) -> list[Any]:
    async with httpx.AsyncClient(base_url=base_url, auth=(key, ""), timeout=60) as client:
        return await asyncio.gather(*(client.post("/customers", json=b) for b in bodies))


def test_c19_4_concurrent_creates_get_distinct_numbers(server, db_url):
    """C19.4: 32 concurrent creates -> CUST-00001..CUST-00032, no duplicates, no 5xx."""
    account = new_account(db_url)
    bodies = [{"name": f"Concurrent {i}"} for i in range(32)]
    responses = asyncio.run(_concurrent_posts(server.base_url, account.key, bodies))
    statuses = [r.status_code for r in responses]
    assert not [s for s in statuses if s >= 500], [
        r.text for r in responses if r.status_code >= 500
    ]
    assert statuses == [201] * 32, [r.text for r in responses if r.status_code != 201]
    numbers = sorted(r.json()["number"] for r in responses)
    assert numbers == [f"CUST-{i:05d}" for i in range(1, 33)]
    r = httpx.get(f"{server.base_url}/customers", auth=(account.key, ""))
    assert r.headers["X-Total-Count"] == "32"


def test_c19_4_concurrent_creates_with_the_same_number(server, db_url):
    """C19.3/C19.4: 16 concurrent creates with one supplied number -> one 201, 15 x 400 number."""
    account = new_account(db_url)
    bodies = [{"name": f"Racer {i}", "number": "RACE-1"} for i in range(16)]
    responses = asyncio.run(_concurrent_posts(server.base_url, account.key, bodies))
    statuses = [r.status_code for r in responses]
    assert not [s for s in statuses if s >= 500], [
        r.text for r in responses if r.status_code >= 500
    ]
    assert statuses.count(201) == 1, statuses
    assert statuses.count(400) == 15, statuses
    for r in responses:
        if r.status_code == 400:
            assert r.json()["type"] == "invalid_request"
            assert r.json()["param"] == "number", r.text
        else:
            assert r.json()["number"] == "RACE-1"
    r = httpx.get(f"{server.base_url}/customers", auth=(account.key, ""))
    assert r.headers["X-Total-Count"] == "1"
