"""Build a customer's account statement (emails.md EM12) from the stored documents and money.

Decisions (the rules themselves are in tally.domain.statements):

- Currency: `options.currency`, else customers.md CB1 (the customer's currency, else that of
  its latest issued invoice, else the account's). Only documents and money in that
  currency appear.
- Voided and draft invoices are left out entirely. A voided invoice never has money on it
  (invoices.md V2 refuses to void one with a payment), so this keeps every balance exact.
- balance_forward lines, ordered by date, then invoices before their write-off before
  payments before legacy transactions, then id:
    * each issued invoice: plus its total, on its date;
    * an unpaid invoice that was closed (written off; invoices.md S15): a `write_off` line
      of minus its balance, right after the invoice (no closing date is stored);
    * each payment (Part B) once, minus its full amount, on its date: what it paid on the
      customer's invoices, what it put on the credit balance, and its unapplied `balance`
      (PY8). A convenience fee paid with it follows as its own plus line, so the fee does
      not lower what is owed. A payment of 0 that only spends credit (`applied_credit`)
      changes nothing and is not listed. When a parent's payment pays a sub-customer's
      invoice (CU10), each customer's statement shows its own share;
    * each legacy transaction (Part A): payments and charges minus, refunds plus, credit
      adjustments minus (credit given) or plus (credit taken back). Spending credit on an
      invoice (method `balance`), pending and failed transactions change nothing and are
      not listed.
- Hence closing_balance = Σ balance of the customer's issued invoices (written-off
  remainders excluded), minus its credit balance, minus money received that sits on no
  invoice. That is GET /customers/{id}/balance `total_outstanding - available_credits`
  whenever the customer has no unapplied payment money and no over-paid invoice (a legacy
  payment larger than its invoice leaves a negative balance that total_outstanding ignores,
  TX7): money the customer sent is never shown as still owed.
- The opening balance is the same events summed in SQL before `start` (OWED_EFFECT etc.),
  so a long history is never loaded; only the period's rows are.
- open_item: the invoices CB2 counts as outstanding (`open_condition`: issued, unpaid, not
  closed, not voided, dated up to now), `items=past_due` keeping those whose status is
  `past_due` (the status SQL of invoices.md S6-S8), oldest first; dated now (`end` and
  `start` do not apply).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from tally.context import Context
from tally.credit_balances.ledger import CREDIT_EFFECT
from tally.customers.service import balance_currency
from tally.domain import statements as rules
from tally.domain.credit_ledger import BALANCE
from tally.domain.errors import NotFound
from tally.domain.statements import Entry, Statement, StatementLine, StatementOptions
from tally.invoices.repository import open_condition, status_expression
from tally.models import Customer, Invoice, Payment, Transaction


async def build_statement(ctx: Context, customer: Customer, options: StatementOptions) -> Statement:
    """The statement of `customer` (of ctx.account) described by `options` (EM12)."""
    if customer.account_id != ctx.account_id:
        raise NotFound("Customer", customer.id)
    rules.check_options(options)
    currency = options.currency.lower() if options.currency else None
    if currency is None:
        currency = await balance_currency(ctx, customer)
    if options.type == rules.OPEN_ITEM:
        return await _open_item(ctx, customer, currency, past_due_only=options.items == "past_due")
    start, end = rules.period(options, ctx.now, ctx.account.time_zone)
    return await _balance_forward(ctx, customer, currency, start, end)


# ---------------------------------------------------------------------------- open item


async def _open_item(
    ctx: Context, customer: Customer, currency: str, *, past_due_only: bool
) -> Statement:
    conditions = [
        Invoice.account_id == ctx.account_id,
        Invoice.customer_id == customer.id,
        Invoice.currency == currency,
        open_condition(ctx.now),
    ]
    if past_due_only:
        conditions.append(status_expression(ctx.now) == "past_due")
    rows = await ctx.session.execute(
        select(Invoice.number, Invoice.date, Invoice.due_date, Invoice.total, Invoice.balance)
        .where(*conditions)
        .order_by(Invoice.date, Invoice.id)
    )
    lines = [
        StatementLine(
            date=row.date,
            kind=rules.INVOICE,
            number=row.number,
            description=f"Invoice {row.number}",
            amount=row.total,
            balance=row.balance,
            due_date=row.due_date,
            total=row.total,
        )
        for row in rows
    ]
    return rules.open_item(lines, currency=currency, end=ctx.now)


# ---------------------------------------------------------------------------- balance forward

T = Transaction
# transactions.paid_effect (TX6) in SQL.
PAID_EFFECT: ColumnElement[Any] = case(
    (T.status != "succeeded", 0),
    (T.type.in_(("payment", "charge")), T.amount),
    (T.type == "refund", -T.amount),
    else_=0,
)
# statements.owed_effect in SQL; tests/test_statements.py holds them equal.
OWED_EFFECT: ColumnElement[Any] = -PAID_EFFECT - CREDIT_EFFECT
# payments.schemas.split_type(t) == "convenience_fee" in SQL (held equal by the same test).
IS_FEE: ColumnElement[bool] = and_(
    T.payment_id.is_not(None),
    T.type != "adjustment",
    T.method != BALANCE,
    T.invoice_id.is_(None),
)
# An invoice's share of the balance: its total, less what was written off by closing it
# unpaid (invoices.md S15).
INVOICE_OWED: ColumnElement[Any] = case(
    (
        and_(Invoice.closed.is_(True), Invoice.paid.is_(False), Invoice.balance > 0),
        Invoice.total - Invoice.balance,
    ),
    else_=Invoice.total,
)


async def _balance_forward(
    ctx: Context, customer: Customer, currency: str, start: int, end: int
) -> Statement:
    carried = await _carried(ctx, customer, currency, start)
    entries = await _invoice_entries(ctx, customer, currency, start, end)
    entries.extend(await _money_entries(ctx, customer, currency, start, end))
    return rules.balance_forward(entries, currency=currency, start=start, end=end, carried=carried)


async def _carried(ctx: Context, customer: Customer, currency: str, before: int) -> int:
    """What the customer owed just before `before`: the same events as the lines, summed in
    SQL so that a long history is never loaded (one round trip)."""
    invoices = (
        select(func.coalesce(func.sum(INVOICE_OWED), 0))
        .where(
            Invoice.account_id == ctx.account_id,
            Invoice.customer_id == customer.id,
            Invoice.currency == currency,
            Invoice.draft.is_(False),
            Invoice.voided.is_(False),
            Invoice.date < before,
        )
        .scalar_subquery()
    )
    # A convenience fee is money received for the fee itself (its + line cancels it).
    money = (
        select(func.coalesce(func.sum(OWED_EFFECT), 0))
        .where(
            T.account_id == ctx.account_id,
            T.customer_id == customer.id,
            T.currency == currency,
            T.status == "succeeded",
            T.date < before,
            ~IS_FEE,
        )
        .scalar_subquery()
    )
    unapplied = (
        select(func.coalesce(func.sum(Payment.balance), 0))
        .where(
            Payment.account_id == ctx.account_id,
            Payment.customer_id == customer.id,
            Payment.currency == currency,
            Payment.voided.is_(False),
            Payment.date < before,
        )
        .scalar_subquery()
    )
    row = (await ctx.session.execute(select(invoices, money, unapplied))).one()
    return int(row[0] or 0) + int(row[1] or 0) - int(row[2] or 0)


async def _invoice_entries(
    ctx: Context, customer: Customer, currency: str, start: int, end: int
) -> list[Entry]:
    rows = await ctx.session.execute(
        select(
            Invoice.id,
            Invoice.number,
            Invoice.date,
            Invoice.due_date,
            Invoice.total,
            Invoice.balance,
            Invoice.closed,
            Invoice.paid,
        ).where(
            Invoice.account_id == ctx.account_id,
            Invoice.customer_id == customer.id,
            Invoice.currency == currency,
            Invoice.draft.is_(False),
            Invoice.voided.is_(False),
            Invoice.date >= start,
            Invoice.date <= end,
        )
    )
    entries: list[Entry] = []
    for row in rows:
        entries.append(
            Entry(
                date=row.date,
                order=(rules.RANK_INVOICE, row.id, 0),
                kind=rules.INVOICE,
                number=row.number,
                description=f"Invoice {row.number}",
                amount=row.total,
                due_date=row.due_date,
            )
        )
        if row.closed and not row.paid and row.balance > 0:
            entries.append(
                Entry(
                    date=row.date,
                    order=(rules.RANK_WRITE_OFF, row.id, 0),
                    kind=rules.WRITE_OFF,
                    number=row.number,
                    description=f"Invoice {row.number} closed",
                    amount=-row.balance,
                )
            )
    return entries


async def _money_entries(
    ctx: Context, customer: Customer, currency: str, start: int, end: int
) -> list[Entry]:
    """Legacy transactions one by one; a payment's splits (dated as the payment, PY14) as
    one line per payment, with its convenience fee after it."""
    rows = await ctx.session.execute(
        select(
            T.id,
            T.date,
            T.type,
            T.method,
            T.status,
            T.amount,
            T.invoice_id,
            T.payment_id,
            T.gateway_id,
            IS_FEE.label("fee"),
        ).where(
            T.account_id == ctx.account_id,
            T.customer_id == customer.id,
            T.currency == currency,
            T.status == "succeeded",
            T.date >= start,
            T.date <= end,
        )
    )
    entries: list[Entry] = []
    owed_by_payment: dict[int, int] = defaultdict(int)
    fee_by_payment: dict[int, int] = defaultdict(int)
    for row in rows:
        effect = rules.owed_effect(
            row.type, row.method, row.status, row.amount, on_invoice=row.invoice_id is not None
        )
        if row.payment_id is None:
            if effect:
                entries.append(
                    Entry(
                        date=row.date,
                        order=(rules.RANK_TRANSACTION, row.id, 0),
                        kind=rules.transaction_kind(row.type, effect),
                        number=None,
                        description=rules.transaction_description(
                            row.type, row.method, row.gateway_id, effect
                        ),
                        amount=effect,
                    )
                )
        elif row.fee:
            fee_by_payment[row.payment_id] += row.amount
        else:
            owed_by_payment[row.payment_id] += effect
    mine = Payment.customer_id == customer.id
    payments = await ctx.session.execute(
        select(
            Payment.id, Payment.date, Payment.method, Payment.reference, Payment.balance, mine
        ).where(
            Payment.account_id == ctx.account_id,
            Payment.currency == currency,
            Payment.voided.is_(False),
            Payment.date >= start,
            Payment.date <= end,
            or_(mine, Payment.id.in_(owed_by_payment)) if owed_by_payment else mine,
        )
    )
    for payment_id, date, method, reference, unapplied, payer in payments:
        # What this customer's share of the payment lowered: its invoices, its credit, and
        # (for the payer) the money left unapplied; the fee is shown as received in full.
        fee = fee_by_payment.get(payment_id, 0)
        amount = owed_by_payment.get(payment_id, 0) - fee - (unapplied if payer else 0)
        if amount:
            entries.append(
                Entry(
                    date=date,
                    order=(rules.RANK_PAYMENT, payment_id, 0),
                    kind=rules.PAYMENT,
                    number=None,
                    description=rules.money_description("Payment", method, reference),
                    amount=amount,
                )
            )
        if fee:
            entries.append(
                Entry(
                    date=date,
                    order=(rules.RANK_PAYMENT, payment_id, 1),
                    kind=rules.FEE,
                    number=None,
                    description="Convenience fee",
                    amount=fee,
                )
            )
    return entries
