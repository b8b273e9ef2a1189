"""credit_balances.md CB1: the SQL credit effect (`ledger.CREDIT_EFFECT`, used for balances,
the customers `balance` filter and `credit_balance`) agrees with the Python rule
(`credit_ledger.credit_effect`, used by the CB2 history check) for every combination of the
facts the effect depends on: type, method, status, amount sign and whether an invoice is set.
The rows are inserted directly in a fresh account's database, as in test_invoice_status_sql.py.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from typing import Any

from sqlalchemy import func, select

from tally.config import Settings
from tally.credit_balances.ledger import _MOVES_CREDIT, CREDIT_EFFECT
from tally.db import Database
from tally.domain.credit_ledger import credit_effect
from tally.models import Customer, Invoice, Transaction
from tests.support import new_account

NOW = 1_700_000_000
TYPES = ("charge", "payment", "refund", "adjustment")
METHODS = ("balance", "check")
STATUSES = ("succeeded", "pending", "failed")
SIGNS = (1, -1)
ON_INVOICE = (False, True)
COMBINATIONS = list(itertools.product(TYPES, METHODS, STATUSES, SIGNS, ON_INVOICE))


def _customer(account_id: int) -> Customer:
    return Customer(
        account_id=account_id,
        name="Ledger",
        number="LEDGER",
        type="company",
        country="US",
        client_id=secrets.token_urlsafe(36),
        created_at=NOW,
        updated_at=NOW,
        taxes=[],
        disabled_payment_methods=[],
        metadata_={},
    )


def _invoice(account_id: int, customer_id: int) -> Invoice:
    return Invoice(
        account_id=account_id,
        customer_id=customer_id,
        name="Invoice",
        number="L-1",
        currency="usd",
        date=NOW - 10,
        client_id=secrets.token_urlsafe(36),
        created_at=NOW,
        updated_at=NOW,
        closed=False,
        metadata_={},
        disabled_payment_methods=[],
    )


def _rows(db_url: str) -> dict[str, Any]:
    """Insert one transaction per combination, then read back each SQL effect, the sums
    and which rows the ledger's filter keeps; everything is rolled back."""
    account = new_account(db_url)

    async def main() -> dict[str, Any]:
        database = Database(Settings(database_url=db_url))
        try:
            async with database.session(write=True) as session:
                customer = _customer(account.id)
                session.add(customer)
                await session.flush()
                invoice = _invoice(account.id, customer.id)
                session.add(invoice)
                await session.flush()
                facts: dict[int, tuple[str, str, str, int, bool]] = {}
                for n, (kind, method, status, sign, on_invoice) in enumerate(COMBINATIONS):
                    # Distinct magnitudes: no two wrong effects can cancel in a sum.
                    amount = sign * (n + 1) * 100
                    row = Transaction(
                        account_id=account.id,
                        customer_id=customer.id,
                        invoice_id=invoice.id if on_invoice else None,
                        date=NOW + n,
                        type=kind,
                        method=method,
                        status=status,
                        currency="usd",
                        amount=amount,
                        metadata_={},
                        client_id=secrets.token_urlsafe(36),
                        created_at=NOW,
                        updated_at=NOW,
                    )
                    session.add(row)
                    await session.flush()
                    facts[row.id] = (kind, method, status, amount, on_invoice)
                mine = Transaction.account_id == account.id
                per_row = dict(
                    (await session.execute(select(Transaction.id, CREDIT_EFFECT).where(mine))).all()
                )
                total = await session.scalar(select(func.sum(CREDIT_EFFECT)).where(mine))
                filtered_total = await session.scalar(
                    select(func.coalesce(func.sum(CREDIT_EFFECT), 0)).where(mine, _MOVES_CREDIT)
                )
                kept = set(await session.scalars(select(Transaction.id).where(mine, _MOVES_CREDIT)))
                await session.rollback()
                return {
                    "facts": facts,
                    "per_row": per_row,
                    "total": total,
                    "filtered_total": filtered_total,
                    "kept": kept,
                }
        finally:
            await database.dispose()

    return asyncio.run(main())


def _python_effect(facts: tuple[str, str, str, int, bool]) -> int:
    kind, method, status, amount, on_invoice = facts
    return credit_effect(kind, method, status, amount, on_invoice=on_invoice)


def test_cb1_sql_credit_effect_matches_python_for_every_combination(db_url):
    found = _rows(db_url)
    facts = found["facts"]
    assert len(facts) == len(COMBINATIONS) == 4 * 2 * 3 * 2 * 2

    mismatches = [
        (facts[row_id], _python_effect(facts[row_id]), int(sql))
        for row_id, sql in found["per_row"].items()
        if int(sql) != _python_effect(facts[row_id])
    ]
    assert mismatches == []
    assert set(found["per_row"]) == set(facts)

    python_total = sum(_python_effect(f) for f in facts.values())
    assert int(found["total"]) == python_total
    # The index filter used by balances keeps every row that has an effect...
    assert int(found["filtered_total"]) == python_total
    moving = {row_id for row_id, f in facts.items() if _python_effect(f) != 0}
    assert moving <= found["kept"]
    # ...and only succeeded rows (pending/failed never move credit, TX6).
    assert all(facts[row_id][2] == "succeeded" for row_id in found["kept"])


def test_cb1_the_combinations_cover_every_kind_of_effect(db_url):
    """The cross-check is not vacuous: the rule gives credit, takes credit and ignores rows,
    and the values are the documented ones (TX5, TX6)."""
    found = _rows(db_url)
    by_facts = {
        (kind, method, status, amount > 0, on_invoice): int(found["per_row"][row_id])
        for row_id, (kind, method, status, amount, on_invoice) in found["facts"].items()
    }
    amounts = {
        (kind, method, status, amount > 0, on_invoice): amount
        for kind, method, status, amount, on_invoice in found["facts"].values()
    }

    def effect(*key: Any) -> int:
        return by_facts[key]

    def amount(*key: Any) -> int:
        return amounts[key]

    # TX5: an adjustment without an invoice: -amount (negative credits), any method.
    for method in METHODS:
        for positive in (True, False):
            key = ("adjustment", method, "succeeded", positive, False)
            assert effect(*key) == -amount(*key)
            assert effect("adjustment", method, "succeeded", positive, True) == 0
    # TX6: balance payments and charges spend, balance refunds give back, on an invoice or not.
    for on_invoice in ON_INVOICE:
        for positive in (True, False):
            for kind in ("payment", "charge"):
                key = (kind, "balance", "succeeded", positive, on_invoice)
                assert effect(*key) == -amount(*key)
                assert effect(kind, "check", "succeeded", positive, on_invoice) == 0
            key = ("refund", "balance", "succeeded", positive, on_invoice)
            assert effect(*key) == amount(*key)
            assert effect("refund", "check", "succeeded", positive, on_invoice) == 0
    # Pending and failed rows never move credit.
    for key, value in by_facts.items():
        if key[2] != "succeeded":
            assert value == 0, key
    assert {value > 0 for value in by_facts.values() if value} == {True, False}
