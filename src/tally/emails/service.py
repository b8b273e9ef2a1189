"""Sending documents by email (emails.md) and reading the outbox.

A send checks everything first (EM1-EM7, EM12, EM13), renders the document and its PDF,
builds one MIME message, then writes: one EmailMessage, one Email row per `to` recipient,
the document's side effects (EM8) and events (EM15). In `outbox` mode the rows are `sent`
at once; in `smtp` mode they are `queued` and a `deliver_email` job, enqueued in the same
transaction, hands the message to the SMTP server (tally.emails.delivery, EM10).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from tally.config import Settings
from tally.context import Context
from tally.customers import repository as customers
from tally.documents import (
    Document,
    invoice_document,
    payment_receipt_document,
    render_pdf,
    statement_document_from,
    transaction_receipt_document,
)
from tally.documents.format import date_text
from tally.domain import emails as rules
from tally.domain.coerce import parse_timestamp
from tally.domain.errors import InvalidRequest, NotFound
from tally.domain.events import EventBuffer
from tally.domain.iso import currency_codes
from tally.domain.money import format_money
from tally.emails.mime import Attachment, build_message, render_body, to_bytes
from tally.http.listing import (
    FilterField,
    ListQuery,
    fetch_page,
    filter_conditions,
    order_by,
    updated_conditions,
)
from tally.http.validation import MAX_TIMESTAMP, MIN_TIMESTAMP
from tally.invoices import service as invoices
from tally.invoices.document import status_of
from tally.invoices.repository import get_document
from tally.jobs import enqueue
from tally.models import Contact, Customer, Email, EmailMessage, Payment, Transaction
from tally.payments import service as payments
from tally.statements import StatementOptions, build_statement
from tally.transactions import service as transactions

DELIVER_JOB = "deliver_email"
# EM10: about three days of retries once the backoff reaches its one-hour cap.
DELIVERY_ATTEMPTS = 72
VOIDED_DOCUMENT = "Voided documents cannot be sent."
VOIDED_PAYMENT = "Voided payments cannot be sent."
NO_PAYMENT_CUSTOMER = "This payment is not associated with a customer."
NO_RECEIPT = "Only successful payments and charges have a receipt to send."
_PUBLIC_ID = re.compile(r"[0-9a-f]{32}")

FILTERS: dict[str, FilterField] = {
    "customer": FilterField(Email.customer_id, "int"),
    "email": FilterField(Email.email, "lower"),
}


# ---------------------------------------------------------------------------- rendering


def email_json(email: Email) -> dict[str, Any]:
    """emails.md §3."""
    return {
        "id": email.public_id,
        "object": "email",
        "customer": email.customer_id,
        "state": email.state,
        "reject_reason": email.reject_reason,
        "email": email.email,
        "template": email.template,
        "subject": email.subject,
        "message": email.message,
        "opens": len(email.opens_detail or []),
        "opens_detail": list(email.opens_detail or []),
        "created_at": email.created_at,
        "updated_at": email.updated_at,
    }


def record_email_event(events: EventBuffer, email: Email, event_type: str) -> None:
    """`email.sent` / `email.not_sent` (events_webhooks.md §4), linked to the customer and
    the document that was sent."""
    related: list[tuple[str, int | str]] = [(email.document_type, email.document_id)]
    if email.customer_id is not None:
        related.append(("customer", email.customer_id))
    events.occurred(event_type, "email", email.public_id, email_json(email), related=related)


# ---------------------------------------------------------------------------- one send


@dataclass(frozen=True)
class _Subject:
    """What is being sent: the document's kind, its rows and its placeholder values."""

    document_type: str  # "invoice" | "customer" (statement) | "payment" | "transaction"
    document_id: int
    customer: Customer
    automatic_template: str
    values: Mapping[str, str]
    url: str | None
    button: str


async def _default_recipients(ctx: Context, customer: Customer) -> list[rules.Recipient]:
    """CU17 for this customer."""
    rows = await ctx.session.execute(
        select(Contact.name, Contact.email, Contact.primary).where(
            Contact.account_id == ctx.account_id, Contact.customer_id == customer.id
        )
    )
    contacts = [(name, email, primary) for name, email, primary in rows.all()]
    return rules.default_recipients(contacts, customer.name, customer.email)


@dataclass(frozen=True)
class _Prepared:
    recipients: list[rules.Recipient]
    bcc: list[str]
    content: rules.Content


