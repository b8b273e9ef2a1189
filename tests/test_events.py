"""Events produced by customers and contacts, and the events API (events_webhooks.md).

Rules cited: EV1-EV6, EV8, EV9, EV12, §2 (event object, actor), §7 (errors).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any

import pytest

EVENT_KEYS = {"id", "object", "type", "timestamp", "data", "user"}
# §2 Decision: actions through an API key are attributed to the synthetic user -3.
API_USER = {
    "id": -3,
    "first_name": None,
    "last_name": None,
    "email": None,
    "two_factor_enabled": False,
    "registered": True,
    "created_at": None,
    "updated_at": None,
}


def create_customer(api, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", "Customer")
    r = api.post("/customers", json=fields)
    assert r.status_code == 201, r.text
    return r.json()


def get_customer(api, customer_id: int) -> dict[str, Any]:
    r = api.get(f"/customers/{customer_id}")
    assert r.status_code == 200, r.text
    return r.json()


def patch_customer(api, customer_id: int, **fields: Any) -> dict[str, Any]:
    r = api.patch(f"/customers/{customer_id}", json=fields)
    assert r.status_code == 200, r.text
    return r.json()


def create_contact(api, customer_id: int, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", "Nancy Talty")
    r = api.post(f"/customers/{customer_id}/contacts", json=fields)
    assert r.status_code == 201, r.text
    return r.json()


def events(api, params: Any = None) -> list[dict[str, Any]]:
    r = api.get("/events", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert int(r.headers["X-Total-Count"]) == len(body)  # all tests stay on one page
    return body


def types(api, params: Any = None) -> list[str]:
    return [e["type"] for e in events(api, params)]


def assert_error(r, status: int, param: str | None = None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == "invalid_request", body
    if param is None:
        assert "param" not in body, body
    else:
        assert body.get("param") == param, body


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
# EV2 / §2: created and deleted events, the event object
# ---------------------------------------------------------------------------------------------


def test_ev2_customer_created_carries_the_full_object(api):
    """EV2, §2: customer.created with data.object = the API object; actor -3; no previous."""
    assert events(api) == []
    started = int(time.time())
    customer = create_customer(api, name="Acme", email="billing@acmecorp.com", metadata={"a": 1})
    finished = int(time.time())
    [event] = events(api)
    assert set(event) == EVENT_KEYS
    assert isinstance(event["id"], int)
    assert event["object"] == "event"
    assert event["type"] == "customer.created"
    assert type(event["timestamp"]) is int
    assert started - 1 <= event["timestamp"] <= finished + 1
    assert event["data"] == {"object": customer}  # no `previous` on *.created
    assert event["user"] == API_USER
    assert get_customer(api, customer["id"]) == event["data"]["object"]


def test_ev2_customer_deleted_carries_the_last_state(api):
    """EV2: customer.deleted carries the state just before deletion; no previous."""
    customer = create_customer(api, name="Doomed")
    last = patch_customer(api, customer["id"], city="Hill Valley", metadata={"k": "v"})
    assert api.delete(f"/customers/{customer['id']}").status_code == 204
    newest = events(api)[0]
    assert newest["type"] == "customer.deleted"
    assert newest["data"] == {"object": last}
    assert newest["user"] == API_USER


def test_event_retrieve_matches_list(api):
    """§1: GET /events/{id} returns the same event as the list; unknown ids -> 404."""
    create_customer(api)
    [listed] = events(api)
    r = api.get(f"/events/{listed['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == listed
    assert_error(api.get("/events/987654321"), 404)
    assert_error(api.get("/events/abc"), 404)


def test_events_cannot_be_written(api):
    """§1 / §7: POST, PATCH, DELETE on /events -> 405 (C1.4 message)."""
    create_customer(api)
    [event] = events(api)
    r = api.post("/events", json={"type": "customer.created"})
    assert_error(r, 405)
    assert r.json()["message"] == "Method not allowed: POST /events"
    assert_error(api.patch(f"/events/{event['id']}", json={"type": "x"}), 405)
    assert_error(api.delete(f"/events/{event['id']}"), 405)
    assert events(api) == [event]


def test_events_are_isolated_by_account(api, other_api):
    """C2.9: another account sees none of these events; their ids are 404 for it."""
    create_customer(api)
    [event] = events(api)
    assert events(other_api) == []
    assert_error(other_api.get(f"/events/{event['id']}"), 404)


# ---------------------------------------------------------------------------------------------
# EV3 / EV5: updated events and their `previous`
# ---------------------------------------------------------------------------------------------


def test_ev5_customer_updated_previous_has_only_changed_keys(api):
    """EV5: previous = old values of changed keys; metadata diffed per inner key; new -> null."""
    t0 = 1_700_000_000
    with frozen_clock(api) as move:
        move(t0)
        customer = create_customer(
            api,
            name="Acme",
            city="Austin",
            payment_terms="NET 30",
            metadata={"a": "1", "b": "2", "d": "9"},
        )
        move(t0 + 600)
        updated = patch_customer(
            api,
            customer["id"],
            name="Acme Corp",
            city="Austin",  # sent, unchanged: not in previous
            phone="555-0100",  # was null
            metadata={"a": "1", "b": "3", "c": "4"},
        )
    newest = events(api)[0]
    assert newest["type"] == "customer.updated"
    assert newest["user"] == API_USER
    assert newest["data"]["object"] == updated
    assert t0 + 600 <= newest["timestamp"] <= t0 + 602
    assert newest["data"]["previous"] == {
        "name": "Acme",
        "phone": None,
        "metadata": {"b": "2", "c": None, "d": "9"},
        "updated_at": customer["updated_at"],
    }


def test_ev5_autopay_update_previous(api):
    """EV5: AutoPay on clears payment terms: both old values appear in previous."""
    t0 = 1_700_000_000
    with frozen_clock(api) as move:
        move(t0)
        customer = create_customer(api, payment_terms="NET 14")
        move(t0 + 60)
        patch_customer(api, customer["id"], autopay=True)
    previous = events(api)[0]["data"]["previous"]
    assert previous == {
        "autopay": False,
        "payment_terms": "NET 14",
        "updated_at": customer["updated_at"],
    }


def test_ev3_update_that_changes_nothing_records_no_event(api):
    """EV3: no customer.updated when no field other than updated_at changed."""
    customer = create_customer(api, name="Same", city="Austin", metadata={"a": "1"})
    before = events(api)
    patch_customer(api, customer["id"], name="Same", city="Austin", metadata={"a": "1"})
    patch_customer(api, customer["id"])
    r = api.patch(f"/customers/{customer['id']}", data={"name": "Same"})
    assert r.status_code == 200, r.text
    assert events(api) == before
    # The write-only field counts as a change for CU18, but the event object does not show it:
    # whatever the server records must not be an event whose previous is empty.
    patch_customer(api, customer["id"], disabled_payment_methods=["check"])
    for event in events(api):
        if event["type"] == "customer.updated":
            assert set(event["data"]["previous"]) - {"updated_at"}, event


def test_ev1_failed_requests_record_no_event(api):
    """EV1: a 400/404 request commits nothing, so no event is recorded."""
    customer = create_customer(api, name="Acme")
    contact = create_contact(api, customer["id"])
    before = events(api)
    bad = [
        api.post("/customers", json={}),
        api.post("/customers", json={"name": "X", "email": "not-an-email"}),
        api.post("/customers", json={"name": "X", "number": customer["number"]}),
        api.post("/customers", json={"name": "X", "taxes": ["vat"]}),
        api.patch(f"/customers/{customer['id']}", json={"name": "New", "type": "alien"}),
        api.patch(f"/customers/{customer['id']}", json={"name": "New", "taxes": ["vat"]}),
        api.patch(
            f"/customers/{customer['id']}",
            json={"name": "New", "parent_customer": customer["id"]},
        ),
        api.patch("/customers/999999", json={"name": "New"}),
        api.delete("/customers/999999"),
        api.post(f"/customers/{customer['id']}/contacts", json={"email": "a@example.com"}),
        api.patch(
            f"/customers/{customer['id']}/contacts/{contact['id']}",
            json={"title": "CFO", "email": "bad"},
        ),
        api.post("/customers/999999/contacts", json={"name": "Ghost"}),
    ]
    assert [r.status_code for r in bad] == [400] * 7 + [404] * 2 + [400] * 2 + [404]
    assert events(api) == before
    assert get_customer(api, customer["id"])["name"] == "Acme"


# ---------------------------------------------------------------------------------------------
# EV8 / EV9: contact events
# ---------------------------------------------------------------------------------------------


def test_ev9_contact_events_embed_the_customer(api):
    """EV2, EV5, EV9: contact.created/updated/deleted with data.object.customer expanded."""
    customer = create_customer(api, name="Acme", email="billing@acmecorp.com")
    contact = create_contact(api, customer["id"], email="nancy.talty@example.com")
    created = events(api)[0]
    assert created["type"] == "contact.created"
    assert created["user"] == API_USER
    assert created["data"] == {"object": {**contact, "customer": customer}}

    r = api.patch(
        f"/customers/{customer['id']}/contacts/{contact['id']}",
        json={"title": "CFO", "name": "Nancy T."},
    )
    assert r.status_code == 200, r.text
    updated_contact = r.json()
    updated = events(api)[0]
    assert updated["type"] == "contact.updated"
    assert updated["data"]["object"] == {**updated_contact, "customer": customer}
    previous = updated["data"]["previous"]
    # Only changed keys; the embedded customer did not change.
    assert set(previous) - {"updated_at"} == {"title", "name"}
    assert previous["title"] is None
    assert previous["name"] == "Nancy Talty"
    if "updated_at" in previous:
        assert previous["updated_at"] == contact["updated_at"]

    r = api.delete(f"/customers/{customer['id']}/contacts/{contact['id']}")
    assert r.status_code == 204
    deleted = events(api)[0]
    assert deleted["type"] == "contact.deleted"
    assert deleted["data"] == {"object": {**updated_contact, "customer": customer}}


def test_ev3_contact_update_that_changes_nothing_records_no_event(api):
    """EV3 for contacts."""
    customer = create_customer(api)
    contact = create_contact(api, customer["id"], title="CFO")
    before = events(api)
    r = api.patch(
        f"/customers/{customer['id']}/contacts/{contact['id']}",
        json={"title": "CFO", "name": contact["name"]},
    )
    assert r.status_code == 200, r.text
    assert events(api) == before


def test_ev8_related_to_customer_returns_its_events(api):
    """EV8, EV12: related_to=customer,<id> returns the customer's and its contacts' events."""
    acme = create_customer(api, name="Acme")
    beta = create_customer(api, name="Beta")
    contact = create_contact(api, acme["id"])
    create_contact(api, beta["id"], name="Other person")
    patch_customer(api, acme["id"], name="Acme Inc")
    api.patch(f"/customers/{acme['id']}/contacts/{contact['id']}", json={"title": "CFO"})

    related = events(api, {"related_to": f"customer,{acme['id']}"})
    assert [e["type"] for e in related] == [
        "contact.updated",
        "customer.updated",
        "contact.created",
        "customer.created",
    ]
    for event in related:
        subject = event["data"]["object"]
        customer = subject if subject["object"] == "customer" else subject["customer"]
        assert customer["id"] == acme["id"]
    assert types(api, {"related_to": f"customer,{beta['id']}"}) == [
        "contact.created",
        "customer.created",
    ]
    assert events(api, {"related_to": "customer,999999"}) == []
    # A contact's own events are associated with the contact as subject.
    assert types(api, {"related_to": f"contact,{contact['id']}"}) == [
        "contact.updated",
        "contact.created",
    ]

    # Events survive the deletion of their subject.
    assert api.delete(f"/customers/{acme['id']}").status_code == 204
    assert types(api, {"related_to": f"customer,{acme['id']}"})[0] == "customer.deleted"


# ---------------------------------------------------------------------------------------------
# EV12: listing
# ---------------------------------------------------------------------------------------------


def test_ev12_newest_first(api):
    """EV12: default order is id descending."""
    first = create_customer(api, name="First")
    second = create_customer(api, name="Second")
    patch_customer(api, first["id"], name="First Inc")
    create_contact(api, second["id"])
    listed = events(api)
    assert [e["type"] for e in listed] == [
        "contact.created",
        "customer.updated",
        "customer.created",
        "customer.created",
    ]
    listed_ids = [e["id"] for e in listed]
    assert listed_ids == sorted(listed_ids, reverse=True)
    assert len(set(listed_ids)) == 4
    assert listed[2]["data"]["object"]["id"] == second["id"]
    assert listed[3]["data"]["object"]["id"] == first["id"]


def test_ev12_pagination(api):
    """C7 with the EV12 order: page 1 holds the newest events."""
    for i in range(3):
        create_customer(api, name=f"C{i}")
    all_ids = [e["id"] for e in events(api)]
    r = api.get("/events", params={"per_page": 2})
    assert r.status_code == 200
    assert [e["id"] for e in r.json()] == all_ids[:2]
    assert r.headers["X-Total-Count"] == "3"
    assert 'rel="next"' in r.headers["Link"]
    r = api.get("/events", params={"per_page": 2, "page": 2})
    assert [e["id"] for e in r.json()] == all_ids[2:]


def test_ev12_type_filters(api):
    """EV12: filter[type]=<event type>; type=<object>; unknown object -> 400 (§7)."""
    customer = create_customer(api)
    create_contact(api, customer["id"])
    patch_customer(api, customer["id"], name="Renamed")
    assert types(api, {"filter[type]": "customer.updated"}) == ["customer.updated"]
    assert types(api, {"filter[type]": "contact.created"}) == ["contact.created"]
    assert types(api, {"filter[type]": "invoice.paid"}) == []
    assert types(api, {"type": "customer"}) == ["customer.updated", "customer.created"]
    assert types(api, {"type": "contact"}) == ["contact.created"]
    assert types(api, {"type": "invoice"}) == []
    assert types(api, {"type": "customer", "filter[type]": "customer.created"}) == [
        "customer.created"
    ]
    before = events(api)
    assert_error(api.get("/events", params={"type": "bogus"}), 400)
    assert_error(api.get("/events", params={"related_to": "bogus,1"}), 400)
    assert_error(api.get("/events", params={"filter[bogus]": "1"}), 400)
    assert events(api) == before


@pytest.mark.parametrize(
    ("actor", "expected"), [("api", 2), ("customer", 0), ("invoiced", 0), ("team", 0)]
)
def test_ev12_from_actor(api, actor, expected):
    """EV12: from=team|customer|invoiced|api -> actor id >0, -1, -2, -3."""
    customer = create_customer(api)
    create_contact(api, customer["id"])
    assert len(events(api, {"from": actor})) == expected
    assert len(events(api, {"filter[user_id]": "-3"})) == 2


def test_ev12_start_and_end_date_are_inclusive(api):
    """EV12: start_date / end_date on timestamp, inclusive at both ends."""
    t0 = 1_700_000_000
    with frozen_clock(api) as move:
        move(t0)
        customer = create_customer(api, name="T0")
        move(t0 + 1000)
        patch_customer(api, customer["id"], name="T1000")
        move(t0 + 2000)
        patch_customer(api, customer["id"], name="T2000")
    stamps = [e["timestamp"] for e in events(api)]
    assert len(stamps) == 3
    t_first, t_mid, t_last = sorted(stamps)
    assert t0 <= t_first <= t0 + 2
    assert t0 + 1000 <= t_mid <= t0 + 1002
    assert t0 + 2000 <= t_last <= t0 + 2002

    def names(params: dict[str, Any]) -> list[str]:
        return [e["data"]["object"]["name"] for e in events(api, params)]

    assert names({"start_date": t_mid}) == ["T2000", "T1000"]
    assert names({"end_date": t_mid}) == ["T1000", "T0"]
    assert names({"start_date": t_mid, "end_date": t_mid}) == ["T1000"]
    assert names({"start_date": t_mid + 1, "end_date": t_last - 1}) == []
    assert names({"filter[timestamp]": t_first}) == ["T0"]
