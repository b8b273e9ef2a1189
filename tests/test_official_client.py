"""The OFFICIAL Invoiced Python client (invoiced==3.0.0) against the real server (uvicorn).

Each test builds a fresh account and points the unmodified client at the server the way
README C20.2 prescribes: `client.api_url = BASE`. Rule IDs refer to /work/shared/spec.
"""

from __future__ import annotations

import base64
import socket
from urllib.parse import urlsplit

import invoiced
import pytest
from invoiced import util
from invoiced.errors import AuthenticationError, InvalidRequestError
from invoiced.objects import List

from tests.support import ServerProcess, new_account

SEED = {
    "name": "Acme",
    "email": "billing@acmecorp.com",
    "number": "1234",
    "payment_terms": "NET 30",
}

# customers.md §2 / Example C-1: every documented field is always present (C4.3).
CUSTOMER_KEYS = {
    "id",
    "object",
    "name",
    "number",
    "email",
    "type",
    "autopay",
    "autopay_delay_days",
    "payment_terms",
    "payment_source",
    "attention_to",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
    "country",
    "language",
    "currency",
    "chase",
    "chasing_cadence",
    "next_chase_step",
    "phone",
    "credit_hold",
    "credit_limit",
    "owner",
    "taxable",
    "taxes",
    "tax_id",
    "avalara_entity_use_code",
    "avalara_exemption_number",
    "parent_customer",
    "notes",
    "sign_up_page",
    "sign_up_url",
    "statement_pdf_url",
    "ach_gateway",
    "cc_gateway",
    "active",
    "credit_balance",
    "metadata",
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


@pytest.fixture
def client(server: ServerProcess, db_url: str) -> invoiced.Client:
    account = new_account(db_url)
    c = invoiced.Client(account.key)
    c.api_url = server.base_url
    return c


def follow(client: invoiced.Client, url: str) -> tuple[list, List]:
    """Request a `Link` URL the way the Go client does (C20.1): strip the configured base."""
    assert url.startswith(client.api_url + "/"), url
    response = client.request("GET", url[len(client.api_url) :])
    objects = util.build_objects(client.Customer, response["body"])
    meta = List(response["headers"]["link"], response["headers"]["x-total-count"])
    return objects, meta


# --- customers: create / retrieve / update ---------------------------------------------------


def test_create_seed_customer_returns_documented_fields_cu2_cu6_c4_3(client, server):
    customer = client.Customer.create(**SEED)

    assert isinstance(customer, invoiced.Customer)
    assert set(customer.keys()) == CUSTOMER_KEYS
    assert isinstance(customer.id, int)
    assert customer.object == "customer"
    assert customer.name == "Acme"
    assert customer.email == "billing@acmecorp.com"
    assert customer.number == "1234"  # CU2: a supplied number is kept
    assert customer.payment_terms == "NET 30"
    assert customer.type == "company"  # CU3 / C21 default_customer_type
    assert customer.autopay is False  # CU6
    assert customer.autopay_delay_days is None
    assert customer.country == "US"  # CU4 / C21
    assert customer.currency is None
    assert customer.chase is True
    assert customer.taxable is True
    assert customer.taxes == []
    assert customer.credit_hold is False
    assert customer.credit_limit is None
    assert customer.active is True
    assert customer.payment_source is None
    assert customer.attention_to is None
    assert customer.sign_up_url is None
    assert customer.credit_balance == 0
    assert customer.metadata == {}
    assert isinstance(customer.created_at, int)
    assert isinstance(customer.updated_at, int)
    # C18 / CU16: absolute URL under {API base}/portal
    assert customer.statement_pdf_url.startswith(server.base_url + "/portal/statements/")
    assert customer.statement_pdf_url.endswith("/pdf")
    assert "disabled_payment_methods" not in customer  # write-only


def test_create_without_number_generates_cust_00001_cu2_c19(client):
    customer = client.Customer.create(name="Acme")
    assert customer.number == "CUST-00001"
    assert client.Customer.create(name="Beta").number == "CUST-00002"


def test_retrieve_returns_same_customer(client):
    created = client.Customer.create(**SEED)
    fetched = client.Customer.retrieve(created.id)
    assert isinstance(fetched, invoiced.Customer)
    assert dict(fetched) == dict(created)


def test_update_via_save_example_c2_step1(client):
    customer = client.Customer.create(**SEED)
    customer.attention_to = "Sarah Fisher"
    customer.address1 = "342 Amber St"
    customer.city = "Hill Valley"
    customer.state = "CA"
    customer.postal_code = "94523"
    customer.tax_id = "893-934835"
    customer.phone = "(820) 297-2983"
    customer.payment_terms = "NET 14"

    assert customer.save() is True
    # the client refreshes the object from the PATCH response
    assert customer.attention_to == "Sarah Fisher"
    assert customer.payment_terms == "NET 14"
    assert customer.city == "Hill Valley"
    assert customer.name == "Acme"  # untouched fields are kept

    fresh = client.Customer.retrieve(customer.id)
    assert fresh.attention_to == "Sarah Fisher"
    assert fresh.address1 == "342 Amber St"
    assert fresh.city == "Hill Valley"
    assert fresh.state == "CA"
    assert fresh.postal_code == "94523"
    assert fresh.tax_id == "893-934835"
    assert fresh.phone == "(820) 297-2983"
    assert fresh.payment_terms == "NET 14"
    assert fresh.email == "billing@acmecorp.com"
    assert fresh.number == "1234"


def test_save_none_clears_field_c3_4(client):
    customer = client.Customer.create(name="Acme", attention_to="Sarah Fisher")
    customer.attention_to = None
    assert customer.save() is True
    assert customer.attention_to is None
    assert client.Customer.retrieve(customer.id).attention_to is None


def test_save_without_changes_sends_nothing(client):
    customer = client.Customer.create(**SEED)
    assert customer.save() is False


def test_save_autopay_forces_payment_terms_null_cu7_example_c2(client):
    customer = client.Customer.create(**SEED)
    customer.autopay = True
    customer.payment_terms = "NET 7"
    assert customer.save() is True
    assert customer.autopay is True
    assert customer.payment_terms is None  # CU7: value sent in the same request discarded

    customer.autopay = False
    assert customer.save() is True
    assert customer.autopay is False
    assert customer.payment_terms is None  # Example C-2 step 5: stays null


def test_metadata_set_then_replace_then_clear_c11_4_cu11(client):
    customer = client.Customer.create(**SEED)

    customer.metadata = {"icp_number": "1234567890", "account_rep": "Jan"}
    assert customer.save() is True
    assert customer.metadata == {"icp_number": "1234567890", "account_rep": "Jan"}

    customer.metadata = {"account_rep": "Pam"}
    assert customer.save() is True
    assert customer.metadata == {"account_rep": "Pam"}  # whole map replaced
    assert client.Customer.retrieve(customer.id).metadata == {"account_rep": "Pam"}

    # omitting metadata leaves it unchanged
    customer.attention_to = "Sarah Fisher"
    assert customer.save() is True
    assert customer.metadata == {"account_rep": "Pam"}

    customer.metadata = {}
    assert customer.save() is True
    assert customer.metadata == {}
    assert client.Customer.retrieve(customer.id).metadata == {}


def test_metadata_values_stored_as_strings_c11_3(client):
    customer = client.Customer.create(name="Acme", metadata={"count": 5, "flag": True})
    assert customer.metadata == {"count": "5", "flag": "1"}


# --- listing -----------------------------------------------------------------------------------


def test_list_pagination_follow_next_links_c7_c20_3(client, server):
    ids = {client.Customer.create(name=f"Customer {i}").id for i in range(7)}
    base = server.base_url

    customers, meta = client.Customer.list(per_page=3)
    assert meta.total_count == 7  # C7.4
    assert all(isinstance(c, invoiced.Customer) for c in customers)
    assert len(customers) == 3
    # C7.5/C7.6: exact URLs, per_page echoed because it is not 100, no "previous" on page 1
    assert meta.links == {
        "self": f"{base}/customers?page=1&per_page=3",
        "first": f"{base}/customers?page=1&per_page=3",
        "next": f"{base}/customers?page=2&per_page=3",
        "last": f"{base}/customers?page=3&per_page=3",
    }

    seen = [c.id for c in customers]
    pages = 1
    while "next" in meta.links:
        body, meta = follow(client, meta.links["next"])
        pages += 1
        assert meta.total_count == 7
        # C20.3: self/first/last on every page
        assert {"self", "first", "last"} <= set(meta.links)
        assert meta.links["first"] == f"{base}/customers?page=1&per_page=3"
        assert meta.links["last"] == f"{base}/customers?page=3&per_page=3"
        assert meta.links["self"] == f"{base}/customers?page={pages}&per_page=3"
        assert meta.links["previous"] == f"{base}/customers?page={pages - 1}&per_page=3"
        assert all(isinstance(c, invoiced.Customer) for c in body)
        seen += [c.id for c in body]
        assert pages <= 3, "next link must disappear on the last page (C20.3)"

    assert pages == 3
    assert len(seen) == 7
    assert set(seen) == ids
    assert seen == sorted(seen)  # C7.9 default order id asc
    assert meta.links["self"] == meta.links["last"]  # the Java client's stop condition


def test_list_default_per_page_and_empty_result_c7_8(client, server):
    customers, meta = client.Customer.list()
    assert customers == []
    assert meta.total_count == 0
    url = f"{server.base_url}/customers?page=1"
    assert meta.links == {"self": url, "first": url, "last": url}


def test_list_page_past_end_c7_7(client, server):
    for i in range(4):
        client.Customer.create(name=f"C{i}")
    customers, meta = client.Customer.list(page=5, per_page=3)
    assert customers == []
    assert meta.total_count == 4
    base = server.base_url
    assert meta.links == {
        "self": f"{base}/customers?page=5&per_page=3",
        "first": f"{base}/customers?page=1&per_page=3",
        "previous": f"{base}/customers?page=4&per_page=3",
        "last": f"{base}/customers?page=2&per_page=3",
    }


def test_list_filter_autopay_python_booleans_c9_4(client):
    manual = client.Customer.create(name="Manual")
    auto = client.Customer.create(name="Auto", autopay=True)

    customers, meta = client.Customer.list(filter={"autopay": False})  # filter[autopay]=False
    assert [c.id for c in customers] == [manual.id]
    assert meta.total_count == 1

    customers, meta = client.Customer.list(filter={"autopay": True})  # filter[autopay]=True
    assert [c.id for c in customers] == [auto.id]
    assert meta.total_count == 1


def test_list_filter_keeps_filter_in_link_urls_c7_6(client):
    for i in range(3):
        client.Customer.create(name=f"C{i}")
    _, meta = client.Customer.list(filter={"autopay": False}, per_page=2)
    assert meta.total_count == 3
    nxt = meta.links["next"]
    assert urlsplit(nxt).query == "filter%5Bautopay%5D=False&page=2&per_page=2"
    body, meta2 = follow(client, nxt)
    assert len(body) == 1
    assert meta2.total_count == 3
    assert "next" not in meta2.links


def test_list_metadata_filter_c9_7(client):
    pam = client.Customer.create(name="Pam's", metadata={"account_rep": "Pam"})
    client.Customer.create(name="Jan's", metadata={"account_rep": "Jan"})
    client.Customer.create(name="Nobody's")

    customers, meta = client.Customer.list(metadata={"account_rep": "Pam"})
    assert [c.id for c in customers] == [pam.id]
    assert meta.total_count == 1


def test_list_unknown_filter_is_invalid_request_c9_2(client):
    with pytest.raises(InvalidRequestError) as info:
        client.Customer.list(filter={"foo": "1"})
    assert info.value.status_code == 400
    assert info.value.error["type"] == "invalid_request"
    assert "param" not in info.value.error


# --- delete ------------------------------------------------------------------------------------


def test_delete_returns_true_then_404_c16(client):
    customer = client.Customer.create(**SEED)
    customer_id = customer.id
    assert customer.delete() is True
    assert dict(customer) == {"id": customer_id}  # 204 → the client keeps only the id

    with pytest.raises(InvalidRequestError) as info:
        client.Customer.retrieve(customer_id)
    assert info.value.status_code == 404
    assert info.value.error["type"] == "invalid_request"
    assert info.value.error["message"] == f"Customer was not found: {customer_id}"

    # C16.4: deleting an already-deleted object → 404
    with pytest.raises(InvalidRequestError) as info:
        customer.delete()
    assert info.value.status_code == 404


# --- errors mapped to the client's exception classes (C5, C6) ---------------------------------


def test_bad_key_raises_authentication_error_scrubbed_c2_6(server):
    bad = invoiced.Client("sk_live_1234abcd")
    bad.api_url = server.base_url
    with pytest.raises(AuthenticationError) as info:
        bad.Customer.list()
    error = info.value
    assert error.status_code == 401
    assert error.error["type"] == "invalid_request"
    assert error.error["message"] == (
        "We could not authenticate you with the API Key: sk_**********bcd"
    )
    assert str(error) == ("(401): We could not authenticate you with the API Key: sk_**********bcd")
    assert "1234abcd" not in str(error)


def test_short_bad_key_is_echoed_unscrubbed_c2_6(server):
    bad = invoiced.Client("abcdef")  # 6 chars: not longer than 6 → shown as given
    bad.api_url = server.base_url
    with pytest.raises(AuthenticationError) as info:
        bad.Customer.retrieve(1)
    assert info.value.status_code == 401
    assert info.value.error["message"] == "We could not authenticate you with the API Key: abcdef"


def test_missing_id_raises_invalid_request_404_c5(client):
    with pytest.raises(InvalidRequestError) as info:
        client.Customer.retrieve(424242)
    assert info.value.status_code == 404
    assert info.value.error["type"] == "invalid_request"
    assert info.value.error["message"] == "Customer was not found: 424242"
    assert "param" not in info.value.error  # C6.3


def test_other_accounts_customer_is_404_c2_9(client, server, db_url):
    customer = client.Customer.create(**SEED)
    other = invoiced.Client(new_account(db_url).key)
    other.api_url = server.base_url
    with pytest.raises(InvalidRequestError) as info:
        other.Customer.retrieve(customer.id)
    assert info.value.status_code == 404


def test_invalid_email_raises_invalid_request_400_param_email_cu5(client):
    with pytest.raises(InvalidRequestError) as info:
        client.Customer.create(name="X", email="not-an-email")
    error = info.value
    assert error.status_code == 400
    assert error.error["type"] == "invalid_request"
    assert error.error["param"] == "email"
    _, meta = client.Customer.list()
    assert meta.total_count == 0  # nothing stored


def test_missing_name_raises_invalid_request_param_name_cu1(client):
    with pytest.raises(InvalidRequestError) as info:
        client.Customer.create(email="billing@acmecorp.com")
    assert info.value.status_code == 400
    assert info.value.error["type"] == "invalid_request"
    assert info.value.error["param"] == "name"


def test_duplicate_number_raises_param_number_cu2(client):
    client.Customer.create(**SEED)
    with pytest.raises(InvalidRequestError) as info:
        client.Customer.create(name="X", number="1234")
    assert info.value.status_code == 400
    assert info.value.error["param"] == "number"


def test_invalid_update_via_save_raises_c6(client):
    customer = client.Customer.create(**SEED)
    customer.type = "alien"
    with pytest.raises(InvalidRequestError) as info:
        customer.save()
    assert info.value.status_code == 400
    assert info.value.error["param"] == "type"  # CU3
    assert client.Customer.retrieve(customer.id).type == "company"


# --- contacts (customers.md §6) ----------------------------------------------------------------


def test_contacts_create_list_retrieve_save_delete(client):
    customer = client.Customer.create(**SEED)
    contacts = customer.contacts()

    contact = contacts.create(name="Nancy Talty", email="nancy.talty@example.com")
    assert isinstance(contact, invoiced.Contact)
    assert contact.object == "contact"
    assert contact.customer == customer.id
    assert contact.name == "Nancy Talty"
    assert contact.email == "nancy.talty@example.com"
    assert contact.primary is True
    assert contact.sms_enabled is None
    assert contact.country == "US"  # CT4
    assert contact.send_new_invoices is False
    assert contact.title is None
    assert "metadata" not in contact  # CT7
    assert contact.endpoint() == f"/customers/{customer.id}/contacts/{contact.id}"

    second = contacts.create(name="Adam Able")
    listed, meta = contacts.list()
    assert [c.id for c in listed] == [contact.id, second.id]  # CT6 id asc
    assert meta.total_count == 2
    assert {"self", "first", "last"} <= set(meta.links)
    assert meta.links["self"].endswith(f"/customers/{customer.id}/contacts?page=1")

    fetched = contacts.retrieve(contact.id)
    assert dict(fetched) == dict(contact)

    fetched.title = "CFO"
    fetched.primary = False
    assert fetched.save() is True
    assert fetched.title == "CFO"
    assert fetched.primary is False
    again = contacts.retrieve(contact.id)
    assert again.title == "CFO"
    assert again.primary is False
    assert again.email == "nancy.talty@example.com"

    assert fetched.delete() is True
    with pytest.raises(InvalidRequestError) as info:
        contacts.retrieve(contact.id)
    assert info.value.status_code == 404
    assert info.value.error["message"] == f"Contact was not found: {contact.id}"
    _, meta = contacts.list()
    assert meta.total_count == 1


def test_contact_of_other_customer_is_404_ct5(client):
    acme = client.Customer.create(**SEED)
    other = client.Customer.create(name="Other")
    contact = acme.contacts().create(name="Nancy Talty")
    with pytest.raises(InvalidRequestError) as info:
        other.contacts().retrieve(contact.id)
    assert info.value.status_code == 404
    assert info.value.error["message"] == f"Contact was not found: {contact.id}"


def test_contact_without_name_is_400_ct2(client):
    customer = client.Customer.create(**SEED)
    with pytest.raises(InvalidRequestError) as info:
        customer.contacts().create(email="nancy.talty@example.com")
    assert info.value.status_code == 400
    assert info.value.error["param"] == "name"


def test_contact_for_missing_customer_is_404_ct1(client):
    ghost = invoiced.Customer(client, 999999, {})
    with pytest.raises(InvalidRequestError) as info:
        ghost.contacts().create(name="Nancy Talty")
    assert info.value.status_code == 404
    assert info.value.error["message"] == "Customer was not found: 999999"


# --- events (events_webhooks.md) ---------------------------------------------------------------


def test_events_customer_created_updated_deleted_ev2_ev3_ev5_ev12(client):
    customer = client.Customer.create(**SEED)
    customer_id = customer.id
    customer.attention_to = "Sarah Fisher"
    customer.payment_terms = "NET 14"
    customer.save()
    customer.delete()

    events, meta = client.Event.list()
    assert all(isinstance(e, invoiced.Event) for e in events)
    # EV12: newest first; only this account's events
    assert [e.type for e in events] == ["customer.deleted", "customer.updated", "customer.created"]
    assert meta.total_count == 3
    ids = [e.id for e in events]
    assert ids == sorted(ids, reverse=True)

    deleted, updated, created = events
    for event in events:
        assert event.object == "event"
        assert isinstance(event.timestamp, int)
        assert event.data["object"]["id"] == customer_id
        assert event.data["object"]["object"] == "customer"
        assert event.user["id"] == -3  # API-key actor (§2 Decision)

    # EV2: created carries the full new object
    assert set(created.data["object"]) == CUSTOMER_KEYS
    assert created.data["object"]["payment_terms"] == "NET 30"
    assert created.data["object"]["attention_to"] is None
    assert "previous" not in created.data

    # EV5: previous holds old values of changed keys
    assert updated.data["object"]["attention_to"] == "Sarah Fisher"
    assert updated.data["object"]["payment_terms"] == "NET 14"
    previous = updated.data["previous"]
    assert previous["attention_to"] is None
    assert previous["payment_terms"] == "NET 30"
    assert set(previous) - {"updated_at"} == {"attention_to", "payment_terms"}

    # EV2: deleted carries the last state before deletion
    assert deleted.data["object"]["attention_to"] == "Sarah Fisher"
    assert "previous" not in deleted.data

    # filters through the client
    only_created, meta = client.Event.list(filter={"type": "customer.created"})
    assert [e.id for e in only_created] == [created.id]
    assert meta.total_count == 1
    related, _ = client.Event.list(related_to=f"customer,{customer_id}")
    assert [e.id for e in related] == ids

    fetched = client.Event.retrieve(updated.id)
    assert dict(fetched) == dict(updated)


def test_save_without_real_change_records_no_update_event_ev3(client):
    customer = client.Customer.create(**SEED)
    customer.payment_terms = "NET 30"  # same value
    customer.save()
    events, meta = client.Event.list()
    assert [e.type for e in events] == ["customer.created"]
    assert meta.total_count == 1


def test_events_for_contacts_ev8_ev9(client):
    customer = client.Customer.create(**SEED)
    contact = customer.contacts().create(name="Nancy Talty")
    contact.title = "CFO"
    contact.save()
    contact.delete()

    events, _ = client.Event.list(related_to=f"customer,{customer.id}")
    assert [e.type for e in events] == [
        "contact.deleted",
        "contact.updated",
        "contact.created",
        "customer.created",
    ]
    created = events[2]
    assert created.data["object"]["id"] == contact.id
    # EV9: contacts embed the expanded customer object
    assert created.data["object"]["customer"]["id"] == customer.id
    assert created.data["object"]["customer"]["object"] == "customer"
    assert events[1].data["previous"]["title"] is None


# --- balance (customers.md §5) -----------------------------------------------------------------


def test_balance_has_seven_keys_with_zeros_cb1_cb6(client):
    customer = client.Customer.create(**SEED)
    balance = customer.balance()
    assert set(balance) == BALANCE_KEYS
    assert balance == {
        "currency": "usd",  # CB1: account currency
        "total_outstanding": 0,
        "due_now": 0,
        "past_due": False,
        "open_credit_notes": 0,
        "available_credits": 0,
        "history": [],
    }
    # C4.5: whole values are JSON integers
    assert isinstance(balance["total_outstanding"], int)
    assert isinstance(balance["due_now"], int)


def test_balance_of_retrieved_customer_uses_customer_currency_cb1(client):
    customer = client.Customer.create(name="Euro", currency="EUR")
    assert customer.currency == "eur"  # C4.6
    balance = client.Customer.retrieve(customer.id).balance()
    assert balance["currency"] == "eur"


# --- idempotency (C14) -------------------------------------------------------------------------


def test_idempotency_key_create_twice_returns_same_customer_c14_4(client):
    first = client.Customer.create(idempotency_key="abc123456", name="Acme")
    second = client.Customer.create(idempotency_key="abc123456", name="Acme")
    assert second.id == first.id
    assert dict(second) == dict(first)
    _, meta = client.Customer.list()
    assert meta.total_count == 1

    # C14.4 Decision: same key, different body → 400 param Idempotency-Key, nothing executed
    with pytest.raises(InvalidRequestError) as info:
        client.Customer.create(idempotency_key="abc123456", name="Other")
    assert info.value.status_code == 400
    assert info.value.error["param"] == "Idempotency-Key"
    _, meta = client.Customer.list()
    assert meta.total_count == 1


def test_idempotency_key_too_short_c14_3(client):
    with pytest.raises(InvalidRequestError) as info:
        client.Customer.create(idempotency_key="abc", name="Acme")
    assert info.value.status_code == 400
    _, meta = client.Customer.list()
    assert meta.total_count == 0


def test_idempotency_key_on_save_c14_2(client):
    customer = client.Customer.create(**SEED)
    customer.attention_to = "Sarah Fisher"
    assert customer.save(idempotency_key="patch-key-1") is True
    assert customer.attention_to == "Sarah Fisher"


# --- raw header casing on the wire (C4.9, C2.7) ------------------------------------------------


def raw_get(server: ServerProcess, path: str, key: str | None) -> tuple[str, list[tuple[str, str]]]:
    """One HTTP/1.1 GET over a plain socket; returns the status line and raw header pairs."""
    host, port = "127.0.0.1", server.port
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    if key is not None:
        token = base64.b64encode(f"{key}:".encode()).decode()
        lines.append(f"Authorization: Basic {token}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    chunks = []
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head = b"".join(chunks).split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status, *header_lines = head.split("\r\n")
    headers = [(name, value.strip()) for name, value in (h.split(":", 1) for h in header_lines)]
    return status, headers


def test_raw_header_names_canonical_case_on_wire_c4_9_c2_7(client, server):
    client.Customer.create(**SEED)
    status, headers = raw_get(server, "/customers?per_page=1", client.api_key)
    assert status.startswith("HTTP/1.1 200")
    names = [name for name, _ in headers]
    for required in ("Link", "X-Total-Count", "Content-Type", "WWW-Authenticate", "Cache-Control"):
        assert required in names, f"{required!r} not sent with that exact casing: {names}"
    values = dict(headers)
    assert values["X-Total-Count"] == "1"
    assert values["Content-Type"].startswith("application/json")
    assert values["WWW-Authenticate"] == 'Basic realm="Invoiced"'
    assert values["Cache-Control"] == "no-cache, no-store"
    base = server.base_url
    assert values["Link"] == (
        f'<{base}/customers?page=1&per_page=1>; rel="self", '
        f'<{base}/customers?page=1&per_page=1>; rel="first", '
        f'<{base}/customers?page=1&per_page=1>; rel="last"'
    )


def test_raw_header_names_on_error_response_c2_7(server):
    status, headers = raw_get(server, "/customers", "sk_live_1234abcd")
    assert status.startswith("HTTP/1.1 401")
    values = dict(headers)
    assert values.get("WWW-Authenticate") == 'Basic realm="Invoiced"'
    assert values.get("Cache-Control") == "no-cache, no-store"
    assert values.get("Content-Type", "").startswith("application/json")
