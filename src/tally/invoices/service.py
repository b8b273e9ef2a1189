"""Invoice use cases (invoices.md). Services load, apply rules, recalculate and flush."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select

from tally.context import Context
from tally.customers import repository as customers
from tally.customers import service as customer_service
from tally.customers.schemas import CustomerInput
from tally.domain import customers as customer_rules
from tally.domain.coerce import fits_int
from tally.domain.errors import InvalidRequest, NotFound
from tally.domain.invoice_status import STATUSES
from tally.domain.metadata import normalize_metadata
from tally.domain.money import exponent, from_minor
from tally.domain.numbering import number_taken
from tally.domain.payment_terms import AUTOPAY_TERMS, due_date
from tally.files import check_attachments
from tally.http.listing import (
    FilterField,
    ListQuery,
    fetch_page,
    filter_conditions,
    metadata_conditions,
    money_filter,
    order_by,
    updated_conditions,
)
from tally.http.validation import validate
from tally.invoices import rates
from tally.invoices.document import (
    Document,
    DocumentLike,
    DocumentView,
    LineState,
    load_documents,
    load_views,
    recalculate,
    refresh_balance,
    status_of,
)
from tally.invoices.repository import get_document, number_in_use, status_expression
from tally.invoices.schemas import InvoiceInput, LineInput, Money, applied_json, line_json
from tally.items import service as item_service
from tally.items.repository import live_item, live_items
from tally.models import AppliedRate, Customer, Invoice, LineItem, Transaction
from tally.numbering import allocate_number, flush_numbered
from tally.tax_rates.repository import live_tax_rates

I = Invoice  # noqa: E741 - short alias for the filter table
FILTERS: dict[str, FilterField] = {
    "id": FilterField(I.id, "int"),
    "number": FilterField(I.number),
    "name": FilterField(I.name),
    "customer": FilterField(I.customer_id, "int"),
    "currency": FilterField(I.currency, "lower"),
    "date": FilterField(I.date, "timestamp"),
    "due_date": FilterField(I.due_date, "timestamp"),
    "draft": FilterField(I.draft, "bool"),
    "closed": FilterField(I.closed, "bool"),
    "paid": FilterField(I.paid, "bool"),
    "voided": FilterField(I.voided, "bool"),
    "sent": FilterField(I.sent, "bool"),
    "viewed": FilterField(I.viewed, "bool"),
    "autopay": FilterField(I.autopay, "bool"),
    "payment_terms": FilterField(I.payment_terms),
    "purchase_order": FilterField(I.purchase_order),
    "attempt_count": FilterField(I.attempt_count, "int"),
    "next_payment_attempt": FilterField(I.next_payment_attempt, "timestamp"),
    "subscription": FilterField(I.subscription_id, "int"),
    "chase": FilterField(I.chase, "bool"),
    "late_fees": FilterField(I.late_fees, "bool"),
    "needs_attention": FilterField(I.needs_attention, "bool"),
    "date_paid": FilterField(I.date_paid, "timestamp"),
    "date_voided": FilterField(I.date_voided, "timestamp"),
    "created_at": FilterField(I.created_at, "timestamp"),
    "updated_at": FilterField(I.updated_at, "timestamp"),
}
# Money filters compare in minor units of each invoice's own currency.
MONEY_FILTERS = {
    "subtotal": I.subtotal,
    "total": I.total,
    "balance": I.balance,
    "amount_paid": I.amount_paid,
}
SHIP_TO_FIELDS = (
    "name",
    "attention_to",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
    "country",
)
LINE_FIELDS = ("type", "name", "description", "quantity", "unit_cost", "discountable", "taxable")
# Cannot be modified once set, or only in a given way (E2, E3).
VOIDED_MESSAGE = "Your changes cannot be saved because this document is voided."
CLOSED_MESSAGE = (
    "Your changes cannot be saved because this document is closed. Please re-open the "
    "document to make any changes."
)


# ---------------------------------------------------------------------------- rendering


def urls(ctx: Context, invoice: Invoice) -> dict[str, str | None]:
    """C18, U1/U2: capability URLs; none for a voided invoice."""
    if invoice.voided:
        return {"url": None, "pdf_url": None, "payment_url": None, "csv_url": None}
    url = f"{ctx.public_base_url}/invoices/{ctx.account.identifier}/{invoice.client_id}"
    payable = not (invoice.closed or invoice.paid or invoice.pending)
    return {
        "url": url,
        "pdf_url": f"{url}/pdf",
        "payment_url": f"{url}/payment" if payable else None,
        "csv_url": f"{url}/csv",
    }


def invoice_json(
    ctx: Context,
    document: DocumentLike,
    *,
    customer: dict[str, Any] | None = None,
    catalog: dict[str, dict[str, Any] | None] | None = None,
    money: Money = from_minor,
) -> dict[str, Any]:
    invoice = document.invoice
    exp = document.exponent
    return {
        "id": invoice.id,
        "object": "invoice",
        "customer": customer if customer is not None else invoice.customer_id,
        "name": invoice.name,
        "number": invoice.number,
        "currency": invoice.currency,
        "autopay": invoice.autopay,
        "payment_terms": invoice.payment_terms,
        "date": invoice.date,
        "due_date": invoice.due_date,
        "purchase_order": invoice.purchase_order,
        "draft": invoice.draft,
        "closed": invoice.closed,
        "paid": invoice.paid,
        "status": status_of(invoice, ctx.now),
        "attempt_count": invoice.attempt_count,
        "next_payment_attempt": invoice.next_payment_attempt,
        "subscription": invoice.subscription_id,
        "items": [line_json(s.row, s.rates, exp, catalog, money) for s in document.lines],
        "notes": invoice.notes,
        "subtotal": money(invoice.subtotal, exp),
        "discounts": [applied_json(r, exp, money) for r in document.of_kind("discount")],
        "taxes": [applied_json(r, exp, money) for r in document.of_kind("tax")],
        "shipping": [applied_json(r, exp, money) for r in document.of_kind("shipping")],
        "total": money(invoice.total, exp),
        "balance": money(invoice.balance, exp),
        "ship_to": invoice.ship_to,
        "payment_plan": None,  # payment_plans.md
        "payment_source": None,  # payment_sources.md
        **urls(ctx, invoice),
        "chase": invoice.chase,
        "next_chase_on": invoice.next_chase_on,
        "needs_attention": invoice.needs_attention,
        "late_fees": invoice.late_fees,
        "metadata": dict(invoice.metadata_),
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
    }


async def event_snapshot(ctx: Context, document: Document) -> dict[str, Any]:
    """EV9: invoice events embed the customer object."""
    customer = await customers.get(ctx.session, ctx.account_id, document.invoice.customer_id)
    return invoice_json(ctx, document, customer=await customer_service.snapshot(ctx, customer))


async def render(
    ctx: Context,
    documents: Sequence[DocumentLike],
    expand: set[str],
    *,
    money: Money = from_minor,
) -> list[dict[str, Any]]:
    """Invoices as JSON with `expand=customer` and `expand=items.catalog_item` (C10).

    Response bodies pass `money=tally.jsonenc.money_fragment`; the default keeps Decimals."""
    expanded_customers: dict[int, dict[str, Any]] = {}
    if "customer" in expand:
        expanded_customers = await customer_service.render_by_id(
            ctx, (d.invoice.customer_id for d in documents)
        )
    catalog: dict[str, dict[str, Any] | None] | None = None
    if "items.catalog_item" in expand:
        item_ids = sorted(
            {
                state.row.catalog_item
                for document in documents
                for state in document.lines
                if state.row.catalog_item is not None
            }
        )
        found = list((await live_items(ctx.session, ctx.account_id, item_ids)).values())
        rendered_items = await item_service.snapshots(ctx, found)
        catalog = dict.fromkeys(item_ids)  # IT10: null once the item is gone
        catalog.update({i.public_id: r for i, r in zip(found, rendered_items, strict=True)})
    return [
        invoice_json(
            ctx,
            d,
            customer=expanded_customers.get(d.invoice.customer_id),
            catalog=catalog,
            money=money,
        )
        for d in documents
    ]


# ---------------------------------------------------------------------------- customers


async def _customer_for_create(ctx: Context, raw: object) -> Customer:
    param = "customer"
    if raw is None or raw == "":
        raise InvalidRequest("Customer is missing", param)
    if isinstance(raw, dict) and raw.get("id") in (None, ""):
        # §15: an object without an id creates that customer first.
        return await customer_service.create(ctx, validate(CustomerInput, raw))
    ident = raw.get("id") if isinstance(raw, dict) else raw
    text = str(ident).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise InvalidRequest(f"No such customer: {ident}", param)
    try:
        customer = await customers.get(ctx.session, ctx.account_id, int(text), lock="share")
    except NotFound as exc:
        raise InvalidRequest(f"No such customer: {ident}", param) from exc
    if not customer.active:  # CU15
        raise InvalidRequest("This cannot be created because the customer is inactive", param)
    if customer.credit_hold:  # CU12
        raise InvalidRequest(
            "New invoices cannot be created for this account because it has a credit hold.",
            "total",
        )
    return customer


async def _check_credit_limit(ctx: Context, customer: Customer, invoice: Invoice) -> None:
    """CU13: open balance in this currency plus the new total may not exceed the limit."""
    limit = customer.credit_limit
    if limit is None or limit <= 0 or invoice.draft:
        return
    outstanding = await ctx.session.scalar(
        select(func.coalesce(func.sum(Invoice.balance), 0)).where(
            Invoice.account_id == ctx.account_id,
            Invoice.customer_id == customer.id,
            Invoice.currency == invoice.currency,
            Invoice.draft.is_(False),
            Invoice.closed.is_(False),
            Invoice.voided.is_(False),
            Invoice.id != invoice.id,
        )
    )
    exp = _exp(invoice)
    amount = from_minor(int(outstanding or 0) + invoice.total, exp)
    if amount > limit:
        raise InvalidRequest(
            f"This invoice cannot be created because the new amount outstanding "
            f"(${amount:,.{exp}f}) exceeds the account's credit limit (${limit:,.{exp}f}).",
            "total",
        )


def _exp(invoice: Invoice) -> int:
    return exponent(invoice.currency)


# ---------------------------------------------------------------------------- lines and rates


def _line_input(entry: object) -> LineInput:
    if not isinstance(entry, dict):
        raise InvalidRequest("Items must be a list of line items", "items")
    try:
        return validate(LineInput, entry)
    except InvalidRequest as exc:
        raise InvalidRequest(exc.message, "items") from None  # C6.3: errors in lines


def _new_line(ctx: Context) -> LineState:
    return LineState(
        LineItem(
            account_id=ctx.account_id,
            type=None,
            name="",
            description="",  # §3 defaults
            quantity=Decimal(1),
            unit_cost=Decimal(0),
            discountable=True,
            taxable=True,
            metadata_={},
            created_at=ctx.now,
            updated_at=ctx.now,
        )
    )


def _line_fingerprint(state: LineState) -> tuple[Any, ...]:
    row = state.row
    fields = tuple(getattr(row, name) for name in LINE_FIELDS)
    rates_now = tuple((r.id, r.kind, r.rate_id, r.custom_amount) for r in state.rates)
    return (*fields, dict(row.metadata_ or {}), rates_now)


async def _apply_line(
    ctx: Context, document: Document, state: LineState, data: LineInput, *, creating: bool
) -> None:
    sent = set(data.model_fields_set)
    row = state.row
    before = _line_fingerprint(state)
    defaults: dict[str, Any] = {}
    item_taxes: list[str] = []
    if creating and data.catalog_item:
        item = await live_item(ctx.session, ctx.account_id, data.catalog_item)
        if item is None:
            raise InvalidRequest(f"No such item: {data.catalog_item}", "items")  # R2
        row.catalog_item = item.public_id
        defaults = {
            "type": item.type,
            "name": item.name,
            "description": item.description,
            "unit_cost": item.unit_cost,
            "discountable": item.discountable,
            "taxable": item.taxable,
        }
        item_taxes = list(item.taxes)
    for name in LINE_FIELDS:
        if name in sent and (getattr(data, name) is not None or name in ("type", "description")):
            setattr(row, name, getattr(data, name))
        elif creating and name in defaults:
            setattr(row, name, defaults[name])
    row.name = (row.name or "").strip()
    if row.description is not None:
        row.description = row.description.strip()
    if "metadata" in sent or creating:
        try:
            row.metadata_ = normalize_metadata({} if data.metadata is None else data.metadata)
        except InvalidRequest as exc:
            raise InvalidRequest(exc.message, "items") from None  # C6.3
    currency = document.invoice.currency
    if creating and "taxes" not in sent and item_taxes:
        # IT9: the item's taxes become line taxes; rates archived since are skipped (CT2).
        data.taxes = list(await _live_taxes(ctx, item_taxes))
        sent = {*sent, "taxes"}
    for kind, list_name in (("discount", "discounts"), ("tax", "taxes")):
        if list_name not in sent:
            continue
        old = state.of_kind(kind)
        kept = await rates.resolve(
            ctx,
            getattr(data, list_name) or [],
            kind,
            param="items",
            existing=old,
            currency=currency,
        )
        for row_gone in old:
            if row_gone not in kept and row_gone.id is not None:
                await ctx.session.delete(row_gone)  # E5: rates left out are removed
        others = [r for r in state.rates if r.kind != kind]
        state.rates = [*kept, *others] if kind == "discount" else [*others, *kept]
    if creating or _line_fingerprint(state) != before:
        row.updated_at = ctx.now  # EV3: only a real change moves updated_at


async def _replace_lines(ctx: Context, document: Document, raw_items: Sequence[Any]) -> None:
    """E5: the list replaces the lines in order; `id` entries update, others create."""
    existing = {state.row.id: state for state in document.lines}
    lines: list[LineState] = []
    for entry in raw_items:
        data = _line_input(entry)
        if data.id is not None:
            state = existing.get(data.id)
            if state is None or state in lines:
                raise InvalidRequest(
                    f"Referenced line item that does not exist: {data.id}", "items"
                )
            await _apply_line(ctx, document, state, data, creating=False)
        else:
            state = _new_line(ctx)
            await _apply_line(ctx, document, state, data, creating=True)
        lines.append(state)
    for state in document.lines:
        if state not in lines and state.row.id is not None:
            await ctx.session.delete(state.row)  # its applied rates go with it (cascade)
    document.lines = lines


async def _live_taxes(ctx: Context, tax_ids: Sequence[str]) -> list[str]:
    """The ids among `tax_ids` of rates still live: archived ones are skipped (CT2)."""
    live = await live_tax_rates(ctx.session, ctx.account_id, list(tax_ids))
    return [tax for tax in tax_ids if tax in live]


def _flat_or_list(value: Any) -> list[Any]:
    """R19: a number means one custom amount; a list is used as given."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return [{"amount": value}]


