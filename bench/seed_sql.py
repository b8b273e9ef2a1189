"""Direct SQL seeding for the performance bench (issue 6): full scale in seconds, not hours.

Seeding 10k customers and 100k invoices through the API takes far too long, so this module
writes the rows itself with SQLAlchemy Core bulk inserts (executemany, one transaction per
batch), on PostgreSQL and on SQLite alike. To write rows exactly as tally would have, it
first creates a few TEMPLATE documents through tally's own API (running server): the tax
rates and coupon the bench uses, one customer, and one invoice of each state (not sent,
sent, draft, closed, partly paid, paid, the last two by real `POST /payments`). It then
reads those rows back and clones them, changing only what differs between documents:

- ids (allocated above the current maximum; PostgreSQL's id sequences are moved past them),
- numbers from the account's `sequences` rows (CUST-%05d, INV-%05d), advanced afterwards
  so a later API create gets the next number, with `number_key` the lowercased number,
- `client_id` tokens (`secrets.token_urlsafe(36)`, as tally makes them),
- dates (spread over two years), created/updated timestamps,
- the lines (1-20 per invoice) and amounts, computed with tally's own calculator
  (`tally.domain.invoice_math.calculate` over the template's applied rates: a 10 % coupon
  and two tax rates at the document level), checked first against the template invoice
  tally computed itself,
- the money state: paid invoices get a payment row and its `transactions` split (type
  payment, status succeeded) for the whole total, with amount_paid = total, balance 0,
  paid, closed and date_paid; partly paid ones a split for half; everything else none.

Not written: events (tally records `invoice.created` etc. for each write; no scenario
reads them) and idempotency rows. The template documents stay in the data set.

Use (bench/perf.py does this for `--scale full`):
    result = await seed_sql(base_url, api_key, database_url, customers=10_000,
                            invoices=100_000)
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tally.domain.invoice_math import Line, calculate
from tally.domain.numbering import DEFAULT_TEMPLATES, format_number, number_key
from tally.invoices.document import calc_rate
from tally.models import (
    AppliedRate,
    Customer,
    Invoice,
    LineItem,
    Payment,
    Sequence,
    Transaction,
)

CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
INVOICES: Table = Invoice.__table__  # type: ignore[assignment]
LINES: Table = LineItem.__table__  # type: ignore[assignment]
RATES: Table = AppliedRate.__table__  # type: ignore[assignment]
PAYMENTS: Table = Payment.__table__  # type: ignore[assignment]
TXNS: Table = Transaction.__table__  # type: ignore[assignment]
SEQUENCES: Table = Sequence.__table__  # type: ignore[assignment]

BATCH_INVOICES = 2_000
BATCH_CUSTOMERS = 5_000
DAY = 86_400
QUANTITIES = [1, 2, 3, 5, 12]
# The state of a non-big customer's invoice: weights.
STATES = {
    "not_sent": 50,
    "sent": 15,
    "viewed": 5,
    "draft": 5,
    "closed": 5,
    "paid": 15,
    "partial": 5,
}
# The big customer's invoices are mostly not sent, so B3's filter returns ~90 % of them.
BIG_STATES = {"not_sent": 90, "sent": 4, "paid": 4, "draft": 2}
BODY_RATES = {
    "taxes": [{"tax_rate": "bench-vat"}, {"tax_rate": "bench-state"}],
    "discounts": [{"coupon": "bench-ten"}],
}


@dataclass
class SqlSeed:
    customers: list[int] = field(default_factory=list)
    invoices: list[tuple[int, int]] = field(default_factory=list)  # (invoice id, customer id)
    payable: list[tuple[int, int]] = field(default_factory=list)  # issued, open, balance > 0
    ten_line: list[int] = field(default_factory=list)  # invoices with exactly 10 lines
    big_customer: int = 0
    next_invoice_number: str = ""
    next_customer_number: str = ""
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)


async def create_rates(http: httpx.AsyncClient) -> None:
    """The tax rates and coupon every bench invoice carries (also used by B1's body)."""
    for path, body in (
        ("/tax_rates", {"id": "bench-vat", "name": "VAT", "value": 7.25}),
        ("/tax_rates", {"id": "bench-state", "name": "State", "value": 2.5}),
        ("/coupons", {"id": "bench-ten", "name": "Ten off", "value": 10}),
    ):
        await _post(http, path, body)


async def _post(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(path, json=body)
    if response.status_code != 201:
        raise SystemExit(f"seeding {path} failed: {response.status_code} {response.text}")
    data: dict[str, Any] = response.json()
    return data


async def _templates(http: httpx.AsyncClient) -> tuple[int, dict[str, int], int]:
    """Through the API: a customer, one invoice per state; the customer's and invoice ids
    and the id of the (full) payment."""
    customer = await _post(http, "/customers", {"name": "Customer 0", "email": "c0@example.com"})
    items = [
        {"name": f"Line {n + 1}", "quantity": q, "unit_cost": cost}
        for n, (q, cost) in enumerate([(3, 123.45), (12, 9.99), (1, 999.99)])
    ]
    base = {"customer": customer["id"], "items": items, **BODY_RATES}
    extra: dict[str, dict[str, Any]] = {
        "not_sent": {},
        "sent": {"sent": True},
        "draft": {"draft": True},
        "closed": {"closed": True},
        "partial": {"sent": True},
        "paid": {},
    }
    ids = {}
    for state, fields in extra.items():
        ids[state] = (await _post(http, "/invoices", {**base, **fields}))["id"]
    payment_id = 0
    for state in ("partial", "paid"):
        invoice = (await http.get(f"/invoices/{ids[state]}")).json()
        amount = invoice["total"] if state == "paid" else round(invoice["total"] / 2, 2)
        payment = await _post(
            http,
            "/payments",
            {
                "customer": customer["id"],
                "amount": amount,
                "method": "check",
                "applied_to": [{"type": "invoice", "invoice": ids[state], "amount": amount}],
            },
        )
        payment_id = payment["id"]
    return customer["id"], ids, payment_id


async def _one(connection: AsyncConnection, table: Table, **where: Any) -> dict[str, Any]:
    statement = select(table).where(*(table.c[k] == v for k, v in where.items()))
    return dict((await connection.execute(statement)).mappings().one())


async def _max_id(connection: AsyncConnection, table: Table) -> int:
    return int(await connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0)


async def seed_sql(
    base_url: str,
    key: str,
    database_url: str,
    *,
    customers: int,
    invoices: int,
    seed: int = 6,
    log: Any = print,
) -> SqlSeed:
    """Seed `customers` customers and `invoices` invoices for the account of `key`."""
    rng = random.Random(seed)
    started = time.monotonic()
    result = SqlSeed()
    async with httpx.AsyncClient(base_url=base_url, auth=(key, ""), timeout=60) as http:
        await create_rates(http)
        template_customer, template_ids, template_payment = await _templates(http)
    engine = create_async_engine(database_url)
    try:
        await _bulk(
            engine,
            rng,
            result,
            template_customer,
            template_ids,
            template_payment,
            customers,
            invoices,
        )
    finally:
        await engine.dispose()
    result.seconds = time.monotonic() - started
    log(
        f"  SQL-seeded {len(result.customers)} customers, {len(result.invoices)} invoices "
        f"({', '.join(f'{v} {k}' for k, v in result.rows.items())}) in {result.seconds:.1f} s"
    )
    return result


async def _bulk(
    engine: AsyncEngine,
    rng: random.Random,
    result: SqlSeed,
    template_customer: int,
    template_ids: dict[str, int],
    template_payment: int,
    n_customers: int,
    n_invoices: int,
) -> None:
    is_postgres = engine.dialect.name == "postgresql"
    now = int(time.time())
    async with engine.connect() as connection:
        customer_row = await _one(connection, CUSTOMERS, id=template_customer)
        account_id = customer_row["account_id"]
        invoice_rows = {s: await _one(connection, INVOICES, id=i) for s, i in template_ids.items()}
        invoice_rows["viewed"] = {**invoice_rows["sent"], "viewed": True}
        line_row = dict(
            (
                await connection.execute(
                    select(LINES)
                    .where(LINES.c.invoice_id == template_ids["not_sent"])
                    .order_by(LINES.c.position)
                )
            )
            .mappings()
            .first()
            or {}
        )
        rate_rows = [
            dict(r)
            for r in (
                await connection.execute(
                    select(RATES)
                    .where(RATES.c.invoice_id == template_ids["not_sent"])
                    .order_by(RATES.c.position)
                )
            ).mappings()
        ]
        if any(r["line_item_id"] is not None for r in rate_rows):
            raise SystemExit("template invoice has line-level rates; the seeder expects none")
        payment_row = await _one(connection, PAYMENTS, id=template_payment)
        txn_row = dict(
            (await connection.execute(select(TXNS).where(TXNS.c.payment_id == template_payment)))
            .mappings()
            .one()
        )
        sequences = {
            kind: int(
                await connection.scalar(
                    select(SEQUENCES.c.next_value).where(
                        SEQUENCES.c.account_id == account_id, SEQUENCES.c.kind == kind
                    )
                )
                or 1
            )
            for kind in ("customer", "invoice")
        }
        next_id = {
            t.name: await _max_id(connection, t) + 1
            for t in (CUSTOMERS, INVOICES, LINES, RATES, PAYMENTS, TXNS)
        }

    discounts = [calc_rate(_Row(r)) for r in rate_rows if r["kind"] == "discount"]
    taxes = [calc_rate(_Row(r)) for r in rate_rows if r["kind"] == "tax"]

    def totals(lines: list[tuple[Decimal, Decimal]]) -> Any:
        return calculate(
            [Line(quantity=q, unit_cost=c) for q, c in lines], discounts=discounts, taxes=taxes
        )

    # Self-check: our calculation of the template invoice equals tally's stored one.
    template_lines = [
        (Decimal(q), Decimal(c)) for q, c in ((3, "123.45"), (12, "9.99"), (1, "999.99"))
    ]
    check = totals(template_lines)
    stored = invoice_rows["not_sent"]
    stored_rates = {
        kind: tuple(r["amount"] for r in rate_rows if r["kind"] == kind)
        for kind in ("discount", "tax")
    }
    if (check.subtotal, check.total, check.discounts, check.taxes) != (
        stored["subtotal"],
        stored["total"],
        stored_rates["discount"],
        stored_rates["tax"],
    ):
        raise SystemExit(f"seeder maths disagree with tally: {check} vs {stored}")

    def take(table: Table) -> int:
        value = next_id[table.name]
        next_id[table.name] = value + 1
        return value

    # Customers: the template one is the big customer.
    result.big_customer = template_customer
    result.customers = [template_customer]
    customer_batch: list[dict[str, Any]] = []

    async def flush_customers() -> None:
        if customer_batch:
            async with engine.begin() as connection:
                await connection.execute(insert(CUSTOMERS), customer_batch)
            customer_batch.clear()

    for n in range(1, n_customers):
        number = format_number(DEFAULT_TEMPLATES["customer"], sequences["customer"])
        sequences["customer"] += 1
        created = now - rng.randint(800, 900) * DAY
        row = {
            **customer_row,
            "id": take(CUSTOMERS),
            "name": f"Customer {n}",
            "email": f"c{n}@example.com",
            "number": number,
            "number_key": number_key(number),
            "client_id": secrets.token_urlsafe(36),
            "created_at": created,
            "updated_at": created,
        }
        result.customers.append(row["id"])
        customer_batch.append(row)
        if len(customer_batch) >= BATCH_CUSTOMERS:
            await flush_customers()
    await flush_customers()

    # Invoices with their lines, rates and payments.
    batch: dict[str, list[dict[str, Any]]] = {
        "invoices": [],
        "lines": [],
        "rates": [],
        "payments": [],
        "txns": [],
    }
    counts = dict.fromkeys(batch, 0)
    states, weights = zip(*STATES.items(), strict=True)
    big_states, big_weights = zip(*BIG_STATES.items(), strict=True)

    async def flush() -> None:
        async with engine.begin() as connection:
            for name, table in (
                ("invoices", INVOICES),
                ("lines", LINES),
                ("rates", RATES),
                ("payments", PAYMENTS),
                ("txns", TXNS),
            ):
                if batch[name]:
                    await connection.execute(insert(table), batch[name])
                    counts[name] += len(batch[name])
                    batch[name].clear()

    for _ in range(n_invoices):
        big = rng.random() < 0.2
        customer = template_customer if big else rng.choice(result.customers)
        state = rng.choices(big_states if big else states, big_weights if big else weights)[0]
        n_lines = rng.randint(1, 20)
        lines = [
            (Decimal(rng.choice(QUANTITIES)), Decimal(rng.randint(1_000, 99_999)) / 100)
            for _ in range(n_lines)
        ]
        calc = totals(lines)
        date = now - rng.randint(1, 730 * DAY)
        template = invoice_rows[state]
        number = format_number(DEFAULT_TEMPLATES["invoice"], sequences["invoice"])
        sequences["invoice"] += 1
        invoice_id = take(INVOICES)
        due = template["due_date"]
        invoice = {
            **template,
            "id": invoice_id,
            "customer_id": customer,
            "number": number,
            "number_key": number_key(number),
            "client_id": secrets.token_urlsafe(36),
            "date": date,
            "due_date": None if due is None else date + (due - template["date"]),
            "last_sent": None if template["last_sent"] is None else date,
            "created_at": date,
            "updated_at": date,
            "subtotal": calc.subtotal,
            "total": calc.total,
            "amount_paid": 0,
            "balance": calc.total,
            "paid": False,
            "date_paid": None,
        }
        if state in ("paid", "partial"):
            amount = calc.total if state == "paid" else calc.total // 2
            paid_on = min(now - 60, date + rng.randint(1, 30) * DAY)
            payment_id = take(PAYMENTS)
            batch["payments"].append(
                {
                    **payment_row,
                    "id": payment_id,
                    "customer_id": customer,
                    "date": paid_on,
                    "amount": amount,
                    "balance": 0,
                    "client_id": secrets.token_urlsafe(36),
                    "created_at": paid_on,
                    "updated_at": paid_on,
                }
            )
            batch["txns"].append(
                {
                    **txn_row,
                    "id": take(TXNS),
                    "customer_id": customer,
                    "invoice_id": invoice_id,
                    "payment_id": payment_id,
                    "date": paid_on,
                    "amount": amount,
                    "client_id": secrets.token_urlsafe(36),
                    "created_at": paid_on,
                    "updated_at": paid_on,
                }
            )
            invoice["amount_paid"] = amount
            invoice["balance"] = calc.total - amount
            invoice["paid"] = invoice["balance"] <= 0
            invoice["closed"] = invoice["paid"]
            invoice["date_paid"] = paid_on if invoice["paid"] else None
            invoice["updated_at"] = paid_on
        batch["invoices"].append(invoice)
        result.invoices.append((invoice_id, customer))
        if n_lines == 10:
            result.ten_line.append(invoice_id)
        if not invoice["draft"] and not invoice["closed"] and invoice["balance"] > 100:
            result.payable.append((invoice_id, customer))
        for position, ((quantity, unit_cost), line) in enumerate(
            zip(lines, calc.lines, strict=True)
        ):
            batch["lines"].append(
                {
                    **line_row,
                    "id": take(LINES),
                    "invoice_id": invoice_id,
                    "position": position,
                    "name": f"Line {position + 1}",
                    "quantity": quantity,
                    "unit_cost": unit_cost,
                    "amount": line.amount,
                    "created_at": date,
                    "updated_at": date,
                }
            )
        amounts = {"discount": iter(calc.discounts), "tax": iter(calc.taxes)}
        for rate in rate_rows:  # in position order, as tally's calculator took them
            batch["rates"].append(
                {
                    **rate,
                    "id": take(RATES),
                    "invoice_id": invoice_id,
                    "amount": next(amounts[rate["kind"]]),
                    "updated_at": date,
                }
            )
        if len(batch["invoices"]) >= BATCH_INVOICES:
            await flush()
    await flush()

    async with engine.begin() as connection:
        for kind, value in sequences.items():
            await connection.execute(
                update(SEQUENCES)
                .where(SEQUENCES.c.account_id == account_id, SEQUENCES.c.kind == kind)
                .values(next_value=value)
            )
        if is_postgres:
            for table in (CUSTOMERS, INVOICES, LINES, RATES, PAYMENTS, TXNS):
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT MAX(id) FROM {table.name}))"
                    )
                )
    # Fresh statistics, as autovacuum would have them on a database that grew over time.
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE"))
    result.rows = {"customers": n_customers, **counts}
    result.next_invoice_number = format_number(DEFAULT_TEMPLATES["invoice"], sequences["invoice"])
    result.next_customer_number = format_number(
        DEFAULT_TEMPLATES["customer"], sequences["customer"]
    )
    result.invoices += [(i, template_customer) for i in template_ids.values()]


