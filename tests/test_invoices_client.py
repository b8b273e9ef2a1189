"""Invoices through the OFFICIAL Invoiced Python client (invoiced==3.0.0) against the real server.

The unmodified client is pointed at the `server` fixture as README C20.2 prescribes
(`client.api_url = BASE`); each test uses a fresh account. It sends JSON, reads floats, and
serialises list filters as `filter[key]=value` with Python booleans as `True`/`False` (C9.4).
"""

from __future__ import annotations

from typing import Any

import invoiced
import pytest
from invoiced.errors import InvalidRequestError

from tests.support import ServerProcess, new_account

DAY = 86_400
SEED_CUSTOMER = {
    "name": "Acme",
    "email": "billing@acmecorp.com",
    "payment_terms": "NET 30",
    "type": "company",
}
SEED_ITEMS = [
    {"name": "Copy paper, Case", "quantity": 3, "unit_cost": 45},
    {"name": "Delivery", "quantity": 1, "unit_cost": 10},
]


@pytest.fixture
def client(server: ServerProcess, db_url: str) -> invoiced.Client:
    account = new_account(db_url)
    c = invoiced.Client(account.key)
    c.api_url = server.base_url
    return c


@pytest.fixture
def acme(client: invoiced.Client) -> Any:
    return client.Customer.create(**SEED_CUSTOMER)


def seed_invoice(client: invoiced.Client, customer: Any) -> Any:
    return client.Invoice.create(customer=customer.id, items=SEED_ITEMS, taxes=[{"amount": 3.85}])


def assert_seed_figures(invoice: Any, customer: Any, server: ServerProcess) -> None:
    """Example I-1 step 1, as the client sees it."""
    assert isinstance(invoice, invoiced.Invoice)
    assert invoice.object == "invoice"
    assert invoice.customer == customer.id
    assert invoice.number == "INV-00001"
    assert invoice.name == "Invoice"
    assert invoice.currency == "usd"
    assert invoice.payment_terms == "NET 30"  # D1
    assert invoice.due_date == invoice.date + 30 * DAY  # D3
    assert invoice.autopay is False  # A1
    assert (invoice.draft, invoice.closed, invoice.paid) == (False, False, False)
    assert invoice.status == "not_sent"
    assert [line["amount"] for line in invoice["items"]] == [135, 10]
    assert invoice.subtotal == 145
    assert invoice.discounts == []
    assert [t["amount"] for t in invoice.taxes] == [3.85]
    assert invoice.taxes[0]["tax_rate"] is None
    assert invoice.total == 148.85
    assert invoice.balance == 148.85
    assert invoice.attempt_count == 0
    assert invoice.next_payment_attempt is None
    for url in (invoice.url, invoice.pdf_url, invoice.payment_url):
        assert url.startswith(server.base_url + "/portal/invoices/"), url


def test_example_i1_seed_invoice_through_the_client(client, acme, server):
    """Example I-1 with Invoice.create(customer=..., items=[...], taxes=[{"amount": 3.85}])."""
    invoice = seed_invoice(client, acme)
    assert_seed_figures(invoice, acme, server)


def test_flat_tax_through_the_client_r19(client, acme, server):
    """R19: `tax=3.85` gives the same figures."""
    invoice = client.Invoice.create(customer=acme.id, items=SEED_ITEMS, tax=3.85)
    assert_seed_figures(invoice, acme, server)


def test_retrieve_returns_the_same_invoice(client, acme):
    invoice = seed_invoice(client, acme)
    again = client.Invoice.retrieve(invoice.id)
    assert isinstance(again, invoiced.Invoice)
    assert dict(again) == dict(invoice)
    expanded = client.Invoice.retrieve(invoice.id, {"expand": "customer"})
    assert expanded.customer["id"] == acme.id
    assert expanded.customer["name"] == "Acme"


def test_save_notes_and_metadata(client, acme):
    """§9: save() sends only the changed fields; C11 metadata strings."""
    invoice = seed_invoice(client, acme)
    # `notes` is also the name of a client method (Invoice.notes()), so use item access.
    invoice["notes"] = "Thanks for your business"
    invoice.metadata = {"po_ref": 42}
    assert invoice.save() is True
    assert invoice["notes"] == "Thanks for your business"
    assert invoice.metadata == {"po_ref": "42"}
    assert invoice.total == 148.85  # R16: no recalculation of a different kind
    again = client.Invoice.retrieve(invoice.id)
    assert again["notes"] == "Thanks for your business"
    assert again.metadata == {"po_ref": "42"}
    assert invoice.save() is False  # nothing unsaved: no request


def test_save_items_with_ids_example_i7(client, acme):
    """Example I-7 through save(): the client sends full line objects back (E5)."""
    invoice = seed_invoice(client, acme)
    lines = invoice["items"]
    invoice["items"] = [{**lines[1], "quantity": 2}, {"name": "Toner", "unit_cost": 20}]
    assert invoice.save() is True
    assert [line["name"] for line in invoice["items"]] == ["Delivery", "Toner"]
    assert invoice["items"][0]["id"] == lines[1]["id"]
    assert invoice.subtotal == 40
    assert invoice.total == 43.85