async def _replace_document_rates(
    ctx: Context,
    document: Document,
    data: InvoiceInput,
    *,
    creating: bool,
    assessed_taxes: Sequence[str] = (),
) -> bool:
    """E6/R19: replace the lists that were sent; True when anything changed."""
    sent = data.model_fields_set
    currency = document.invoice.currency
    changed = False
    new_lists: dict[str, list[AppliedRate]] = {}
    for kind, list_name, flat in (
        ("discount", "discounts", "discount"),
        ("tax", "taxes", "tax"),
        ("shipping", "shipping", None),
    ):
        raw: list[Any] | None = None
        if flat is not None and flat in sent and getattr(data, flat) is not None:
            raw = [{"amount": getattr(data, flat)}]
        elif list_name in sent:
            raw = _flat_or_list(getattr(data, list_name))
        if kind == "tax" and assessed_taxes:
            # R17: appended on create; on PATCH (calculate_taxes=true) they replace the list.
            kept = raw if raw is not None and creating else []
            raw = [*kept, *assessed_taxes]
        if raw is None:
            new_lists[kind] = document.of_kind(kind)
            continue
        changed = True
        new_lists[kind] = await rates.resolve(
            ctx, raw, kind, param=list_name, existing=document.of_kind(kind), currency=currency
        )
    for row in document.rates:
        if row not in new_lists[row.kind] and row.id is not None:
            await ctx.session.delete(row)
    document.rates = [*new_lists["discount"], *new_lists["tax"], *new_lists["shipping"]]
    return changed


