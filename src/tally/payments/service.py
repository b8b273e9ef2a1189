"""Payment use cases (transactions_payments.md PY1-PY19).

Every split of a payment is a Transaction row with `payment_id` set. Creating, editing and
voiding a payment all come down to one step, `_reconcile`: make the stored splits match the
wanted ones, moving each invoice's `amount_paid` and the customer's credit by the
difference. Locks are taken in the order every money change in the server uses: the payment
row, then its invoices in id order, then the customers' credit ledgers.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, false, select, true

from tally.context import Context
from tally.credit_balances import ledger
from tally.customers import repository as customers
from tally.customers import service as customer_service
from tally.domain import customers as customer_rules
from tally.domain import payments as rules
from tally.domain.coerce import parse_bool
from tally.domain.credit_ledger import BALANCE
from tally.domain.errors import InvalidRequest, NotFound
from tally.domain.metadata import normalize_metadata
from tally.domain.money import exponent, from_minor, storable_minor
from tally.domain.transactions import paid_effect
from tally.files import check_attachments
from tally.http.listing import (
    FilterField,
    ListQuery,
    date_range_conditions,
    fetch_page,
    filter_conditions,
    metadata_conditions,
    money_filter,
    order_by,
    updated_conditions,
)
from tally.http.validation import validate
from tally.invoices import service as invoices
from tally.invoices.document import Document
from tally.models import Customer, Invoice, Payment, Transaction
from tally.payments.schemas import (
    PaymentInput,
    SplitInput,
    payment_json,
    payment_pdf_url,
    split_type,
)

P = Payment
FILTERS: dict[str, FilterField] = {
    "id": FilterField(P.id, "int"),
    "customer": FilterField(P.customer_id, "int"),
    "currency": FilterField(P.currency, "lower"),
    "date": FilterField(P.date, "timestamp"),
    "method": FilterField(P.method),
    "reference": FilterField(P.reference),
    "source": FilterField(P.source),
    "voided": FilterField(P.voided, "bool"),
    "created_at": FilterField(P.created_at, "timestamp"),
    "updated_at": FilterField(P.updated_at, "timestamp"),
}
# `amount` and `balance` filter in major units (money_filter) but sort by stored minor units.
SORTABLE = {
    **FILTERS,
    "amount": FilterField(P.amount, "int"),
    "balance": FilterField(P.balance, "int"),
}
PARAM = rules.PARAM
OVERPAYMENT_NOTE = "Overpayment"  # PY9: the notes of a `credit` split


# ---------------------------------------------------------------------------- rendering


async def _splits_of(ctx: Context, payment_ids: Sequence[int]) -> dict[int, list[Transaction]]:
    found: dict[int, list[Transaction]] = {payment_id: [] for payment_id in payment_ids}
    if payment_ids:
        rows = await ctx.session.scalars(
            select(Transaction)
            .where(
                Transaction.account_id == ctx.account_id,
                Transaction.payment_id.in_(payment_ids),
            )
            .order_by(Transaction.id)
        )
        for row in rows:
            found[row.payment_id or 0].append(row)
    return found


async def render(
    ctx: Context,
    payments: Sequence[Payment],
    *,
    include_applied: bool = False,
    expand: set[str] | None = None,
) -> list[dict[str, Any]]:
    splits = await _splits_of(ctx, [p.id for p in payments]) if include_applied else {}
    by_customer: dict[int, dict[str, Any]] = {}
    if expand and "customer" in expand:
        by_customer = await customer_service.render_by_id(
            ctx, (p.customer_id for p in payments if p.customer_id is not None)
        )
    return [
        payment_json(
            payment,
            pdf_url=payment_pdf_url(ctx.public_base_url, ctx.account.identifier, payment),
            applied_to=splits[payment.id] if include_applied else None,
            customer=by_customer.get(payment.customer_id or 0),
        )
        for payment in payments
    ]


async def event_snapshot(ctx: Context, payment: Payment) -> dict[str, Any]:
    """EV9: payment events carry `applied_to` and the customer object."""
    return (await render(ctx, [payment], include_applied=True, expand={"customer"}))[0]


def _related(payment: Payment, splits: Sequence[Transaction]) -> list[tuple[str, int | str]]:
    """EV8: a payment's events concern its customer and the documents it paid."""
    related: list[tuple[str, int | str]] = []
    if payment.customer_id is not None:
        related.append(("customer", payment.customer_id))
    for invoice_id in sorted({t.invoice_id for t in splits if t.invoice_id is not None}):
        related.append(("invoice", invoice_id))
    return related


