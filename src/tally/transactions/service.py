"""Transaction use cases (TX1-TX16). Money effects go through the invoice, under its lock."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, select

from tally.context import Context
from tally.credit_balances import ledger
from tally.customers import repository as customers
from tally.customers import service as customer_service
from tally.domain import customers as customer_rules
from tally.domain import transactions as rules
from tally.domain.credit_ledger import BALANCE, credit_effect
from tally.domain.errors import InvalidRequest, NotFound
from tally.domain.metadata import normalize_metadata
from tally.domain.money import storable_minor
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
from tally.invoices import service as invoices
from tally.invoices.document import Document
from tally.models import Customer, Payment, Transaction
from tally.payments.schemas import payment_pdf_url
from tally.transactions.schemas import (
    RefundInput,
    TransactionInput,
    receipt_url,
    transaction_json,
)

T = Transaction
FILTERS: dict[str, FilterField] = {
    "id": FilterField(T.id, "int"),
    "customer": FilterField(T.customer_id, "int"),
    "invoice": FilterField(T.invoice_id, "int"),
    "credit_note": FilterField(T.credit_note_id, "int"),
    "estimate": FilterField(T.estimate_id, "int"),
    "payment": FilterField(T.payment_id, "int"),
    "type": FilterField(T.type, choices=rules.TYPES),
    "method": FilterField(T.method),
    "status": FilterField(T.status, choices=rules.STATUSES),
    "gateway": FilterField(T.gateway),
    "gateway_id": FilterField(T.gateway_id),
    "currency": FilterField(T.currency, "lower"),
    "date": FilterField(T.date, "timestamp"),
    "failure_reason": FilterField(T.failure_reason),
    "created_at": FilterField(T.created_at, "timestamp"),
    "updated_at": FilterField(T.updated_at, "timestamp"),
}
# TX9: what a gateway-processed charge may still change.
CHARGE_MUTABLE = frozenset({"status", "notes", "metadata"})
PAYMENT_OWNED = "You cannot edit a transaction with an associated payment."
# PY19: a keyed payment is refunded by reducing its split or voiding the payment.
PAYMENT_OWNED_REFUND = (
    "A transaction with an associated payment is refunded through its payment: reduce its "
    "`applied_to` or void the payment."
)


def moves_credit(transaction: Transaction) -> bool:
    """Whether the transaction belongs to its customer's credit ledger (CB1)."""
    return bool(
        credit_effect(
            transaction.type,
            transaction.method,
            "succeeded",
            transaction.amount,
            on_invoice=transaction.invoice_id is not None,
        )
    )


# ---------------------------------------------------------------------------- rendering


def _pdf_url(
    ctx: Context,
    transaction: Transaction,
    parent: Transaction | None,
    payments: dict[int, Payment],
) -> str | None:
    """TX13: receipts exist for succeeded charges and payments; a payment's split uses the
    payment's receipt, and children use their parent's."""
    if transaction.status != "succeeded":
        return None
    if transaction.payment_id is not None:
        payment = payments.get(transaction.payment_id)
        if payment is None:
            return None
        return payment_pdf_url(ctx.public_base_url, ctx.account.identifier, payment)
    if parent is not None:
        return _pdf_url(ctx, parent, None, payments)
    if transaction.type in ("charge", "payment"):
        return receipt_url(ctx.public_base_url, ctx.account.identifier, transaction.client_id)
    return None


async def render(
    ctx: Context, transactions: Sequence[Transaction], expand: set[str] | None = None
) -> list[dict[str, Any]]:
    expand = expand or set()
    parent_ids = {t.parent_transaction_id for t in transactions if t.parent_transaction_id}
    parents: dict[int, Transaction] = {}
    if parent_ids:
        rows = await ctx.session.scalars(
            select(Transaction).where(
                Transaction.account_id == ctx.account_id, Transaction.id.in_(parent_ids)
            )
        )
        parents = {row.id: row for row in rows}
    payment_ids = {t.payment_id for t in transactions if t.payment_id is not None}
    payments: dict[int, Payment] = {}
    if payment_ids:
        found = await ctx.session.scalars(
            select(Payment).where(Payment.account_id == ctx.account_id, Payment.id.in_(payment_ids))
        )
        payments = {row.id: row for row in found}
    expanded: dict[int, dict[str, Any]] = {t.id: {} for t in transactions}
    if "customer" in expand:
        by_customer = await customer_service.render_by_id(
            ctx, (t.customer_id for t in transactions)
        )
        for t in transactions:
            expanded[t.id]["customer"] = by_customer[t.customer_id]
    if "invoice" in expand:
        by_invoice = await invoices.render_by_id(
            ctx, (t.invoice_id for t in transactions if t.invoice_id is not None)
        )
        for t in transactions:
            if t.invoice_id is not None:
                expanded[t.id]["invoice"] = by_invoice[t.invoice_id]
    if "parent_transaction" in expand:
        for t in transactions:
            parent = parents.get(t.parent_transaction_id or 0)
            if parent is not None:
                expanded[t.id]["parent_transaction"] = transaction_json(
                    parent, pdf_url=_pdf_url(ctx, parent, None, payments)
                )
    return [
        transaction_json(
            t,
            pdf_url=_pdf_url(ctx, t, parents.get(t.parent_transaction_id or 0), payments),
            expanded=expanded[t.id],
        )
        for t in transactions
    ]