def _check_rates(document: Document) -> None:
    line_rates = [r for state in document.lines for r in state.rates]
    rates.check_tax_applied_once(line_rates, document.rates)
    rates.check_exclusive_coupons([*line_rates, *document.rates], "discounts")


async def _persist(ctx: Context, document: Document, *, number_sent: bool = False) -> None:
    """Give every new row its owner ids and position, then flush."""
    invoice = document.invoice
    if invoice.id is None:
        ctx.session.add(invoice)
        await flush_numbered(ctx.session, "invoice", invoice.number, number_sent=number_sent)
    for position, state in enumerate(document.lines):
        state.row.invoice_id = invoice.id
        state.row.position = position
        if state.row.id is None:
            ctx.session.add(state.row)
    await ctx.session.flush()
    for line_id, rows in [(None, document.rates)] + [
        (state.row.id, state.rates) for state in document.lines
    ]:
        for position, row in enumerate(rows):
            row.account_id = ctx.account_id
            row.invoice_id = invoice.id
            row.line_item_id = line_id
            row.position = position
            row.updated_at = ctx.now if row.id is None else row.updated_at
            if row.id is None:
                ctx.session.add(row)
    await ctx.session.flush()


# ---------------------------------------------------------------------------- invoice state


def _settle(ctx: Context, invoice: Invoice, *, closed_sent: bool) -> None:
    """R12-R14: balance and paid follow the amounts; paying closes, un-paying reopens."""
    was_paid = invoice.paid
    refresh_balance(invoice)
    if invoice.paid and not was_paid:
        invoice.date_paid = ctx.now
        if not closed_sent:
            invoice.closed = True
    elif was_paid and not invoice.paid:
        invoice.date_paid = None
        if not closed_sent:
            invoice.closed = False


