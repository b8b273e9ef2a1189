"""The customer credit ledger (credit_balances.md CB1-CB5, transactions_payments.md TX5/TX6).

Credit is not stored as a number: it is the running sum, in (date, id) order, of the credit
effects of a customer's transactions in one currency. A change is acceptable only if that
running sum never dips below zero anywhere in the history (CB2), so back-dated spends and
deleted grants are judged against everything that came after them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tally.domain.coerce import INT64_MAX
from tally.domain.errors import InvalidRequest
from tally.domain.money import format_money

# The system method that means "paid with the customer's credit balance" (TX4a).
BALANCE = "balance"


def credit_effect(kind: str, method: str, status: str, amount: int, *, on_invoice: bool) -> int:
    """How much a transaction adds to its customer's credit balance (minor units).

    - an adjustment without an invoice is a credit balance adjustment: its amount is in the
      merchant's sign convention, so -20 gives the customer 20 of credit (TX5);
    - a payment or charge with method `balance` spends credit on its invoice (TX6, PY9);
    - a refund with method `balance` gives that spend back.
    """
    if status != "succeeded":
        return 0
    if kind == "adjustment":
        return 0 if on_invoice else -amount
    if method != BALANCE:
        return 0
    if kind in ("payment", "charge"):
        return -amount
    if kind == "refund":
        return amount
    return 0


@dataclass(frozen=True)
class Entry:
    date: int
    id: int
    effect: int


@dataclass(frozen=True)
class Point:
    """The balance right after one entry of the history."""

    date: int
    balance: int


def history(entries: Iterable[Entry]) -> list[Point]:
    """The running balance after each entry, oldest first (CB2's order: date, then id)."""
    points: list[Point] = []
    balance = 0
    for entry in sorted(entries, key=lambda e: (e.date, e.id)):
        if entry.effect == 0:
            continue
        balance += entry.effect
        points.append(Point(entry.date, balance))
    return points


def spendable_at(entries: Iterable[Entry], moment: int) -> int:
    """What can be spent at `moment` without any later point of the history going negative:
    the balance then, capped by every running balance after it (CB2)."""
    points = history(entries)
    now = 0
    later: list[int] = []
    for point in points:
        if point.date <= moment:
            now = point.balance
        else:
            later.append(point.balance)
    return max(0, min([now, *later]))


def first_overdraft(entries: Iterable[Entry]) -> Point | None:
    """The first moment the balance is negative, if there is one."""
    return next((point for point in history(entries) if point.balance < 0), None)


def check(entries: Iterable[Entry], currency: str, time_zone: str, param: str) -> None:
    """CB2: refuse a history whose running balance goes below zero anywhere. Credit granted
    in total must also fit the 64-bit columns, so that no sum over the ledger, in any order,
    can overflow (every partial sum lies between minus the debits and plus the credits)."""
    entries = list(entries)
    if sum(entry.effect for entry in entries if entry.effect > 0) > INT64_MAX:
        raise InvalidRequest("Amount is invalid", param)
    overdraft = first_overdraft(entries)
    if overdraft is None:
        return
    moment = datetime.fromtimestamp(overdraft.date, UTC)
    try:
        day = moment.astimezone(ZoneInfo(time_zone))
    except OverflowError:  # the first or last supported day, shifted out of range
        day = moment
    raise InvalidRequest(
        "Could not write this change because it caused the customer's credit balance to "
        f"become {format_money(overdraft.balance, currency)} on "
        f"{day:%b} {day.day}, {day.year}",
        param,
    )
