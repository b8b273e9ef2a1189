"""What the templates show: small frozen view models built from the stored objects.

Amounts arrive here already computed (the invoice calculator stored them, R9); this module
only loads, labels and formats them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from tally.context import Context
from tally.customers import repository as customers
from tally.documents import format as fmt
from tally.invoices.document import Document as InvoiceDocument
from tally.invoices.document import status_of
from tally.invoices.service import urls as invoice_urls
from tally.models import Account, AppliedRate, Customer, Invoice, Payment, Transaction
from tally.payments.schemas import split_type

if TYPE_CHECKING:
    from tally.statements import Statement

# Countries that print on US Letter; everyone else gets A4.
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PA"})
RATE_NAMES = {"discount": "Discount", "tax": "Tax", "shipping": "Shipping"}


@dataclass(frozen=True)
class Party:
    """Who sends or receives a document: a name and the address lines to print."""

    name: str
    number: str | None = None
    lines: tuple[str, ...] = ()
    email: str | None = None


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    primary: bool = False
    # A download link: the browser saves the file instead of navigating to it.
    download: bool = False


@dataclass(frozen=True)
class AmountRow:
    label: str
    amount: str
    strong: bool = False


@dataclass(frozen=True)
class LineView:
    name: str
    description: str | None
    quantity: str
    unit_cost: str
    amount: str


@dataclass(frozen=True)
class Page:
    """What every document page has: the base layout's values."""

    kind: str
    title: str
    lang: str
    paper: str  # "a4" or "letter"
    account: Party
    links: tuple[Link, ...]
    status: str  # a css-safe key: paid, past_due, voided, draft, open, ...
    status_label: str
    notice: str | None  # a sentence shown above everything (voided, draft)


@dataclass(frozen=True)
class InvoiceView:
    page: Page
    number: str
    customer: Party
    ship_to: Party | None
    fields: tuple[Field, ...]
    lines: tuple[LineView, ...]
    totals: tuple[AmountRow, ...]
    balance: str
    notes: str | None


@dataclass(frozen=True)
class AppliedView:
    description: str
    amount: str


@dataclass(frozen=True)
class ReceiptView:
    page: Page
    customer: Party | None
    fields: tuple[Field, ...]
    amount: str
    applied: tuple[AppliedView, ...]
    totals: tuple[AmountRow, ...]
    notes: str | None


@dataclass(frozen=True)
class StatementRow:
    date: str
    description: str
    due_date: str | None
    total: str | None
    amount: str
    balance: str


@dataclass(frozen=True)
class StatementView:
    page: Page
    customer: Party
    fields: tuple[Field, ...]
    open_item: bool
    rows: tuple[StatementRow, ...]
    totals: tuple[AmountRow, ...]


# ---------------------------------------------------------------------------- parties


def account_party(account: Account) -> Party:
    return Party(name=account.name)


def customer_party(customer: Customer, account: Account) -> Party:
    lines: list[str] = []
    if customer.attention_to:
        lines.append(f"Attn: {customer.attention_to}")
    lines.extend(part for part in (customer.address1, customer.address2) if part)
    locality = " ".join(p for p in (customer.state, customer.postal_code) if p)
    city = ", ".join(p for p in (customer.city, locality) if p)
    if city:
        lines.append(city)
    if customer.country and customer.country != account.country:
        lines.append(customer.country)
    return Party(
        name=customer.name, number=customer.number, lines=tuple(lines), email=customer.email
    )


def ship_to_party(ship_to: dict[str, Any] | None) -> Party | None:
    if not ship_to:
        return None
    text = {k: str(v) for k, v in ship_to.items() if v not in (None, "")}
    lines: list[str] = []
    if "attention_to" in text:
        lines.append(f"Attn: {text['attention_to']}")
    lines.extend(text[k] for k in ("address1", "address2") if k in text)
    locality = " ".join(text[k] for k in ("state", "postal_code") if k in text)
    city = ", ".join(p for p in (text.get("city", ""), locality) if p)
    if city:
        lines.append(city)
    if "country" in text:
        lines.append(text["country"])
    if not lines and "name" not in text:
        return None
    return Party(name=text.get("name", ""), lines=tuple(lines))