def _schedule_autopay(ctx: Context, invoice: Invoice, customer: Customer) -> None:
    """A3: when the first AutoPay attempt will happen, if one is due at all."""
    collectable = (
        invoice.autopay
        and not invoice.draft
        and not invoice.paid
        and not invoice.closed
        and not invoice.voided
        and not invoice.pending
    )
    if not collectable:
        invoice.next_payment_attempt = None
    elif invoice.next_payment_attempt is None and invoice.attempt_count == 0:
        delay = customer.autopay_delay_days
        if delay is None:
            delay = ctx.account.autopay_delay_days
        invoice.next_payment_attempt = max(invoice.date + delay * 86_400, ctx.now + 3_600)


def _check_amounts(document: Document) -> None:
    """R11, and every computed amount must fit the 64-bit minor-unit columns."""
    invoice = document.invoice
    amounts = [invoice.subtotal, invoice.total, *(r.amount for r in document.all_rates())]
    amounts.extend(state.row.amount for state in document.lines)
    if not all(fits_int(amount) for amount in amounts):
        raise InvalidRequest("The amounts on this invoice are too large.", "items")
    if invoice.total < 0:  # R11
        raise InvalidRequest("Total is invalid", "total")


def _apply_terms(ctx: Context, invoice: Invoice, *, due_date_sent: bool) -> None:
    """D3/D4/A2: the due date follows the terms unless it was given explicitly."""
    if invoice.autopay:
        invoice.payment_terms = AUTOPAY_TERMS
    if not due_date_sent:
        invoice.due_date = due_date(invoice.date, invoice.payment_terms, ctx.account.time_zone)


def _apply_simple_fields(invoice: Invoice, data: InvoiceInput, *, creating: bool) -> None:
    sent = data.model_fields_set
    for name in ("purchase_order", "notes"):
        if name in sent or creating:
            setattr(invoice, name, getattr(data, name))
    for name in ("needs_attention", "late_fees", "chase"):
        if name in sent and getattr(data, name) is not None:
            setattr(invoice, name, getattr(data, name))
    if "name" in sent or creating:
        invoice.name = data.name or "Invoice"
    if "ship_to" in sent or creating:
        ship_to = data.ship_to
        invoice.ship_to = (
            None
            if ship_to is None
            else {
                key: (None if ship_to.get(key) in (None, "") else str(ship_to.get(key)))
                for key in SHIP_TO_FIELDS
            }
        )
    if "disabled_payment_methods" in sent or creating:
        invoice.disabled_payment_methods = customer_rules.string_list(
            data.disabled_payment_methods, "disabled_payment_methods"
        )
    if "metadata" in sent or creating:
        invoice.metadata_ = normalize_metadata({} if data.metadata is None else data.metadata)


