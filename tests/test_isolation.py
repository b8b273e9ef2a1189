"""Tenant isolation (README C2.9) and contact scoping (customers.md CT5).

Account A (`api`) owns the data; account B (`other_api`) uses A's ids on every route that takes
an id in its path. Each such request must behave exactly like a request for a missing id
(404, C5 message, no `param`), change nothing in A's account and record no event anywhere
(events_webhooks.md EV1). The route table is read from the app, so a new route with a path
parameter fails `test_every_path_parameter_route_is_classified` until it is classified here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest


@dataclass
class World:
    """A's objects (x, y: customers; cx under x, cy under y) and B's own customer."""

    x: int
    y: int
    cx: int
    cy: int
    x_number: str
    a_events: list[int]
    b_customer: int
    b_contact: int


def _created(r):
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def world(api, other_api):
    x = _created(api.post("/customers", json={"name": "A-X", "metadata": {"rep": "alice"}}))
    y = _created(api.post("/customers", json={"name": "A-Y", "metadata": {"rep": "alice"}}))
    cx = _created(api.post(f"/customers/{x['id']}/contacts", json={"name": "A-X contact"}))
    cy = _created(api.post(f"/customers/{y['id']}/contacts", json={"name": "A-Y contact"}))
    patched = api.patch(f"/customers/{x['id']}", json={"city": "Paris"})
    assert patched.status_code == 200, patched.text
    events = api.get("/events")
    assert events.status_code == 200, events.text
    a_events = [e["id"] for e in events.json()]
    assert len(a_events) >= 5  # 2 customer.created, 2 contact.created, 1 customer.updated
    b = _created(other_api.post("/customers", json={"name": "B-1", "metadata": {"rep": "bob"}}))
    b_contact = _created(other_api.post(f"/customers/{b['id']}/contacts", json={"name": "B-c"}))
    return World(
        x=x["id"],
        y=y["id"],
        cx=cx["id"],
        cy=cy["id"],
        x_number=x["number"],
        a_events=a_events,
        b_customer=b["id"],
        b_contact=b_contact["id"],
    )


def state_of(client, customer_ids, contacts):
    """Everything an account can see about the given objects, to compare before/after."""
    state = {}
    for cid in customer_ids:
        state[f"customer {cid}"] = client.get(f"/customers/{cid}").json()
        state[f"balance {cid}"] = client.get(f"/customers/{cid}/balance").json()
        state[f"contacts {cid}"] = client.get(f"/customers/{cid}/contacts").json()
    for cid, contact in contacts:
        state[f"contact {contact}"] = client.get(f"/customers/{cid}/contacts/{contact}").json()
    customers = client.get("/customers")
    state["customers"] = (customers.headers["X-Total-Count"], customers.json())
    events = client.get("/events")
    state["events"] = (events.headers["X-Total-Count"], events.json())
    return state


def a_state(api, w):
    return state_of(api, [w.x, w.y], [(w.x, w.cx), (w.y, w.cy)])


def b_state(other_api, w):
    return state_of(other_api, [w.b_customer], [(w.b_customer, w.b_contact)])


def customer_missing(w, cid=None):
    return f"Customer was not found: {w.x if cid is None else cid}"


# Route (method, path with every `{param}` written as `{}`) -> the requests B makes with A's
# ids, each with the 404 message a missing id produces.
def _customer_get(b, w):
    return [(b.get(f"/customers/{w.x}"), customer_missing(w))]


def _customer_patch(b, w):
    return [
        (b.patch(f"/customers/{w.x}", json={"name": "Hacked"}), customer_missing(w)),
        (b.patch(f"/customers/{w.x}", data={"metadata[rep]": "bob"}), customer_missing(w)),
    ]


def _customer_delete(b, w):
    return [(b.delete(f"/customers/{w.x}"), customer_missing(w))]


def _customer_balance(b, w):
    return [
        (b.get(f"/customers/{w.x}/balance"), customer_missing(w)),
        (b.get(f"/customers/{w.x}/balance", params={"currency": "usd"}), customer_missing(w)),
    ]


def _contacts_create(b, w):
    return [(b.post(f"/customers/{w.x}/contacts", json={"name": "Intruder"}), customer_missing(w))]


def _contacts_list(b, w):
    return [
        (b.get(f"/customers/{w.x}/contacts"), customer_missing(w)),
        (b.get(f"/customers/{w.x}/contacts", params={"per_page": 1}), customer_missing(w)),
    ]


def _contact_get(b, w):
    return [
        (b.get(f"/customers/{w.x}/contacts/{w.cx}"), customer_missing(w)),
        # B's own customer with A's contact id: the contact is missing.
        (
            b.get(f"/customers/{w.b_customer}/contacts/{w.cx}"),
            f"Contact was not found: {w.cx}",
        ),
    ]


def _contact_patch(b, w):
    return [
        (b.patch(f"/customers/{w.x}/contacts/{w.cx}", json={"name": "X"}), customer_missing(w)),
        (
            b.patch(f"/customers/{w.b_customer}/contacts/{w.cx}", json={"name": "X"}),
            f"Contact was not found: {w.cx}",
        ),
    ]


def _contact_delete(b, w):
    return [
        (b.delete(f"/customers/{w.x}/contacts/{w.cx}"), customer_missing(w)),
        (
            b.delete(f"/customers/{w.b_customer}/contacts/{w.cx}"),
            f"Contact was not found: {w.cx}",
        ),
    ]


def _event_get(b, w):
    return [(b.get(f"/events/{eid}"), f"Event was not found: {eid}") for eid in w.a_events]


CROSS_TENANT = {
    ("GET", "/customers/{}"): _customer_get,
    ("PATCH", "/customers/{}"): _customer_patch,
    ("DELETE", "/customers/{}"): _customer_delete,
    ("GET", "/customers/{}/balance"): _customer_balance,
    ("POST", "/customers/{}/contacts"): _contacts_create,
    ("GET", "/customers/{}/contacts"): _contacts_list,
    ("GET", "/customers/{}/contacts/{}"): _contact_get,
    ("PATCH", "/customers/{}/contacts/{}"): _contact_patch,
    ("DELETE", "/customers/{}/contacts/{}"): _contact_delete,
    ("GET", "/events/{}"): _event_get,
}

# Routes with a path parameter that name no account object, with the reason.
NOT_TENANT_OBJECTS = {
    ("POST", "/_test/jobs/{}/run"): "C23.2 test hook: the parameter is a job name",
}


def _iter_routes(routes, prefix=""):
    """(method, path) of every HTTP route, flattening included routers and mounts."""
    for route in routes:
        if hasattr(route, "original_router") and hasattr(route, "include_context"):
            # FastAPI >= 0.16x keeps included routers as one entry each.
            child_prefix = prefix + (route.include_context.prefix or "")
            yield from _iter_routes(route.original_router.routes, child_prefix)
        elif hasattr(route, "methods") and hasattr(route, "path"):
            if route.methods is None:
                yield "*", prefix + route.path
            for method in route.methods or ():
                if method != "HEAD":  # Starlette adds HEAD to every GET route
                    yield method, prefix + route.path
        elif hasattr(route, "routes") and hasattr(route, "path"):
            sub_routes = route.routes
            if sub_routes:
                yield from _iter_routes(sub_routes, prefix + route.path)
            else:  # a mounted app: everything below the mount point is a path parameter
                yield "*", prefix + route.path + "/{path}"
        elif hasattr(route, "path"):
            yield "*", prefix + route.path
        else:
            raise AssertionError(f"unclassifiable route object: {route!r}")


def _path_key(path):
    return re.sub(r"\{[^{}]*\}", "{}", path)


def test_every_path_parameter_route_is_classified(app_client):
    found = {
        (method, _path_key(path))
        for method, path in _iter_routes(app_client.app.routes)
        if "{" in path
    }
    assert found, "no routes with path parameters found: the route walk is broken"
    classified = set(CROSS_TENANT) | set(NOT_TENANT_OBJECTS)
    unclassified = sorted(found - classified)
    assert not unclassified, (
        f"routes with path parameters not covered by test_isolation.py: {unclassified}. "
        "Add each to CROSS_TENANT (with B's requests on A's ids) or NOT_TENANT_OBJECTS."
    )
    stale = sorted(classified - found)
    assert not stale, f"classified routes that no longer exist: {stale}"


@pytest.mark.parametrize("route", sorted(CROSS_TENANT), ids=lambda r: f"{r[0]} {r[1]}")
def test_c2_9_other_account_ids_are_not_found(api, other_api, world, route):
    a_before = a_state(api, world)
    b_before = b_state(other_api, world)
    for r, message in CROSS_TENANT[route](other_api, world):
        assert r.status_code == 404, (route, r.request.url, r.text)
        body = r.json()
        assert body == {"type": "invalid_request", "message": message}, (route, r.request.url)
    assert a_state(api, world) == a_before
    assert b_state(other_api, world) == b_before  # no events, no stray objects in B either


@pytest.mark.parametrize("route", sorted(CROSS_TENANT), ids=lambda r: f"{r[0]} {r[1]}")
def test_c2_9_foreign_id_answers_like_missing_id(api, other_api, world, route):
    """The 404 for A's id is byte-for-byte the 404 for a never-used id (apart from the id)."""
    missing = World(
        x=10**12 + 1,
        y=10**12 + 2,
        cx=10**12 + 3,
        cy=10**12 + 4,
        x_number="NOPE",
        a_events=[10**12 + 5],
        b_customer=world.b_customer,
        b_contact=world.b_contact,
    )
    foreign = CROSS_TENANT[route](other_api, world)
    absent = CROSS_TENANT[route](other_api, missing)
    assert len(foreign) >= len(absent)
    for (r_foreign, _), (r_absent, _) in zip(foreign, absent, strict=False):
        assert r_foreign.status_code == r_absent.status_code == 404
        assert set(r_foreign.headers) == set(r_absent.headers)
        assert set(r_foreign.json()) == set(r_absent.json())


