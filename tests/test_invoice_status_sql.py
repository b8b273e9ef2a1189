"""S12: the SQL status expression (used by `filter[status]`) agrees with the Python rules
(used by GET) for every combination of the facts that status depends on."""

from __future__ import annotations

import asyncio
import itertools
import secrets

from sqlalchemy import select

from tally.config import Settings
from tally.db import Database
from tally.invoices.document import status_of
from tally.invoices.repository import status_expression
from tally.models import Customer, Invoice
from tests.support import new_account

NOW = 1_700_000_000
FLAGS = ("voided", "draft", "paid", "pending", "autopay", "viewed", "sent")


def test_s12_sql_status_matches_python_for_every_combination(db_url):
    account = new_account(db_url)

    async def main() -> list[tuple[str, str]]:
        database = Database(Settings(database_url=db_url))
        try:
            async with database.session(write=True) as session:
                customer = Customer(
                    account_id=account.id,
                    name="Facts",
                    number="FACTS",
                    type="company",
                    country="US",
                    client_id=secrets.token_urlsafe(36),
                    created_at=NOW,
                    updated_at=NOW,
                    taxes=[],
                    disabled_payment_methods=[],
                    metadata_={},
                )
                session.add(customer)
                await session.flush()
                combinations = itertools.product(
                    *[(False, True)] * len(FLAGS), (None, NOW - 1, NOW, NOW + 1), (0, 1)
                )
                for n, (*flags, due, attempts) in enumerate(combinations):
                    invoice = Invoice(
                        account_id=account.id,
                        customer_id=customer.id,
                        name="Invoice",
                        number=f"F-{n}",
                        currency="usd",
                        date=NOW - 10,
                        due_date=due,
                        attempt_count=attempts,
                        client_id=secrets.token_urlsafe(36),
                        created_at=NOW,
                        updated_at=NOW,
                        closed=False,
                        metadata_={},
                        disabled_payment_methods=[],
                        **dict(zip(FLAGS, flags, strict=True)),
                    )
                    session.add(invoice)
                await session.flush()
                rows = await session.execute(
                    select(Invoice, status_expression(NOW)).where(Invoice.account_id == account.id)
                )
                pairs = [(status_of(invoice, NOW), sql) for invoice, sql in rows]
                await session.rollback()
                return pairs
        finally:
            await database.dispose()

    pairs = asyncio.run(main())
    assert len(pairs) == 2 ** len(FLAGS) * 4 * 2
    mismatches = [pair for pair in pairs if pair[0] != pair[1]]
    assert mismatches == []
    assert {python for python, _ in pairs} == {
        "voided",
        "draft",
        "paid",
        "pending",
        "past_due",
        "viewed",
        "sent",
        "not_sent",
    }