# ---------------------------------------------------------------------------- loading


async def _get(ctx: Context, payment_id: int, *, lock: bool = False) -> Payment:
    statement = select(Payment).where(
        Payment.account_id == ctx.account_id, Payment.id == payment_id
    )
    if lock:
        statement = statement.with_for_update(key_share=True).execution_options(
            populate_existing=True
        )
    payment = (await ctx.session.execute(statement)).scalar_one_or_none()
    if payment is None:
        raise NotFound("Payment", payment_id)
    return payment


async def retrieve(ctx: Context, payment_id: int) -> Payment:
    return await _get(ctx, payment_id)


async def _stored_splits(ctx: Context, payment: Payment) -> list[Transaction]:
    """The payment's splits. Unlocked: the payment's own row lock already serializes every
    change to them; `_reconcile` locks the rows after their invoices (the server's order)."""
    return list(
        await ctx.session.scalars(
            select(Transaction)
            .where(Transaction.account_id == ctx.account_id, Transaction.payment_id == payment.id)
            .order_by(Transaction.id)
        )
    )


async def _lock_rows(ctx: Context, rows: Sequence[Transaction]) -> None:
    if rows:
        await ctx.session.execute(
            select(Transaction)
            .where(
                Transaction.account_id == ctx.account_id,
                Transaction.id.in_([row.id for row in rows]),
            )
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )


# ---------------------------------------------------------------------------- input


def _split_entries(raw: Any) -> list[SplitInput]:
    """The `applied_to` list, each entry's fields typed; amounts stay decimal until the
    payment's currency is known (PY3 may infer it from a document)."""
    if raw is None:
        return []
    if isinstance(raw, dict):  # a form with one non-indexed entry
        raw = [raw]
    if not isinstance(raw, list):
        raise InvalidRequest("Applied to must be a list of payment applications", PARAM)
    entries = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise InvalidRequest("Applied to must be a list of payment applications", PARAM)
        try:
            entries.append(validate(SplitInput, entry))
        except InvalidRequest as exc:
            raise InvalidRequest(exc.message, PARAM) from None
    return entries


def _to_splits(entries: Sequence[SplitInput], currency: str) -> list[rules.Split]:
    """PY4/PY6: each entry's shape, its amount in minor units of `currency`."""
    splits = [
        rules.check_split(
            data.type,
            None if data.amount is None else storable_minor(data.amount, currency, PARAM),
            currency,
            invoice=data.invoice,
            estimate=data.estimate,
            credit_note=data.credit_note,
            document_type=data.document_type,
            split_id=data.id,
        )
        for data in entries
    ]
    rules.check_unique(splits)
    return splits


def _split_of(transaction: Transaction) -> rules.Split:
    return rules.Split(
        split_type(transaction), abs(transaction.amount), invoice=transaction.invoice_id
    )


async def _customer(ctx: Context, customer_id: int) -> Customer:
    try:
        # KEY SHARE: the customer cannot be deleted while its payment is being recorded.
        return await customers.get(ctx.session, ctx.account_id, customer_id, lock="share")
    except NotFound as exc:
        raise InvalidRequest(f"No such customer: {customer_id}", "customer") from exc


async def _first_document_customer(
    ctx: Context, entries: Sequence[SplitInput]
) -> tuple[int, str] | None:
    """PY3: the customer (and currency) of the first split that names a document."""
    for entry in entries:
        if entry.invoice is not None:
            document = await invoices.peek(ctx, entry.invoice)
            if document is None:
                raise InvalidRequest(f"Could not find invoice: {entry.invoice}", PARAM)
            return document.customer_id, document.currency
        _refuse_missing_documents(entry.estimate, entry.credit_note)
    return None


def _refuse_missing_documents(estimate: int | None, credit_note: int | None) -> None:
    """Estimates and credit notes arrive with their own issues; until then none exists."""
    if estimate is not None:
        raise InvalidRequest(f"Could not find estimate: {estimate}", PARAM)
    if credit_note is not None:
        raise InvalidRequest(f"Could not find credit note: {credit_note}", PARAM)


# ---------------------------------------------------------------------------- reconcile


@dataclass
class _Plan:
    """Wanted splits paired with the stored transaction each one keeps, and the rest."""

    kept: list[tuple[rules.Split, Transaction | None]]
    removed: list[Transaction]