async def _prepare(ctx: Context, subject: _Subject, body: Mapping[str, Any]) -> _Prepared:
    """Every check that can refuse the request, before anything is written (EM2-EM7)."""
    requested = rules.parse_to(body.get("to"))
    defaults = [] if requested else await _default_recipients(ctx, subject.customer)
    recipients = rules.resolve_recipients(requested, defaults, subject.customer.name)
    bcc = rules.parse_bcc(body.get("bcc"), ctx.account.bcc)
    template = rules.check_template(body.get("template"), subject.automatic_template)
    content = rules.render_content(
        template, subject.values, subject=body.get("subject"), message=body.get("message")
    )
    return _Prepared(recipients, bcc, content)


async def _deliver(
    ctx: Context, subject: _Subject, prepared: _Prepared, document: Document
) -> list[Email]:
    """Render the PDF, build and store the message and its rows, queue or record it."""
    pdf = await render_pdf(document)
    content = prepared.content
    body = render_body(
        company_name=ctx.account.name,
        subject=content.subject,
        message=content.message,
        url=subject.url,
        button=subject.button,
        attachment=document.filename,
    )
    sender = sender_address(ctx)
    recipients = prepared.recipients
    to_addresses = [r.email for r in recipients]
    bcc = [address for address in prepared.bcc if address not in to_addresses]
    mime = build_message(
        sender_name=ctx.account.name,
        sender_email=sender,
        to=recipients,
        subject=content.subject,
        body=body,
        attachments=[Attachment(document.filename, pdf)],
        now=ctx.now,
    )
    message = EmailMessage(
        account_id=ctx.account_id,
        sender=sender,
        recipients=[*to_addresses, *bcc],
        bcc=bcc,
        raw=to_bytes(mime),
        created_at=ctx.now,
    )
    ctx.session.add(message)
    await ctx.session.flush()
    smtp = ctx.account.email_sending == "smtp"
    rows = [
        Email(
            account_id=ctx.account_id,
            public_id=secrets.token_hex(16),
            message_id=message.id,
            customer_id=subject.customer.id,
            document_type=subject.document_type,
            document_id=subject.document_id,
            email=recipient.email,
            name=recipient.name,
            state="queued" if smtp else "sent",
            reject_reason=None,
            template=content.template,
            subject=content.subject,
            message=content.message,
            opens_detail=[],
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        for recipient in recipients
    ]
    ctx.session.add_all(rows)
    await ctx.session.flush()
    if smtp:
        enqueue(
            ctx.session,
            name=DELIVER_JOB,
            now=ctx.now,
            account_id=ctx.account_id,
            payload={"message_id": message.id},
            max_attempts=DELIVERY_ATTEMPTS,
        )
    else:
        for row in rows:  # outbox: recorded as sent, nothing leaves the machine
            record_email_event(ctx.events, row, "email.sent")
    return rows


def sender_address(ctx: Context) -> str:
    """EMAIL_FROM of the server handling the request (the display name is the account's)."""
    request = getattr(ctx, "request", None)
    settings = getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)
    if isinstance(settings, Settings):
        return settings.email_from
    return Settings().email_from


def _money(minor: int, currency: str) -> str:
    return format_money(minor, currency)


def _customer_values(ctx: Context, customer: Customer) -> dict[str, str]:
    return {
        "company_name": ctx.account.name,
        "customer_name": customer.name,
        "customer_number": customer.number,
    }


# ---------------------------------------------------------------------------- invoices