def test_b_lists_show_nothing_of_a(api, other_api, world):
    w = world

    def ids(path, **params):
        r = other_api.get(path, params=params)
        assert r.status_code == 200, (path, params, r.text)
        return [o["id"] for o in r.json()], int(r.headers["X-Total-Count"])

    assert ids("/customers") == ([w.b_customer], 1)
    assert ids("/customers", **{"filter[id]": w.x}) == ([], 0)
    assert ids("/customers", **{"filter[name]": "A-X"}) == ([], 0)
    # Numbering is per account: both own CUST-00001, B only sees its own.
    assert ids("/customers", **{"filter[number]": w.x_number}) == ([w.b_customer], 1)
    assert ids("/customers", **{"metadata[rep]": "alice"}) == ([], 0)
    assert ids("/customers", **{"filter[city]": "Paris"}) == ([], 0)
    assert ids("/customers", sort="name desc", per_page=1, page=2) == ([], 1)
    assert ids(f"/customers/{w.b_customer}/contacts") == ([w.b_contact], 1)

    b_events, total = ids("/events")
    assert total == len(b_events) == 2  # B's customer.created and contact.created
    assert not set(b_events) & set(w.a_events)
    assert ids("/events", related_to=f"customer,{w.x}") == ([], 0)
    assert ids("/events", related_to=f"customer,{w.y}") == ([], 0)
    assert ids("/events", related_to=f"contact,{w.cx}") == ([], 0)
    assert ids("/events", **{"filter[type]": "customer.updated"}) == ([], 0)
    created, _ = ids("/events", **{"filter[type]": "customer.created"})
    assert len(created) == 1
    event = other_api.get(f"/events/{created[0]}").json()
    assert event["data"]["object"]["id"] == w.b_customer
    # A's own view, for contrast: the same queries find A's objects.
    r = api.get("/events", params={"related_to": f"customer,{w.x}"})
    assert int(r.headers["X-Total-Count"]) >= 3
    r = api.get("/customers", params={"metadata[rep]": "alice"})
    assert [c["id"] for c in r.json()] == [w.x, w.y]