def _page(
    ctx: Context,
    *,
    kind: str,
    title: str,
    links: Sequence[Link] = (),
    status: str = "open",
    status_label: str = "",
    notice: str | None = None,
    lang: str | None = None,
) -> Page:
    account = ctx.account
    return Page(
        kind=kind,
        title=title,
        lang=lang or "en",
        paper="letter" if account.country in LETTER_COUNTRIES else "a4",
        account=account_party(account),
        links=tuple(links),
        status=status,
        status_label=status_label,
        notice=notice,
    )


# ---------------------------------------------------------------------------- invoices


def rate_label(row: AppliedRate) -> str:
    """`Summer (5%)`, `VAT (20%, included)`, `Tax` for a custom amount."""
    rate = row.rate
    default = RATE_NAMES.get(row.kind, row.kind.capitalize())
    if rate is None:
        return default
    name = str(rate.get("name") or rate.get("id") or default)
    details: list[str] = []
    if rate.get("is_percent", True) and rate.get("value") is not None:
        details.append(fmt.percent_text(rate["value"]))
    if rate.get("inclusive"):
        details.append("included")
    return f"{name} ({', '.join(details)})" if details else name


def _rate_rows(document: InvoiceDocument, kind: str, currency: str) -> list[AmountRow]:
    """Each document-level rate, then line-level ones summed per label (R3-R8)."""
    sign = -1 if kind == "discount" else 1
    rows = [
        AmountRow(rate_label(r), fmt.money(sign * r.amount, currency))
        for r in document.of_kind(kind)
    ]
    per_label: dict[str, int] = {}
    for state in document.lines:
        for r in state.of_kind(kind):
            label = f"{rate_label(r)} on items"
            per_label[label] = per_label.get(label, 0) + r.amount
    rows.extend(
        AmountRow(label, fmt.money(sign * amount, currency)) for label, amount in per_label.items()
    )
    return rows


def _lang(customer: Customer) -> str:
    language = (customer.language or "").lower()
    return language if language.isalpha() and len(language) == 2 else "en"


async def invoice_view(ctx: Context, document: InvoiceDocument) -> InvoiceView:
    invoice = document.invoice
    account = ctx.account
    currency = invoice.currency
    customer = await customers.get(ctx.session, ctx.account_id, invoice.customer_id)
    tz = account.time_zone
    status = status_of(invoice, ctx.now)
    page_url = f"{ctx.public_base_url}/invoices/{account.identifier}/{invoice.client_id}"
    links = [Link("Download PDF", f"{page_url}/pdf", download=True)]
    payment_url = invoice_urls(ctx, invoice)["payment_url"]
    if payment_url is not None:
        links.insert(0, Link(f"Pay {fmt.money(invoice.balance, currency)}", payment_url, True))
    notice = None
    if invoice.voided:
        notice = "This invoice has been voided. Nothing is owed on it."
    elif invoice.draft:
        notice = "Draft: this invoice has not been issued yet."
    fields = [Field("Invoice number", invoice.number)]
    fields.append(Field("Invoice date", fmt.date_text(invoice.date, tz) or ""))
    due = fmt.date_text(invoice.due_date, tz)
    if due is not None:
        fields.append(Field("Due date", due))
    if invoice.payment_terms:
        fields.append(Field("Payment terms", invoice.payment_terms))
    if invoice.purchase_order:
        fields.append(Field("Purchase order", invoice.purchase_order))
    lines = tuple(
        LineView(
            name=state.row.name,
            description=state.row.description or None,
            quantity=fmt.quantity_text(state.row.quantity),
            unit_cost=fmt.unit_money(state.row.unit_cost, currency),
            amount=fmt.money(state.row.amount, currency),
        )
        for state in document.lines
    )
    totals = [AmountRow("Subtotal", fmt.money(invoice.subtotal, currency))]
    for kind in ("discount", "tax", "shipping"):
        totals.extend(_rate_rows(document, kind, currency))
    totals.append(AmountRow("Total", fmt.money(invoice.total, currency), strong=True))
    if invoice.amount_paid > 0:
        totals.append(AmountRow("Amount paid", fmt.money(-invoice.amount_paid, currency)))
    if invoice.amount_credited > 0:
        totals.append(AmountRow("Credits applied", fmt.money(-invoice.amount_credited, currency)))
    balance = fmt.money(invoice.balance, currency)
    return InvoiceView(
        page=_page(
            ctx,
            kind="invoice",
            title=f"Invoice {invoice.number}",
            links=links,
            status=status,
            status_label=fmt.status_label(status),
            notice=notice,
            lang=_lang(customer),
        ),
        number=invoice.number,
        customer=customer_party(customer, account),
        ship_to=ship_to_party(invoice.ship_to),
        fields=tuple(fields),
        lines=lines,
        totals=tuple(totals),
        balance=balance,
        notes=invoice.notes or None,
    )


