"""Acceptance test of issue 5 (emails.md EM10): a real server with its embedded worker sends an
invoice through a real SMTP server on 127.0.0.1, driven by the OFFICIAL Python client.

1. `invoice.send()` → the email is `queued`, then `sent`; the message that arrives carries the
   subject, the amounts, a View Invoice button linking to the invoice's `url` (C18) and the
   invoice PDF (C17, EM9).
2. The SMTP server goes away: the next send is `deferred` (never a 500, never lost); a server
   comes back on the same port and the email arrives with no further request.
Every wait is bounded; servers are stopped in `finally` blocks.
"""

from __future__ import annotations

import email
import email.policy
import io
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import httpx
import invoiced
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from tests.support import ServerProcess, free_port, new_account
from tests.test_emails import set_account

WAIT_SECONDS = 20
ACCOUNT_NAME = "Acme Billing"


class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


def start_smtp(port: int) -> tuple[Inbox, Controller]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return inbox, controller


def wait_for(what: str, check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {WAIT_SECONDS}s waiting for {what}")
        time.sleep(0.1)


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append(("".join(self._text).strip(), self._href))
            self._href = None


def test_issue5_invoice_sent_by_smtp_with_official_client(db_url: str) -> None:
    smtp_port = free_port()
    account = new_account(db_url, name=ACCOUNT_NAME)
    set_account(db_url, account.id, email_sending="smtp")
    inbox, controller = start_smtp(smtp_port)
    smtp_running = True
    server = ServerProcess(
        db_url,
        WORKER="embedded",
        JOB_POLL_SECONDS="0.2",
        JOB_RETRY_BASE_SECONDS="1",
        JOB_RETRY_MAX_SECONDS="2",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        SMTP_TIMEOUT_SECONDS="5",
        EMAIL_FROM="billing@acmebilling.test",
    )
    try:
        client = invoiced.Client(account.key)
        client.api_url = server.base_url
        http = httpx.Client(base_url=server.base_url, auth=(account.key, ""), timeout=10)

        def email_state(email_id: str) -> dict[str, Any]:
            response = http.get(f"/emails/{email_id}")
            assert response.status_code == 200, response.text
            return dict(response.json())

        customer = client.Customer.create(name="Acme", email="billing@acmecorp.com")
        invoice = client.Invoice.create(
            customer=customer.id,
            items=[
                {"name": "Copy paper, Case", "quantity": 3, "unit_cost": 45},
                {"name": "Delivery", "quantity": 1, "unit_cost": 10},
            ],
            taxes=[{"amount": 3.85}],
        )
        assert invoice.number == "INV-00001" and invoice.total == 148.85

        # 1. Sent through the SMTP server.
        emails = invoice.send()
        assert len(emails) == 1
        first = emails[0]
        assert first.email == "billing@acmecorp.com"
        assert first.state in ("queued", "sent")
        wait_for("the first email to be sent", lambda: email_state(first.id)["state"] == "sent")
        wait_for("the first message to arrive", lambda: inbox.count() == 1)
        rcpt_tos, content = inbox.messages[0]
        assert rcpt_tos == ["billing@acmecorp.com"]
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        assert message["To"].addresses[0].addr_spec == "billing@acmecorp.com"
        assert message["Subject"] == f"New invoice INV-00001 from {ACCOUNT_NAME}"
        assert message["From"].addresses[0].display_name == ACCOUNT_NAME
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        assert text is not None and html is not None
        assert "$148.85" in text.get_content()
        assert "$148.85" in html.get_content()
        parser = Links()
        parser.feed(html.get_content())
        invoice_url = http.get(f"/invoices/{invoice.id}").json()["url"]
        assert invoice_url and invoice_url == invoice.url
        assert ("View Invoice", invoice_url) in parser.links
        pdfs = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1
        data = pdfs[0].get_content()
        assert data.startswith(b"%PDF-")
        pdf_text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
        assert "INV-00001" in pdf_text and "148.85" in pdf_text
        assert http.get(f"/invoices/{invoice.id}").json()["status"] == "sent"  # EM8

        # 2. The SMTP server is down: deferred, then delivered once it is back.
        controller.stop()
        smtp_running = False
        (second,) = invoice.send()
        assert second.state == "queued"
        wait_for(
            "the second email to be deferred",
            lambda: email_state(second.id)["state"] == "deferred",
        )
        assert inbox.count() == 1
        inbox, controller = start_smtp(smtp_port)  # the same port, no new request
        smtp_running = True
        wait_for("the second email to be sent", lambda: email_state(second.id)["state"] == "sent")
        wait_for("the second message to arrive", lambda: inbox.count() == 1)
        rcpt_tos, content = inbox.messages[0]
        assert rcpt_tos == ["billing@acmecorp.com"]
        again = email.message_from_bytes(content, policy=email.policy.default)
        assert again["Subject"] == f"Reminder: invoice INV-00001 from {ACCOUNT_NAME}"
        assert email_state(second.id)["reject_reason"] is None
        http.close()
    finally:
        server.stop()
        if smtp_running:
            controller.stop()
