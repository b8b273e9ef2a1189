"""Account statements (emails.md EM12, Example EM-D) built by `tally.statements.build_statement`
from data recorded through the HTTP API: open-item lists, the past-due filter, balance-forward
periods in the account's time zone, currency selection (customers.md CB1) and tenancy.

The decision under test (see tally.statements.service): a balance-forward closing balance is
what the customer owes net of credit, i.e. GET /customers/{id}/balance `total_outstanding -
available_credits`, less any payment money not applied to anything.

The server clock is frozen at T (2024-03-15 12:00 UTC) so that "this month" is fixed; the
statement is built with the same `now`.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tally.config import Settings
from tally.context import Context
from tally.db import Database
from tally.domain.errors import InvalidRequest, NotFound
from tally.domain.statements import owed_effect
from tally.models import Account, Customer, Invoice, Transaction
from tally.payments.schemas import split_type
from tally.statements import Statement, StatementLine, StatementOptions, build_statement
from tally.statements.service import IS_FEE, OWED_EFFECT
from tests.support import new_account
from tests.test_invoices import SEED_FORM, acme, created, frozen_clock, ok, set_account

DAY = 86_400
T = 1_710_504_000  # 2024-03-15 12:00:00 UTC
MARCH = 1_709_251_200  # 2024-03-01 00:00:00 UTC
FEB_10 = 1_707_523_200  # 2024-02-10 00:00:00 UTC


@pytest.fixture
def clock(api) -> Iterator[None]:
    with frozen_clock(api) as move:
        move(T)
        yield


def statement(api, db_url: str, customer_id: int, now: int = T, **options: Any) -> Statement:
    """build_statement for one of `api`'s customers, as the emails and documents code calls it."""

    async def main() -> Statement:
        database = Database(Settings(database_url=db_url))
        try:
            async with database.session(write=False) as session:
                account = await session.get(Account, api.account.id)
                assert account is not None
                customer = await session.scalar(
                    select(Customer).where(
                        Customer.account_id == account.id, Customer.id == customer_id
                    )
                )
                assert customer is not None
                ctx = Context(
                    session=session, account=account, now=now, public_base_url="http://x/portal"
                )
                return await build_statement(ctx, customer, StatementOptions(**options))
        finally:
            await database.dispose()

    return asyncio.run(main())


def minor(value: Any) -> int:
    return int(Decimal(str(value)) * 100)


