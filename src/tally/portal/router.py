"""Hosted invoice, statement and receipt pages and their PDFs (README C18).

No API key: the account identifier and the object's client_id in the URL are the credential.
Anything that does not resolve (a wrong token, a token of another account, a malformed path)
answers the same 404 page, byte for byte, so a URL reveals nothing about what exists.
Opening the page of an issued, non-voided invoice sets `viewed` (invoices.md S14) and records
`invoice.viewed` once, as the customer (actor -1).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from tally.context import Context
from tally.documents import (
    invoice_document_from,
    payment_receipt_document,
    render_pdf,
    statement_document,
    transaction_receipt_document,
)
from tally.documents.format import money
from tally.documents.http import page_response, pdf_response
from tally.documents.render import render_html
from tally.domain.event_types import ACTOR_CUSTOMER
from tally.events.recorder import store_events
from tally.http.context import public_base_url, request_base_url
from tally.invoices.document import Document as InvoiceDocument
from tally.invoices.document import load_documents
from tally.invoices.repository import get_document
from tally.invoices.service import event_snapshot, urls
from tally.models import Account, Customer, Invoice, Payment, Transaction
from tally.statements import StatementOptions

router = APIRouter(include_in_schema=False)
# Account identifiers are 24 and client ids 48 URL-safe characters; anything else is not
# looked up at all.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
NOT_FOUND_HTML = render_html("not_found.html")
RECEIPT_TYPES = ("payment", "charge")  # TX13: the legacy transactions that have a receipt


def _not_found() -> Response:
    return page_response(NOT_FOUND_HTML, 404)


def _context(request: Request, session: AsyncSession, account: Account) -> Context:
    state = request.app.state
    base_url = request_base_url(request, state.settings)
    return Context(
        session=session,
        account=account,
        now=state.clock.now(),
        public_base_url=public_base_url(base_url, state.settings),
        actor=ACTOR_CUSTOMER,
    )


def _valid(*tokens: str) -> bool:
    return all(_TOKEN.fullmatch(token) for token in tokens)


async def _find(
    session: AsyncSession, model: Any, account_identifier: str, client_id: str
) -> tuple[Account, Any] | None:
    """The object with this client_id, only if it belongs to the account in the URL."""
    if not _valid(account_identifier, client_id):
        return None
    row = (
        await session.execute(
            select(model, Account)
            .join(Account, Account.id == model.account_id)
            .where(Account.identifier == account_identifier, model.client_id == client_id)
        )
    ).first()
    if row is None:
        return None
    return row[1], row[0]


# ---------------------------------------------------------------------------- invoices


def _marks_viewed(invoice: Invoice) -> bool:
    """S14/C18.3: the customer opening an issued invoice's page; drafts and voided ones are
    shown but not marked."""
    return not (invoice.viewed or invoice.draft or invoice.voided)


async def _mark_viewed(ctx: Context, invoice_id: int) -> InvoiceDocument:
    """Under the invoice's row lock, so that concurrent first opens record one event."""
    document = await get_document(ctx.session, ctx.account_id, invoice_id, lock=True)
    invoice = document.invoice
    if not _marks_viewed(invoice):
        return document  # someone else's open got there first
    before = await event_snapshot(ctx, document)
    invoice.viewed = True
    invoice.updated_at = ctx.now
    await ctx.session.flush()
    after = await event_snapshot(ctx, document)
    related: list[tuple[str, int | str]] = [("customer", invoice.customer_id)]
    # EV7: invoice.viewed carries the invoice (no `previous`). Then EV3: the status moves to
    # `viewed` (unless it reads past_due), an invoice.updated like any other; the buffer
    # drops it when only updated_at changed.
    ctx.events.occurred("invoice.viewed", "invoice", invoice.id, after, related=related)
    ctx.events.updated("invoice", invoice.id, before, after, related=related)
    return document


@router.get("/portal/invoices/{account_identifier}/{client_id}")
async def invoice_page(account_identifier: str, client_id: str, request: Request) -> Response:
    database = request.app.state.database
    async with database.session(write=False) as session:
        found = await _find(session, Invoice, account_identifier, client_id)
        if found is None:
            return _not_found()
        account, invoice = found
        if not _marks_viewed(invoice):
            ctx = _context(request, session, account)
            documents = await load_documents(session, [invoice])
            return page_response((await invoice_document_from(ctx, documents[invoice.id])).html)
        account_id, invoice_id = account.id, invoice.id
    async with database.session(write=True) as session:
        account = await session.get(Account, account_id)
        if account is None:  # deleted in between
            return _not_found()
        ctx = _context(request, session, account)
        document = await _mark_viewed(ctx, invoice_id)
        html = (await invoice_document_from(ctx, document)).html
        await store_events(session, account.id, ctx.now, ctx.actor, ctx.events)
        await session.commit()
    return page_response(html)


