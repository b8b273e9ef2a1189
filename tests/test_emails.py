"""Sending invoices, statements and receipts by email (emails.md EM1-EM16, examples EM-A..EM-D).

Most tests use the in-process app in `outbox` mode (the default: rendered, stored, `sent`,
nothing leaves). The `smtp` tests run their own app pointed at an aiosmtpd server on
127.0.0.1 and drive the delivery job with `POST /_test/jobs/due/run` and `/_test/clock`.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import re
import threading
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select, update
from starlette.testclient import TestClient

from tally.app import create_app
from tally.cli import main as cli_main
from tally.config import Settings
from tally.db import Database
from tally.emails.delivery import deliver_email
from tally.jobs import JobRun
from tally.models import Account, Email
from tests.conftest import Api
from tests.support import free_port, new_account

SEED_ITEMS = [
    {"name": "Copy paper, Case", "quantity": 3, "unit_cost": 45},
    {"name": "Delivery", "quantity": 1, "unit_cost": 10},
]
EMAIL_KEYS = {
    "id",
    "object",
    "customer",
    "state",
    "reject_reason",
    "email",
    "template",
    "subject",
    "message",
    "opens",
    "opens_detail",
    "created_at",
    "updated_at",
}
HEX32 = re.compile(r"[0-9a-f]{32}")


# ---------------------------------------------------------------------------- helpers


def created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def sent(response) -> list[dict]:
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body, list)
    for item in body:
        assert set(item) == EMAIL_KEYS
        assert item["object"] == "email"
        assert HEX32.fullmatch(item["id"])
    return body


def error(response, status: int = 400) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def seed(api, **customer) -> tuple[dict, dict]:
    """Customer 'Acme' (billing@acmecorp.com) and invoice INV-00001 (total 148.85)."""
    fields = {"name": "Acme", "email": "billing@acmecorp.com", **customer}
    cust = created(api.post("/customers", json=fields))
    invoice = created(
        api.post(
            "/invoices",
            json={"customer": cust["id"], "items": SEED_ITEMS, "taxes": [{"amount": 3.85}]},
        )
    )
    assert invoice["total"] == 148.85
    return cust, invoice


def raw_message(api, email_id: str) -> EmailMessage:
    response = api.get(f"/emails/{email_id}/message")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("message/rfc822")
    message = email.message_from_bytes(response.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append(("".join(self._text).strip(), self._href))
            self._href = None


def links_of(html: str) -> list[tuple[str, str]]:
    parser = Links()
    parser.feed(html)
    return parser.links


def parts(message: EmailMessage) -> tuple[str, str, list[EmailMessage]]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content(), list(message.iter_attachments())


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def set_account(db_url: str, account_id: int, **values) -> None:
    async def work() -> None:
        database = Database(Settings(database_url=db_url))
        try:
            async with database.session(write=True) as session:
                await session.execute(
                    update(Account).where(Account.id == account_id).values(**values)
                )
                await session.commit()
        finally:
            await database.dispose()

    asyncio.run(work())


def events_of(api, type_: str) -> list[dict]:
    r = api.get("/events", params={"filter[type]": type_})
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------------------- EM-A


def test_em_a_seed_invoice_defaults(api):
    cust, invoice = seed(api)
    emails = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    assert len(emails) == 1
    (first,) = emails
    assert first["customer"] == cust["id"]
    assert first["state"] == "sent"  # outbox mode (EM10)
    assert first["reject_reason"] is None
    assert first["email"] == "billing@acmecorp.com"
    assert first["template"] == "new_invoice_email"
    assert first["subject"] == "New invoice INV-00001 from Acme Billing"
    assert "$148.85" in first["message"]
    assert (first["opens"], first["opens_detail"]) == (0, [])
    assert isinstance(first["created_at"], int) and first["updated_at"] == first["created_at"]
    assert api.get(f"/invoices/{invoice['id']}").json()["status"] == "sent"  # EM8 / S13
    # Sending again → unpaid reminder; after payment → thank you (EM6).
    again = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    assert again[0]["template"] == "unpaid_invoice_email"
    assert again[0]["subject"] == "Reminder: invoice INV-00001 from Acme Billing"
    created(api.post("/transactions", json={"invoice": invoice["id"], "amount": 148.85}))
    assert api.get(f"/invoices/{invoice['id']}").json()["status"] == "paid"
    paid = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    assert paid[0]["template"] == "paid_invoice_email"
    assert paid[0]["subject"] == "Thank you for paying invoice INV-00001"


def test_em6_past_due_invoice_gets_late_reminder(api):
    cust = created(api.post("/customers", json={"name": "Late", "email": "late@example.com"}))
    invoice = created(
        api.post(
            "/invoices",
            json={
                "customer": cust["id"],
                "items": SEED_ITEMS,
                "date": 1_600_000_000,
                "due_date": 1_600_000_000 + 86_400,
            },
        )
    )
    assert invoice["status"] == "past_due"
    (first,) = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    assert first["template"] == "late_payment_reminder_email"


def test_em_a_message_content(api):
    """The stored MIME: one message, From/To/Subject, text + HTML with a View Invoice button
    whose href is the invoice's url (C18), and the invoice PDF (C17, EM9)."""
    _, invoice = seed(api)
    (first,) = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    message = raw_message(api, first["id"])
    assert message["Subject"] == "New invoice INV-00001 from Acme Billing"
    assert message["To"] == "Acme <billing@acmecorp.com>"
    assert message["From"].addresses[0].display_name == "Acme Billing"
    assert message["Bcc"] is None
    assert message["Message-ID"] and message["Date"]
    assert message.get_content_type() == "multipart/mixed"
    text, html, attachments = parts(message)
    assert text.strip().startswith(first["message"].strip().splitlines()[0])
    assert first["message"] in text.replace("\r\n", "\n")
    assert invoice["url"] in text
    assert ("View Invoice", invoice["url"]) in links_of(html)
    assert "$148.85" in html and "$148.85" in text
    assert "<style" not in html and "<link" not in html  # inline CSS only
    (pdf,) = attachments
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == "INV-00001.pdf"
    content = pdf_text(pdf.get_content())
    assert "INV-00001" in content and "148.85" in content


