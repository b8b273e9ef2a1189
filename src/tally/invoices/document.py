"""An invoice with its lines and applied rates, loaded together and recalculated together.

The service changes a `Document` in memory (lines and rate lists replaced per E5/E6), then
`recalculate` runs the pure calculator and writes every rounded amount back (R9), and the
derived state (balance, paid, closed, status inputs) follows from them (R12-R15).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import orjson
from sqlalchemy import String, Text, cast, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from tally.db import json_value
from tally.domain.invoice_math import Line, Rate, calculate
from tally.domain.invoice_status import StatusFacts, invoice_status, is_paid
from tally.domain.money import exponent
from tally.invoices.schemas import LineFields, RateFields
from tally.jsonenc import exact_fragment
from tally.models import AppliedRate, Invoice, LineItem


@dataclass(eq=False)  # identity: the same line twice is one line
class LineState:
    row: LineItem
    rates: list[AppliedRate] = field(default_factory=list)  # line discounts and taxes

    def of_kind(self, kind: str) -> list[AppliedRate]:
        return [r for r in self.rates if r.kind == kind]


@dataclass(eq=False)
class Document:
    invoice: Invoice
    lines: list[LineState] = field(default_factory=list)
    rates: list[AppliedRate] = field(default_factory=list)  # document-level

    def of_kind(self, kind: str) -> list[AppliedRate]:
        return [r for r in self.rates if r.kind == kind]

    @property
    def exponent(self) -> int:
        return exponent(self.invoice.currency)

    def all_rates(self) -> Iterable[AppliedRate]:
        yield from self.rates
        for line in self.lines:
            yield from line.rates


def calc_rate(row: AppliedRate) -> Rate:
    """The calculator's view of an applied rate: its copied rate object, or a custom amount."""
    if row.rate is None:
        return Rate(Decimal(str(row.custom_amount or 0)))
    return Rate(
        Decimal(str(row.rate.get("value", 0))),
        is_percent=bool(row.rate.get("is_percent")),
        inclusive=bool(row.rate.get("inclusive", False)),
    )


def recalculate(document: Document) -> None:
    """R1-R10 into the rows; the caller then settles balance and paid (R12-R14)."""
    invoice = document.invoice
    lines = [
        Line(
            quantity=state.row.quantity,
            unit_cost=state.row.unit_cost,
            discountable=state.row.discountable,
            taxable=state.row.taxable,
            discounts=[calc_rate(r) for r in state.of_kind("discount")],
            taxes=[calc_rate(r) for r in state.of_kind("tax")],
        )
        for state in document.lines
    ]
    totals = calculate(
        lines,
        discounts=[calc_rate(r) for r in document.of_kind("discount")],
        taxes=[calc_rate(r) for r in document.of_kind("tax")],
        shipping=[calc_rate(r) for r in document.of_kind("shipping")],
        exponent=document.exponent,
    )
    for state, result in zip(document.lines, totals.lines, strict=True):
        state.row.amount = result.amount
        for row, amount in zip(state.of_kind("discount"), result.discounts, strict=True):
            row.amount = amount
        for row, amount in zip(state.of_kind("tax"), result.taxes, strict=True):
            row.amount = amount
    for kind, amounts in (
        ("discount", totals.discounts),
        ("tax", totals.taxes),
        ("shipping", totals.shipping),
    ):
        for row, amount in zip(document.of_kind(kind), amounts, strict=True):
            row.amount = amount
    invoice.subtotal = totals.subtotal
    invoice.total = totals.total


def refresh_balance(invoice: Invoice) -> None:
    """R12/R13: balance from the stored aggregates; a voided invoice owes nothing."""
    if invoice.voided:
        invoice.balance = 0
    else:
        # R12: each aggregate is floored at 0 (refunds can never make a payment negative).
        paid = max(0, invoice.amount_paid)
        credited = max(0, invoice.amount_credited)
        invoice.balance = invoice.total - paid - credited
    invoice.paid = is_paid(invoice.balance, invoice.draft, invoice.voided)


def status_of(invoice: Invoice, now: int) -> str:
    return invoice_status(
        StatusFacts(
            voided=invoice.voided,
            draft=invoice.draft,
            paid=invoice.paid,
            pending=invoice.pending,
            autopay=invoice.autopay,
            due_date=invoice.due_date,
            attempt_count=invoice.attempt_count,
            viewed=invoice.viewed,
            sent=invoice.sent,
        ),
        now,
    )


async def load_documents(session: AsyncSession, invoices: Sequence[Invoice]) -> dict[int, Document]:
    """Lines and rates for many invoices in two queries (no N+1 on list pages)."""
    ids = [invoice.id for invoice in invoices]
    documents = {invoice.id: Document(invoice) for invoice in invoices}
    if not ids:
        return documents
    lines = await session.scalars(
        select(LineItem)
        .where(LineItem.invoice_id.in_(ids))
        .order_by(LineItem.invoice_id, LineItem.position, LineItem.id)
    )
    states: dict[int, LineState] = {}
    for line in lines:
        state = LineState(line)
        states[line.id] = state
        documents[line.invoice_id].lines.append(state)
    rates = await session.scalars(
        select(AppliedRate)
        .where(AppliedRate.invoice_id.in_(ids))
        .order_by(AppliedRate.invoice_id, AppliedRate.position, AppliedRate.id)
    )
    by_line: defaultdict[int, list[AppliedRate]] = defaultdict(list)
    for rate in rates:
        if rate.line_item_id is None:
            documents[rate.invoice_id].rates.append(rate)
        else:
            by_line[rate.line_item_id].append(rate)
    for line_id, line_rates in by_line.items():
        if line_id in states:
            states[line_id].rates.extend(line_rates)
    return documents


