"""The customer-facing pages behind the capability URLs (README C18; invoices.md S14, U1-U3,
V1; transactions_payments.md TX13, PY8; customers.md statement_pdf_url) and PDF content
negotiation on the API (README C17.1-2).

Decisions under test: anything that does not resolve (wrong token, another account's
identifier, a malformed path) is the same 404 page byte for byte; a voided invoice's old link
still shows the page, marked voided, without a Pay link; opening the page of an issued
invoice records `invoice.viewed` (actor -1) and, as the status moves to `viewed`, an
`invoice.updated` (EV3); PDFs carry no Content-Security-Policy (it breaks browsers' PDF
viewers) but the other portal headers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import re
from typing import Any

import httpx
import pypdf

from tally.documents.render import CONTENT_SECURITY_POLICY
from tests.support import new_account
from tests.test_invoices import SEED_FORM, acme, created, event_types, events, ok

PDF_HEADERS = {"Accept": "application/pdf"}


def seed(api, **fields: Any) -> dict[str, Any]:
    """invoices.md Example I-1: Acme, INV-00001, total 148.85."""
    customer = acme(api)
    return created(api.post("/invoices", data={"customer": customer["id"], **SEED_FORM, **fields}))


def page(api, url: str) -> httpx.Response:
    """A portal URL, fetched without credentials."""
    return api.client.get(url, auth=None)


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return re.sub(r"[ \t]+", " ", "\n".join(p.extract_text() for p in reader.pages))


def assert_portal_headers(r: httpx.Response, *, csp: bool = True) -> None:
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Robots-Tag"].startswith("noindex")
    assert "WWW-Authenticate" not in r.headers
    if csp:
        assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    else:
        assert "Content-Security-Policy" not in r.headers


# ---------------------------------------------------------------------------- invoice page


def test_c18_3_invoice_page_shows_the_invoice(api):
    invoice = seed(api)
    r = page(api, invoice["url"])
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    html = r.text
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert "<title>Invoice INV-00001 · Acme Billing</title>" in html
    for text in (
        "Acme Billing",
        "Acme",
        "CUST-00001",
        "Copy paper, Case",
        "$135.00",
        "$3.85",
        "$148.85",
        "NET 30",
        "Balance due",
    ):
        assert text in html, text
    assert f'href="{invoice["pdf_url"]}"' in html
    assert f'href="{invoice["payment_url"]}"' in html
    assert "<script" not in html
    assert "<main" in html and "<caption>" in html and 'scope="col"' in html


def test_c18_invoice_page_headers_and_csp_hash(api):
    """One inline stylesheet, allowed by its SHA-256 and nothing else."""
    invoice = seed(api)
    r = page(api, invoice["url"])
    assert_portal_headers(r)
    styles = re.findall(r"<style>(.*?)</style>", r.text, re.S)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in r.headers["Content-Security-Policy"]
    assert "style=" not in r.text  # no inline style attributes (the CSP would block them)
    assert "X-Frame-Options" in r.headers


def test_s14_opening_the_page_marks_viewed_once(api):
    """S14/C18.3: viewed on first open, one invoice.viewed by the customer (-1); EV3: the
    status change is an invoice.updated; opening again records nothing."""
    invoice = seed(api)
    assert invoice["status"] == "not_sent"
    before = event_types(api)
    assert page(api, invoice["url"]).status_code == 200
    assert ok(api.get(f"/invoices/{invoice['id']}"))["status"] == "viewed"
    assert ok(api.get("/invoices", params={"filter[viewed]": "1"}))[0]["id"] == invoice["id"]
    new = events(api)[: len(event_types(api)) - len(before)]
    assert [e["type"] for e in new] == ["invoice.updated", "invoice.viewed"]  # newest first
    updated, viewed = new
    assert viewed["user"]["id"] == -1 and updated["user"]["id"] == -1
    assert viewed["data"]["object"]["id"] == invoice["id"]
    assert viewed["data"]["object"]["status"] == "viewed"
    assert "previous" not in viewed["data"]
    assert updated["data"]["previous"]["status"] == "not_sent"
    # Again, and the PDF and payment pages: nothing new.
    count = len(event_types(api))
    for url in (invoice["url"], invoice["pdf_url"], invoice["payment_url"], invoice["url"]):
        assert page(api, url).status_code == 200
    assert len(event_types(api)) == count
    related = events(api, {"related_to[object]": "customer", "related_to[id]": invoice["customer"]})
    assert "invoice.viewed" in [e["type"] for e in related]


def test_s14_past_due_invoice_viewed_records_only_the_viewed_event(api):
    """The status stays past_due (S8 before S9): no invoice.updated (EV3)."""
    invoice = seed(api, date="1000000000")
    assert invoice["status"] == "past_due"
    count = len(event_types(api))
    assert page(api, invoice["url"]).status_code == 200
    assert event_types(api)[: len(event_types(api)) - count] == ["invoice.viewed"]
    assert ok(api.get("/invoices", params={"filter[viewed]": "1"}))[0]["id"] == invoice["id"]


def test_s14_draft_page_is_marked_draft_and_not_viewed(api):
    invoice = seed(api, draft="1")
    count = len(event_types(api))
    r = page(api, invoice["url"])
    assert r.status_code == 200
    assert "Draft" in r.text
    assert len(event_types(api)) == count
    issued = ok(api.patch(f"/invoices/{invoice['id']}", json={"draft": False}))
    assert issued["status"] == "not_sent"  # the draft view did not count


def test_c18_4_voided_invoice_link_shows_voided_without_pay(api):
    """V1: the API drops the URLs; the old link still shows the page, clearly voided."""
    invoice = seed(api)
    voided = ok(api.post(f"/invoices/{invoice['id']}/void"))
    assert voided["url"] is None and voided["pdf_url"] is None
    assert voided["payment_url"] is None
    count = len(event_types(api))
    r = page(api, invoice["url"])
    assert r.status_code == 200
    assert "Voided" in r.text and "This invoice has been voided" in r.text
    assert invoice["payment_url"] not in r.text
    assert "Pay " not in r.text
    assert len(event_types(api)) == count  # not marked viewed
    assert "voided" in pdf_text(page(api, invoice["pdf_url"]).content).lower()
    assert "nothing to pay" in page(api, invoice["payment_url"]).text


def test_c18_2_anything_unresolved_is_the_same_404(api, other_api):
    """Wrong client_id, wrong account, another account's identifier with a valid client_id,
    malformed paths: one 404 page, byte for byte, revealing nothing."""
    invoice = seed(api)
    url = invoice["url"]
    base = url.rsplit("/", 2)[0]
    client_id = url.rsplit("/", 1)[1]
    other = other_api.account.identifier
    candidates = [
        f"{base}/{api.account.identifier}/{'x' * 48}",
        f"{base}/{'y' * 24}/{client_id}",
        f"{base}/{other}/{client_id}",
        f"{base}/{other}/{client_id}/pdf",
        f"{base}/{other}/{client_id}/payment",
        f"{base}/{api.account.identifier}/{client_id}x",
        f"{base}/{api.account.identifier}/{client_id[:-1]}%00",
        f"{base}/{api.account.identifier}/{client_id}/nope",
        f"{base}/{api.account.identifier}",
        base.replace("/invoices", "/payments") + f"/{api.account.identifier}/{client_id}",
        base.replace("/invoices", "/statements") + f"/{api.account.identifier}/{client_id}",
        base.replace("/invoices", "/nothing"),
    ]
    bodies = set()
    for candidate in candidates:
        r = page(api, candidate)
        assert r.status_code == 404, candidate
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert_portal_headers(r)
        bodies.add(r.content)
    assert len(bodies) == 1
    assert b"Page not found" in bodies.pop()
    assert ok(api.get(f"/invoices/{invoice['id']}"))["status"] == "not_sent"


def test_c18_3_pdf_and_payment_routes(api):
    invoice = seed(api)
    r = page(api, invoice["pdf_url"])
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["Content-Disposition"] == 'inline; filename="INV-00001.pdf"'
    assert_portal_headers(r, csp=False)
    text = pdf_text(r.content)
    assert "INV-00001" in text and "$148.85" in text
    r = page(api, invoice["payment_url"])
    assert r.status_code == 200
    assert_portal_headers(r)
    assert "$148.85" in r.text and "not available" in r.text
    assert ok(api.get(f"/invoices/{invoice['id']}"))["status"] == "not_sent"


def test_c18_portal_needs_no_api_key_and_ignores_a_bad_one(api):
    invoice = seed(api)
    r = api.client.get(invoice["url"], auth=("sk_wrong", ""))
    assert r.status_code == 200


def test_s14_concurrent_first_opens_record_one_viewed_event(server, db_url):
    """The invoice row is locked while marking: ten simultaneous first opens, one event."""
    account = new_account(db_url)
    auth = (account.key, "")
    with httpx.Client(base_url=server.base_url, auth=auth) as http:
        customer = http.post("/customers", json={"name": "Racer"}).json()
        invoice = http.post(
            "/invoices", json={"customer": customer["id"], "items": [{"unit_cost": 5}]}
        ).json()

        async def open_all() -> list[int]:
            async with httpx.AsyncClient() as client:
                responses = await asyncio.gather(*(client.get(invoice["url"]) for _ in range(10)))
            return [r.status_code for r in responses]

        assert asyncio.run(open_all()) == [200] * 10
        types = [e["type"] for e in http.get("/events").json()]
        assert types.count("invoice.viewed") == 1
        assert types.count("invoice.updated") == 1


# ---------------------------------------------------------------------------- receipts


def test_tx13_legacy_transaction_receipt(api):
    invoice = seed(api)
    transaction = created(
        api.post(
            "/transactions",
            data={
                "invoice": invoice["id"],
                "method": "check",
                "gateway_id": "1450",
                "amount": "148.85",
            },
        )
    )
    r = page(api, transaction["pdf_url"])
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert_portal_headers(r, csp=False)
    text = pdf_text(r.content)
    for expected in ("Payment receipt", "Acme", "Check", "1450", "Invoice INV-00001 $148.85"):
        assert expected in text, (expected, text)
    html_page = page(api, transaction["pdf_url"].removesuffix("/pdf"))
    assert html_page.status_code == 200
    assert_portal_headers(html_page)
    assert "Payment receipt" in html_page.text


def test_py8_payment_receipt(api):
    invoice = seed(api)
    payment = created(
        api.post(
            "/payments",
            json={
                "amount": 148.85,
                "method": "check",
                "reference": "1450",
                "applied_to": [{"type": "invoice", "invoice": invoice["id"], "amount": 148.85}],
            },
        )
    )
    assert payment["pdf_url"]
    r = page(api, payment["pdf_url"])
    assert r.status_code == 200
    text = pdf_text(r.content)
    for expected in ("Payment receipt", "Acme", "Invoice INV-00001 $148.85", "1450"):
        assert expected in text, (expected, text)
    assert page(api, payment["pdf_url"].removesuffix("/pdf")).status_code == 200


def test_customer_statement_pages(api):
    """customers.md statement_pdf_url: the default statement, as a page and a PDF."""
    invoice = seed(api)
    customer = ok(api.get(f"/customers/{invoice['customer']}"))
    r = page(api, customer["statement_pdf_url"])
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["Content-Disposition"] == 'inline; filename="Statement.pdf"'
    text = pdf_text(r.content)
    assert "Statement" in text and "Acme" in text and "INV-00001" in text
    html_page = page(api, customer["statement_pdf_url"].removesuffix("/pdf"))
    assert html_page.status_code == 200
    assert_portal_headers(html_page)
    assert "$148.85" in html_page.text


# ---------------------------------------------------------------------------- API PDFs (C17)


def test_c17_1_accept_pdf_on_invoices_payments_transactions(api, other_api):
    invoice = seed(api)
    payment = created(
        api.post(
            "/payments",
            json={
                "amount": 100,
                "method": "check",
                "applied_to": [{"type": "invoice", "invoice": invoice["id"], "amount": 100}],
            },
        )
    )
    transaction = created(
        api.post(
            "/transactions", data={"invoice": invoice["id"], "method": "cash", "amount": "48.85"}
        )
    )
    paths = {
        f"/invoices/{invoice['id']}": "INV-00001",
        f"/payments/{payment['id']}": "Payment receipt",
        f"/transactions/{transaction['id']}": "Payment receipt",
    }
    for path, expected in paths.items():
        r = api.get(path, headers={"Accept": "text/html, application/pdf;q=0.1"})
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"] == "application/pdf"
        assert expected in pdf_text(r.content)
        for accept in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
            r = api.get(path, headers=accept)
            assert r.status_code == 200
            assert r.headers["content-type"] == "application/json"
        r = other_api.get(path, headers=PDF_HEADERS)
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/json"
        r = api.get(path, headers=PDF_HEADERS, auth=None)
        assert r.status_code == 401
    assert api.get("/invoices/999999999", headers=PDF_HEADERS).status_code == 404


def test_c17_openapi_documents_the_pdf_alternative(api):
    schema = api.client.get("/openapi.json").json()
    for path in (
        "/invoices/{invoice_id}",
        "/payments/{payment_id}",
        "/transactions/{transaction_id}",
    ):
        content = schema["paths"][path]["get"]["responses"]["200"]["content"]
        assert "application/json" in content
        assert content["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    assert not any(p.startswith("/portal") for p in schema["paths"])