async def _set_number(ctx: Context, invoice: Invoice, number: str | None) -> None:
    if number:
        if await number_in_use(ctx.session, ctx.account_id, number, except_id=invoice.id):
            raise number_taken("invoice", number)
        invoice.number = number
        if invoice.id is not None:
            # Settle a race for this number now, before any later query autoflushes it.
            await flush_numbered(ctx.session, "invoice", number, number_sent=True)
    elif invoice.id is None:
        invoice.number = await allocate_number(
            ctx.session, ctx.account, "invoice", Invoice.number_key, Invoice.account_id
        )


def _is_paid_event(before: dict[str, Any] | None, document: Document) -> bool:
    """EV6: the change made an issued invoice with a positive total fully paid."""
    invoice = document.invoice
    return bool(invoice.paid and invoice.total > 0 and (before is None or not before["paid"]))


# ---------------------------------------------------------------------------- use cases


async def create(ctx: Context, data: InvoiceInput) -> Document:
    sent = data.model_fields_set
    check_attachments(data.attachments)
    customer = await _customer_for_create(ctx, data.customer)
    account = ctx.account
    invoice = Invoice(
        account_id=ctx.account_id,
        customer_id=customer.id,
        client_id=secrets.token_urlsafe(36),
        created_at=ctx.now,
        updated_at=ctx.now,
        amount_paid=0,
        amount_credited=0,
        attempt_count=0,
        pending=False,
        viewed=False,
        voided=False,
        paid=False,
        subtotal=0,
        total=0,
        balance=0,
        chase=account.chase_new_invoices,
        needs_attention=False,
        late_fees=True,
    )
    if "currency" in sent and data.currency:
        invoice.currency = customer_rules.currency(data.currency) or account.currency
    else:
        invoice.currency = customer.currency or account.currency
    invoice.date = data.date if data.date is not None else ctx.now
    invoice.draft = bool(data.draft)
    invoice.closed = bool(data.closed)
    invoice.sent = bool(data.sent)
    invoice.last_sent = ctx.now if invoice.sent else None
    _apply_simple_fields(invoice, data, creating=True)

    # A1/A2 and D1: AutoPay and terms come from the customer unless sent.
    invoice.autopay = customer.autopay if data.autopay is None else data.autopay
    customer_rules.check_autopay_supported(invoice.autopay, account.autopay_supported)
    if "payment_terms" in sent:
        invoice.payment_terms = data.payment_terms
    elif data.due_date is None:
        invoice.payment_terms = customer.payment_terms or account.payment_terms
    else:
        invoice.payment_terms = None
    invoice.due_date = data.due_date
    _apply_terms(ctx, invoice, due_date_sent=data.due_date is not None)
    await _set_number(ctx, invoice, data.number)

    document = Document(invoice)
    await _replace_lines(ctx, document, data.items or [])
    # R17: the customer's tax rates are assessed on create unless calculate_taxes=false.
    assessed: list[str] = []
    if data.calculate_taxes is not False and customer.taxable:
        assessed = await _live_taxes(ctx, customer.taxes)
    await _replace_document_rates(ctx, document, data, creating=True, assessed_taxes=assessed)
    _check_rates(document)
    recalculate(document)
    _check_amounts(document)
    # R15: on create, paying closes even when the body says closed=false (clients that send
    # whole objects do); only a PATCH may keep a paid invoice open (R14).
    _settle(ctx, invoice, closed_sent=False)
    if data.closed:
        # R13: an invoice created closed is not paid, whatever its balance.
        invoice.paid = False
        invoice.date_paid = None
    _schedule_autopay(ctx, invoice, customer)
    await _check_credit_limit(ctx, customer, invoice)
    await _persist(ctx, document, number_sent=bool(data.number))
    snapshot = await event_snapshot(ctx, document)
    related = [("customer", customer.id)]
    _note_past_due(invoice, snapshot)
    ctx.events.created("invoice", invoice.id, snapshot, related=related)
    if _is_paid_event(None, document) and not invoice.draft:
        ctx.events.updated(
            "invoice",
            invoice.id,
            {**snapshot, "paid": False},
            snapshot,
            related=related,
            event_type="invoice.paid",
        )
    await _auto_apply_credits(ctx, document)
    return document


async def _editable(ctx: Context, invoice_id: int, reopen: bool) -> Document:
    document = await get_document(ctx.session, ctx.account_id, invoice_id, lock=True)
    if document.invoice.voided:
        raise InvalidRequest(VOIDED_MESSAGE, "voided")  # E2
    if document.invoice.closed and not reopen:
        raise InvalidRequest(CLOSED_MESSAGE, "closed")  # E3
    return document


def _note_past_due(invoice: Invoice, snapshot: dict[str, Any]) -> None:
    """Whether the event being recorded already tells followers the invoice is past due,
    so that the mark_past_due job announces only the lapses no write reported."""
    invoice.past_due_notified = snapshot["status"] == "past_due"


async def _record_change(ctx: Context, document: Document, before: dict[str, Any]) -> bool:
    """If anything but `updated_at` changed: bump it and record invoice.updated, or
    invoice.paid when the change paid the invoice (EV3, EV6). True when it did."""
    invoice = document.invoice
    after = await event_snapshot(ctx, document)
    if {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }:
        return False
    invoice.updated_at = ctx.now
    after["updated_at"] = ctx.now
    event_type = "invoice.paid" if _is_paid_event(before, document) else None
    _note_past_due(invoice, after)
    ctx.events.updated(
        "invoice",
        invoice.id,
        before,
        after,
        related=[("customer", invoice.customer_id)],
        event_type=event_type,
    )
    return True