# ---------------------------------------------------------------------------- receipts


async def _invoice_numbers(ctx: Context, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await ctx.session.execute(
        select(Invoice.id, Invoice.number).where(
            Invoice.account_id == ctx.account_id, Invoice.id.in_(ids)
        )
    )
    return {row.id: row.number for row in rows}


async def _customer_or_none(ctx: Context, customer_id: int | None) -> Customer | None:
    if customer_id is None:
        return None
    return await customers.get(ctx.session, ctx.account_id, customer_id)


def _receipt_fields(
    ctx: Context, date: int, method: str, reference: str | None, currency: str
) -> list[Field]:
    fields = [
        Field("Payment date", fmt.date_text(date, ctx.account.time_zone) or ""),
        Field("Payment method", fmt.method_label(method)),
    ]
    if reference:
        fields.append(Field("Reference", reference))
    fields.append(Field("Currency", currency.upper()))
    return fields


def _receipt_links(ctx: Context, client_id: str) -> list[Link]:
    url = f"{ctx.public_base_url}/payments/{ctx.account.identifier}/{client_id}/pdf"
    return [Link("Download PDF", url, download=True)]


async def payment_receipt_view(ctx: Context, payment: Payment) -> ReceiptView:
    currency = payment.currency
    customer = await _customer_or_none(ctx, payment.customer_id)
    splits = list(
        await ctx.session.scalars(
            select(Transaction)
            .where(Transaction.account_id == ctx.account_id, Transaction.payment_id == payment.id)
            .order_by(Transaction.id)
        )
    )
    numbers = await _invoice_numbers(ctx, {t.invoice_id for t in splits if t.invoice_id})
    applied: list[AppliedView] = []
    for split in splits:
        kind = split_type(split)
        amount = fmt.money(abs(split.amount), currency)
        if split.invoice_id is not None:
            number = numbers.get(split.invoice_id, str(split.invoice_id))
            label = "Invoice" if kind == "invoice" else "Credit applied to invoice"
            applied.append(AppliedView(f"{label} {number}", amount))
        elif kind == "credit":
            applied.append(AppliedView("Added to account credit", amount))
        else:
            applied.append(AppliedView(kind.replace("_", " ").capitalize(), amount))
    totals = [AmountRow("Amount received", fmt.money(payment.amount, currency), strong=True)]
    if payment.balance:
        totals.append(AmountRow("Not yet applied", fmt.money(payment.balance, currency)))
    return ReceiptView(
        page=_page(
            ctx,
            kind="receipt",
            title="Payment receipt",
            links=_receipt_links(ctx, payment.client_id),
            status="voided" if payment.voided else "paid",
            status_label="Voided" if payment.voided else "Received",
            notice="This payment has been voided." if payment.voided else None,
            lang=_lang(customer) if customer else None,
        ),
        customer=customer_party(customer, ctx.account) if customer else None,
        fields=tuple(
            _receipt_fields(ctx, payment.date, payment.method, payment.reference, currency)
        ),
        amount=fmt.money(payment.amount, currency),
        applied=tuple(applied),
        totals=tuple(totals),
        notes=payment.notes or None,
    )


TRANSACTION_TITLES = {
    "payment": "Payment receipt",
    "charge": "Payment receipt",
    "refund": "Refund receipt",
    "adjustment": "Balance adjustment",
}
TRANSACTION_STATUS = {"succeeded": "Received", "pending": "Pending", "failed": "Failed"}


async def transaction_receipt_view(ctx: Context, transaction: Transaction) -> ReceiptView:
    currency = transaction.currency
    customer = await customers.get(ctx.session, ctx.account_id, transaction.customer_id)
    numbers = await _invoice_numbers(
        ctx, {transaction.invoice_id} if transaction.invoice_id else set()
    )
    applied: list[AppliedView] = []
    amount = fmt.money(abs(transaction.amount), currency)
    if transaction.invoice_id is not None:
        number = numbers.get(transaction.invoice_id, str(transaction.invoice_id))
        applied.append(AppliedView(f"Invoice {number}", amount))
    totals = [AmountRow("Amount", amount, strong=True)]
    if transaction.type in ("payment", "charge"):
        refunded = await ctx.session.scalar(
            select(func.coalesce(func.sum(Transaction.amount), 0)).where(
                Transaction.account_id == ctx.account_id,
                Transaction.parent_transaction_id == transaction.id,
                Transaction.type == "refund",
                Transaction.status == "succeeded",
            )
        )
        if refunded:
            totals.append(AmountRow("Refunded", fmt.money(-int(refunded), currency)))
    status = transaction.status
    return ReceiptView(
        page=_page(
            ctx,
            kind="receipt",
            title=TRANSACTION_TITLES.get(transaction.type, "Receipt"),
            links=_receipt_links(ctx, transaction.client_id),
            status={"succeeded": "paid", "failed": "failed"}.get(status, "pending"),
            status_label=TRANSACTION_STATUS.get(status, status.capitalize()),
            notice=f"This payment failed: {transaction.failure_reason}"
            if status == "failed" and transaction.failure_reason
            else None,
            lang=_lang(customer),
        ),
        customer=customer_party(customer, ctx.account),
        fields=tuple(
            _receipt_fields(
                ctx, transaction.date, transaction.method, transaction.gateway_id, currency
            )
        ),
        amount=amount,
        applied=tuple(applied),
        totals=tuple(totals),
        notes=transaction.notes or None,
    )


# ---------------------------------------------------------------------------- statements


def statement_view(
    ctx: Context, customer: Customer, statement: Statement, *, client_url: str
) -> StatementView:
    currency = statement.currency
    tz = ctx.account.time_zone
    open_item = statement.type == "open_item"
    fields = [Field("Statement date", fmt.date_text(statement.end, tz) or "")]
    if not open_item and statement.start is not None:
        fields.append(
            Field(
                "Period",
                f"{fmt.date_text(statement.start, tz)} to {fmt.date_text(statement.end, tz)}",
            )
        )
    fields.append(Field("Currency", currency.upper()))
    if customer.number:
        fields.append(Field("Account number", customer.number))
    rows = tuple(
        StatementRow(
            date=fmt.date_text(line.date, tz) or "",
            description=line.description,
            due_date=fmt.date_text(line.due_date, tz),
            total=fmt.money(line.total, currency) if line.total is not None else None,
            amount=fmt.money(line.amount, currency),
            balance=fmt.money(line.balance, currency),
        )
        for line in statement.lines
    )
    totals: list[AmountRow] = []
    if statement.opening_balance is not None:
        totals.append(AmountRow("Opening balance", fmt.money(statement.opening_balance, currency)))
    totals.append(AmountRow("Total invoiced", fmt.money(statement.total_invoiced, currency)))
    totals.append(AmountRow("Total paid", fmt.money(-statement.total_paid, currency)))
    label = "Balance due" if statement.closing_balance >= 0 else "Credit balance"
    totals.append(AmountRow(label, fmt.money(statement.closing_balance, currency), strong=True))
    return StatementView(
        page=_page(
            ctx,
            kind="statement",
            title="Statement" if not open_item else "Statement of open items",
            links=[Link("Download PDF", f"{client_url}/pdf", download=True)],
            status="open",
            status_label="",
            lang=_lang(customer),
        ),
        customer=customer_party(customer, ctx.account),
        fields=tuple(fields),
        open_item=open_item,
        rows=rows,
        totals=tuple(totals),
    )