@router.get("/portal/invoices/{account_identifier}/{client_id}/pdf")
async def invoice_pdf(account_identifier: str, client_id: str, request: Request) -> Response:
    async with request.app.state.database.session(write=False) as session:
        found = await _find(session, Invoice, account_identifier, client_id)
        if found is None:
            return _not_found()
        account, invoice = found
        ctx = _context(request, session, account)
        documents = await load_documents(session, [invoice])
        document = await invoice_document_from(ctx, documents[invoice.id])
    return pdf_response(await render_pdf(document), document.filename, portal=True)


@router.get("/portal/invoices/{account_identifier}/{client_id}/payment")
async def invoice_payment(account_identifier: str, client_id: str, request: Request) -> Response:
    """C18.3: a placeholder; v1 takes no payments online."""
    async with request.app.state.database.session(write=False) as session:
        found = await _find(session, Invoice, account_identifier, client_id)
        if found is None:
            return _not_found()
        account, invoice = found
        ctx = _context(request, session, account)
        page_url = f"{ctx.public_base_url}/invoices/{account.identifier}/{invoice.client_id}"
        html = render_html(
            "payment.html",
            title=f"Invoice {invoice.number}",
            account_name=account.name,
            balance=money(invoice.balance, invoice.currency),
            payable=urls(ctx, invoice)["payment_url"] is not None,
            back_url=page_url,
        )
    return page_response(html)


# ---------------------------------------------------------------------------- receipts


async def _receipt(
    request: Request, account_identifier: str, client_id: str, *, pdf: bool
) -> Response:
    """A payment's receipt, or a legacy charge's or payment's (TX13, PY8)."""
    async with request.app.state.database.session(write=False) as session:
        found = await _find(session, Payment, account_identifier, client_id)
        if found is not None:
            account, payment = found
            document = await payment_receipt_document(_context(request, session, account), payment)
        else:
            found = await _find(session, Transaction, account_identifier, client_id)
            if found is None or found[1].type not in RECEIPT_TYPES:
                return _not_found()
            account, transaction = found
            document = await transaction_receipt_document(
                _context(request, session, account), transaction
            )
    if pdf:
        return pdf_response(await render_pdf(document), document.filename, portal=True)
    return page_response(document.html)


@router.get("/portal/payments/{account_identifier}/{client_id}")
async def receipt_page(account_identifier: str, client_id: str, request: Request) -> Response:
    return await _receipt(request, account_identifier, client_id, pdf=False)


@router.get("/portal/payments/{account_identifier}/{client_id}/pdf")
async def receipt_pdf(account_identifier: str, client_id: str, request: Request) -> Response:
    return await _receipt(request, account_identifier, client_id, pdf=True)


# ---------------------------------------------------------------------------- statements


async def _statement(
    request: Request, account_identifier: str, client_id: str, *, pdf: bool
) -> Response:
    """The customer's statement with the default options (customers.md statement_pdf_url)."""
    async with request.app.state.database.session(write=False) as session:
        found = await _find(session, Customer, account_identifier, client_id)
        if found is None:
            return _not_found()
        account, customer = found
        ctx = _context(request, session, account)
        document = await statement_document(ctx, customer, StatementOptions())
    if pdf:
        return pdf_response(await render_pdf(document), document.filename, portal=True)
    return page_response(document.html)


@router.get("/portal/statements/{account_identifier}/{client_id}")
async def statement_page(account_identifier: str, client_id: str, request: Request) -> Response:
    return await _statement(request, account_identifier, client_id, pdf=False)


@router.get("/portal/statements/{account_identifier}/{client_id}/pdf")
async def statement_pdf(account_identifier: str, client_id: str, request: Request) -> Response:
    return await _statement(request, account_identifier, client_id, pdf=True)


@router.get("/portal/{rest:path}")
async def anything_else(rest: str) -> Response:
    """Every other portal path: the same 404 page."""
    return _not_found()
