"""Invoice response bodies from the read-only path are byte-identical to the ORM path (C4.5).

GET /invoices and GET /invoices/{id} render from plain rows (`load_views`) and write money as
JSON fragments straight from minor units; event snapshots still render ORM documents with
Decimals. Here a varied set of invoices (catalog items, line and document rates, shipping,
drafts, voided, paid, jpy/bhd, metadata, unrounded quantities) is rendered through both
endpoints and compared, byte for byte, with what the ORM path and `from_minor` produce.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from tally.config import Settings
from tally.context import Context
from tally.db import Database
from tally.domain.coerce import decimal_text
from tally.domain.money import from_minor, minor_text
from tally.invoices import service
from tally.invoices.document import load_documents
from tally.invoices.schemas import line_json
from tally.jsonenc import dumps
from tally.models import Account, Invoice

EXPANDS = ["", "customer", "items.catalog_item", "customer,items.catalog_item"]


def created(r: Any) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def seed(api: Any) -> list[int]:
    """Invoices covering every field the renderer writes."""
    created(api.post("/tax_rates", json={"id": "vat", "name": "VAT", "value": 7.25}))
    created(
        api.post(
            "/tax_rates",
            json={"id": "incl", "name": "Incl", "value": 20, "inclusive": True},
        )
    )
    created(
        api.post(
            "/tax_rates", json={"id": "flat", "name": "Flat", "value": 1.5, "is_percent": False}
        )
    )
    created(api.post("/coupons", json={"id": "ten", "name": "Ten", "value": 10}))
    created(
        api.post("/coupons", json={"id": "off3", "name": "Off", "value": 3, "is_percent": False})
    )
    created(
        api.post(
            "/items",
            json={"id": "widget", "name": "Widget", "unit_cost": 12.345, "description": "A widget"},
        )
    )
    created(api.post("/items", json={"id": "gone", "name": "Gone", "unit_cost": 4}))
    acme = created(api.post("/customers", json={"name": "Acme", "email": "billing@acmecorp.com"}))
    other = created(api.post("/customers", json={"name": "Other", "metadata": {"k": "v"}}))
    yen = created(api.post("/customers", json={"name": "Yen Co", "currency": "jpy"}))

    def invoice(customer: int, **fields: Any) -> int:
        return int(created(api.post("/invoices", json={"customer": customer, **fields}))["id"])

    ids = [
        invoice(
            acme["id"],
            items=[
                {
                    "name": "Consulting",
                    "description": "Hours\nwith a newline and \u00e9",
                    "quantity": 2.5,
                    "unit_cost": 0.333,
                    "metadata": {"sku": "A1", "note": "x"},
                    "discounts": [{"coupon": "ten"}, {"amount": 1.5}],
                    "taxes": [{"tax_rate": "vat"}, {"amount": 0.25}],
                },
                {"catalog_item": "widget", "quantity": 3},
                {"catalog_item": "gone", "quantity": 1, "taxable": False, "discountable": False},
                {"name": "Tiny", "quantity": 0.000001, "unit_cost": 1234567.891},
            ],
            discounts=[{"coupon": "off3"}, {"amount": 0.1}],
            taxes=[{"tax_rate": "flat"}, {"amount": 2}],
            shipping=[{"amount": 7.5}],
            notes="Thanks",
            purchase_order="PO-1",
            ship_to={"name": "Acme", "address1": "1 Main", "country": "US"},
            metadata={"a": "b"},
        ),
        invoice(acme["id"], draft=True, items=[{"name": "Draft", "unit_cost": 10}]),
        invoice(
            acme["id"], items=[{"name": "To void", "unit_cost": 5}], taxes=[{"tax_rate": "incl"}]
        ),
        invoice(acme["id"], items=[{"name": "Paid", "unit_cost": 100}], discount=5, tax=3.85),
        invoice(other["id"], items=[{"name": "Part", "unit_cost": 60, "quantity": 2}], shipping=1),
        invoice(other["id"], items=[], payment_terms="NET 30", sent=True),
        invoice(other["id"], currency="bhd", items=[{"name": "Dinar", "unit_cost": 1.234}]),
        invoice(
            yen["id"],
            currency="jpy",
            items=[
                {"name": "Yen", "unit_cost": 1234, "quantity": 3, "taxes": [{"tax_rate": "vat"}]},
                {"name": "Neg", "unit_cost": -100},
            ],
            discounts=[{"coupon": "ten"}],
        ),
        invoice(
            acme["id"],
            items=[{"name": "Closed", "unit_cost": 12.5}, {"name": "Neg", "unit_cost": -2.5}],
            closed=True,
        ),
    ]
    rng = random.Random(7)
    for n in range(8):
        ids.append(
            invoice(
                rng.choice([acme["id"], other["id"]]),
                items=[
                    {
                        "name": f"Line {n}-{k}",
                        "quantity": rng.choice([1, 2, 0.5, 3.125]),
                        "unit_cost": rng.randint(0, 99_999) / 100,
                        "taxes": [{"tax_rate": "vat"}] if k % 2 else [],
                    }
                    for k in range(rng.randint(1, 5))
                ],
                taxes=[{"tax_rate": "flat"}],
            )
        )
    assert api.post(f"/invoices/{ids[2]}/void").status_code == 200
    paid = {"customer": acme["id"], "amount": 98.85, "method": "check"}
    paid["applied_to"] = [{"type": "invoice", "invoice": ids[3], "amount": 98.85}]
    created(api.post("/payments", json=paid))
    part = {"customer": other["id"], "amount": 20.01, "method": "check"}
    part["applied_to"] = [{"type": "invoice", "invoice": ids[4], "amount": 20.01}]
    created(api.post("/payments", json=part))
    assert api.delete("/items/gone").status_code == 204  # IT10: expanded as null
    return ids


async def orm_bodies(
    db_url: str, account_id: int, now: int, base: str, ids: list[int], expand: set[str]
) -> list[dict[str, Any]]:
    """The invoices as the ORM path renders them (Decimals), in the order given."""
    database = Database(Settings(database_url=db_url, test_mode=True, worker="off"))
    try:
        async with database.session(write=False) as session:
            account = await session.get(Account, account_id)
            assert account is not None
            ctx = Context(session=session, account=account, now=now, public_base_url=base)
            rows = []
            for invoice_id in ids:
                row = await session.get(Invoice, invoice_id)
                assert row is not None
                rows.append(row)
            documents = await load_documents(session, rows)
            return await service.render(ctx, [documents[i] for i in ids], expand)
    finally:
        await database.engine.dispose()


async def orm_lines(db_url: str, account_id: int, invoice_id: int) -> list[dict[str, Any]]:
    database = Database(Settings(database_url=db_url, test_mode=True, worker="off"))
    try:
        async with database.session(write=False) as session:
            row = await session.get(Invoice, invoice_id)
            assert row is not None and row.account_id == account_id
            document = (await load_documents(session, [row]))[invoice_id]
            return [line_json(s.row, s.rates, document.exponent) for s in document.lines]
    finally:
        await database.engine.dispose()


def test_minor_text_matches_decimal_rendering_c4_5() -> None:
    """C4.5/C12: the fragment text equals what `dumps` writes for `from_minor`."""
    rng = random.Random(3)
    values = list(range(-1100, 1100)) + [rng.randint(-(10**19), 10**19) for _ in range(3000)]
    for exp in (0, 2, 3, 8):
        for minor in values:
            assert minor_text(minor, exp) == decimal_text(from_minor(minor, exp))
            assert dumps([from_minor(minor, exp)]) == f"[{minor_text(minor, exp)}]".encode()


@pytest.mark.parametrize("expand", EXPANDS)
def test_list_and_retrieve_match_orm_rendering_c4_5(api, db_url, expand):
    """C4.5, C10: list and retrieve bodies equal the ORM/Decimal rendering byte for byte."""
    ids = seed(api)
    params = {"per_page": "100", "expand": expand} if expand else {"per_page": "100"}
    listing = api.get("/invoices", params=params)
    now = int(time.time())
    assert listing.status_code == 200, listing.text
    listed = listing.json()
    assert sorted(o["id"] for o in listed) == sorted(ids)
    base = next(o["url"] for o in listed if o["url"]).split("/invoices/")[0]
    wanted = set(filter(None, expand.split(",")))
    order = [o["id"] for o in listed]
    expected = asyncio.run(orm_bodies(db_url, api.account.id, now, base, order, wanted))
    assert listing.content == dumps(expected)
    by_id = dict(zip(order, expected, strict=True))
    for invoice_id in ids:
        r = api.get(f"/invoices/{invoice_id}", params={"expand": expand} if expand else None)
        assert r.status_code == 200, r.text
        assert r.content == dumps(by_id[invoice_id])
    pretty = api.get(
        f"/invoices/{ids[0]}", params={"pretty": "1", **({"expand": expand} if expand else {})}
    )
    assert pretty.status_code == 200
    assert pretty.json() == listed[order.index(ids[0])]


def test_line_items_list_matches_orm_rendering(api, db_url):
    """C4.5: the line-item list writes the same bytes as the Decimal rendering."""
    ids = seed(api)
    for invoice_id in (ids[0], ids[6], ids[7]):
        r = api.get(f"/invoices/{invoice_id}/line_items")
        assert r.status_code == 200, r.text
        assert r.content == dumps(asyncio.run(orm_lines(db_url, api.account.id, invoice_id)))


def test_event_snapshots_keep_decimals_and_agree_with_get(api):
    """EV9: the invoice.created snapshot's fields equal the GET body (customer expanded)."""
    ids = seed(api)
    invoice_id = ids[0]
    events = api.get("/events", params={"per_page": "100"}).json()
    snapshot = next(
        e["data"]["object"]
        for e in events
        if e["type"] == "invoice.created" and e["data"]["object"]["id"] == invoice_id
    )
    body = api.get(f"/invoices/{invoice_id}", params={"expand": "customer"}).json()
    for key in ("items", "subtotal", "discounts", "taxes", "shipping", "total", "currency"):
        assert snapshot[key] == body[key], key