class _Row:
    """Attribute access to a row dict, for tally's `calc_rate`."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.rate = row["rate"]
        self.custom_amount = row["custom_amount"]


async def verify(base_url: str, key: str, seeded: SqlSeed, *, samples: int = 20) -> list[str]:
    """Read seeded documents back through tally's API; the problems found (none: [])."""
    rng = random.Random(7)
    problems: list[str] = []
    async with httpx.AsyncClient(base_url=base_url, auth=(key, ""), timeout=60) as http:
        for invoice_id, _customer in rng.sample(
            seeded.invoices, min(samples, len(seeded.invoices))
        ):
            response = await http.get(f"/invoices/{invoice_id}", params={"expand": "customer"})
            if response.status_code != 200:
                problems.append(f"GET /invoices/{invoice_id}: {response.status_code}")
                continue
            problems += _invoice_problems(response.json())
        others = seeded.customers[1:]
        for customer_id in rng.sample(others, min(samples // 2, len(others))):
            response = await http.get(f"/customers/{customer_id}")
            if response.status_code != 200:
                problems.append(f"GET /customers/{customer_id}: {response.status_code}")
                continue
            owed = 0
            page = 1
            while True:
                listing = await http.get(
                    "/invoices",
                    params={"filter[customer]": customer_id, "per_page": 100, "page": page},
                )
                if listing.status_code != 200:
                    problems.append(f"GET /invoices?filter[customer]: {listing.status_code}")
                    break
                for invoice in listing.json():
                    problems += _invoice_problems(invoice)
                    if not (invoice["draft"] or invoice["paid"] or invoice["closed"]):
                        owed += round(invoice["balance"] * 100)
                if len(listing.json()) < 100:
                    break
                page += 1
            balance = await http.get(f"/customers/{customer_id}/balance")
            if balance.status_code != 200:
                problems.append(f"GET /customers/{customer_id}/balance: {balance.status_code}")
            elif round(balance.json()["total_outstanding"] * 100) != owed:
                problems.append(
                    f"customer {customer_id}: total_outstanding "
                    f"{balance.json()['total_outstanding']} but open balances sum {owed / 100}"
                )
        for invoice_id in seeded.ten_line[:2]:
            pdf = await http.get(f"/invoices/{invoice_id}", headers={"Accept": "application/pdf"})
            if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF-"):
                problems.append(f"PDF of invoice {invoice_id}: {pdf.status_code}")
        created = await http.post(
            "/invoices",
            json={
                "customer": seeded.customers[-1],
                "items": [{"name": "After seeding", "quantity": 1, "unit_cost": 1}],
            },
        )
        if created.status_code != 201:
            problems.append(f"POST /invoices after seeding: {created.status_code} {created.text}")
        elif created.json()["number"] != seeded.next_invoice_number:
            problems.append(
                f"POST /invoices after seeding got {created.json()['number']}, "
                f"expected {seeded.next_invoice_number}"
            )
        customer = await http.post("/customers", json={"name": "After seeding"})
        if customer.status_code != 201 or customer.json()["number"] != seeded.next_customer_number:
            problems.append(
                f"POST /customers after seeding: {customer.status_code} "
                f"{customer.json().get('number')}, expected {seeded.next_customer_number}"
            )
    return problems


def _invoice_problems(invoice: dict[str, Any]) -> list[str]:
    def cents(value: Any) -> int:
        return round(Decimal(str(value)) * 100)

    subtotal = sum(cents(item["amount"]) for item in invoice["items"])
    total = (
        cents(invoice["subtotal"])
        - sum(cents(d["amount"]) for d in invoice["discounts"])
        + sum(cents(t["amount"]) for t in invoice["taxes"])
    )
    problems = []
    if subtotal != cents(invoice["subtotal"]):
        problems.append(f"{invoice['number']}: items sum {subtotal} != subtotal")
    if total != cents(invoice["total"]):
        problems.append(f"{invoice['number']}: subtotal - discounts + taxes {total} != total")
    # (amount_paid is not in the JSON: perf.py checks it against the payments in SQL)
    if not 0 <= cents(invoice["balance"]) <= cents(invoice["total"]):
        problems.append(f"{invoice['number']}: balance outside 0..total")
    if invoice["paid"] != (invoice["balance"] <= 0 and not invoice["draft"]):
        problems.append(f"{invoice['number']}: paid {invoice['paid']} with balance")
    return problems