def test_html_part_is_escaped(api):
    cust = created(
        api.post("/customers", json={"name": "<b>Bold</b> & Co", "email": "bold@example.com"})
    )
    invoice = created(api.post("/invoices", json={"customer": cust["id"], "items": SEED_ITEMS}))
    (first,) = sent(
        api.post(
            f"/invoices/{invoice['id']}/emails",
            json={"message": "Hi {{customer_name}} <script>alert(1)</script>"},
        )
    )
    assert first["message"] == "Hi <b>Bold</b> & Co <script>alert(1)</script>"
    text, html, _ = parts(raw_message(api, first["id"]))
    assert "<b>Bold</b>" not in html and "<script>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html
    assert "&lt;script&gt;" in html
    assert "Hi <b>Bold</b> & Co <script>alert(1)</script>" in text


def test_account_name_is_escaped_in_html(api, db_url):
    set_account(db_url, api.account.id, name="Tags <i>R</i> Us")
    _, invoice = seed(api)
    (first,) = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    assert first["subject"] == "New invoice INV-00001 from Tags <i>R</i> Us"
    message = raw_message(api, first["id"])
    assert message["From"].addresses[0].display_name == "Tags <i>R</i> Us"
    _, html, _ = parts(message)
    assert "Tags &lt;i&gt;R&lt;/i&gt; Us" in html and "<i>R</i>" not in html


# ---------------------------------------------------------------------------- EM-B