def _plan(existing: Sequence[Transaction], wanted: Sequence[rules.Split]) -> _Plan:
    """PY11: match by split id, else by (type, document); unmatched stored splits go."""
    by_id = {t.id: t for t in existing}
    by_key = {_split_of(t).key: t for t in existing}
    used: set[int] = set()
    kept: list[tuple[rules.Split, Transaction | None]] = []
    for split in wanted:
        match: Transaction | None
        if split.id is not None:
            match = by_id.get(split.id)
            if match is None:
                raise InvalidRequest(f"No such payment application: {split.id}", PARAM)
            if _split_of(match).key != split.key:
                raise InvalidRequest(
                    f"The {split_type(match).replace('_', ' ')} of an existing payment "
                    "application cannot be changed",
                    PARAM,
                )
        else:
            match = by_key.get(split.key)
        if match is not None:
            if match.id in used:
                raise InvalidRequest(
                    "Each document can only be applied once per payment. "
                    f"Detected duplicate ({split.describe()})",
                    PARAM,
                )
            used.add(match.id)
        kept.append((split, match))
    return _Plan(kept, [t for t in existing if t.id not in used])


async def _belongs(ctx: Context, customer: Customer, invoice_customer_id: int) -> bool:
    """PY5: the payment's customer or one of its sub-customers (CU10)."""
    if invoice_customer_id == customer.id:
        return True
    chain = await customers.ancestor_chain(ctx.session, ctx.account_id, invoice_customer_id)
    return customer.id in chain


async def _lock_documents(
    ctx: Context,
    payment: Payment,
    customer: Customer | None,
    plan: _Plan,
) -> dict[int, tuple[Document, dict[str, Any]]]:
    """Lock every invoice the change touches, in id order, and check the wanted ones."""
    wanted_ids = {s.invoice for s, _ in plan.kept if s.invoice is not None}
    touched = wanted_ids | {t.invoice_id for t in plan.removed if t.invoice_id is not None}
    locked: dict[int, tuple[Document, dict[str, Any]]] = {}
    for invoice_id in sorted(touched):
        try:
            locked[invoice_id] = await invoices.lock_for_money(ctx, invoice_id, param=PARAM)
        except InvalidRequest as exc:
            raise InvalidRequest(f"Could not find invoice: {invoice_id}", PARAM) from exc
    for invoice_id in sorted(wanted_ids):
        invoice = locked[invoice_id][0].invoice
        if invoice.voided:  # TX7
            raise InvalidRequest("Cannot apply a payment to a voided invoice.", PARAM)
        if invoice.currency != payment.currency:  # PY2
            raise InvalidRequest(
                f"The currency of invoice {invoice.number} ({invoice.currency}) does not "
                f"match the payment currency ({payment.currency})",
                PARAM,
            )
        if customer is None:
            raise InvalidRequest("Missing customer", "customer")  # PY3
        if not await _belongs(ctx, customer, invoice.customer_id):
            raise InvalidRequest(
                f"The invoice provided ({invoice.number}) does not belong to the customer "
                "that was selected to apply payments for: "
                f"{customer.number}",
                PARAM,
            )
    return locked


def _new_split(ctx: Context, payment: Payment, split: rules.Split, customer_id: int) -> Transaction:
    """PY9: the transaction behind one split."""
    fields: dict[str, Any]
    if split.type == "invoice":
        fields = {"type": "payment", "method": payment.method, "amount": split.amount}
    elif split.type == "applied_credit":
        fields = {"type": "charge", "method": BALANCE, "amount": split.amount}
    elif split.type == "credit":
        # The merchant's sign convention (TX5): a negative adjustment credits the customer.
        fields = {"type": "adjustment", "method": BALANCE, "amount": -split.amount}
    else:  # convenience_fee: money received on top, tied to no document
        fields = {"type": "payment", "method": payment.method, "amount": split.amount}
    return Transaction(
        account_id=ctx.account_id,
        customer_id=customer_id,
        invoice_id=split.invoice,
        payment_id=payment.id,
        date=payment.date,
        status="succeeded",
        gateway_id=payment.reference,
        currency=payment.currency,
        notes=OVERPAYMENT_NOTE if split.type == "credit" else payment.notes,
        metadata_={},
        client_id=secrets.token_urlsafe(36),
        created_at=ctx.now,
        updated_at=ctx.now,
        **fields,
    )


def _paid(transaction: Transaction) -> int:
    return paid_effect(transaction.type, transaction.status, transaction.amount)