async def _finish_update(
    ctx: Context,
    document: Document,
    before: dict[str, Any],
    *,
    recalc: bool,
    closed_sent: bool,
    number_sent: bool = False,
) -> None:
    invoice = document.invoice
    customer = await customers.get(ctx.session, ctx.account_id, invoice.customer_id)
    _check_rates(document)
    if recalc:
        recalculate(document)
        _check_amounts(document)
        if invoice.pending and from_minor(invoice.total, document.exponent) != before["total"]:
            raise InvalidRequest(  # E8
                "The invoice total cannot be modified when there is a pending payment. "
                "Please wait for the payment to finish processing.",
                "total",
            )
    _settle(ctx, invoice, closed_sent=closed_sent)
    _schedule_autopay(ctx, invoice, customer)
    await _persist(ctx, document)
    if await _record_change(ctx, document, before):
        await flush_numbered(ctx.session, "invoice", invoice.number, number_sent=number_sent)


async def update(ctx: Context, invoice_id: int, data: InvoiceInput) -> Document:
    sent = data.model_fields_set
    check_attachments(data.attachments)
    document = await _editable(ctx, invoice_id, reopen=data.closed is False)
    invoice = document.invoice
    before = await event_snapshot(ctx, document)

    if "customer" in sent and data.customer is not None:  # E1
        ident = data.customer.get("id") if isinstance(data.customer, dict) else data.customer
        if str(ident) != str(invoice.customer_id):
            raise InvalidRequest(
                "Invalid request parameter `customer`. The customer cannot be modified.",
                "customer",
            )
    if "currency" in sent:
        if not data.currency:
            raise InvalidRequest("The currency cannot be unset.", "currency")  # E4
        currency = customer_rules.currency(data.currency) or invoice.currency
        if currency != invoice.currency and await _has_money(ctx, invoice):
            # Decision: amounts already paid are in the old currency's minor units (TX3, PY2).
            raise InvalidRequest(
                "The currency cannot be changed once money has been recorded on this invoice.",
                "currency",
            )
        invoice.currency = currency
        rates.check_coupon_currencies(list(document.all_rates()), invoice.currency)  # CT12
    if "draft" in sent and data.draft is not None:
        if data.draft and not invoice.draft:
            raise InvalidRequest(
                "Cannot save as a draft because the document has already been issued.",
                "draft",
            )  # S16
        invoice.draft = data.draft
    if "closed" in sent and data.closed is not None:
        invoice.closed = data.closed
    if data.sent:
        invoice.sent = True  # S13: never reverts
        invoice.last_sent = ctx.now
    _apply_simple_fields(invoice, data, creating=False)
    if "number" in sent and data.number:
        await _set_number(ctx, invoice, data.number)  # E7

    # D4/A2: date, terms and AutoPay decide the due date unless it is given.
    terms_changed = False
    if "date" in sent and data.date is not None and data.date != invoice.date:
        invoice.date = data.date
        terms_changed = True
    if "autopay" in sent and data.autopay is not None and data.autopay != invoice.autopay:
        customer_rules.check_autopay_supported(data.autopay, ctx.account.autopay_supported)
        invoice.autopay = data.autopay
        terms_changed = terms_changed or data.autopay
        if not data.autopay and invoice.payment_terms == AUTOPAY_TERMS:
            invoice.payment_terms = None
    if "payment_terms" in sent and data.payment_terms != invoice.payment_terms:
        invoice.payment_terms = data.payment_terms
        terms_changed = True
    if "due_date" in sent:
        invoice.due_date = data.due_date
        if invoice.autopay:
            invoice.payment_terms = AUTOPAY_TERMS
    elif terms_changed:
        _apply_terms(ctx, invoice, due_date_sent=False)

    recalc = False
    if "items" in sent:
        await _replace_lines(ctx, document, data.items or [])
        recalc = True
    assessed: list[str] = []
    if data.calculate_taxes:  # R17 on PATCH: only when asked for
        customer = await customers.get(ctx.session, ctx.account_id, invoice.customer_id)
        assessed = await _live_taxes(ctx, customer.taxes) if customer.taxable else []
    if await _replace_document_rates(ctx, document, data, creating=False, assessed_taxes=assessed):
        recalc = True
    if "currency" in sent:
        recalc = True
    await _finish_update(
        ctx,
        document,
        before,
        recalc=recalc,
        closed_sent="closed" in sent,
        number_sent="number" in sent,
    )
    if before["draft"]:
        await _auto_apply_credits(ctx, document)
    return document


async def _auto_apply_credits(ctx: Context, document: Document) -> None:
    """CB7: with `auto_apply_credits` on, an invoice issued unpaid spends the customer's
    credit at once (an `applied_credit` payment of what the credit covers)."""
    invoice = document.invoice
    if not ctx.account.auto_apply_credits or invoice.draft or invoice.voided:
        return
    if invoice.paid or invoice.closed or invoice.balance <= 0:
        return
    # NOTE: imported here because payments.service applies money through this module.
    from tally.payments.service import apply_credit

    await apply_credit(ctx, invoice)


async def retrieve(ctx: Context, invoice_id: int) -> Document:
    return await get_document(ctx.session, ctx.account_id, invoice_id)