async def event_snapshot(ctx: Context, transaction: Transaction) -> dict[str, Any]:
    """EV9: transaction events embed the customer object."""
    return (await render(ctx, [transaction], {"customer"}))[0]


# ---------------------------------------------------------------------------- loading


async def _get(ctx: Context, transaction_id: int, *, lock: bool = False) -> Transaction:
    statement = select(Transaction).where(
        Transaction.account_id == ctx.account_id, Transaction.id == transaction_id
    )
    if lock:
        # populate_existing: a row read earlier in this session is refreshed, not reused,
        # so the values we change are the ones committed before we got the lock.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    transaction = (await ctx.session.execute(statement)).scalar_one_or_none()
    if transaction is None:
        raise NotFound("Transaction", transaction_id)
    return transaction


async def _locked(
    ctx: Context, transaction_id: int
) -> tuple[Transaction, Document | None, dict[str, Any] | None]:
    """The transaction and its invoice, the invoice locked first (the order every money
    change takes, so two of them never wait on each other in opposite orders)."""
    peek = await _get(ctx, transaction_id)
    document = before = None
    if peek.invoice_id is not None:
        document, before = await invoices.lock_for_money(ctx, peek.invoice_id)
    if peek.parent_transaction_id is not None:
        # Parent before child, as a delete of the parent locks its descendants (TX11).
        await _get(ctx, peek.parent_transaction_id, lock=True)
    return await _get(ctx, transaction_id, lock=True), document, before


# ---------------------------------------------------------------------------- use cases


