"""Invoice queries. Every one is scoped to the account."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally.domain.errors import NotFound
from tally.domain.numbering import number_key
from tally.invoices.document import Document, load_documents
from tally.models import Invoice


async def get_document(
    session: AsyncSession, account_id: int, invoice_id: int, *, lock: bool = False
) -> Document:
    statement = select(Invoice).where(Invoice.account_id == account_id, Invoice.id == invoice_id)
    if lock:
        # Every change to an invoice's money state runs under this row lock (C22).
        statement = statement.with_for_update(key_share=True).execution_options(
            populate_existing=True  # fresh values once we hold the lock
        )
    invoice = (await session.execute(statement)).scalar_one_or_none()
    if invoice is None:
        raise NotFound("Invoice", invoice_id)
    return (await load_documents(session, [invoice]))[invoice.id]


async def number_in_use(
    session: AsyncSession, account_id: int, number: str, *, except_id: int | None = None
) -> bool:
    condition = [Invoice.account_id == account_id, Invoice.number_key == number_key(number)]
    if except_id is not None:
        condition.append(Invoice.id != except_id)
    return bool(await session.scalar(select(exists().where(*condition))))


def status_expression(now: int) -> ColumnElement[str]:
    """S1-S11 in SQL, so `filter[status]` always agrees with what GET returns (S12).

    Mirrors tally.domain.invoice_status.invoice_status rule for rule; a test compares both
    over every combination of the facts they read.
    """
    return case(
        (Invoice.voided, "voided"),
        (Invoice.draft, "draft"),
        (Invoice.paid, "paid"),
        (Invoice.pending, "pending"),
        (
            and_(Invoice.autopay, Invoice.due_date.is_(None), Invoice.attempt_count > 0),
            "past_due",
        ),
        (and_(Invoice.due_date.is_not(None), Invoice.due_date < now), "past_due"),
        (Invoice.viewed, "viewed"),
        (Invoice.sent, "sent"),
        else_="not_sent",
    )


def open_condition(now: int) -> ColumnElement[bool]:
    """Issued, unpaid, open and dated: what a customer owes (CB2, customers.md §4)."""
    return and_(
        Invoice.draft.is_(False),
        Invoice.paid.is_(False),
        Invoice.closed.is_(False),
        Invoice.voided.is_(False),
        Invoice.date <= now,
    )