def test_em_b_recipients_bcc_and_overrides(api):
    _, invoice = seed(api)
    emails = sent(
        api.post(
            f"/invoices/{invoice['id']}/emails",
            json={
                "to": [
                    {"name": "Client", "email": "Client@Example.com"},
                    {"email": "client@example.com"},
                    {"email": "ap@acmecorp.com"},
                ],
                "bcc": "audit@acmebilling.test",
                "subject": "Your invoice {{invoice_number}}",
                "message": "Balance due: {{balance}}",
            },
        )
    )
    assert [e["email"] for e in emails] == ["client@example.com", "ap@acmecorp.com"]
    assert {e["subject"] for e in emails} == {"Your invoice INV-00001"}
    assert {e["message"] for e in emails} == {"Balance due: $148.85"}
    message = raw_message(api, emails[0]["id"])
    assert raw_message(api, emails[1]["id"])["Message-ID"] == message["Message-ID"]  # one send
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [
        ("Client", "client@example.com"),
        ("Acme", "ap@acmecorp.com"),  # EM4
    ]
    assert message["Bcc"] is None
    assert "audit@acmebilling.test" not in str(message)  # bcc lives in the envelope only
    listed = api.get("/emails").json()
    assert [e["email"] for e in listed] == ["client@example.com", "ap@acmecorp.com"]


def test_em_b_form_body(api):
    _, invoice = seed(api)
    emails = sent(
        api.post(
            f"/invoices/{invoice['id']}/emails",
            data={
                "to[0][name]": "Client",
                "to[0][email]": "client@example.com",
                "bcc": "a@x.com,b@x.com",
            },
        )
    )
    assert [(e["email"]) for e in emails] == ["client@example.com"]
    assert raw_message(api, emails[0]["id"])["To"] == "Client <client@example.com>"


def test_em2_default_recipients_primary_contacts_and_customer(api):
    cust, invoice = seed(api)
    for contact in (
        {"name": "Nancy Talty", "email": "nancy.talty@example.com"},
        {"name": "Secondary", "email": "second@example.com", "primary": False},
    ):
        created(api.post(f"/customers/{cust['id']}/contacts", json=contact))
    emails = sent(api.post(f"/invoices/{invoice['id']}/emails", json={"to": []}))
    assert [e["email"] for e in emails] == ["nancy.talty@example.com", "billing@acmecorp.com"]
    to = raw_message(api, emails[0]["id"])["To"]
    assert [a.display_name for a in to.addresses] == ["Nancy Talty", "Acme"]


def test_account_bcc_setting_is_the_default(api, db_url):
    set_account(db_url, api.account.id, bcc="books@acmebilling.test")
    _, invoice = seed(api)
    (first,) = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    assert first["email"] == "billing@acmecorp.com"  # bcc recipients are not returned


# ---------------------------------------------------------------------------- EM-C


def test_em_c_errors(api):
    _, invoice = seed(api)
    path = f"/invoices/{invoice['id']}/emails"
    body = error(api.post(path, json={"to": [{"email": "not-an-address"}]}))
    assert body == {
        "type": "invalid_request",
        "message": "Invalid email address: not-an-address",
        "param": "to",
    }
    six = [{"email": f"user{i}@example.com"} for i in range(6)]
    assert error(api.post(path, json={"to": six})) == {
        "type": "invalid_request",
        "message": "Cannot send to more than 5 recipients at a time.",
        "param": "to",
    }
    assert error(api.post(path, json={"bcc": "ok@x.com,nope"})) == {
        "type": "invalid_request",
        "message": "Invalid email address: nope",
        "param": "bcc",
    }
    assert error(api.post(path, json={"template": "nope"})) == {
        "type": "invalid_request",
        "message": "No such email template: nope",
        "param": "template",
    }
    parse = error(api.post(path, json={"subject": "Hi {{ invoice_number "}))
    assert parse["message"].startswith("Could not render email template due to a parsing error: ")
    assert error(api.post("/invoices/999999999/emails"), 404) == {
        "type": "invalid_request",
        "message": "Invoice was not found: 999999999",
    }
    assert error(api.post("/invoices/abc/emails"), 404)["message"] == "Invoice was not found: abc"
    # Nothing was recorded by any refused request, and the invoice was not marked sent.
    assert api.get("/emails").json() == []
    assert api.get(f"/invoices/{invoice['id']}").json()["status"] == "not_sent"


def test_em_c_customer_without_email_or_contacts(api):
    cust = created(api.post("/customers", json={"name": "Silent"}))
    invoice = created(api.post("/invoices", json={"customer": cust["id"], "items": SEED_ITEMS}))
    assert error(api.post(f"/invoices/{invoice['id']}/emails", json={})) == {
        "type": "invalid_request",
        "message": "No email recipients given. At least one recipient must be provided.",
        "param": "to",
    }


