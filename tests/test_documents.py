"""Rendered documents (README C17.3, C18; invoices.md U3): what the PDF of an invoice says,
money per currency, long invoices over several pages, and HTML escaping.

PDF text is read back with pypdf. Invoices are dated explicitly (T0 = Nov 14, 2023 22:13:20
UTC; NET 30 puts the due date on Dec 14, 2023), so no clock is moved here.
"""

from __future__ import annotations

import asyncio
import io
import re
from decimal import Decimal
from typing import Any

import pypdf
import pytest
from starlette.datastructures import Headers
from starlette.requests import Request

from tally.documents import Document, render_pdf
from tally.documents.format import pdf_filename, quantity_text, unit_money
from tally.documents.http import wants_pdf
from tally.documents.render import STYLESHEET
from tests.test_invoices import T0, acme, coupon, created, make_customer, ok, tax_rate

PDF_HEADERS = {"Accept": "application/pdf"}


def pdf_text(pdf: bytes) -> tuple[int, str]:
    """Page count and the text of every page (whitespace collapsed)."""
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"[ \t]+", " ", text)


def invoice_pdf(api, invoice_id: int) -> bytes:
    r = api.get(f"/invoices/{invoice_id}", headers=PDF_HEADERS)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    return bytes(r.content)


def seed_with_rates(api) -> dict[str, Any]:
    """Example I-1's invoice (total 148.85) with a $5 coupon and a $5 fixed tax rate added:
    145 - 5 + 3.85 + 5 = 148.85."""
    customer = acme(api)
    coupon(api, "loyalty", 5, percent=False, name="Loyalty")
    tax_rate(api, "recycling", 5, is_percent=False, name="Recycling fee")
    return created(
        api.post(
            "/invoices",
            json={
                "customer": customer["id"],
                "date": T0,
                "purchase_order": "PO-778",
                "items": [
                    {"name": "Copy paper, Case", "quantity": 3, "unit_cost": 45},
                    {"name": "Delivery", "quantity": 1, "unit_cost": 10},
                ],
                "discounts": ["loyalty"],
                "taxes": [{"amount": 3.85}, "recycling"],
            },
        )
    )


def test_c17_3_invoice_pdf_has_every_required_field(api):
    """C17.3: account name, number, date, due date, customer name, each line (name, quantity,
    unit cost, amount), subtotal, discounts, taxes, total, balance."""
    invoice = seed_with_rates(api)
    assert invoice["total"] == 148.85
    pages, text = pdf_text(invoice_pdf(api, invoice["id"]))
    assert pages == 1
    for expected in (
        "Acme Billing",  # the account (tests.support default name)
        "Invoice INV-00001",
        "Acme",
        "CUST-00001",
        "Invoice date Nov 14, 2023",
        "Due date Dec 14, 2023",
        "Payment terms NET 30",
        "Purchase order PO-778",
        "Copy paper, Case 3 $45.00 $135.00",
        "Delivery 1 $10.00 $10.00",
        "Subtotal $145.00",
        "Loyalty -$5.00",
        "Tax $3.85",
        "Recycling fee $5.00",
        "Total $148.85",
        "Balance due $148.85",
    ):
        assert expected in text, (expected, text)
    # The links bar is for the hosted page only.
    assert "Download PDF" not in text
    assert "Pay $" not in text


def test_c17_3_paid_invoice_pdf_shows_payment_and_zero_balance(api):
    invoice = seed_with_rates(api)
    created(
        api.post(
            "/transactions",
            data={"invoice": invoice["id"], "method": "check", "amount": "148.85"},
        )
    )
    _, text = pdf_text(invoice_pdf(api, invoice["id"]))
    assert "Amount paid -$148.85" in text
    assert "Balance due $0.00" in text
    assert "PAID" in text.upper()


@pytest.mark.parametrize(
    ("currency", "unit_cost", "quantity", "expected"),
    [
        ("jpy", 5000, 1, "¥5,000"),
        ("eur", 1234.5, 1, "€1,234.50"),
        ("usd", 15.58068, 1, "$15.58"),
    ],
)
def test_c17_money_is_formatted_per_currency(api, currency, unit_cost, quantity, expected):
    """C12: minor units per currency; a unit cost keeps its stored digits (R1)."""
    customer = make_customer(api, currency=currency)
    invoice = created(
        api.post(
            "/invoices",
            json={
                "customer": customer["id"],
                "items": [{"name": "Thing", "quantity": quantity, "unit_cost": unit_cost}],
            },
        )
    )
    _, text = pdf_text(invoice_pdf(api, invoice["id"]))
    assert f"Total {expected}" in text, text
    if currency == "usd":
        assert "$15.58068" in text  # unit cost as stored