def customer(api, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", "Customer")
    return created(api.post("/customers", json=fields))


def invoice(api, customer_id: int, *costs: Any, **fields: Any) -> dict[str, Any]:
    items = [{"name": f"Line {n}", "unit_cost": cost} for n, cost in enumerate(costs, 1)]
    return created(api.post("/invoices", json={"customer": customer_id, "items": items, **fields}))


def pay(api, customer_id: int, amount: Any, *splits: dict[str, Any], **fields: Any) -> Any:
    body = {"customer": customer_id, "amount": amount, "applied_to": list(splits), **fields}
    return created(api.post("/payments", json=body))


def on(invoice_id: int, amount: Any) -> dict[str, Any]:
    return {"type": "invoice", "invoice": invoice_id, "amount": amount}


def transaction(api, invoice_id: int, amount: Any, **fields: Any) -> dict[str, Any]:
    return created(
        api.post("/transactions", json={"invoice": invoice_id, "amount": amount, **fields})
    )


def owed(api, customer_id: int, **params: Any) -> tuple[int, int]:
    """(total_outstanding, available_credits) of GET /customers/{id}/balance, minor units."""
    body = ok(api.get(f"/customers/{customer_id}/balance", params=params or None))
    return minor(body["total_outstanding"]), minor(body["available_credits"])


def summary(lines: tuple[StatementLine, ...]) -> list[tuple[str, str | None, int, int]]:
    return [(line.kind, line.number, line.amount, line.balance) for line in lines]


# --- Example EM-D and the open-item statement ----------------------------------------------


def test_example_em_d_open_item_lists_inv_00001_until_paid(api, db_url, clock):
    """EM-D: while INV-00001 is unpaid the open-item statement lists it with balance 148.85;
    once paid (Example TP-2) it is gone. Building a statement changes nothing (EM12)."""
    acme_customer = acme(api)
    seed = created(api.post("/invoices", data={"customer": acme_customer["id"], **SEED_FORM}))
    assert (seed["number"], seed["total"]) == ("INV-00001", 148.85)

    open_item = statement(api, db_url, acme_customer["id"], type="open_item")
    assert open_item.type == "open_item"
    assert (open_item.currency, open_item.start, open_item.end) == ("usd", None, T)
    assert open_item.opening_balance is None
    assert open_item.lines == (
        StatementLine(
            date=seed["date"],
            kind="invoice",
            number="INV-00001",
            description="Invoice INV-00001",
            amount=14_885,
            balance=14_885,
            due_date=seed["due_date"],
            total=14_885,
        ),
    )
    assert (open_item.closing_balance, open_item.total_invoiced, open_item.total_paid) == (
        14_885,
        14_885,
        0,
    )
    assert ok(api.get(f"/invoices/{seed['id']}"))["status"] == seed["status"]  # unchanged

    pay(
        api,
        acme_customer["id"],
        "148.85",
        on(seed["id"], "148.85"),
        method="check",
        reference="1450",
    )
    paid = statement(api, db_url, acme_customer["id"], type="open_item")
    assert (paid.lines, paid.closing_balance) == ((), 0)

    # EM-D: `{"type":"weekly"}` is refused with param `type`.
    with pytest.raises(InvalidRequest) as caught:
        statement(api, db_url, acme_customer["id"], type="weekly")
    assert (caught.value.message, caught.value.param) == (
        "Unrecognized statement type: weekly",
        "type",
    )

    # The balance-forward view of the same month: invoice, then the payment.
    forward = statement(api, db_url, acme_customer["id"])
    assert (forward.start, forward.end, forward.opening_balance) == (MARCH, T, 0)
    assert summary(forward.lines) == [
        ("invoice", "INV-00001", 14_885, 14_885),
        ("payment", None, -14_885, 0),
    ]
    assert forward.lines[1].description == "Payment (check #1450)"
    assert forward.closing_balance == 0


def test_em12_open_item_past_due_keeps_only_past_due_invoices(api, db_url, clock):
    """`items=past_due` keeps invoices whose status is past_due (due date before now);
    `items=open` lists every outstanding one, oldest first; paid, draft, voided and closed
    invoices never appear; a partly paid invoice shows what is left."""
    c = customer(api)["id"]
    late = invoice(api, c, 100, date=T - 40 * DAY, due_date=T - 10 * DAY)
    partly = invoice(api, c, 80, date=T - 35 * DAY, due_date=T - 5 * DAY)
    transaction(api, partly["id"], 30)
    current = invoice(api, c, 50, date=T - 2 * DAY, due_date=T + 28 * DAY)
    no_due = invoice(api, c, 20, date=T - 1 * DAY)
    paid = invoice(api, c, 10, date=T - 50 * DAY, due_date=T - 20 * DAY)
    transaction(api, paid["id"], 10)
    invoice(api, c, 60, date=T - 45 * DAY, due_date=T - 15 * DAY, draft=True)
    voided = invoice(api, c, 70, date=T - 45 * DAY, due_date=T - 15 * DAY)
    ok(api.post(f"/invoices/{voided['id']}/void"))
    closed = invoice(api, c, 40, date=T - 45 * DAY, due_date=T - 15 * DAY)
    ok(api.patch(f"/invoices/{closed['id']}", json={"closed": True}))

    everything = statement(api, db_url, c, type="open_item")
    assert [(line.number, line.balance, line.total) for line in everything.lines] == [
        (late["number"], 10_000, 10_000),
        (partly["number"], 5_000, 8_000),
        (current["number"], 5_000, 5_000),
        (no_due["number"], 2_000, 2_000),
    ]
    assert everything.closing_balance == 22_000 == owed(api, c)[0]
    assert (everything.total_invoiced, everything.total_paid) == (25_000, 3_000)

    past_due = statement(api, db_url, c, type="open_item", items="past_due")
    assert [(line.number, line.balance) for line in past_due.lines] == [
        (late["number"], 10_000),
        (partly["number"], 5_000),
    ]
    assert past_due.closing_balance == 15_000


# --- balance forward ------------------------------------------------------------------------


def test_em12_balance_forward_opening_from_last_month(api, db_url, clock):
    """Default period: 1 March 00:00 (account time zone UTC) to now. Last month's invoice and
    its partial payment make the opening balance; this month's invoice and a partial payment
    are the lines; the closing balance is what GET /customers/{id}/balance reports."""
    c = customer(api)["id"]
    old = invoice(api, c, 100, date=FEB_10)
    transaction(api, old["id"], 30, date=FEB_10 + 10 * DAY, method="check", gateway_id="77")
    new = invoice(api, c, 250, date=MARCH + 4 * DAY)
    pay(api, c, 100, on(new["id"], 100), date=MARCH + 9 * DAY, method="wire_transfer")

    result = statement(api, db_url, c)
    assert (result.type, result.currency, result.start, result.end) == (
        "balance_forward",
        "usd",
        MARCH,
        T,
    )
    assert result.opening_balance == 7_000
    assert summary(result.lines) == [
        ("invoice", new["number"], 25_000, 32_000),
        ("payment", None, -10_000, 22_000),
    ]
    assert [line.date for line in result.lines] == [MARCH + 4 * DAY, MARCH + 9 * DAY]
    assert result.lines[0].due_date == new["due_date"]
    assert result.lines[1].description == "Payment (wire transfer)"
    assert (result.total_invoiced, result.total_paid) == (25_000, 10_000)
    assert result.closing_balance == 22_000
    assert owed(api, c) == (22_000, 0)

    # An explicit period: all of February.
    february = statement(api, db_url, c, start=FEB_10 - 9 * DAY, end=MARCH - 1)
    assert february.opening_balance == 0
    assert summary(february.lines) == [
        ("invoice", old["number"], 10_000, 10_000),
        ("payment", None, -3_000, 7_000),
    ]
    assert february.lines[1].description == "Payment (check #77)"
    assert february.closing_balance == 7_000


def test_em12_balance_forward_month_starts_in_account_time_zone(api, db_url, clock):
    """At 2024-03-15 the New York month began at 2024-03-01 05:00 UTC: an invoice dated
    02:00 UTC that day belongs to February there, so it is in the opening balance."""
    set_account(db_url, api.account.id, time_zone="America/New_York")
    c = customer(api)["id"]
    invoice(api, c, 10, date=MARCH + 2 * 3600)
    inside = invoice(api, c, 20, date=MARCH + 6 * 3600)
    result = statement(api, db_url, c)
    assert result.start == MARCH + 5 * 3600
    assert result.opening_balance == 1_000
    assert summary(result.lines) == [("invoice", inside["number"], 2_000, 3_000)]


def test_em12_closing_balance_is_what_the_customer_owes_net_of_credit(api, db_url, clock):
    """Invoices, partial payments, an overpayment to credit (Example TP-4), a refund
    (TX12), a credit adjustment, credit spent on an invoice, a convenience fee and a pending
    charge: the closing balance equals total_outstanding - available_credits; a payment left
    unapplied lowers it further (the customer sent that money)."""
    c = customer(api)["id"]
    a = invoice(api, c, 1710, date=FEB_10)
    b = invoice(api, c, 290, date=FEB_10 + DAY)
    x = invoice(api, c, 500, date=FEB_10 + 2 * DAY)
    check = transaction(api, x["id"], 100, date=FEB_10 + 3 * DAY, method="check")
    pay(
        api,
        c,
        2100,
        on(a["id"], 1710),
        on(b["id"], 290),
        {"type": "credit", "amount": 100},
        date=MARCH + DAY,
        method="wire_transfer",
    )
    refund = created(api.post(f"/transactions/{check['id']}/refunds", json={"amount": 40}))
    assert refund["date"] == T
    created(
        api.post("/credit_balance_adjustments", json={"customer": c, "amount": 50, "date": T - DAY})
    )
    d = invoice(api, c, 300, date=MARCH + 2 * DAY)
    pay(
        api,
        c,
        0,
        {"type": "applied_credit", "document_type": "invoice", "invoice": d["id"], "amount": 80},
        date=MARCH + 3 * DAY,
    )
    card = pay(
        api,
        c,
        55,
        on(d["id"], 50),
        {"type": "convenience_fee", "amount": 5},
        date=MARCH + 4 * DAY,
        method="credit_card",
    )
    transaction(api, x["id"], 10, type="charge", status="pending", method="ach")

    outstanding, credit = owed(api, c)
    # x: 500 - 100 + 40 = 440; d: 300 - 80 - 50 = 170. Credit: 100 + 50 - 80 = 70.
    assert (outstanding, credit) == (61_000, 7_000)

    result = statement(api, db_url, c)
    assert result.closing_balance == outstanding - credit == 54_000
    # Opening: a + b + x - 100 paid on x.
    assert result.opening_balance == 171_000 + 29_000 + 50_000 - 10_000
    assert [(line.date, line.kind, line.description, line.amount) for line in result.lines] == [
        (MARCH + DAY, "payment", "Payment (wire transfer)", -210_000),
        (MARCH + 2 * DAY, "invoice", f"Invoice {d['number']}", 30_000),
        (MARCH + 4 * DAY, "payment", "Payment (credit card)", -5_500),
        (MARCH + 4 * DAY, "convenience_fee", "Convenience fee", 500),
        (T - DAY, "credit", "Credit", -5_000),
        (T, "refund", "Refund (check)", 4_000),
    ]
    assert [line.balance for line in result.lines] == [
        30_000,
        60_000,
        54_500,
        55_000,
        50_000,
        54_000,
    ]
    assert result.total_invoiced == 30_000
    assert result.total_paid == 210_000 + 5_500 + 5_000

    # The same closing balance whatever the period start: opening + lines is one ledger.
    for start in (0, FEB_10 + DAY, MARCH + 3 * DAY, T):
        assert statement(api, db_url, c, start=start).closing_balance == 54_000
    assert statement(api, db_url, c, start=0).opening_balance == 0

    # Money received but applied to nothing lowers what is owed; GET .../balance ignores it.
    pay(api, c, 25, date=T)
    assert owed(api, c) == (61_000, 7_000)
    after = statement(api, db_url, c)
    assert after.closing_balance == outstanding - credit - 2_500
    unapplied = [line for line in after.lines if line.date == T and line.kind == "payment"]
    assert [(line.description, line.amount) for line in unapplied] == [("Payment", -2_500)]

    # A voided payment (PY16) leaves the statement with its splits: d owes 50 more.
    ok(api.delete(f"/payments/{card['id']}"))
    assert owed(api, c) == (66_000, 7_000)
    voided = statement(api, db_url, c)
    assert voided.closing_balance == 66_000 - 7_000 - 2_500
    assert "Convenience fee" not in [line.description for line in voided.lines]


def test_em12_voided_draft_and_written_off_invoices(api, db_url, clock):
    """Voided and draft invoices are left out; an unpaid invoice that was closed shows a
    write-off of its balance right after it, so it is no longer owed (CB2 ignores it)."""
    c = customer(api)["id"]
    voided = invoice(api, c, 70, date=MARCH + DAY)
    ok(api.post(f"/invoices/{voided['id']}/void"))
    invoice(api, c, 60, date=MARCH + DAY, draft=True)
    closed = invoice(api, c, 40, date=MARCH + 2 * DAY)
    transaction(api, closed["id"], 15, date=MARCH + 3 * DAY)
    ok(api.patch(f"/invoices/{closed['id']}", json={"closed": True}))

    result = statement(api, db_url, c)
    assert summary(result.lines) == [
        ("invoice", closed["number"], 4_000, 4_000),
        ("write_off", closed["number"], -2_500, 1_500),
        ("payment", None, -1_500, 0),
    ]
    assert result.lines[1].description == f"Invoice {closed['number']} closed"
    assert result.closing_balance == 0 == owed(api, c)[0]
    # The same once all of it lies before the period (summed in SQL).
    later = statement(api, db_url, c, start=MARCH + 4 * DAY)
    assert (later.opening_balance, later.lines, later.closing_balance) == (0, (), 0)
    assert statement(api, db_url, c, start=MARCH + 3 * DAY).opening_balance == 1_500


# --- currency (customers.md CB1) --------------------------------------------------------------


def test_cb1_statement_currency_and_filtering(api, db_url, clock):
    """Only documents and money in the statement currency count; without `currency` the
    customer's currency, else its latest issued invoice's, else the account's."""
    c = customer(api)["id"]
    assert statement(api, db_url, c).currency == "usd"  # nothing yet: the account's
    usd = invoice(api, c, 100, date=MARCH + DAY)
    eur = invoice(api, c, 70, date=MARCH + 2 * DAY, currency="eur")
    transaction(api, eur["id"], 20, date=MARCH + 3 * DAY)

    assert statement(api, db_url, c).currency == "eur"  # the latest invoice's
    dollars = statement(api, db_url, c, currency="usd")
    assert summary(dollars.lines) == [("invoice", usd["number"], 10_000, 10_000)]
    assert dollars.closing_balance == owed(api, c, currency="usd")[0] == 10_000
    euros = statement(api, db_url, c, currency="EUR")
    assert euros.currency == "eur"
    assert summary(euros.lines) == [
        ("invoice", eur["number"], 7_000, 7_000),
        ("payment", None, -2_000, 5_000),
    ]
    open_dollars = statement(api, db_url, c, type="open_item", currency="usd")
    assert [line.number for line in open_dollars.lines] == [usd["number"]]

    ok(api.patch(f"/customers/{c}", json={"currency": "usd"}))
    assert statement(api, db_url, c).currency == "usd"  # the customer's own
    assert [line.number for line in statement(api, db_url, c, type="open_item").lines] == [
        usd["number"]
    ]


# --- tenancy ----------------------------------------------------------------------------------


def test_another_accounts_data_never_appears(api, other_api, db_url, clock):
    """Every query is scoped by account: another account's documents and money never reach a
    statement, and a customer of another account is not found."""
    mine = customer(api)["id"]
    invoice(api, mine, 100, date=MARCH + DAY)
    theirs = customer(other_api)["id"]
    their_invoice = invoice(other_api, theirs, 999, date=MARCH + DAY)
    pay(other_api, theirs, 999, on(their_invoice["id"], 999), date=MARCH + 2 * DAY)
    pay(other_api, theirs, 5, date=MARCH + 2 * DAY)

    for options in ({}, {"type": "open_item"}, {"start": 0}):
        result = statement(api, db_url, mine, **options)
        assert [line.amount for line in result.lines] == [10_000]
        assert result.closing_balance == 10_000

    async def cross() -> None:
        database = Database(Settings(database_url=db_url))
        try:
            async with database.session(write=False) as session:
                account = await session.get(Account, api.account.id)
                foreign = await session.get(Customer, theirs)
                assert account is not None and foreign is not None
                ctx = Context(
                    session=session, account=account, now=T, public_base_url="http://x/portal"
                )
                with pytest.raises(NotFound):
                    await build_statement(ctx, foreign, StatementOptions())
        finally:
            await database.dispose()

    asyncio.run(cross())


def test_em12_parent_payment_for_a_sub_customer_invoice(api, db_url, clock):
    """A parent's payment may pay a sub-customer's invoice (PY5, customers.md CU10): each
    customer's statement shows its own share, so both still match GET .../balance."""
    parent = customer(api, name="Parent")["id"]
    child = customer(api, name="Child", parent_customer=parent)["id"]
    bill = invoice(api, child, 100, date=MARCH + DAY)
    pay(
        api,
        parent,
        150,
        on(bill["id"], 100),
        {"type": "credit", "amount": 50},
        date=MARCH + 2 * DAY,
        method="check",
    )

    child_statement = statement(api, db_url, child)
    assert summary(child_statement.lines) == [
        ("invoice", bill["number"], 10_000, 10_000),
        ("payment", None, -10_000, 0),
    ]
    assert owed(api, child) == (0, 0)
    parent_statement = statement(api, db_url, parent)
    assert summary(parent_statement.lines) == [("payment", None, -5_000, -5_000)]
    assert owed(api, parent) == (0, 5_000)
    assert parent_statement.closing_balance == 0 - 5_000


# --- the SQL of the opening balance agrees with the rules of the lines --------------------------


def test_owed_effect_sql_matches_python_for_every_combination(db_url):
    """The opening balance is summed in SQL (OWED_EFFECT, IS_FEE) while lines use
    `statements.owed_effect` and `split_type`: both agree for every type, method, status,
    amount sign, invoice and payment ownership. Rows are inserted directly, then rolled back."""
    account = new_account(db_url)
    combinations = list(
        itertools.product(
            ("charge", "payment", "refund", "adjustment"),
            ("balance", "check"),
            ("succeeded", "pending", "failed"),
            (1, -1),
            (False, True),  # on an invoice
            (False, True),  # owned by a payment
        )
    )

    async def main() -> list[tuple[Any, ...]]:
        database = Database(Settings(database_url=db_url))
        try:
            async with database.session(write=True) as session:
                owner = Customer(
                    account_id=account.id,
                    name="Effects",
                    number="EFFECTS",
                    type="company",
                    country="US",
                    client_id=secrets.token_urlsafe(36),
                    created_at=T,
                    updated_at=T,
                    taxes=[],
                    disabled_payment_methods=[],
                    metadata_={},
                )
                session.add(owner)
                await session.flush()
                bill = Invoice(
                    account_id=account.id,
                    customer_id=owner.id,
                    name="Invoice",
                    number="E-1",
                    currency="usd",
                    date=T,
                    client_id=secrets.token_urlsafe(36),
                    created_at=T,
                    updated_at=T,
                    metadata_={},
                    disabled_payment_methods=[],
                )
                session.add(bill)
                await session.flush()
                rows: dict[int, Transaction] = {}
                for n, (kind, method, status, sign, on_invoice, owned) in enumerate(combinations):
                    row = Transaction(
                        account_id=account.id,
                        customer_id=owner.id,
                        invoice_id=bill.id if on_invoice else None,
                        payment_id=n + 1 if owned else None,
                        date=T,
                        type=kind,
                        method=method,
                        status=status,
                        currency="usd",
                        amount=sign * (n + 1) * 100,
                        metadata_={},
                        client_id=secrets.token_urlsafe(36),
                        created_at=T,
                        updated_at=T,
                    )
                    session.add(row)
                    await session.flush()
                    rows[row.id] = row
                found = await session.execute(
                    select(Transaction.id, OWED_EFFECT, IS_FEE).where(
                        Transaction.account_id == account.id
                    )
                )
                result = []
                for row_id, sql_effect, sql_fee in found:
                    row = rows[row_id]
                    python_effect = owed_effect(
                        row.type,
                        row.method,
                        row.status,
                        row.amount,
                        on_invoice=row.invoice_id is not None,
                    )
                    python_fee = row.payment_id is not None and split_type(row) == "convenience_fee"
                    result.append(
                        (row_id, int(sql_effect), python_effect, bool(sql_fee), python_fee)
                    )
                await session.rollback()
                return result
        finally:
            await database.dispose()

    result = asyncio.run(main())
    assert len(result) == len(combinations)
    for row_id, sql_effect, python_effect, sql_fee, python_fee in result:
        assert (row_id, sql_effect, sql_fee) == (row_id, python_effect, python_fee)