def test_em_c_voided_invoice(api):
    _, invoice = seed(api)
    assert api.post(f"/invoices/{invoice['id']}/void").status_code == 200
    assert error(api.post(f"/invoices/{invoice['id']}/emails")) == {
        "type": "invalid_request",
        "message": "Voided documents cannot be sent.",
    }


# ---------------------------------------------------------------------------- EM8


def test_em8_draft_stays_draft_and_closed_invoice_can_be_sent(api):
    cust, _ = seed(api)
    draft = created(
        api.post("/invoices", json={"customer": cust["id"], "items": SEED_ITEMS, "draft": True})
    )
    sent(api.post(f"/invoices/{draft['id']}/emails"))
    after = api.get(f"/invoices/{draft['id']}").json()
    assert (after["draft"], after["status"]) == (True, "draft")
    closed = created(
        api.post("/invoices", json={"customer": cust["id"], "items": SEED_ITEMS, "closed": True})
    )
    assert closed["closed"] is True
    sent(api.post(f"/invoices/{closed['id']}/emails"))  # no edit lock (unlike E3)
    assert api.get(f"/invoices/{closed['id']}").json()["status"] == "sent"


def test_em8_em15_events(api):
    _, invoice = seed(api)
    (first,) = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    updated = events_of(api, "invoice.updated")
    assert len(updated) == 1
    assert updated[0]["data"]["previous"]["status"] == "not_sent"
    assert updated[0]["data"]["object"]["status"] == "sent"
    emails = events_of(api, "email.sent")
    assert [e["data"]["object"]["id"] for e in emails] == [first["id"]]
    related = api.get("/events", params={"related_to": f"invoice,{invoice['id']}"}).json()
    assert "email.sent" in {e["type"] for e in related}
    # A second send changes nothing visible on the invoice: no new invoice.updated (EV3).
    sent(api.post(f"/invoices/{invoice['id']}/emails"))
    assert len(events_of(api, "invoice.updated")) == 1
    assert len(events_of(api, "email.sent")) == 2


# ---------------------------------------------------------------------------- EM-D / EM12


def test_em_d_open_item_statement(api):
    cust, invoice = seed(api)
    (first,) = sent(api.post(f"/customers/{cust['id']}/emails", json={"type": "open_item"}))
    assert first["email"] == "billing@acmecorp.com"
    assert first["template"] == "statement_email"
    assert first["subject"] == "Account statement from Acme Billing"
    message = raw_message(api, first["id"])
    _, html, attachments = parts(message)
    statement_url = links_of(html)[0][1]
    assert links_of(html)[0][0] == "View Statement"
    assert statement_url.endswith(f"/statements/{api.account.identifier}/") is False
    assert f"/statements/{api.account.identifier}/" in statement_url
    assert api.get(f"/customers/{cust['id']}").json()["statement_pdf_url"] == statement_url + "/pdf"
    (pdf,) = attachments
    content = pdf_text(pdf.get_content())
    assert "INV-00001" in content and "148.85" in content
    # EM12: a statement changes no document state.
    assert api.get(f"/invoices/{invoice['id']}").json()["status"] == "not_sent"
    assert events_of(api, "invoice.updated") == []


def test_em12_statement_validation(api):
    cust, _ = seed(api)
    path = f"/customers/{cust['id']}/emails"
    assert error(api.post(path, json={"type": "weekly"})) == {
        "type": "invalid_request",
        "message": "Unrecognized statement type: weekly",
        "param": "type",
    }
    assert error(api.post(path, json={"type": "open_item", "items": "all"}))["param"] == "items"
    assert error(api.post(path, json={"start": "yesterday"}))["param"] == "start"
    assert error(api.post(path, json={"currency": "zzz"}))["param"] == "currency"
    assert error(api.post("/customers/999999999/emails"), 404)["message"] == (
        "Customer was not found: 999999999"
    )
    emails = sent(
        api.post(path, data={"type": "balance_forward", "start": "1600000000", "currency": "USD"})
    )
    assert emails[0]["template"] == "statement_email"


# ---------------------------------------------------------------------------- EM13 receipts