async def send_invoice_emails(
    ctx: Context, invoice_id: int, body: Mapping[str, Any]
) -> list[Email]:
    """POST /invoices/{id}/emails (EM1-EM8)."""
    document = await get_document(ctx.session, ctx.account_id, invoice_id, lock=True)
    invoice = document.invoice
    if invoice.voided:
        raise InvalidRequest(VOIDED_DOCUMENT)  # EM8 (Decision)
    customer = await customers.get(ctx.session, ctx.account_id, invoice.customer_id)
    links = invoices.urls(ctx, invoice)
    time_zone = ctx.account.time_zone
    values = {
        **_customer_values(ctx, customer),
        "invoice_number": invoice.number,
        "invoice_date": date_text(invoice.date, time_zone) or "",
        "due_date": date_text(invoice.due_date, time_zone) or "",
        "total": _money(invoice.total, invoice.currency),
        "balance": _money(invoice.balance, invoice.currency),
        "url": links["url"] or "",
        "payment_url": links["payment_url"] or "",
    }
    subject = _Subject(
        document_type="invoice",
        document_id=invoice.id,
        customer=customer,
        automatic_template=rules.invoice_template(
            paid=invoice.paid,
            payment_plan_pending=False,  # no payment plans in v1 (payment_plans.md)
            status=status_of(invoice, ctx.now),
            sent=invoice.sent,
        ),
        values=values,
        url=links["url"],
        button="View Invoice",
    )
    prepared = await _prepare(ctx, subject, body)
    rows = await _deliver(ctx, subject, prepared, await invoice_document(ctx, invoice))
    # EM8 / S13: sent (drafts stay drafts: status is computed), last_sent = now.
    before = await invoices.event_snapshot(ctx, document)
    invoice.sent = True
    invoice.last_sent = ctx.now
    after = await invoices.event_snapshot(ctx, document)
    if {k: v for k, v in after.items() if k != "updated_at"} != {
        k: v for k, v in before.items() if k != "updated_at"
    }:
        invoice.updated_at = ctx.now
        after["updated_at"] = ctx.now
        ctx.events.updated(
            "invoice", invoice.id, before, after, related=[("customer", invoice.customer_id)]
        )
    await ctx.session.flush()
    return rows