async def create(ctx: Context, data: TransactionInput) -> Transaction:
    sent = data.model_fields_set
    kind = rules.transaction_type(data.type)
    if data.credit_note is not None:
        if kind != "adjustment":
            raise InvalidRequest("Only adjustments can be applied to credit notes.", "credit_note")
        raise InvalidRequest(f"No such credit note: {data.credit_note}", "credit_note")
    if kind == "adjustment" and data.invoice is not None:
        # Decision: an adjustment moves the credit balance (TX5) or applies a credit note to
        # an invoice (TX6); one on an invoice without a credit note has no defined effect.
        raise InvalidRequest(
            "Adjustments can only be applied to an invoice together with a credit note.",
            "invoice",
        )
    if data.estimate is not None:
        raise InvalidRequest(f"No such estimate: {data.estimate}", "estimate")
    document: Document | None = None
    before: dict[str, Any] | None = None
    customer: Customer | None = None
    if data.invoice is not None:
        document, before = await invoices.lock_for_money(ctx, data.invoice)
        invoice = document.invoice
        if invoice.voided:  # TX7
            raise InvalidRequest("Cannot apply a payment to a voided invoice.", "invoice")
        if data.customer is not None and data.customer != invoice.customer_id:
            raise InvalidRequest("The invoice does not belong to this customer", "invoice")
        customer = await customers.get(ctx.session, ctx.account_id, invoice.customer_id)
    elif data.customer is not None:
        try:
            customer = await customers.get(ctx.session, ctx.account_id, data.customer, lock="share")
        except NotFound as exc:
            raise InvalidRequest(f"No such customer: {data.customer}", "customer") from exc
    if customer is None:
        raise InvalidRequest("Customer is missing", "customer")  # TX1

    currency = ctx.account.currency if document is None else document.invoice.currency
    if data.currency:
        chosen = customer_rules.currency(data.currency) or currency
        if document is not None and chosen != currency:  # TX3
            raise InvalidRequest(
                f"The currency on this transaction ({chosen}) must match the invoice "
                f"currency ({currency}).",
                "currency",
            )
        currency = chosen
    if data.amount is None:
        raise InvalidRequest("Amount is missing", "amount")
    amount = storable_minor(data.amount, currency)
    rules.check_amount(kind, amount)

    parent: Transaction | None = None
    if data.parent_transaction is not None:
        try:
            # Locked: the parent cannot be deleted while its child is recorded, and two
            # refunds of it are checked against TX12 one after the other.
            parent = await _get(ctx, data.parent_transaction, lock=True)
        except NotFound as exc:
            raise InvalidRequest(
                f"No such transaction: {data.parent_transaction}", "parent_transaction"
            ) from exc
        if parent.payment_id is not None:
            raise InvalidRequest(PAYMENT_OWNED_REFUND, "parent_transaction")
        if kind == "adjustment" or parent.type not in ("charge", "payment"):
            # Decision: children are refunds and follow-ups of a charge or payment; an
            # adjustment is a ledger entry of its own and has neither parent nor children.
            raise InvalidRequest(
                "Only charges and payments can be the parent of a transaction.",
                "parent_transaction",
            )
        invoice_id = None if document is None else document.invoice.id
        if parent.customer_id != customer.id or parent.invoice_id != invoice_id:
            # Decision: a child belongs to its parent's invoice, so reversing the parent
            # (TX11) only ever touches one invoice.
            raise InvalidRequest(
                "A child transaction must belong to the same customer and invoice as its parent.",
                "parent_transaction",
            )
        if kind == "refund":
            await _check_refund_room(ctx, parent, amount, status=rules.status(data.status))

    metadata: dict[str, Any] = {}
    if document is not None and ctx.account.transactions_inherit_invoice_metadata:
        metadata = dict(document.invoice.metadata_)  # TX14: the request's keys win
    if "metadata" in sent and data.metadata is not None:
        metadata.update(normalize_metadata(data.metadata))
    transaction = Transaction(
        account_id=ctx.account_id,
        customer_id=customer.id,
        invoice_id=None if document is None else document.invoice.id,
        parent_transaction_id=None if parent is None else parent.id,
        date=data.date if data.date is not None else ctx.now,
        type=kind,
        # TX5: an adjustment without an invoice is a credit balance adjustment.
        method=BALANCE if kind == "adjustment" else rules.method(data.method),
        status=rules.status(data.status),
        gateway=data.gateway,
        gateway_id=data.gateway_id,
        currency=currency,
        amount=amount,
        notes=data.notes,
        failure_reason=data.failure_reason,
        metadata_=normalize_metadata(metadata),
        client_id=secrets.token_urlsafe(36),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    return await _record_new(ctx, transaction, document, before)


async def _record_new(
    ctx: Context,
    transaction: Transaction,
    document: Document | None,
    before: dict[str, Any] | None,
) -> Transaction:
    """Store a new transaction, apply its effect to its (locked) invoice and to the credit
    ledger, record the event."""
    if moves_credit(transaction):
        await ledger.lock(ctx, transaction.customer_id)
    ctx.session.add(transaction)
    await ctx.session.flush()
    if document is not None and before is not None:
        effect = rules.paid_effect(transaction.type, transaction.status, transaction.amount)
        await invoices.settle_money(ctx, document, before, effect)
    if moves_credit(transaction):
        await ledger.verify(ctx, transaction.customer_id, transaction.currency, param="amount")
    ctx.events.created(
        "transaction",
        transaction.id,
        await event_snapshot(ctx, transaction),
        related=_related(transaction),
    )
    return transaction


def _related(transaction: Transaction) -> list[tuple[str, int | str]]:
    related: list[tuple[str, int | str]] = [("customer", transaction.customer_id)]
    if transaction.invoice_id is not None:
        related.append(("invoice", transaction.invoice_id))
    return related


async def retrieve(ctx: Context, transaction_id: int) -> Transaction:
    return await _get(ctx, transaction_id)


async def update(ctx: Context, transaction_id: int, data: TransactionInput) -> Transaction:
    sent = data.model_fields_set - {
        "type",
        "currency",
        "invoice",
        "credit_note",
        "estimate",
        "parent_transaction",
    }  # TX8: create-only, ignored
    transaction, document, before = await _locked(ctx, transaction_id)
    if transaction.payment_id is not None and sent - {"metadata"}:
        raise InvalidRequest(PAYMENT_OWNED)  # TX10
    if "customer" in sent and data.customer not in (None, transaction.customer_id):
        raise InvalidRequest(
            "Invalid request parameter `customer`. The customer cannot be modified.",
            "customer",
        )
    old_effect = rules.paid_effect(transaction.type, transaction.status, transaction.amount)
    snapshot_before = await event_snapshot(ctx, transaction)

    new_amount = transaction.amount
    if "amount" in sent:
        if data.amount is None:
            raise InvalidRequest("Amount is invalid", "amount")
        new_amount = storable_minor(data.amount, transaction.currency)
        rules.check_amount(transaction.type, new_amount)
        if transaction.type == "refund" and new_amount != transaction.amount:
            raise InvalidRequest("Refund amount cannot be changed.", "amount")
    changes: dict[str, Any] = {}
    if "amount" in sent:
        changes["amount"] = new_amount
    if "status" in sent:
        changes["status"] = rules.status(data.status)
    if "method" in sent and transaction.type != "adjustment":  # TX5: adjustments stay `balance`
        changes["method"] = rules.method(data.method)
    if "date" in sent and data.date is not None:
        changes["date"] = data.date
    for name in ("gateway", "gateway_id", "notes", "failure_reason"):
        if name in sent:
            changes[name] = getattr(data, name)
    if "metadata" in sent:
        changes["metadata_"] = normalize_metadata({} if data.metadata is None else data.metadata)

    if transaction.type == "charge" and transaction.method != "balance":
        for name, value in changes.items():
            field = "metadata" if name == "metadata_" else name
            if field not in CHARGE_MUTABLE and getattr(transaction, name) != value:
                raise InvalidRequest(
                    f"The `{field}` property cannot be modified on this transaction. Only "
                    "these properties can be modified on charge transactions: status, "
                    "notes, sent, metadata, updated_at",
                    field,
                )  # TX9
    await _check_refund_links(ctx, transaction, changes)
    credit_before = moves_credit(transaction)
    if credit_before or changes.get("method") == BALANCE:
        await ledger.lock(ctx, transaction.customer_id)
    for name, value in changes.items():
        setattr(transaction, name, value)

    snapshot_after = await event_snapshot(ctx, transaction)
    if snapshot_after == snapshot_before:
        return transaction
    transaction.updated_at = ctx.now
    await ctx.session.flush()
    if document is not None and before is not None:
        new_effect = rules.paid_effect(transaction.type, transaction.status, transaction.amount)
        await invoices.settle_money(ctx, document, before, new_effect - old_effect)  # TX8
    if credit_before or moves_credit(transaction):  # CB5: judged against the whole history
        await ledger.verify(ctx, transaction.customer_id, transaction.currency, param="amount")
    ctx.events.updated(
        "transaction",
        transaction.id,
        snapshot_before,
        await event_snapshot(ctx, transaction),
        related=_related(transaction),
    )
    return transaction


async def _refunded(ctx: Context, parent: Transaction, *, excluding: int | None = None) -> int:
    """What refunds that are not failed already take from `parent` (minor units)."""
    conditions = [
        Transaction.account_id == ctx.account_id,
        Transaction.parent_transaction_id == parent.id,
        Transaction.type == "refund",
        Transaction.status != "failed",
    ]
    if excluding is not None:
        conditions.append(Transaction.id != excluding)
    return int(
        await ctx.session.scalar(
            select(func.coalesce(func.sum(Transaction.amount), 0)).where(*conditions)
        )
        or 0
    )


async def _check_refund_room(
    ctx: Context,
    parent: Transaction,
    amount: int,
    *,
    status: str,
    excluding: int | None = None,
) -> None:
    """TX12 for any refund that takes money back: never beyond what the parent paid."""
    if status == "failed":
        return
    refunded = await _refunded(ctx, parent, excluding=excluding)
    rules.check_refund(parent.type, parent.status, refunded, amount, parent.amount)


async def _check_refund_links(
    ctx: Context, transaction: Transaction, changes: dict[str, Any]
) -> None:
    """An edit may not leave refunds larger than what they refund (TX12 after the fact)."""
    if transaction.type == "adjustment":
        return  # adjustments are signed and never refunded
    status = changes.get("status", transaction.status)
    amount = changes.get("amount", transaction.amount)
    if transaction.type == "refund" and transaction.parent_transaction_id is not None:
        if transaction.status == "failed" and status != "failed":
            parent = await _get(ctx, transaction.parent_transaction_id, lock=True)
            await _check_refund_room(ctx, parent, amount, status=status, excluding=transaction.id)
        return
    refunded = await _refunded(ctx, transaction)
    if refunded and status != "succeeded":
        raise InvalidRequest(
            "A transaction with refunds must stay succeeded. Delete its refunds first.",
            "status",
        )
    if amount < refunded:
        raise InvalidRequest(
            "The amount cannot be less than what has already been refunded.", "amount"
        )


async def _descendants(ctx: Context, transaction: Transaction) -> list[Transaction]:
    found: list[Transaction] = []
    level = [transaction.id]
    while level:
        rows = list(
            await ctx.session.scalars(
                select(Transaction)
                .where(
                    Transaction.account_id == ctx.account_id,
                    Transaction.parent_transaction_id.in_(level),
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        found.extend(rows)
        level = [row.id for row in rows]
    return found


async def delete_transaction(ctx: Context, transaction_id: int) -> None:
    """TX11: reverse the money effect, with every child transaction (refunds) too."""
    transaction, document, before = await _locked(ctx, transaction_id)
    if transaction.payment_id is not None:
        raise InvalidRequest("You cannot delete a transaction with an associated payment.")
    doomed = [transaction, *await _descendants(ctx, transaction)]
    credit = any(moves_credit(t) for t in doomed)
    if credit:
        await ledger.lock(ctx, transaction.customer_id)
    reverse = -sum(
        rules.paid_effect(t.type, t.status, t.amount)
        for t in doomed
        if t.invoice_id == transaction.invoice_id
    )
    snapshots = [(t, await event_snapshot(ctx, t)) for t in doomed]
    await ctx.session.execute(
        delete(Transaction)
        .where(Transaction.account_id == ctx.account_id, Transaction.id.in_([t.id for t in doomed]))
        .execution_options(synchronize_session=False)
    )
    for row in doomed:
        ctx.session.expunge(row)
    if document is not None and before is not None:
        await invoices.settle_money(ctx, document, before, reverse)
    if credit:  # CB5: a grant that was already spent cannot go
        await ledger.verify(ctx, transaction.customer_id, transaction.currency, param="amount")
    for row, snapshot in snapshots:
        ctx.events.deleted("transaction", row.id, snapshot, related=_related(row))


async def refund(ctx: Context, transaction_id: int, data: RefundInput) -> Transaction:
    """TX12: a refund of a succeeded payment or charge, never beyond what it paid."""
    original, document, before = await _locked(ctx, transaction_id)
    if original.payment_id is not None:
        raise InvalidRequest(PAYMENT_OWNED_REFUND)  # PY19
    if data.amount is None:
        raise InvalidRequest("Amount is missing", "amount")
    amount = storable_minor(data.amount, original.currency)
    await _check_refund_room(ctx, original, amount, status="succeeded")
    refund_row = Transaction(
        account_id=ctx.account_id,
        customer_id=original.customer_id,
        invoice_id=original.invoice_id,
        parent_transaction_id=original.id,
        date=ctx.now,
        type="refund",
        method=original.method,
        status="succeeded",
        gateway=original.gateway,
        currency=original.currency,
        amount=amount,
        metadata_={},
        client_id=secrets.token_urlsafe(36),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    return await _record_new(ctx, refund_row, document, before)


def list_statement(ctx: Context, query: ListQuery) -> Select[Any]:
    filters = dict(query.filters)
    amount = filters.pop("amount", None)
    statement = select(Transaction).where(
        Transaction.account_id == ctx.account_id,
        *filter_conditions(filters, FILTERS),
        *metadata_conditions(Transaction.metadata_, query.metadata),
        *updated_conditions(query, Transaction.updated_at),
    )
    if amount is not None:  # major units, compared in each row's own currency
        statement = statement.where(
            money_filter("amount", amount, Transaction.amount, Transaction.currency)
        )
    statement = statement.where(*date_range_conditions(query, Transaction.date))
    return statement


# `amount` is filtered in major units (money_filter) but sorts by its stored minor units.
SORTABLE = {**FILTERS, "amount": FilterField(T.amount, "int")}


async def list_transactions(ctx: Context, query: ListQuery) -> tuple[list[Transaction], int]:
    return await fetch_page(
        ctx.session,
        list_statement(ctx, query),
        order_by(query.sort, SORTABLE, Transaction.id),
        query.page,
    )
