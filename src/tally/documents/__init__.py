"""Customer-facing documents: the hosted invoice, statement and receipt pages, and their PDFs
(README C17, C18).

A `Document` is one standalone HTML page (one inline stylesheet, no scripts, no external
assets). The hosted page serves that HTML; `render_pdf` prints the same HTML with WeasyPrint,
adding only the bundled fonts and hiding the links bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tally.context import Context
from tally.documents import views
from tally.documents.format import pdf_filename
from tally.documents.render import pdf_bytes, render_html
from tally.invoices.document import Document as InvoiceDocument
from tally.invoices.document import load_documents
from tally.models import Customer, Invoice, Payment, Transaction

if TYPE_CHECKING:
    from tally.statements import Statement, StatementOptions

__all__ = [
    "Document",
    "invoice_document",
    "invoice_document_from",
    "payment_receipt_document",
    "render_pdf",
    "statement_document",
    "statement_document_from",
    "transaction_receipt_document",
]


@dataclass(frozen=True)
class Document:
    kind: str  # "invoice" | "statement" | "receipt"
    title: str  # e.g. "Invoice INV-00001"
    filename: str  # PDF attachment name, e.g. "INV-00001.pdf", "Statement.pdf", "Receipt.pdf"
    html: str  # the full standalone HTML page (the hosted page and the PDF source)


def _document(template: str, view: object, page: views.Page, filename: str) -> Document:
    html = render_html(template, page=page, view=view)
    return Document(kind=page.kind, title=page.title, filename=filename, html=html)


async def invoice_document_from(ctx: Context, document: InvoiceDocument) -> Document:
    """An invoice whose lines and rates are already loaded (tally.invoices.document)."""
    view = await views.invoice_view(ctx, document)
    return _document("invoice.html", view, view.page, pdf_filename(view.number, "Invoice"))


async def invoice_document(ctx: Context, invoice: Invoice) -> Document:
    documents = await load_documents(ctx.session, [invoice])
    return await invoice_document_from(ctx, documents[invoice.id])


def statement_document_from(ctx: Context, customer: Customer, statement: Statement) -> Document:
    """A statement already built by tally.statements.build_statement."""
    client_url = f"{ctx.public_base_url}/statements/{ctx.account.identifier}/{customer.client_id}"
    view = views.statement_view(ctx, customer, statement, client_url=client_url)
    return _document("statement.html", view, view.page, "Statement.pdf")


async def statement_document(
    ctx: Context, customer: Customer, options: StatementOptions
) -> Document:
    # NOTE: imported here: tally.statements is a sibling feature that may import documents.
    from tally.statements import build_statement

    statement = await build_statement(ctx, customer, options)
    return statement_document_from(ctx, customer, statement)


async def payment_receipt_document(ctx: Context, payment: Payment) -> Document:
    view = await views.payment_receipt_view(ctx, payment)
    return _document("receipt.html", view, view.page, "Receipt.pdf")


async def transaction_receipt_document(ctx: Context, transaction: Transaction) -> Document:
    """A legacy transaction's receipt; a payment's split shows its payment's receipt (TX13)."""
    if transaction.payment_id is not None:
        from sqlalchemy import select

        payment = await ctx.session.scalar(
            select(Payment).where(
                Payment.account_id == ctx.account_id, Payment.id == transaction.payment_id
            )
        )
        if payment is not None:
            return await payment_receipt_document(ctx, payment)
    view = await views.transaction_receipt_view(ctx, transaction)
    return _document("receipt.html", view, view.page, "Receipt.pdf")


async def render_pdf(document: Document) -> bytes:
    """The document as a PDF (starts with `%PDF-`), made on the one PDF thread."""
    return await pdf_bytes(document.html)