def test_ct5_contact_under_another_customer_of_same_account(api, world):
    w = world
    before = a_state(api, w)
    message = f"Contact was not found: {w.cx}"
    path = f"/customers/{w.y}/contacts/{w.cx}"
    for r in (
        api.get(path),
        api.patch(path, json={"name": "Moved"}),
        api.patch(path, data={"email": "x@example.com"}),
        api.delete(path),
    ):
        assert r.status_code == 404, r.text
        assert r.json() == {"type": "invalid_request", "message": message}
    assert a_state(api, w) == before
    listed = [c["id"] for c in api.get(f"/customers/{w.y}/contacts").json()]
    assert listed == [w.cy]
    assert api.get(f"/customers/{w.x}/contacts/{w.cx}").json()["customer"] == w.x


def test_c3_9_account_id_in_body_is_ignored(api, other_api):
    target = other_api.account.id
    body = {"name": "Sneaky", "account_id": target, "account": target, "tenant_id": target}
    r = api.post("/customers", json=body)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = api.patch(f"/customers/{cid}", json={"account_id": target, "account": target})
    assert r.status_code == 200, r.text
    r = api.post(f"/customers/{cid}/contacts", json={"name": "Sneaky c", "account_id": target})
    assert r.status_code == 201, r.text
    assert [c["id"] for c in api.get("/customers").json()] == [cid]
    assert other_api.get("/customers").json() == []
    assert other_api.get(f"/customers/{cid}").status_code == 404
    assert other_api.get("/events").json() == []


