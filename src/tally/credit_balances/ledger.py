"""The credit ledger over stored transactions (credit_balances.md CB1-CB3, CB9).

Every change that can move a customer's credit takes `lock` after its invoice locks (the
one order all money changes follow), makes its change, then calls `verify`, which replays
the customer's history in that currency and refuses the change if the balance ever went
below zero (CB2). Balances are sums of the same effects in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from tally.context import Context
from tally.domain import credit_ledger as rules
from tally.domain.credit_ledger import BALANCE, Entry, Point
from tally.locks import lock_account_scope
from tally.models import Customer, Transaction

T = Transaction
HISTORY_LIMIT = 100  # CB6 of customers.md: the newest 100 points

# credit_ledger.credit_effect in SQL; tests/test_credit_ledger_sql.py holds them equal.
CREDIT_EFFECT: ColumnElement[Any] = case(
    (T.status != "succeeded", 0),
    (and_(T.type == "adjustment", T.invoice_id.is_(None)), -T.amount),
    (and_(T.method == BALANCE, T.type.in_(("payment", "charge"))), -T.amount),
    (and_(T.method == BALANCE, T.type == "refund"), T.amount),
    else_=0,
)
# Rows that can carry a credit effect: the index on (customer_id, currency, date) finds them.
_MOVES_CREDIT = and_(
    T.status == "succeeded",
    or_(and_(T.type == "adjustment", T.invoice_id.is_(None)), T.method == BALANCE),
)


def default_currency(ctx: Context, customer: Customer) -> str:
    """CB3: the customer's currency, else the account's."""
    return customer.currency or ctx.account.currency


async def lock(ctx: Context, customer_id: int) -> None:
    """Serialize credit changes of one customer (PostgreSQL; SQLite writes are serial)."""
    await lock_account_scope(ctx.session, ctx.account_id, f"credit:{customer_id}")


async def _entries(ctx: Context, customer_id: int, currency: str) -> list[Entry]:
    rows = await ctx.session.execute(
        select(T.id, T.date, T.type, T.method, T.status, T.amount, T.invoice_id).where(
            T.account_id == ctx.account_id,
            T.customer_id == customer_id,
            T.currency == currency,
            _MOVES_CREDIT,
        )
    )
    return [
        Entry(
            row.date,
            row.id,
            rules.credit_effect(
                row.type, row.method, row.status, row.amount, on_invoice=row.invoice_id is not None
            ),
        )
        for row in rows
    ]


async def verify(ctx: Context, customer_id: int, currency: str, *, param: str) -> None:
    """CB2: after a change (flushed), the history must stay non-negative throughout."""
    await ctx.session.flush()
    entries = await _entries(ctx, customer_id, currency)
    rules.check(entries, currency, ctx.account.time_zone, param)


async def history(ctx: Context, customer_id: int, currency: str) -> list[Point]:
    """The running balance up to now, newest first, at most HISTORY_LIMIT points."""
    points = rules.history(await _entries(ctx, customer_id, currency))
    past = [point for point in points if point.date <= ctx.now]
    return list(reversed(past[-HISTORY_LIMIT:]))


async def balance(ctx: Context, customer_id: int, currency: str) -> int:
    """CB1: the credit balance now (entries dated in the future count once they happen)."""
    total = await ctx.session.scalar(
        select(func.coalesce(func.sum(CREDIT_EFFECT), 0)).where(
            T.account_id == ctx.account_id,
            T.customer_id == customer_id,
            T.currency == currency,
            T.date <= ctx.now,
            _MOVES_CREDIT,
        )
    )
    return int(total or 0)


async def spendable(ctx: Context, customer_id: int, currency: str) -> int:
    """What can be spent now without overdrawing any later point of the history (CB2)."""
    return rules.spendable_at(await _entries(ctx, customer_id, currency), ctx.now)


async def balances(ctx: Context, customers: Iterable[Customer]) -> dict[int, int]:
    """Each customer's credit in its default currency, in one query for a page of them."""
    wanted = {customer.id: default_currency(ctx, customer) for customer in customers}
    if not wanted:
        return {}
    rows = await ctx.session.execute(
        select(T.customer_id, T.currency, func.sum(CREDIT_EFFECT))
        .where(
            T.account_id == ctx.account_id,
            T.customer_id.in_(wanted),
            T.date <= ctx.now,
            _MOVES_CREDIT,
        )
        .group_by(T.customer_id, T.currency)
    )
    found = {customer_id: 0 for customer_id in wanted}
    for customer_id, currency, total in rows:
        if wanted[customer_id] == currency:
            found[customer_id] = int(total or 0)
    return found


def credit_of_customer(account_currency: str, now: int) -> ColumnElement[Any]:
    """A customer's credit now in its default currency, as a correlated SQL expression."""
    C = Customer
    return (
        select(func.coalesce(func.sum(CREDIT_EFFECT), 0))
        .where(
            T.account_id == C.account_id,
            T.customer_id == C.id,
            T.currency == func.coalesce(C.currency, account_currency),
            T.date <= now,
            _MOVES_CREDIT,
        )
        .correlate(C)
        .scalar_subquery()
    )
