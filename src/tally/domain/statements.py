"""Account statements (emails.md EM12): the rules that need no database.

A statement is one customer's account in one currency, told two ways:

- `balance_forward`: what the customer owed when the period started (the opening balance),
  every event of the period that moved it, each with the running balance after it, and the
  closing balance = opening + the sum of the events;
- `open_item`: the invoices still open, each with what is left to pay on it.

The balance a statement runs on ("what the customer owes, net of credit") is
    Σ balance of issued (non-draft, non-voided) invoices, less what was written off by closing
      an unpaid invoice
  - the customer's credit balance (credit_balances.md CB1)
  - money received that sits on no invoice (a payment's unapplied `balance`, PY8; a legacy
    payment or charge recorded without an invoice).
Each money movement's share of it is `owed_effect`, built from the two rules that already
move invoices (`transactions.paid_effect`, TX6) and credit (`credit_ledger.credit_effect`,
CB1), so the statement can never disagree with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tally.domain.credit_ledger import credit_effect
from tally.domain.errors import InvalidRequest
from tally.domain.transactions import paid_effect

BALANCE_FORWARD = "balance_forward"
OPEN_ITEM = "open_item"
TYPES = (BALANCE_FORWARD, OPEN_ITEM)
ITEMS = ("open", "past_due")

# Line kinds (what happened).
INVOICE = "invoice"
WRITE_OFF = "write_off"  # an unpaid invoice that was closed (invoices.md S15)
PAYMENT = "payment"
FEE = "convenience_fee"
REFUND = "refund"
CREDIT = "credit"  # credit given to the customer (a negative legacy adjustment, TX5)
ADJUSTMENT = "adjustment"  # credit taken back (a positive legacy adjustment, TX5)
# Kinds that count as "paid" in `Statement.total_paid` (money received and credit given).
PAID_KINDS = frozenset({PAYMENT, CREDIT})

# Order of events on the same date: the invoice first, then its write-off, then money.
RANK_INVOICE = 0
RANK_WRITE_OFF = 1
RANK_PAYMENT = 2
RANK_TRANSACTION = 3

_METHOD_LABELS = {
    "ach": "ACH",
    "eft": "EFT",
    "paypal": "PayPal",
    "balance": "credit balance",
    "other": "",
}


@dataclass(frozen=True)
class StatementOptions:
    """What to put on a statement; already validated by the caller (EM12)."""

    type: str = BALANCE_FORWARD  # or "open_item"
    start: int | None = None  # balance_forward; None = first day of this month, account tz
    end: int | None = None  # None = now
    items: str = "open"  # open_item: "open" or "past_due"
    currency: str | None = None  # None = customers.md CB1 default


@dataclass(frozen=True)
class StatementLine:
    date: int  # unix seconds
    kind: str  # "invoice", "payment", "credit", "adjustment", "refund", ...
    number: str | None  # document number (INV-00001) or None
    description: str  # human text, e.g. "Invoice INV-00001", "Payment (check #123)"
    amount: int  # minor units; + raises what the customer owes, - lowers it
    # Minor units. balance_forward: the running balance after this line; open_item: this
    # invoice's outstanding balance.
    balance: int
    due_date: int | None = None  # invoices only
    total: int | None = None  # open_item: invoice total (minor units)


@dataclass(frozen=True)
class Statement:
    type: str  # "balance_forward" | "open_item"
    currency: str
    start: int | None  # balance_forward only
    end: int  # statement date
    opening_balance: int | None  # balance_forward only (minor units)
    # balance_forward: opening + sum(amounts); open_item: sum of balances (minor units).
    closing_balance: int
    # Minor units: invoiced in the period (balance_forward) / total of listed invoices.
    total_invoiced: int
    # Minor units, positive: payments and credits in the period (balance_forward) / paid or
    # credited on the listed invoices (open_item).
    total_paid: int
    lines: tuple[StatementLine, ...]


@dataclass(frozen=True)
class Entry:
    """One event that moved what the customer owes, before it is placed on a statement."""

    date: int
    # Ties on `date` are broken by (rank, id, sub): invoices before money, then by id.
    order: tuple[int, int, int]
    kind: str
    number: str | None
    description: str
    amount: int  # minor units, + raises what is owed
    due_date: int | None = None


# ---------------------------------------------------------------------------- the options


def check_options(options: StatementOptions) -> None:
    """EM12: an unknown statement type is refused (callers check first; this is the same
    rule, so a statement is never built from options nobody validated)."""
    if options.type not in TYPES:
        raise InvalidRequest(f"Unrecognized statement type: {options.type}", "type")
    if options.items not in ITEMS:
        # Decision: the docs name only `open` and `past_due`; anything else is refused alike.
        raise InvalidRequest(f"Unrecognized statement items: {options.items}", "items")


# ---------------------------------------------------------------------------- the period


def _zone(time_zone: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def month_start(now: int, time_zone: str) -> int:
    """00:00 on the first day of `now`'s month, in the account's time zone (EM12 default).

    An unknown zone name falls back to UTC. Around a DST change at midnight the wall-clock
    time is resolved as `zoneinfo` does (fold=0), which is what a calendar shows."""
    zone = _zone(time_zone) or UTC
    local = datetime.fromtimestamp(now, UTC).astimezone(zone)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(first.timestamp())


def period(options: StatementOptions, now: int, time_zone: str) -> tuple[int, int]:
    """(start, end) of a balance-forward statement: the given bounds, else this month."""
    end = now if options.end is None else options.end
    start = month_start(now, time_zone) if options.start is None else options.start
    return start, end


# ---------------------------------------------------------------------------- money events


def owed_effect(kind: str, method: str, status: str, amount: int, *, on_invoice: bool) -> int:
    """How much a transaction changes what its customer owes (minor units).

    Money recorded as paid (TX6) lowers it, whether or not it sits on an invoice; credit
    given (CB1) lowers it too. Spending credit on an invoice moves both by the same amount
    and so changes nothing; a pending or failed transaction changes nothing."""
    paid = paid_effect(kind, status, amount)
    credit = credit_effect(kind, method, status, amount, on_invoice=on_invoice)
    return -paid - credit


def method_label(method: str) -> str:
    """How a payment method reads in a sentence: `wire_transfer` -> `wire transfer`."""
    return _METHOD_LABELS.get(method, method.replace("_", " "))


def money_description(word: str, method: str, reference: str | None) -> str:
    """`Payment (check #1450)`, `Charge (credit card)`, `Refund`, `Payment (#77)`."""
    label = method_label(method)
    detail = " ".join(part for part in (label, f"#{reference}" if reference else "") if part)
    return f"{word} ({detail})" if detail else word


def transaction_kind(kind: str, effect: int) -> str:
    """The statement line kind of a legacy transaction with a non-zero `owed_effect`."""
    if kind in ("payment", "charge"):
        return PAYMENT
    if kind == REFUND:
        return REFUND
    return CREDIT if effect < 0 else ADJUSTMENT


def transaction_description(kind: str, method: str, reference: str | None, effect: int) -> str:
    line_kind = transaction_kind(kind, effect)
    if line_kind == CREDIT:
        return "Credit"
    if line_kind == ADJUSTMENT:
        return "Credit removed"
    word = {"payment": "Payment", "charge": "Charge", "refund": "Refund"}[kind]
    return money_description(word, method, reference)


# ---------------------------------------------------------------------------- statements


def running_balances(opening: int, amounts: Iterable[int]) -> list[int]:
    """The balance after each amount, starting from `opening`."""
    balances: list[int] = []
    balance = opening
    for amount in amounts:
        balance += amount
        balances.append(balance)
    return balances


def _sort_key(entry: Entry) -> tuple[int, int, int, int]:
    return (entry.date, *entry.order)


def balance_forward(
    entries: Iterable[Entry], *, currency: str, start: int, end: int, carried: int = 0
) -> Statement:
    """Opening balance = `carried` (what the caller summed up before `start`) plus the
    entries dated before `start`; the lines are the entries dated in `start`..`end` (both
    inclusive), in (date, order) order; later ones are left out."""
    ordered = sorted(entries, key=_sort_key)
    opening = carried + sum(entry.amount for entry in ordered if entry.date < start)
    period_entries = [entry for entry in ordered if start <= entry.date <= end]
    balances = running_balances(opening, (entry.amount for entry in period_entries))
    lines = tuple(
        StatementLine(
            date=entry.date,
            kind=entry.kind,
            number=entry.number,
            description=entry.description,
            amount=entry.amount,
            balance=balance,
            due_date=entry.due_date,
        )
        for entry, balance in zip(period_entries, balances, strict=True)
    )
    return Statement(
        type=BALANCE_FORWARD,
        currency=currency,
        start=start,
        end=end,
        opening_balance=opening,
        closing_balance=balances[-1] if balances else opening,
        total_invoiced=sum(line.amount for line in lines if line.kind == INVOICE),
        total_paid=-sum(line.amount for line in lines if line.kind in PAID_KINDS),
        lines=lines,
    )


def open_item(lines: Sequence[StatementLine], *, currency: str, end: int) -> Statement:
    """The open invoices as given (oldest first), each line's `balance` what is left on it."""
    return Statement(
        type=OPEN_ITEM,
        currency=currency,
        start=None,
        end=end,
        opening_balance=None,
        closing_balance=sum(line.balance for line in lines),
        total_invoiced=sum(line.total or 0 for line in lines),
        total_paid=sum((line.total or 0) - line.balance for line in lines),
        lines=tuple(lines),
    )