async def retrieve_view(ctx: Context, invoice_id: int) -> DocumentView:
    """`retrieve` for a response body only (plain rows, nothing to write back)."""
    invoice = await ctx.session.scalar(
        select(Invoice).where(Invoice.account_id == ctx.account_id, Invoice.id == invoice_id)
    )
    if invoice is None:
        raise NotFound("Invoice", invoice_id)
    return (await load_views(ctx.session, [invoice]))[invoice.id]


async def render_by_id(ctx: Context, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Invoices as JSON keyed by id (lines and rates in two queries), for `expand=invoice`."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = list(
        await ctx.session.scalars(
            select(Invoice).where(Invoice.account_id == ctx.account_id, Invoice.id.in_(wanted))
        )
    )
    documents = await load_documents(ctx.session, rows)
    rendered = await render(ctx, [documents[row.id] for row in rows], set())
    return dict(zip([row.id for row in rows], rendered, strict=True))


async def _has_money(ctx: Context, invoice: Invoice) -> bool:
    """Whether any transaction (a payment's split, a legacy payment, even a refunded or
    failed one) is recorded on the invoice."""
    if invoice.amount_paid or invoice.amount_credited or invoice.pending:
        return True
    return bool(
        await ctx.session.scalar(
            select(
                exists().where(
                    Transaction.account_id == ctx.account_id,
                    Transaction.invoice_id == invoice.id,
                )
            )
        )
    )


def _check_removable(invoice: Invoice, param: str | None) -> None:
    """V2/DEL1: money applied or pending blocks void and delete."""
    if invoice.amount_paid > 0:
        raise InvalidRequest(
            "This invoice cannot be voided because it has a payment applied.", param
        )
    if invoice.amount_credited > 0:
        raise InvalidRequest(
            "This invoice cannot be voided because it has a credit note applied.", param
        )
    if invoice.pending:
        raise InvalidRequest(
            "This invoice cannot be voided because it has a pending payment.", param
        )


async def void(ctx: Context, invoice_id: int) -> Document:
    document = await get_document(ctx.session, ctx.account_id, invoice_id, lock=True)
    invoice = document.invoice
    if invoice.voided:
        raise InvalidRequest("This document has already been voided.")
    _check_removable(invoice, None)
    split = await ctx.session.scalar(
        select(
            exists().where(
                Transaction.account_id == ctx.account_id,
                Transaction.invoice_id == invoice.id,
                Transaction.payment_id.is_not(None),
            )
        )
    )
    if split:  # a payment's split stays applied, even if legacy refunds offset it (V2)
        raise InvalidRequest("This invoice cannot be voided because it has a payment applied.")
    before = await event_snapshot(ctx, document)
    invoice.voided = True
    invoice.date_voided = ctx.now
    invoice.next_payment_attempt = None
    refresh_balance(invoice)  # V1: balance 0, paid false
    invoice.updated_at = ctx.now
    await ctx.session.flush()
    ctx.events.updated(
        "invoice",
        invoice.id,
        before,
        await event_snapshot(ctx, document),
        related=[("customer", invoice.customer_id)],
    )
    return document


async def delete_invoice(ctx: Context, invoice_id: int) -> None:
    document = await get_document(ctx.session, ctx.account_id, invoice_id, lock=True)
    _check_removable(document.invoice, "voided")  # DEL1
    if await _has_money(ctx, document.invoice):  # refunded or failed payments still count
        raise InvalidRequest(
            "This invoice cannot be voided because it has a payment applied.", "voided"
        )
    last_state = await event_snapshot(ctx, document)
    await ctx.session.delete(document.invoice)  # lines and applied rates cascade
    await ctx.session.flush()
    ctx.events.deleted(
        "invoice", invoice_id, last_state, related=[("customer", document.invoice.customer_id)]
    )


# ---------------------------------------------------------------------------- listing