# ---------------------------------------------------------------------------- read-only views


class LineStateLike(Protocol):
    @property
    def row(self) -> LineFields: ...
    @property
    def rates(self) -> Sequence[RateFields]: ...


class DocumentLike(Protocol):
    """What rendering reads: a `Document`, or a `DocumentView` loaded for a GET."""

    @property
    def invoice(self) -> Invoice: ...
    @property
    def lines(self) -> Sequence[LineStateLike]: ...
    @property
    def exponent(self) -> int: ...
    def of_kind(self, kind: str) -> Sequence[RateFields]: ...


@dataclass(slots=True, eq=False)
class RateView:
    id: int
    kind: str
    rate: dict[str, Any] | None
    amount: int
    expires: int | None
    updated_at: int


@dataclass(slots=True, eq=False)
class LineView:
    """A line for a response body only: quantity and unit cost are already JSON fragments."""

    id: int
    catalog_item: str | None
    type: str | None
    name: str
    description: str | None
    quantity: orjson.Fragment
    unit_cost: orjson.Fragment
    amount: int
    discountable: bool
    taxable: bool
    metadata_: Mapping[str, str]
    created_at: int
    updated_at: int
    rates: list[RateView] = field(default_factory=list)

    @property
    def row(self) -> LineView:
        return self


@dataclass(slots=True, eq=False)
class DocumentView:
    """An invoice with its lines and rates for a response body: plain rows, no identity map,
    nothing that can be written back. Never use it for event snapshots."""

    invoice: Invoice
    lines: list[LineView] = field(default_factory=list)
    rates: list[RateView] = field(default_factory=list)

    @property
    def exponent(self) -> int:
        return exponent(self.invoice.currency)

    def of_kind(self, kind: str) -> list[RateView]:
        return [r for r in self.rates if r.kind == kind]


_L = LineItem.__table__.c
_R = AppliedRate.__table__.c
# Exact decimals as the driver hands them (text on SQLite, Decimal on PostgreSQL); JSON
# (rate copies, line metadata) as its text, parsed once per distinct text.
_RAW = String()


async def load_views(session: AsyncSession, invoices: Sequence[Invoice]) -> dict[int, DocumentView]:
    """`load_documents` for read-only rendering: the same lines and rates in the same order,
    fetched as plain rows (several times cheaper than ORM objects on a list page)."""
    ids = [invoice.id for invoice in invoices]
    documents = {invoice.id: DocumentView(invoice) for invoice in invoices}
    if not ids:
        return documents
    decimals: dict[Any, orjson.Fragment] = {}
    parsed: dict[str, Any] = {}  # shared values: rendering copies metadata, never mutates

    def json_of(text: str | None) -> Any:
        if text is None:
            return None
        found = parsed.get(text)
        if found is None:
            found = parsed[text] = json_value(text)
        return found

    def exact(raw: Any) -> orjson.Fragment:
        found = decimals.get(raw)
        if found is None:
            value = raw if isinstance(raw, Decimal) else Decimal(str(raw))
            found = decimals[raw] = exact_fragment(value)
        return found

    lines = await session.execute(
        select(
            _L.id,
            _L.invoice_id,
            _L.catalog_item,
            _L.type,
            _L.name,
            _L.description,
            type_coerce(_L.quantity, _RAW),
            type_coerce(_L.unit_cost, _RAW),
            _L.amount,
            _L.discountable,
            _L.taxable,
            cast(_L.metadata, Text),
            _L.created_at,
            _L.updated_at,
        )
        .where(_L.invoice_id.in_(ids))
        .order_by(_L.invoice_id, _L.position, _L.id)
    )
    states: dict[int, LineView] = {}
    for (
        line_id,
        invoice_id,
        catalog_item,
        type_,
        name,
        description,
        quantity,
        unit_cost,
        amount,
        discountable,
        taxable,
        metadata,
        created_at,
        updated_at,
    ) in lines:
        state = LineView(
            line_id,
            catalog_item,
            type_,
            name,
            description,
            exact(quantity),
            exact(unit_cost),
            amount,
            discountable,
            taxable,
            json_of(metadata),
            created_at,
            updated_at,
        )
        states[line_id] = state
        documents[invoice_id].lines.append(state)
    rates = await session.execute(
        select(
            _R.id,
            _R.invoice_id,
            _R.line_item_id,
            _R.kind,
            cast(_R.rate, Text),
            _R.amount,
            _R.expires,
            _R.updated_at,
        )
        .where(_R.invoice_id.in_(ids))
        .order_by(_R.invoice_id, _R.position, _R.id)
    )
    by_line: dict[int, list[RateView]] = {}
    for rate_id, invoice_id, line_item_id, kind, text, amount, expires, updated_at in rates:
        view = RateView(rate_id, kind, json_of(text), amount, expires, updated_at)
        if line_item_id is None:
            documents[invoice_id].rates.append(view)
        else:
            by_line.setdefault(line_item_id, []).append(view)
    for line_id, line_rates in by_line.items():
        if line_id in states:
            states[line_id].rates.extend(line_rates)
    return documents