def test_c2_9_deleted_by_a_is_missing_for_b_too(api, other_api, world):
    """A's delete does not make the id reusable or visible to B."""
    assert api.delete(f"/customers/{world.y}").status_code == 204
    r = other_api.get(f"/customers/{world.y}")
    assert r.status_code == 404
    assert r.json()["message"] == f"Customer was not found: {world.y}"
    r = other_api.get(f"/customers/{world.y}/contacts/{world.cy}")
    assert r.status_code == 404


def test_cu10_parent_customer_of_another_account_is_no_such_customer(api, other_api, world):
    """An id in a request body is looked up in the caller's account only (C2.9, CU10)."""
    w = world
    r = other_api.post("/customers", json={"name": "Child", "parent_customer": w.x})
    assert r.status_code == 400, r.text
    assert r.json() == {
        "type": "invalid_request",
        "message": f"No such customer: {w.x}",
        "param": "parent_customer",
    }
    r = other_api.patch(f"/customers/{w.b_customer}", json={"parent_customer": w.x})
    assert r.status_code == 400, r.text
    assert r.json()["param"] == "parent_customer"
    assert other_api.get(f"/customers/{w.b_customer}").json()["parent_customer"] is None
    r = other_api.get("/customers", params={"filter[parent_customer]": w.x})
    assert r.json() == []


def test_c19_3_numbers_are_unique_per_account_only(api, other_api):
    r = api.post("/customers", json={"name": "A", "number": "SHARED-1"})
    assert r.status_code == 201, r.text
    r = other_api.post("/customers", json={"name": "B", "number": "shared-1"})
    assert r.status_code == 201, r.text
    assert r.json()["number"] == "shared-1"
    r = api.post("/customers", json={"name": "A2", "number": "Shared-1"})
    assert r.status_code == 400, r.text
    assert r.json()["param"] == "number"