def _money_conditions(filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    return [
        money_filter(name, raw, MONEY_FILTERS[name], Invoice.currency)
        for name, raw in filters.items()
    ]


def list_statement(ctx: Context, query: ListQuery) -> Select[Any]:
    filters = dict(query.filters)
    status = filters.pop("status", None)
    money = {k: filters.pop(k) for k in list(filters) if k in MONEY_FILTERS}
    statement = select(Invoice).where(
        Invoice.account_id == ctx.account_id,
        *filter_conditions(filters, FILTERS),
        *metadata_conditions(Invoice.metadata_, query.metadata),
        *_money_conditions(money),
    )
    if status is not None:
        if not isinstance(status, str) or status not in STATUSES:
            raise InvalidRequest("Invalid value for `status` filter parameter")
        statement = statement.where(status_expression(ctx.now) == status)
    for name, op in (("start_date", ">="), ("end_date", "<=")):
        value = query.timestamp_param(name)
        if value is not None:
            statement = statement.where(
                Invoice.date >= value if op == ">=" else Invoice.date <= value
            )
    statement = statement.where(*updated_conditions(query, Invoice.updated_at))
    return statement


SORTABLE = {**FILTERS, **{k: FilterField(v, "int") for k, v in MONEY_FILTERS.items()}}


async def list_invoices(ctx: Context, query: ListQuery) -> tuple[list[DocumentView], int]:
    """One page of invoices, read-only (for the response body)."""
    rows, total = await fetch_page(
        ctx.session,
        list_statement(ctx, query),
        order_by(query.sort, SORTABLE, Invoice.id),
        query.page,
    )
    documents = await load_views(ctx.session, rows)
    return [documents[row.id] for row in rows], total


# ---------------------------------------------------------------------------- line items


async def _line_state(document: Document, line_id: int) -> LineState:
    for state in document.lines:
        if state.row.id == line_id:
            return state
    raise NotFound("Line item", line_id)


async def retrieve_line(ctx: Context, invoice_id: int, line_id: int) -> tuple[Document, LineState]:
    document = await get_document(ctx.session, ctx.account_id, invoice_id)
    return document, await _line_state(document, line_id)


async def create_line(ctx: Context, invoice_id: int, data: LineInput) -> tuple[Document, LineState]:
    document = await _editable(ctx, invoice_id, reopen=False)
    before = await event_snapshot(ctx, document)
    state = _new_line(ctx)
    await _apply_line(ctx, document, state, data, creating=True)
    document.lines.append(state)
    await _finish_update(ctx, document, before, recalc=True, closed_sent=False)
    return document, state


async def update_line(
    ctx: Context, invoice_id: int, line_id: int, data: LineInput
) -> tuple[Document, LineState]:
    document = await _editable(ctx, invoice_id, reopen=False)
    state = await _line_state(document, line_id)
    before = await event_snapshot(ctx, document)
    await _apply_line(ctx, document, state, data, creating=False)
    await _finish_update(ctx, document, before, recalc=True, closed_sent=False)
    return document, state


async def delete_line(ctx: Context, invoice_id: int, line_id: int) -> None:
    document = await _editable(ctx, invoice_id, reopen=False)
    state = await _line_state(document, line_id)
    before = await event_snapshot(ctx, document)
    document.lines.remove(state)
    await ctx.session.delete(state.row)
    await _finish_update(ctx, document, before, recalc=True, closed_sent=False)


async def list_lines(
    ctx: Context, invoice_id: int, query: ListQuery
) -> tuple[Document, list[LineState], int]:
    document = await get_document(ctx.session, ctx.account_id, invoice_id)
    page = document.lines[query.page.offset : query.page.offset + query.page.per_page]
    return document, page, len(document.lines)


async def stop_autopay(ctx: Context, customer_id: int) -> None:
    """CU8: the customer turned AutoPay off; its open AutoPay invoices follow, each with
    its own invoice.updated event. Their due dates stay as they are."""
    invoices = list(
        await ctx.session.scalars(
            select(Invoice)
            .where(
                Invoice.account_id == ctx.account_id,
                Invoice.customer_id == customer_id,
                Invoice.autopay.is_(True),
                Invoice.paid.is_(False),
                Invoice.closed.is_(False),
                Invoice.voided.is_(False),
            )
            .order_by(Invoice.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    )
    documents = await load_documents(ctx.session, invoices)
    for invoice in invoices:
        document = documents[invoice.id]
        before = await event_snapshot(ctx, document)
        invoice.autopay = False
        invoice.payment_terms = None
        invoice.next_payment_attempt = None
        invoice.updated_at = ctx.now
        ctx.events.updated(
            "invoice",
            invoice.id,
            before,
            await event_snapshot(ctx, document),
            related=[("customer", customer_id)],
        )


# ---------------------------------------------------------------------------- money in


async def peek(ctx: Context, invoice_id: int) -> Invoice | None:
    """The invoice row alone, unlocked: for choosing what to lock, never for changing it."""
    return await ctx.session.scalar(
        select(Invoice).where(Invoice.account_id == ctx.account_id, Invoice.id == invoice_id)
    )


async def lock_for_money(
    ctx: Context, invoice_id: int, *, param: str = "invoice"
) -> tuple[Document, dict[str, Any]]:
    """The invoice a money movement touches, locked first so that concurrent payments on it
    run one after another (C22), with its state before the change."""
    try:
        document = await get_document(ctx.session, ctx.account_id, invoice_id, lock=True)
    except NotFound as exc:
        raise InvalidRequest(f"No such invoice: {invoice_id}", param) from exc
    return document, await event_snapshot(ctx, document)


async def settle_money(
    ctx: Context, document: Document, before: dict[str, Any], paid_delta: int
) -> None:
    """TX6/R12-R14/R21: apply a change of `amount_paid` and every state that follows."""
    invoice = document.invoice
    if paid_delta and invoice.voided:  # TX7: a voided invoice takes no money, either way
        raise InvalidRequest("Cannot apply a payment to a voided invoice.", "invoice")
    invoice.amount_paid += paid_delta
    if not fits_int(invoice.amount_paid):
        raise InvalidRequest("Amount is invalid", "amount")
    issued = paid_delta > 0 and invoice.draft
    if issued:
        invoice.draft = False  # R21: money applied to a draft issues it
    invoice.pending = bool(
        await ctx.session.scalar(
            select(
                exists().where(
                    Transaction.account_id == ctx.account_id,
                    Transaction.invoice_id == invoice.id,
                    Transaction.status == "pending",
                )
            )
        )
    )
    customer = await customers.get(ctx.session, ctx.account_id, invoice.customer_id)
    _settle(ctx, invoice, closed_sent=False)
    _schedule_autopay(ctx, invoice, customer)
    await _record_change(ctx, document, before)
    if issued:
        await _auto_apply_credits(ctx, document)  # CB7: issued unpaid, however it was issued