def test_em13_payment_receipt(api):
    cust, invoice = seed(api)
    payment = created(
        api.post(
            "/payments",
            json={
                "customer": cust["id"],
                "amount": 148.85,
                "method": "check",
                "applied_to": [{"type": "invoice", "invoice": invoice["id"], "amount": 148.85}],
            },
        )
    )
    (first,) = sent(api.post(f"/payments/{payment['id']}/emails"))
    assert first["template"] == "payment_receipt_email"
    assert first["subject"] == "Payment receipt from Acme Billing"
    assert "$148.85" in first["message"]
    message = raw_message(api, first["id"])
    _, html, attachments = parts(message)
    assert ("View Receipt", payment["pdf_url"].removesuffix("/pdf")) in links_of(html)
    assert attachments[0].get_filename() == "Receipt.pdf"
    assert "148.85" in pdf_text(attachments[0].get_content())
    assert api.delete(f"/payments/{payment['id']}").status_code == 200
    assert error(api.post(f"/payments/{payment['id']}/emails")) == {
        "type": "invalid_request",
        "message": "Voided payments cannot be sent.",
    }


def test_em13_payment_without_customer(api):
    payment = created(api.post("/payments", json={"amount": 20, "method": "check"}))
    assert payment["customer"] is None
    assert error(api.post(f"/payments/{payment['id']}/emails")) == {
        "type": "invalid_request",
        "message": "This payment is not associated with a customer.",
    }
    assert error(api.post("/payments/999999999/emails"), 404)["message"] == (
        "Payment was not found: 999999999"
    )


def test_legacy_transaction_receipt(api):
    cust, invoice = seed(api)
    txn = created(api.post("/transactions", json={"invoice": invoice["id"], "amount": 50}))
    (first,) = sent(api.post(f"/transactions/{txn['id']}/emails", json={"to": "ap@acmecorp.com"}))
    assert first["template"] == "payment_receipt_email"
    assert first["email"] == "ap@acmecorp.com"
    _, html, attachments = parts(raw_message(api, first["id"]))
    assert ("View Receipt", txn["pdf_url"].removesuffix("/pdf")) in links_of(html)
    assert attachments[0].get_filename() == "Receipt.pdf"
    # TX13: an adjustment has no receipt to send.
    adjustment = created(
        api.post(
            "/transactions",
            json={"customer": cust["id"], "type": "adjustment", "amount": -5},
        )
    )
    assert adjustment["pdf_url"] is None
    assert error(api.post(f"/transactions/{adjustment['id']}/emails"))["message"] == (
        "Only successful payments and charges have a receipt to send."
    )
    assert error(api.post("/transactions/999999999/emails"), 404)["message"] == (
        "Transaction was not found: 999999999"
    )


# ---------------------------------------------------------------------------- EM14 / EM16


def test_em14_idempotency_key_replays_the_same_emails(api):
    _, invoice = seed(api)
    headers = {"Idempotency-Key": f"send-{uuid.uuid4()}"}
    first = sent(api.post(f"/invoices/{invoice['id']}/emails", json={}, headers=headers))
    second = sent(api.post(f"/invoices/{invoice['id']}/emails", json={}, headers=headers))
    assert second == first
    assert [e["id"] for e in api.get("/emails").json()] == [first[0]["id"]]
    assert len(events_of(api, "email.sent")) == 1


@pytest.mark.parametrize("kind", ["text_messages", "letters"])
def test_em16_text_messages_and_letters(api, kind):
    cust, invoice = seed(api)
    for path in (f"/invoices/{invoice['id']}/{kind}", f"/customers/{cust['id']}/{kind}"):
        assert error(api.post(path, json={"to": [{"phone": "+15555550100"}]})) == {
            "type": "invalid_request",
            "message": "Your Invoiced account does not have access to this feature",
        }
    assert error(api.post(f"/invoices/999999999/{kind}"), 404)["message"] == (
        "Invoice was not found: 999999999"
    )
    assert error(api.post(f"/customers/999999999/{kind}"), 404)["message"] == (
        "Customer was not found: 999999999"
    )


# ---------------------------------------------------------------------------- the outbox