async def send_invoice(
    ctx: Context, invoice_id: int, body: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """EM11 entry point: send an invoice as POST /invoices/{id}/emails would, in the
    caller's transaction; the email objects. Raises a DomainError (InvalidRequest/NotFound)
    before writing anything when the send is refused."""
    return [email_json(row) for row in await send_invoice_emails(ctx, invoice_id, body)]


# ---------------------------------------------------------------------------- statements


def _timestamp(body: Mapping[str, Any], name: str) -> int | None:
    raw = body.get(name)
    if raw is None or raw == "":
        return None
    value = (
        parse_timestamp(raw) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
    )
    if value is None or not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:
        raise InvalidRequest(f"{name.capitalize()} is invalid", name)
    return value


def statement_options(body: Mapping[str, Any]) -> StatementOptions:
    """EM12: type, period, items and currency of a statement, checked."""
    kind = rules.statement_type(body.get("type"))
    items = rules.statement_items(body.get("items"))
    start = _timestamp(body, "start")
    end = _timestamp(body, "end")
    if start is not None and end is not None and start > end:
        raise InvalidRequest("Start must be before end", "start")
    currency = body.get("currency")
    if currency is None or currency == "":
        currency = None
    elif not isinstance(currency, str) or currency.strip().lower() not in currency_codes():
        raise InvalidRequest("Currency is invalid", "currency")
    else:
        currency = currency.strip().lower()
    return StatementOptions(type=kind, start=start, end=end, items=items, currency=currency)


async def send_statement(ctx: Context, customer_id: int, body: Mapping[str, Any]) -> list[Email]:
    """POST /customers/{id}/emails (EM12): changes no document state."""
    customer = await customers.get(ctx.session, ctx.account_id, customer_id)
    options = statement_options(body)
    statement = await build_statement(ctx, customer, options)
    url = f"{ctx.public_base_url}/statements/{ctx.account.identifier}/{customer.client_id}"
    subject = _Subject(
        document_type="customer",
        document_id=customer.id,
        customer=customer,
        automatic_template=rules.STATEMENT,
        values={
            **_customer_values(ctx, customer),
            "invoice_date": date_text(statement.end, ctx.account.time_zone) or "",
            "total": _money(statement.total_invoiced, statement.currency),
            "balance": _money(statement.closing_balance, statement.currency),
            "url": url,
        },
        url=url,
        button="View Statement",
    )
    prepared = await _prepare(ctx, subject, body)
    document = statement_document_from(ctx, customer, statement)
    return await _deliver(ctx, subject, prepared, document)


# ---------------------------------------------------------------------------- receipts


def _receipt_page(ctx: Context, client_id: str) -> str:
    """C18: the receipt's page; its PDF is this URL + /pdf."""
    return f"{ctx.public_base_url}/payments/{ctx.account.identifier}/{client_id}"


async def send_payment_receipt(
    ctx: Context, payment_id: int, body: Mapping[str, Any]
) -> list[Email]:
    """POST /payments/{id}/emails (EM13)."""
    payment: Payment = await payments.retrieve(ctx, payment_id)
    if payment.customer_id is None:
        raise InvalidRequest(NO_PAYMENT_CUSTOMER)
    if payment.voided:
        raise InvalidRequest(VOIDED_PAYMENT)
    customer = await customers.get(ctx.session, ctx.account_id, payment.customer_id)
    url = _receipt_page(ctx, payment.client_id)
    subject = _Subject(
        document_type="payment",
        document_id=payment.id,
        customer=customer,
        automatic_template=rules.PAYMENT_RECEIPT,
        values={
            **_customer_values(ctx, customer),
            "invoice_date": date_text(payment.date, ctx.account.time_zone) or "",
            "total": _money(payment.amount, payment.currency),
            "balance": _money(payment.balance, payment.currency),
            "url": url,
        },
        url=url,
        button="View Receipt",
    )
    prepared = await _prepare(ctx, subject, body)
    return await _deliver(ctx, subject, prepared, await payment_receipt_document(ctx, payment))


async def send_transaction_receipt(
    ctx: Context, transaction_id: int, body: Mapping[str, Any]
) -> list[Email]:
    """POST /transactions/{id}/emails: the legacy receipt (transactions_payments.md A1).
    Only transactions with a receipt (TX13: `pdf_url` not null) can be sent."""
    transaction: Transaction = await transactions.retrieve(ctx, transaction_id)
    rendered = (await transactions.render(ctx, [transaction]))[0]
    pdf_url = rendered.get("pdf_url")
    if not isinstance(pdf_url, str):
        raise InvalidRequest(NO_RECEIPT)
    customer = await customers.get(ctx.session, ctx.account_id, transaction.customer_id)
    url = pdf_url.removesuffix("/pdf")
    invoice_number = ""
    if transaction.invoice_id is not None:
        invoice = await invoices.peek(ctx, transaction.invoice_id)
        invoice_number = invoice.number if invoice is not None else ""
    amount = abs(transaction.amount)
    subject = _Subject(
        document_type="transaction",
        document_id=transaction.id,
        customer=customer,
        automatic_template=rules.PAYMENT_RECEIPT,
        values={
            **_customer_values(ctx, customer),
            "invoice_number": invoice_number,
            "invoice_date": date_text(transaction.date, ctx.account.time_zone) or "",
            "total": _money(amount, transaction.currency),
            "balance": _money(amount, transaction.currency),
            "url": url,
        },
        url=url,
        button="View Receipt",
    )
    prepared = await _prepare(ctx, subject, body)
    document = await transaction_receipt_document(ctx, transaction)
    return await _deliver(ctx, subject, prepared, document)


# ---------------------------------------------------------------------------- EM16


FEATURE_UNAVAILABLE = "Your Invoiced account does not have access to this feature"


async def refuse_feature(ctx: Context, object_name: str, object_id: int) -> None:
    """EM16: text messages and letters need integrations v1 lacks. The document must
    still exist (EM1 first), so another account's id gets the same 404 as a missing one."""
    if object_name == "Invoice":
        await get_document(ctx.session, ctx.account_id, object_id)
    else:
        await customers.get(ctx.session, ctx.account_id, object_id)
    raise InvalidRequest(FEATURE_UNAVAILABLE)


# ---------------------------------------------------------------------------- the outbox


async def list_emails(ctx: Context, query: ListQuery) -> tuple[list[Email], int]:
    """GET /emails: oldest first (newest id last), `filter[customer]`, `filter[email]`."""
    statement = select(Email).where(
        Email.account_id == ctx.account_id,
        *filter_conditions(query.filters, FILTERS),
        *updated_conditions(query, Email.updated_at),
    )
    ordering = order_by(query.sort, FILTERS, Email.id)
    rows, total = await fetch_page(ctx.session, statement, ordering, query.page)
    return list(rows), total


async def retrieve(ctx: Context, email_id: str) -> Email:
    if not _PUBLIC_ID.fullmatch(email_id):
        raise NotFound("Email", email_id)
    email = await ctx.session.scalar(
        select(Email).where(Email.account_id == ctx.account_id, Email.public_id == email_id)
    )
    if email is None:
        raise NotFound("Email", email_id)
    return email


async def raw_message(ctx: Context, email_id: str) -> bytes:
    """The stored RFC 5322 message an email row belongs to (EM10)."""
    email = await retrieve(ctx, email_id)
    message = await ctx.session.scalar(
        select(EmailMessage).where(
            EmailMessage.account_id == ctx.account_id, EmailMessage.id == email.message_id
        )
    )
    if message is None:  # pragma: no cover - the foreign key cascades
        raise NotFound("Email", email_id)
    return bytes(message.raw)


def sent_to(rows: Sequence[Email]) -> list[dict[str, Any]]:
    return [email_json(row) for row in rows]