async def _reconcile(
    ctx: Context,
    payment: Payment,
    customer: Customer | None,
    existing: Sequence[Transaction],
    wanted: Sequence[rules.Split],
    *,
    keep_existing: bool = True,
    propagate: bool = False,
) -> None:
    """Make the payment's stored splits equal `wanted`, with every money effect (PY9, PY11).

    `propagate` copies the payment's date, method, reference and notes onto the splits that
    stay (PY14)."""
    for split in wanted:
        _refuse_missing_documents(split.estimate, split.credit_note)
    if keep_existing:
        plan = _plan(existing, wanted)
    else:  # PY13: nothing of the old payer's splits stays
        if any(split.id is not None for split in wanted):
            raise InvalidRequest(
                "Payment applications cannot be kept when the customer changes", PARAM
            )
        plan = _Plan([(split, None) for split in wanted], list(existing))
    locked = await _lock_documents(ctx, payment, customer, plan)
    await _lock_rows(ctx, existing)

    # Whose credit moves: a `credit` split's payer, an `applied_credit` split's invoice owner.
    credit_ledgers = {
        (t.customer_id, t.currency) for t in existing if split_type(t) in _CREDIT_SPLITS
    }
    for split, _ in plan.kept:
        if split.type == "credit":
            credit_ledgers.add((_require(customer).id, payment.currency))
        elif split.type == "applied_credit" and split.invoice is not None:
            credit_ledgers.add((locked[split.invoice][0].invoice.customer_id, payment.currency))
    for customer_id in sorted({customer_id for customer_id, _ in credit_ledgers}):
        await ledger.lock(ctx, customer_id)

    # What this payment pays on each invoice, before and after (for the room check).
    paid_before: dict[int, int] = defaultdict(int)
    for transaction in existing:
        if transaction.invoice_id is not None:
            paid_before[transaction.invoice_id] += _paid(transaction)
    paid_delta: dict[int, int] = defaultdict(int)
    for transaction in plan.removed:
        if transaction.invoice_id is not None:
            paid_delta[transaction.invoice_id] -= _paid(transaction)
    if plan.removed:
        await ctx.session.execute(
            delete(Transaction)
            .where(
                Transaction.account_id == ctx.account_id,
                Transaction.id.in_([t.id for t in plan.removed]),
            )
            .execution_options(synchronize_session=False)
        )
        for transaction in plan.removed:
            ctx.session.expunge(transaction)

    for split, match in plan.kept:
        if match is None:
            owner_id = (
                locked[split.invoice][0].invoice.customer_id
                if split.invoice is not None
                else _require(customer).id
            )
            match = _new_split(ctx, payment, split, owner_id)
            ctx.session.add(match)
            if split.invoice is not None:
                paid_delta[split.invoice] += _paid(match)
            continue
        old_paid = _paid(match)
        new_amount = -split.amount if match.type == "adjustment" else split.amount
        changed = match.amount != new_amount
        match.amount = new_amount
        if propagate:
            changed |= _propagate(payment, match)
        if changed:
            match.updated_at = ctx.now
        if match.invoice_id is not None:
            paid_delta[match.invoice_id] += _paid(match) - old_paid
    await ctx.session.flush()

    for invoice_id in sorted(paid_delta):
        document, before = locked[invoice_id]
        delta = paid_delta[invoice_id]
        if delta > 0:
            before_paid = paid_before[invoice_id]
            rules.check_document_room(
                document.invoice.number,
                before_paid + delta,
                document.invoice.balance + before_paid,
                payment.currency,
            )
        if delta:
            await invoices.settle_money(ctx, document, before, delta)
    for customer_id, currency in sorted(credit_ledgers):
        await ledger.verify(ctx, customer_id, currency, param=PARAM)


_CREDIT_SPLITS = frozenset({"credit", "applied_credit"})


def _require(customer: Customer | None) -> Customer:
    if customer is None:
        raise InvalidRequest("Missing customer", "customer")  # PY3
    return customer


def _propagate(payment: Payment, transaction: Transaction) -> bool:
    """PY14: the payment's date, method, reference and notes follow onto a split."""
    kind = split_type(transaction)
    wanted: dict[str, Any] = {"date": payment.date, "gateway_id": payment.reference}
    if kind in ("invoice", "convenience_fee"):
        wanted["method"] = payment.method
    if kind != "credit":
        wanted["notes"] = payment.notes
    changed = False
    for name, value in wanted.items():
        if getattr(transaction, name) != value:
            setattr(transaction, name, value)
            changed = True
    return changed