def test_get_emails_list_filters_and_retrieve(api):
    cust, invoice = seed(api)
    other = created(api.post("/customers", json={"name": "Other", "email": "o@example.com"}))
    other_invoice = created(
        api.post("/invoices", json={"customer": other["id"], "items": SEED_ITEMS})
    )
    a = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    b = sent(api.post(f"/invoices/{other_invoice['id']}/emails"))
    c = sent(
        api.post(
            f"/invoices/{invoice['id']}/emails",
            json={"to": [{"email": "x@example.com"}, {"email": "billing@acmecorp.com"}]},
        )
    )
    r = api.get("/emails")
    assert r.status_code == 200
    assert r.headers["X-Total-Count"] == "4"
    assert "Link" in r.headers
    assert [e["id"] for e in r.json()] == [e["id"] for e in (*a, *b, *c)]  # newest id last
    by_customer = api.get("/emails", params={"filter[customer]": cust["id"]}).json()
    assert [e["id"] for e in by_customer] == [e["id"] for e in (*a, *c)]
    by_email = api.get("/emails", params={"filter[email]": "Billing@AcmeCorp.com"}).json()
    assert [e["id"] for e in by_email] == [a[0]["id"], c[1]["id"]]
    page = api.get("/emails", params={"per_page": 1, "page": 2})
    assert [e["id"] for e in page.json()] == [b[0]["id"]]
    assert 'rel="next"' in page.headers["Link"]
    assert error(api.get("/emails", params={"filter[subject]": "x"}))["message"] == (
        "Invalid filter parameter: subject"
    )
    one = api.get(f"/emails/{a[0]['id']}")
    assert one.status_code == 200 and one.json() == a[0]
    missing = "0" * 32
    assert error(api.get(f"/emails/{missing}"), 404)["message"] == f"Email was not found: {missing}"
    assert error(api.get("/emails/nope"), 404)["message"] == "Email was not found: nope"
    assert error(api.get(f"/emails/{missing}/message"), 404)["message"] == (
        f"Email was not found: {missing}"
    )


def test_other_account_sees_no_emails(api, other_api):
    _, invoice = seed(api)
    (first,) = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    assert other_api.get("/emails").json() == []
    assert other_api.get(f"/emails/{first['id']}").status_code == 404
    assert other_api.get(f"/emails/{first['id']}/message").status_code == 404