def test_c17_long_invoice_spans_pages_and_keeps_every_line(api):
    """60 lines: several pages, every line present, the table header repeated per page."""
    customer = acme(api)
    items = [
        {"name": f"Line item {n:02d}", "quantity": n, "unit_cost": 1.25, "description": "x"}
        for n in range(1, 61)
    ]
    invoice = created(api.post("/invoices", json={"customer": customer["id"], "items": items}))
    pdf = invoice_pdf(api, invoice["id"])
    pages, text = pdf_text(pdf)
    assert pages >= 2
    for n in range(1, 61):
        assert f"Line item {n:02d}" in text
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        assert "Unit cost" in page.extract_text()  # thead repeats
    assert f"Page {pages} of {pages}" in text


def test_c18_html_is_autoescaped(api):
    """Every value is escaped: a customer named like a script stays text."""
    customer = make_customer(api, name="<script>alert(1)</script>")
    invoice = created(
        api.post(
            "/invoices",
            json={
                "customer": customer["id"],
                "notes": '"><img src=x onerror=alert(2)>',
                "items": [{"name": "<b>bold</b>", "unit_cost": 1}],
            },
        )
    )
    page = api.client.get(invoice["url"])
    assert page.status_code == 200
    html = page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    _, text = pdf_text(invoice_pdf(api, invoice["id"]))
    assert "<script>alert(1)</script>" in text  # shown as text in the PDF


def test_c17_text_outside_the_bundled_fonts_still_renders(api):
    """Names outside the Latin subsets fall back to the system fonts, subset as usual."""
    customer = make_customer(api, name="Łódź Żółć Sp. z o.o.")
    invoice = created(
        api.post(
            "/invoices",
            json={"customer": customer["id"], "items": [{"name": "Ćma", "unit_cost": 2}]},
        )
    )
    pdf = invoice_pdf(api, invoice["id"])
    _, text = pdf_text(pdf)
    assert "Łódź Żółć Sp. z o.o." in text
    assert len(pdf) < 200_000  # subset, not whole system fonts


def test_c17_draft_and_voided_invoices_have_pdfs(api):
    """U3: PDFs exist for drafts and voided invoices (through the API)."""
    customer = acme(api)
    draft = created(
        api.post(
            "/invoices",
            json={"customer": customer["id"], "draft": True, "items": [{"unit_cost": 1}]},
        )
    )
    _, text = pdf_text(invoice_pdf(api, draft["id"]))
    assert "DRAFT" in text.upper()
    voided = ok(api.post(f"/invoices/{draft['id']}/void"))
    assert voided["pdf_url"] is None
    _, text = pdf_text(invoice_pdf(api, draft["id"]))
    assert "voided" in text.lower()


# ---------------------------------------------------------------------------- units


def _request(accept: list[str]) -> Request:
    headers = Headers(raw=[(b"accept", value.encode()) for value in accept])
    return Request({"type": "http", "headers": headers.raw, "method": "GET", "path": "/"})


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ([], False),
        (["application/json"], False),
        (["application/pdf"], True),
        (["text/html, application/pdf;q=0.1"], True),  # C17.2: membership, not priority
        (["APPLICATION/PDF"], True),
        (["application/json", "application/pdf"], True),
        (["application/pdfx"], False),
        (["*/*"], False),
    ],
)
def test_c17_2_pdf_when_listed_anywhere_in_accept(accept, expected):
    assert wants_pdf(_request(accept)) is expected


def test_formatting_helpers():
    assert unit_money(Decimal("45"), "usd") == "$45.00"
    assert unit_money(Decimal("15.58068"), "usd") == "$15.58068"
    assert unit_money(Decimal("-2.5"), "eur") == "-€2.50"
    assert unit_money(Decimal("1234.5"), "jpy") == "¥1,234.5"
    assert unit_money(Decimal("3"), "chf") == "CHF 3.00"
    assert quantity_text(Decimal("3.000")) == "3"
    assert quantity_text(Decimal("1E+1")) == "10"
    assert quantity_text(Decimal("-0.50")) == "-0.5"
    assert pdf_filename("INV-00001", "Invoice") == "INV-00001.pdf"
    assert pdf_filename('a"b/c\\d\r\n', "Invoice") == "a_b_c_d.pdf"
    assert pdf_filename("…", "Invoice") == "Invoice.pdf"


def test_render_pdf_of_a_bare_document():
    """render_pdf takes any Document (the emails helper attaches them)."""
    html = (
        f"<!DOCTYPE html><html lang=en><head><title>T</title><style>{STYLESHEET}</style>"
        "</head><body><main class=sheet><h1>Hello €5</h1></main></body></html>"
    )
    pdf = asyncio.run(render_pdf(Document("invoice", "T", "T.pdf", html)))
    _, text = pdf_text(pdf)
    assert "Hello €5" in text