def test_list_with_filters(client, acme):
    """§13 / C9.4: filter by customer and by Python booleans; metadata on the total count."""
    other = client.Customer.create(name="Other")
    mine = seed_invoice(client, acme)
    draft = client.Invoice.create(customer=acme.id, items=SEED_ITEMS, draft=True)
    theirs = client.Invoice.create(customer=other.id)  # total 0: paid and closed
    invoices, meta = client.Invoice.list(filter={"customer": acme.id})
    assert [i.id for i in invoices] == [mine.id, draft.id]
    assert meta.total_count == 2
    assert all(isinstance(i, invoiced.Invoice) for i in invoices)
    invoices, meta = client.Invoice.list(filter={"paid": False, "closed": False})
    assert [i.id for i in invoices] == [mine.id, draft.id]
    invoices, meta = client.Invoice.list(filter={"paid": True})
    assert [i.id for i in invoices] == [theirs.id]
    invoices, meta = client.Invoice.list(filter={"draft": True, "customer": acme.id})
    assert [i.id for i in invoices] == [draft.id]
    invoices, meta = client.Invoice.list(filter={"status": "draft"})
    assert [i.id for i in invoices] == [draft.id]
    invoices, meta = client.Invoice.list(sort="id desc", per_page=1)
    assert [i.id for i in invoices] == [theirs.id]
    assert meta.total_count == 3
    assert "next" in meta.links


def test_void_and_delete_through_the_client(client, acme):
    """V1 via Invoice.void(); DEL1 via delete(); then retrieve -> 404."""
    invoice = seed_invoice(client, acme)
    assert invoice.void() is True
    assert invoice.status == "voided"
    assert invoice.balance == 0
    assert invoice.url is None
    with pytest.raises(InvalidRequestError) as excinfo:
        invoice.void()
    assert excinfo.value.status_code == 400  # V2
    assert invoice.delete() is True
    with pytest.raises(InvalidRequestError) as excinfo:
        client.Invoice.retrieve(invoice.id)
    assert excinfo.value.status_code == 404


def test_invalid_requests_raise_invalid_request_error(client, acme):
    """§15 through the client: 400 with param, as InvalidRequestError."""
    with pytest.raises(InvalidRequestError) as excinfo:
        client.Invoice.create(items=SEED_ITEMS)
    assert excinfo.value.status_code == 400
    assert excinfo.value.error["param"] == "customer"
    with pytest.raises(InvalidRequestError) as excinfo:
        client.Invoice.create(customer=acme.id, items=[{"name": "x", "unit_cost": -5}])
    assert excinfo.value.error["param"] == "total"  # R11
    with pytest.raises(InvalidRequestError) as excinfo:
        client.Invoice.create(customer=acme.id, taxes=["nope"])
    assert excinfo.value.error["param"] == "taxes"  # AR1
    _invoices, meta = client.Invoice.list()
    assert meta.total_count == 0


def test_line_items_sub_resource_through_the_client(client, acme):
    """§1 line items via the client's LineItem with the invoice endpoint as base (R16)."""
    invoice = seed_invoice(client, acme)
    line_items = invoiced.LineItem(client).set_endpoint_base(f"/invoices/{invoice.id}")
    lines, meta = line_items.list()
    assert meta.total_count == 2
    assert [line.id for line in lines] == [line["id"] for line in invoice["items"]]
    toner = line_items.create(name="Toner", quantity=2, unit_cost=20)
    assert toner.amount == 40
    assert client.Invoice.retrieve(invoice.id).total == 188.85
    toner.quantity = 1
    assert toner.save() is True
    assert toner.amount == 20
    assert line_items.retrieve(toner.id).amount == 20
    assert client.Invoice.retrieve(invoice.id).total == 168.85
    assert toner.delete() is True
    assert client.Invoice.retrieve(invoice.id).total == 148.85


def test_catalog_items_through_the_client(client, acme):
    """items.md IT-B with Item.create and catalog_item lines."""
    client.Item.create(id="copy_paper_20lb", name="Copy paper, Case", type="product", unit_cost=45)
    client.Item.create(id="delivery", name="Delivery", type="service", unit_cost=10)
    invoice = client.Invoice.create(
        customer=acme.id,
        items=[{"catalog_item": "copy_paper_20lb", "quantity": 3}, {"catalog_item": "delivery"}],
        taxes=[{"amount": 3.85}],
    )
    assert [line["catalog_item"] for line in invoice["items"]] == ["copy_paper_20lb", "delivery"]
    assert [line["type"] for line in invoice["items"]] == ["product", "service"]
    assert invoice.subtotal == 145
    assert invoice.total == 148.85


def test_rates_through_the_client(client, acme):
    """coupons_tax_rates.md Example A with Coupon.create / TaxRate.create (CT12-CT14)."""
    client.Coupon.create(id="S8L47J", name="Non-profit Discount", value=20)
    client.TaxRate.create(id="vat", name="VAT", value=5)
    invoice = client.Invoice.create(
        customer=acme.id,
        items=[{"name": "a", "unit_cost": 45}, {"name": "b", "unit_cost": 10}],
        discounts=[{"coupon": "S8L47J"}],
        taxes=[{"tax_rate": "vat"}],
    )
    assert invoice.subtotal == 55
    assert [d["amount"] for d in invoice.discounts] == [11]
    assert [t["amount"] for t in invoice.taxes] == [2.2]
    assert invoice.total == 46.2