def test_cli_list_and_show(api, db_url, monkeypatch):
    _, invoice = seed(api)
    (first,) = sent(api.post(f"/invoices/{invoice['id']}/emails"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    runner = CliRunner()
    listed = runner.invoke(cli_main, ["emails", "list", "--account", str(api.account.id)])
    assert listed.exit_code == 0, listed.output
    assert first["id"] in listed.output and "billing@acmecorp.com" in listed.output
    shown = runner.invoke(cli_main, ["emails", "show", first["id"]])
    assert shown.exit_code == 0, shown.output
    assert "Subject: New invoice INV-00001 from Acme Billing" in shown.output
    assert "To: Acme <billing@acmecorp.com>" in shown.output
    assert "$148.85" in shown.output
    assert re.search(r"Attachment: INV-00001\.pdf \(application/pdf, \d+ bytes\)", shown.output)
    raw = runner.invoke(cli_main, ["emails", "show", first["id"], "--raw"])
    assert raw.exit_code == 0 and "Content-Type: multipart/mixed" in raw.output
    html = runner.invoke(cli_main, ["emails", "show", first["id"], "--html"])
    assert html.exit_code == 0 and invoice["url"] in html.output and "View Invoice" in html.output
    missing = runner.invoke(cli_main, ["emails", "show", "0" * 32])
    assert missing.exit_code != 0 and "Email was not found" in missing.output


# ---------------------------------------------------------------------------- smtp mode (EM10)


class Collector:
    """aiosmtpd handler: keeps every message; refuses RCPT for `refuse` addresses (550)
    and DATA with `data_reply` when set."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.data_reply: str | None = None
        self.arrived = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply is not None:
            return self.data_reply
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.arrived.set()
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def collector(smtp_port) -> Iterator[tuple[Collector, Controller]]:
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield handler, controller
    finally:
        controller.stop()


@pytest.fixture
def smtp_api(db_url, smtp_port) -> Iterator[Api]:
    """An app of its own (worker off), sending through 127.0.0.1:smtp_port; its clock can
    move without disturbing other tests."""
    settings = Settings(
        database_url=db_url,
        test_mode=True,
        worker="off",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_timeout_seconds=5,
        job_retry_base_seconds=30,
        job_retry_max_seconds=3600,
        email_from="billing@acmebilling.test",
    )
    account = new_account(db_url)
    set_account(db_url, account.id, email_sending="smtp")
    with TestClient(create_app(settings), base_url="http://localhost:8000") as client:
        yield Api(client, account)


def run_due(api) -> int:
    r = api.post("/_test/jobs/due/run")
    assert r.status_code == 200, r.text
    return int(r.json()["ran"])


def state_of(api, email_id: str) -> dict:
    r = api.get(f"/emails/{email_id}")
    assert r.status_code == 200, r.text
    return r.json()


def test_em10_smtp_queued_then_sent(smtp_api, collector):
    handler, _ = collector
    _, invoice = seed(smtp_api)
    emails = sent(
        smtp_api.post(
            f"/invoices/{invoice['id']}/emails",
            json={"to": [{"email": "billing@acmecorp.com"}], "bcc": "audit@acmebilling.test"},
        )
    )
    assert [e["state"] for e in emails] == ["queued"]
    assert events_of(smtp_api, "email.sent") == []
    assert handler.messages == []  # nothing leaves before the job runs
    assert run_due(smtp_api) == 1
    assert state_of(smtp_api, emails[0]["id"])["state"] == "sent"
    ((mail_from, rcpt_tos, content),) = handler.messages
    assert mail_from == "billing@acmebilling.test"
    assert rcpt_tos == ["billing@acmecorp.com", "audit@acmebilling.test"]
    assert content == smtp_api.get(f"/emails/{emails[0]['id']}/message").content
    assert [e["data"]["object"]["id"] for e in events_of(smtp_api, "email.sent")] == [
        emails[0]["id"]
    ]
    assert run_due(smtp_api) == 0  # done: nothing runs again


def test_em10_smtp_down_deferred_then_retried_after_backoff(smtp_api, smtp_port):
    _, invoice = seed(smtp_api)
    (first,) = sent(smtp_api.post(f"/invoices/{invoice['id']}/emails"))
    assert first["state"] == "queued"
    assert run_due(smtp_api) == 1  # nothing listens on the port
    assert state_of(smtp_api, first["id"])["state"] == "deferred"
    assert run_due(smtp_api) == 0  # rescheduled 30 s later (business clock)
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        now = smtp_api.post("/_test/clock", json={"now": invoice["created_at"] + 120})
        assert now.status_code == 200, now.text
        assert run_due(smtp_api) == 1
        after = state_of(smtp_api, first["id"])
        assert (after["state"], after["reject_reason"]) == ("sent", None)
        assert len(handler.messages) == 1
        assert handler.messages[0][1] == ["billing@acmecorp.com"]
    finally:
        controller.stop()


def test_em10_smtp_recipient_refused_is_rejected_others_sent(smtp_api, collector):
    handler, _ = collector
    handler.refuse = {"gone@example.com"}
    _, invoice = seed(smtp_api)
    emails = sent(
        smtp_api.post(
            f"/invoices/{invoice['id']}/emails",
            json={"to": [{"email": "gone@example.com"}, {"email": "ok@example.com"}]},
        )
    )
    assert run_due(smtp_api) == 1
    gone, ok = (state_of(smtp_api, e["id"]) for e in emails)
    assert gone["state"] == "rejected"
    assert gone["reject_reason"].startswith("550 5.1.1 No such user here")
    assert (ok["state"], ok["reject_reason"]) == ("sent", None)
    assert handler.messages[0][1] == ["ok@example.com"]
    assert [e["data"]["object"]["id"] for e in events_of(smtp_api, "email.not_sent")] == [
        gone["id"]
    ]
    assert run_due(smtp_api) == 0  # nothing left to retry


def test_em10_smtp_message_refused_permanently(smtp_api, collector):
    handler, _ = collector
    handler.data_reply = "554 5.7.1 Message rejected as spam"
    _, invoice = seed(smtp_api)
    emails = sent(
        smtp_api.post(
            f"/invoices/{invoice['id']}/emails",
            json={"to": [{"email": "a@example.com"}, {"email": "b@example.com"}]},
        )
    )
    assert run_due(smtp_api) == 1
    for e in emails:
        row = state_of(smtp_api, e["id"])
        assert row["state"] == "rejected"
        assert row["reject_reason"] == "554 5.7.1 Message rejected as spam"
    assert run_due(smtp_api) == 0


def test_em10_smtp_temporary_reply_is_deferred(smtp_api, collector):
    handler, _ = collector
    handler.data_reply = "451 4.3.0 Try again later"
    _, invoice = seed(smtp_api)
    (first,) = sent(smtp_api.post(f"/invoices/{invoice['id']}/emails"))
    assert run_due(smtp_api) == 1
    assert state_of(smtp_api, first["id"])["state"] == "deferred"
    handler.data_reply = None
    smtp_api.post("/_test/clock", json={"now": invoice["created_at"] + 120})
    assert run_due(smtp_api) == 1
    assert state_of(smtp_api, first["id"])["state"] == "sent"
    assert len(handler.messages) == 1


def test_em10_last_attempt_gives_up(db_url, smtp_api, smtp_port):
    """On its last attempt the handler marks the rows rejected instead of deferred (and does
    not raise: there is nothing left to retry)."""
    _, invoice = seed(smtp_api)
    (first,) = sent(smtp_api.post(f"/invoices/{invoice['id']}/emails"))
    settings = Settings(database_url=db_url, smtp_host="127.0.0.1", smtp_port=smtp_port)

    async def work() -> None:
        database = Database(settings)
        try:
            async with database.session(write=False) as session:
                message_id = await session.scalar(
                    select(Email.message_id).where(Email.public_id == first["id"])
                )
            run = JobRun(
                id=None,
                name="deliver_email",
                account_id=smtp_api.account.id,
                payload={"message_id": message_id},
                attempts=72,
                max_attempts=72,
                now=int(time.time()),
                database=database,
                settings=settings,
            )
            await deliver_email(run)
        finally:
            await database.dispose()

    asyncio.run(work())  # nothing listens on smtp_port
    row = state_of(smtp_api, first["id"])
    assert row["state"] == "rejected"
    assert row["reject_reason"].startswith("Gave up after 72 attempts: ")
    assert len(events_of(smtp_api, "email.not_sent")) == 1


def test_em11_send_true_on_create_sends_the_invoice(api) -> None:
    """EM11: `send: true` on POST /invoices is an empty-body send after the save."""
    customer = api.post("/customers", json={"name": "Acme", "email": "billing@acmecorp.com"}).json()
    response = api.post(
        "/invoices",
        data={
            "customer": str(customer["id"]),
            "send": "1",
            "items[0][name]": "Work",
            "items[0][unit_cost]": "148.85",
        },
    )
    assert response.status_code == 201, response.text
    invoice = response.json()
    assert invoice["status"] == "sent"
    assert "send" not in invoice
    emails = api.get("/emails", params={"filter[customer]": customer["id"]}).json()
    assert [(e["email"], e["template"], e["state"]) for e in emails] == [
        ("billing@acmecorp.com", "new_invoice_email", "sent")
    ]
    events = api.get("/events", params={"related_to": f"invoice,{invoice['id']}"}).json()
    created = [e for e in events if e["type"] == "invoice.created"]
    assert len(created) == 1 and created[0]["data"]["object"]["status"] == "sent"


def test_em11_a_refused_send_still_creates_the_invoice(api) -> None:
    customer = api.post("/customers", json={"name": "No Address"}).json()
    response = api.post(
        "/invoices",
        json={
            "customer": customer["id"],
            "send": True,
            "items": [{"name": "Work", "unit_cost": 5}],
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "not_sent"
    assert api.get("/emails", params={"filter[customer]": customer["id"]}).json() == []