def _finish_balance(payment: Payment, splits: Sequence[rules.Split]) -> None:
    """PY7/PY8: what the cash splits leave of the payment."""
    rules.check_total(splits, payment.amount, payment.currency)
    payment.balance = payment.amount - rules.applied(splits)


# ---------------------------------------------------------------------------- use cases


async def create(ctx: Context, data: PaymentInput) -> Payment:
    sent = data.model_fields_set
    check_attachments(data.attachments)
    method = rules.method(data.method)
    chosen_currency = customer_rules.currency(data.currency) if data.currency else None
    customer: Customer | None = None
    inferred_currency: str | None = None
    if data.customer is not None:
        customer = await _customer(ctx, data.customer)
    entries = _split_entries(data.applied_to)
    if customer is None and entries:
        found = await _first_document_customer(ctx, entries)
        if found is None:
            raise InvalidRequest("Missing customer", "customer")  # PY3
        customer = await _customer(ctx, found[0])
        inferred_currency = found[1]
    currency = (
        chosen_currency
        or (customer.currency if customer is not None else None)
        or inferred_currency
        or ctx.account.currency
    )
    splits = _to_splits(entries, currency)
    if data.amount is None:
        raise InvalidRequest("Amount is missing", "amount")
    amount = rules.check_amount(storable_minor(data.amount, currency))

    payment = Payment(
        account_id=ctx.account_id,
        customer_id=None if customer is None else customer.id,
        date=data.date if data.date is not None else ctx.now,
        currency=currency,
        amount=amount,
        balance=amount,
        voided=False,
        method=method,
        ach_sender_id=data.ach_sender_id,
        reference=data.reference,
        source=data.source or "keyed",
        notes=data.notes,
        metadata_=normalize_metadata(data.metadata) if "metadata" in sent else {},
        client_id=secrets.token_urlsafe(36),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    _finish_balance(payment, splits)
    ctx.session.add(payment)
    await ctx.session.flush()
    await _reconcile(ctx, payment, customer, [], splits)
    stored = await _stored_splits(ctx, payment)
    ctx.events.created(
        "payment", payment.id, await event_snapshot(ctx, payment), related=_related(payment, stored)
    )
    return payment


async def update(ctx: Context, payment_id: int, data: PaymentInput) -> Payment:
    sent = data.model_fields_set
    payment = await _get(ctx, payment_id, lock=True)
    if payment.voided:
        raise InvalidRequest("The payment is voided and cannot be edited.", "voided")  # PY16
    check_attachments(data.attachments)
    existing = await _stored_splits(ctx, payment)
    before = await event_snapshot(ctx, payment)

    old_customer_id = payment.customer_id
    customer_changed = "customer" in sent and data.customer != payment.customer_id
    customer: Customer | None = None
    new_customer_id = data.customer if "customer" in sent else payment.customer_id
    entries = _split_entries(data.applied_to) if "applied_to" in sent else []
    if new_customer_id is None and entries:  # PY3, as on create
        found = await _first_document_customer(ctx, entries)
        if found is None:
            raise InvalidRequest("Missing customer", "customer")
        new_customer_id = found[0]
        customer_changed = new_customer_id != payment.customer_id
    if new_customer_id is not None:
        customer = await _customer(ctx, new_customer_id)

    currency = payment.currency
    if "currency" in sent:
        currency = customer_rules.currency(data.currency) or payment.currency
        unapplying = customer_changed or ("applied_to" in sent and not entries)
        if currency != payment.currency and existing and not unapplying:  # PY15
            raise InvalidRequest(
                "The currency cannot be modified if the payment is applied. You must first "
                "unapply the payment to change the currency.",
                "currency",
            )
    if currency != payment.currency:
        # The same amount, counted in the new currency's minor units (C12).
        payment.amount = storable_minor(
            from_minor(payment.amount, exponent(payment.currency)), currency
        )
    payment.currency = currency
    if "amount" in sent:
        if data.amount is None:
            raise InvalidRequest("Amount is invalid", "amount")
        payment.amount = rules.check_amount(storable_minor(data.amount, currency))
    if "method" in sent:
        payment.method = rules.method(data.method)
    if "date" in sent and data.date is not None:
        payment.date = data.date
    for name in ("ach_sender_id", "reference", "notes"):
        if name in sent:
            setattr(payment, name, getattr(data, name))
    if "source" in sent:
        payment.source = data.source or "keyed"
    if "metadata" in sent:
        payment.metadata_ = normalize_metadata({} if data.metadata is None else data.metadata)
    payment.customer_id = new_customer_id

    if "applied_to" in sent:
        wanted = _to_splits(entries, currency)
    elif customer_changed:
        wanted = []  # PY13: a new payer starts unapplied
    else:
        wanted = [_split_of(t) for t in existing]
        if rules.applied(wanted) > payment.amount:  # PY12
            raise InvalidRequest("The amount cannot cause the balance to go below 0.", "amount")
    _finish_balance(payment, wanted)
    await _reconcile(
        ctx,
        payment,
        customer,
        existing,
        wanted,
        keep_existing=not customer_changed,
        propagate=True,
    )
    after = await event_snapshot(ctx, payment)
    if after != before:
        payment.updated_at = ctx.now
        after["updated_at"] = ctx.now
        stored = await _stored_splits(ctx, payment)
        related = _related(payment, [*existing, *stored])
        if old_customer_id is not None and ("customer", old_customer_id) not in related:
            related.append(("customer", old_customer_id))  # EV8: the payer it left
        ctx.events.updated("payment", payment.id, before, after, related=related)
    return payment


async def void(ctx: Context, payment_id: int) -> Payment:
    """PY16: every split is undone; the payment stays, voided, with its whole amount."""
    payment = await _get(ctx, payment_id, lock=True)
    if payment.voided:
        raise InvalidRequest("This payment has already been voided.")
    existing = await _stored_splits(ctx, payment)
    customer = None if payment.customer_id is None else await _customer(ctx, payment.customer_id)
    await _reconcile(ctx, payment, customer, existing, [])
    payment.voided = True
    payment.balance = payment.amount
    payment.updated_at = ctx.now
    await ctx.session.flush()
    # EV2: a cancel-type operation is recorded as `payment.deleted` with the voided payment.
    ctx.events.deleted(
        "payment",
        payment.id,
        await event_snapshot(ctx, payment),
        related=_related(payment, existing),
    )
    return payment


async def apply_credit(ctx: Context, invoice: Invoice) -> Payment | None:
    """CB7: spend as much of the customer's credit as the invoice owes, as a payment of 0
    with one `applied_credit` split. The invoice is new or already locked by the caller."""
    await ledger.lock(ctx, invoice.customer_id)
    available = await ledger.spendable(ctx, invoice.customer_id, invoice.currency)
    amount = min(available, invoice.balance)
    if amount <= 0:
        return None
    customer = await _customer(ctx, invoice.customer_id)
    payment = Payment(
        account_id=ctx.account_id,
        customer_id=customer.id,
        date=ctx.now,
        currency=invoice.currency,
        amount=0,
        balance=0,
        voided=False,
        method="other",
        source="auto_apply_credits",
        metadata_={},
        client_id=secrets.token_urlsafe(36),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(payment)
    await ctx.session.flush()
    split = rules.Split("applied_credit", amount, invoice=invoice.id)
    await _reconcile(ctx, payment, customer, [], [split])
    stored = await _stored_splits(ctx, payment)
    ctx.events.created(
        "payment", payment.id, await event_snapshot(ctx, payment), related=_related(payment, stored)
    )
    return payment


# ---------------------------------------------------------------------------- listing


def _special_conditions(query: ListQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    filters = query.filters
    if "applied" in filters:
        applied = parse_bool(filters["applied"])
        if applied is None:
            raise InvalidRequest("Invalid value for `applied` filter parameter")
        conditions.append(P.balance == 0 if applied else P.balance != 0)
    if "matched" in filters:
        # `matched` is always null (B2): no value of the filter matches anything.
        conditions.append(false())
    return conditions or [true()]


def list_statement(ctx: Context, query: ListQuery) -> Select[Any]:
    filters = {k: v for k, v in query.filters.items() if k not in ("applied", "matched")}
    money = {name: filters.pop(name) for name in ("amount", "balance") if name in filters}
    statement = select(Payment).where(
        Payment.account_id == ctx.account_id,
        *filter_conditions(filters, FILTERS),
        *_special_conditions(query),
        *metadata_conditions(Payment.metadata_, query.metadata),
        *updated_conditions(query, Payment.updated_at),
    )
    for name, value in money.items():
        column = Payment.amount if name == "amount" else Payment.balance
        statement = statement.where(money_filter(name, value, column, Payment.currency))
    statement = statement.where(*date_range_conditions(query, Payment.date))
    return statement


async def list_payments(ctx: Context, query: ListQuery) -> tuple[list[Payment], int]:
    return await fetch_page(
        ctx.session,
        list_statement(ctx, query),
        order_by(query.sort, SORTABLE, Payment.id),
        query.page,
    )
