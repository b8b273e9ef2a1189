"""The "ceiling" app of the performance bench (issue 6): the least a server can do per request.

A minimal FastAPI + SQLAlchemy (Core) app on the same database, the same tables, the same
driver and the same engine set-up as tally (`tally.db.Database`: pool sizes, SQLite pragmas
and its single-writer lock). Each route issues the statements tally issues for the same
request (found by tracing tally's SQL with a cursor-execute listener while the API ran
in-process; re-check when a route's queries change), reads
and writes the same rows, and does nothing else: no validation beyond reading the JSON, no
money maths beyond plain sums, no serialization beyond a small JSON answer.

Routes (all behind the same API-key lookup tally does, one SELECT by key digest):

- POST /invoices            B1: customer, number sequence (upsert, lock, number check,
                            update), coupon, tax rates, invoice, lines, applied rates, the
                            customer again and its credit balance, the event and its
                            associations.
- GET  /invoices/{id}       B2 (expand=customer): invoice, lines, rates, customer, credit.
                            B5 (Accept: application/pdf): invoice, lines, rates, customer
                            (no credit: tally reads none for a PDF), then the same HTML
                            template and HTML->PDF path as tally (see `invoice_pdf`).
- GET  /invoices            B3: count, page of invoices, their lines and rates.
- POST /payments            B4: customer, payment, invoice under lock with lines and rates,
                            transaction, invoice amount_paid and balance, pending check,
                            credit balance, the two events and their associations.

Run (bench/perf.py does this):
    DATABASE_URL=... .venv/bin/uvicorn --app-dir bench --factory ceiling_app:create_app \
        --workers 2 --http h11 --port 8100
"""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import Select, and_, case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tally.config import Settings
from tally.db import Database
from tally.models import (
    Account,
    ApiKey,
    AppliedRate,
    Coupon,
    Customer,
    Event,
    EventAssociation,
    Invoice,
    LineItem,
    Payment,
    Sequence,
    TaxRate,
    Transaction,
)

CUSTOMERS = Customer.__table__
INVOICES = Invoice.__table__
LINES = LineItem.__table__
RATES = AppliedRate.__table__
TXNS = Transaction.__table__
PAYMENTS = Payment.__table__
SEQUENCES = Sequence.__table__
EVENTS = Event.__table__
ASSOCS = EventAssociation.__table__
NUMBER_CANDIDATES = 25  # tally checks a batch of candidate numbers at once


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, default=str, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
    )


def _cents(value: Any) -> int:
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _credit_query(customer_id: int) -> Select[Any]:
    """The credit balance of one customer, the same aggregate over transactions tally runs."""
    t = TXNS.c
    signed = case(
        (t.status != "succeeded", 0),
        (and_(t.type == "adjustment", t.invoice_id.is_(None)), -t.amount),
        (and_(t.method == "balance", t.type.in_(("payment", "charge"))), -t.amount),
        else_=0,
    )
    return (
        select(t.customer_id, t.currency, func.sum(signed))
        .where(t.customer_id == customer_id, t.status == "succeeded")
        .group_by(t.customer_id, t.currency)
    )


def create_app() -> FastAPI:
    settings = Settings()
    database = Database(settings)
    is_sqlite = settings.is_sqlite
    upsert = sqlite_insert if is_sqlite else pg_insert

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # As tally does at startup: what startup built stays out of every GC scan.
        gc.freeze()
        yield
        await database.dispose()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    async def principal(session: Any, request: Request) -> int | None:
        account = await principal_account(session, request)
        return None if account is None else int(account.id)

    async def principal_account(session: Any, request: Request) -> Account | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None
        key = base64.b64decode(header[6:]).decode().split(":", 1)[0]
        digest = hashlib.sha256(key.encode()).hexdigest()
        row = (
            await session.execute(
                select(ApiKey.id, Account)
                .join(Account, Account.id == ApiKey.account_id)
                .where(ApiKey.digest == digest, ApiKey.revoked_at.is_(None))
            )
        ).first()
        return None if row is None else row[1]

    async def invoice_parts(session: Any, ids: list[int]) -> tuple[list[Any], list[Any]]:
        lines = (
            await session.execute(
                select(LINES)
                .where(LINES.c.invoice_id.in_(ids))
                .order_by(LINES.c.invoice_id, LINES.c.position)
            )
        ).all()
        rates = (
            await session.execute(
                select(RATES)
                .where(RATES.c.invoice_id.in_(ids))
                .order_by(RATES.c.invoice_id, RATES.c.line_item_id, RATES.c.kind, RATES.c.position)
            )
        ).all()
        return lines, rates

    def invoice_json(row: Any, lines: list[Any], rates: list[Any]) -> dict[str, Any]:
        return {
            "id": row.id,
            "number": row.number,
            "customer": row.customer_id,
            "total": row.total / 100,
            "balance": row.balance / 100,
            "items": [{"id": li.id, "amount": li.amount / 100} for li in lines],
            "rates": [{"id": r.id, "kind": r.kind, "amount": r.amount / 100} for r in rates],
        }

    @app.get("/health")
    async def health() -> Response:
        return _json({"status": "ok"})

    @app.post("/invoices")
    async def create_invoice(request: Request) -> Response:
        body = json.loads(await request.body())
        now = int(time.time())
        async with database.session(write=True) as session:
            account_id = await principal(session, request)
            if account_id is None:
                return _json({"error": "unauthorized"}, 401)
            customer = (
                await session.execute(
                    select(CUSTOMERS).where(
                        CUSTOMERS.c.account_id == account_id, CUSTOMERS.c.id == body["customer"]
                    )
                )
            ).one()
            await session.execute(
                upsert(SEQUENCES)
                .values(account_id=account_id, kind="invoice", next_value=1)
                .on_conflict_do_nothing(index_elements=["account_id", "kind"])
            )
            sequence = select(SEQUENCES).where(
                SEQUENCES.c.account_id == account_id, SEQUENCES.c.kind == "invoice"
            )
            if not is_sqlite:
                sequence = sequence.with_for_update()
            next_value = (await session.execute(sequence)).one().next_value
            candidates = [f"inv-{next_value + i:05d}" for i in range(NUMBER_CANDIDATES)]
            taken = set(
                (
                    await session.scalars(
                        select(INVOICES.c.number_key).where(
                            INVOICES.c.account_id == account_id,
                            INVOICES.c.number_key.in_(candidates),
                        )
                    )
                ).all()
            )
            offset = next(i for i, c in enumerate(candidates) if c not in taken)
            number = f"INV-{next_value + offset:05d}"
            await session.execute(
                update(SEQUENCES)
                .where(SEQUENCES.c.account_id == account_id, SEQUENCES.c.kind == "invoice")
                .values(next_value=next_value + offset + 1)
            )
            applied: list[tuple[str, int, Any]] = []
            for position, discount in enumerate(body.get("discounts", [])):
                coupon = (
                    await session.execute(
                        select(Coupon).where(
                            Coupon.account_id == account_id,
                            ~Coupon.archived,
                            Coupon.public_id == discount["coupon"],
                        )
                    )
                ).scalar_one()
                applied.append(("discount", position, coupon))
            for position, tax in enumerate(body.get("taxes", [])):
                rate = (
                    await session.execute(
                        select(TaxRate).where(
                            TaxRate.account_id == account_id,
                            ~TaxRate.archived,
                            TaxRate.public_id == tax["tax_rate"],
                        )
                    )
                ).scalar_one()
                applied.append(("tax", position, rate))
            items = body.get("items", [])
            amounts = [
                _cents(Decimal(str(i["quantity"])) * Decimal(str(i["unit_cost"]))) for i in items
            ]
            subtotal = sum(amounts)
            total = subtotal
            rate_amounts = []
            for kind, _position, rate in applied:
                amount = int(total * rate.value / 100)
                amount = -amount if kind == "discount" else amount
                rate_amounts.append(amount)
                total += amount
            invoice_id = await session.scalar(
                insert(INVOICES)
                .values(
                    account_id=account_id,
                    customer_id=customer.id,
                    name="Invoice",
                    number=number,
                    number_key=number.lower(),
                    currency="usd",
                    date=now,
                    draft=bool(body.get("draft", False)),
                    subtotal=subtotal,
                    total=total,
                    balance=total,
                    metadata={},
                    disabled_payment_methods=[],
                    client_id=secrets.token_urlsafe(36),
                    created_at=now,
                    updated_at=now,
                )
                .returning(INVOICES.c.id)
            )
            await session.execute(
                insert(LINES),
                [
                    {
                        "account_id": account_id,
                        "invoice_id": invoice_id,
                        "position": position,
                        "name": item.get("name", ""),
                        "description": "",
                        "quantity": Decimal(str(item["quantity"])),
                        "unit_cost": Decimal(str(item["unit_cost"])),
                        "amount": amount,
                        "discountable": True,
                        "taxable": True,
                        "metadata": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for position, (item, amount) in enumerate(zip(items, amounts, strict=True))
                ],
            )
            if applied:
                await session.execute(
                    insert(RATES),
                    [
                        {
                            "account_id": account_id,
                            "invoice_id": invoice_id,
                            "line_item_id": None,
                            "kind": kind,
                            "position": position,
                            "rate_id": rate.public_id,
                            "rate": {"id": rate.public_id, "value": str(rate.value)},
                            "custom_amount": None,
                            "amount": amount,
                            "updated_at": now,
                        }
                        for (kind, position, rate), amount in zip(
                            applied, rate_amounts, strict=True
                        )
                    ],
                )
            await session.execute(
                select(CUSTOMERS).where(
                    CUSTOMERS.c.account_id == account_id, CUSTOMERS.c.id == customer.id
                )
            )
            credit = (await session.execute(_credit_query(customer.id))).all()
            answer = {
                "id": invoice_id,
                "number": number,
                "customer": {"id": customer.id, "name": customer.name, "credit": len(credit)},
                "subtotal": subtotal / 100,
                "total": total / 100,
                "balance": total / 100,
            }
            event_id = await session.scalar(
                insert(EVENTS)
                .values(
                    account_id=account_id,
                    type="invoice.created",
                    timestamp=now,
                    object_type="invoice",
                    object_id=str(invoice_id),
                    data={"object": answer},
                    user_id=-1,
                )
                .returning(EVENTS.c.id)
            )
            await session.execute(
                insert(ASSOCS),
                [
                    {
                        "event_id": event_id,
                        "object_type": "customer",
                        "object_id": str(customer.id),
                        "account_id": account_id,
                    },
                    {
                        "event_id": event_id,
                        "object_type": "invoice",
                        "object_id": str(invoice_id),
                        "account_id": account_id,
                    },
                ],
            )
            await session.commit()
        return _json(answer, 201)

    async def invoice_pdf(invoice_id: int, request: Request) -> Response:
        """B5. The render itself is the work being measured, so this uses tally's own
        template (`invoice.html`), `render_html` and `pdf_bytes` (WeasyPrint with the bundled
        fonts on the one PDF thread); only the view is filled in with the minimum.
        Imported here so that the other scenarios' memory figures do not carry them."""
        from tally.documents import format as fmt
        from tally.documents import views
        from tally.documents.render import pdf_bytes, render_html

        async with database.session(write=False) as session:
            account = await principal_account(session, request)
            if account is None:
                return _json({"error": "unauthorized"}, 401)
            row = (
                await session.execute(
                    select(INVOICES).where(
                        INVOICES.c.account_id == account.id, INVOICES.c.id == invoice_id
                    )
                )
            ).one()
            lines, rates = await invoice_parts(session, [row.id])
            customer = (
                await session.execute(
                    select(CUSTOMERS).where(
                        CUSTOMERS.c.account_id == account.id, CUSTOMERS.c.id == row.customer_id
                    )
                )
            ).one()
        currency = row.currency
        totals = [views.AmountRow("Subtotal", fmt.money(row.subtotal, currency))]
        totals += [
            views.AmountRow(
                f"{(r.rate or {}).get('name', r.kind)} ({(r.rate or {}).get('value')}%)",
                fmt.money(-r.amount if r.kind == "discount" else r.amount, currency),
            )
            for r in rates
        ]
        totals.append(views.AmountRow("Total", fmt.money(row.total, currency), strong=True))
        view = views.InvoiceView(
            page=views.Page(
                kind="invoice",
                title=f"Invoice {row.number}",
                lang="en",
                paper="letter",
                account=views.Party(name=account.name),
                links=(),
                status="open",
                status_label="Open",
                notice=None,
            ),
            number=row.number,
            customer=views.Party(name=customer.name, number=customer.number),
            ship_to=None,
            fields=(
                views.Field("Invoice number", row.number),
                views.Field("Invoice date", fmt.date_text(row.date, account.time_zone) or ""),
            ),
            lines=tuple(
                views.LineView(
                    name=li.name,
                    description=li.description or None,
                    quantity=str(li.quantity),
                    unit_cost=fmt.unit_money(li.unit_cost, currency),
                    amount=fmt.money(li.amount, currency),
                )
                for li in lines
            ),
            totals=tuple(totals),
            balance=fmt.money(row.balance, currency),
            notes=None,
        )
        html = render_html("invoice.html", page=view.page, view=view)
        pdf = await pdf_bytes(html)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{row.number}.pdf"'},
        )

    @app.get("/invoices/{invoice_id}")
    async def get_invoice(invoice_id: int, request: Request) -> Response:
        if "application/pdf" in request.headers.get("accept", ""):
            return await invoice_pdf(invoice_id, request)
        async with database.session(write=False) as session:
            account_id = await principal(session, request)
            if account_id is None:
                return _json({"error": "unauthorized"}, 401)
            row = (
                await session.execute(
                    select(INVOICES).where(
                        INVOICES.c.account_id == account_id, INVOICES.c.id == invoice_id
                    )
                )
            ).one()
            lines, rates = await invoice_parts(session, [row.id])
            customer = (
                await session.execute(
                    select(CUSTOMERS).where(
                        CUSTOMERS.c.account_id == account_id, CUSTOMERS.c.id == row.customer_id
                    )
                )
            ).one()
            credit = (await session.execute(_credit_query(customer.id))).all()
        data = invoice_json(row, lines, rates)
        if request.query_params.get("expand") == "customer":
            data["customer"] = {"id": customer.id, "name": customer.name, "credit": len(credit)}
        return _json(data)

    @app.get("/invoices")
    async def list_invoices(request: Request) -> Response:
        params = request.query_params
        per_page = int(params.get("per_page", 100))
        page = int(params.get("page", 1))
        async with database.session(write=False) as session:
            account_id = await principal(session, request)
            if account_id is None:
                return _json({"error": "unauthorized"}, 401)
            c = INVOICES.c
            where = [c.account_id == account_id]
            if "filter[customer]" in params:
                where.append(c.customer_id == int(params["filter[customer]"]))
            if params.get("filter[status]") == "not_sent":
                where += [~c.voided, ~c.draft, ~c.paid, ~c.pending, ~c.sent, ~c.viewed]
            total = await session.scalar(select(func.count()).select_from(INVOICES).where(*where))
            rows = (
                await session.execute(
                    select(INVOICES)
                    .where(*where)
                    .order_by(c.date.desc(), c.id.desc())
                    .limit(per_page)
                    .offset((page - 1) * per_page)
                )
            ).all()
            lines, rates = await invoice_parts(session, [r.id for r in rows]) if rows else ([], [])
        by_invoice: dict[int, tuple[list[Any], list[Any]]] = {r.id: ([], []) for r in rows}
        for line in lines:
            by_invoice[line.invoice_id][0].append(line)
        for rate in rates:
            by_invoice[rate.invoice_id][1].append(rate)
        data = [invoice_json(r, *by_invoice[r.id]) for r in rows]
        return Response(
            json.dumps(data, separators=(",", ":")),
            media_type="application/json",
            headers={"X-Total-Count": str(total)},
        )

    @app.post("/payments")
    async def create_payment(request: Request) -> Response:
        body = json.loads(await request.body())
        now = int(time.time())
        async with database.session(write=True) as session:
            account_id = await principal(session, request)
            if account_id is None:
                return _json({"error": "unauthorized"}, 401)
            customer = (
                await session.execute(
                    select(CUSTOMERS).where(
                        CUSTOMERS.c.account_id == account_id, CUSTOMERS.c.id == body["customer"]
                    )
                )
            ).one()
            amount = _cents(body["amount"])
            payment_id = await session.scalar(
                insert(PAYMENTS)
                .values(
                    account_id=account_id,
                    customer_id=customer.id,
                    date=now,
                    currency="usd",
                    amount=amount,
                    balance=0,
                    voided=False,
                    method=body.get("method", "other"),
                    source="keyed",
                    metadata={},
                    client_id=secrets.token_urlsafe(36),
                    created_at=now,
                    updated_at=now,
                )
                .returning(PAYMENTS.c.id)
            )
            split = body["applied_to"][0]
            locked = select(INVOICES).where(
                INVOICES.c.account_id == account_id, INVOICES.c.id == split["invoice"]
            )
            if not is_sqlite:
                locked = locked.with_for_update()
            invoice = (await session.execute(locked)).one()
            await invoice_parts(session, [invoice.id])
            await session.execute(
                select(CUSTOMERS).where(
                    CUSTOMERS.c.account_id == account_id, CUSTOMERS.c.id == invoice.customer_id
                )
            )
            await session.execute(_credit_query(customer.id))
            applied = _cents(split["amount"])
            if applied > invoice.balance:
                return _json({"error": "exceeds balance"}, 400)
            await session.execute(
                insert(TXNS).values(
                    account_id=account_id,
                    customer_id=customer.id,
                    invoice_id=invoice.id,
                    payment_id=payment_id,
                    date=now,
                    type="payment",
                    method=body.get("method", "other"),
                    status="succeeded",
                    currency="usd",
                    amount=applied,
                    metadata={},
                    client_id=secrets.token_urlsafe(36),
                    created_at=now,
                    updated_at=now,
                )
            )
            amount_paid = invoice.amount_paid + applied
            await session.execute(
                update(INVOICES).where(INVOICES.c.id == invoice.id).values(amount_paid=amount_paid)
            )
            await session.scalar(
                select(
                    select(TXNS.c.id)
                    .where(
                        TXNS.c.account_id == account_id,
                        TXNS.c.invoice_id == invoice.id,
                        TXNS.c.status == "pending",
                    )
                    .exists()
                )
            )
            balance = invoice.total - amount_paid
            await session.execute(
                update(INVOICES)
                .where(INVOICES.c.id == invoice.id)
                .values(balance=balance, paid=balance == 0)
            )
            await session.execute(_credit_query(customer.id))
            answer = {
                "id": payment_id,
                "customer": customer.id,
                "amount": amount / 100,
                "applied_to": [{"type": "invoice", "invoice": invoice.id, "amount": applied / 100}],
            }
            events = [
                ("invoice.updated", "invoice", invoice.id, {"id": invoice.id, "balance": balance}),
                ("payment.created", "payment", payment_id, answer),
            ]
            event_ids = []
            for kind, object_type, object_id, data in events:
                event_ids.append(
                    await session.scalar(
                        insert(EVENTS)
                        .values(
                            account_id=account_id,
                            type=kind,
                            timestamp=now,
                            object_type=object_type,
                            object_id=str(object_id),
                            data={"object": data},
                            user_id=-1,
                        )
                        .returning(EVENTS.c.id)
                    )
                )
            links = [(event_ids[0], "customer", customer.id), (event_ids[0], "invoice", invoice.id)]
            links += [
                (event_ids[1], "customer", customer.id),
                (event_ids[1], "invoice", invoice.id),
            ]
            links.append((event_ids[1], "payment", payment_id))
            await session.execute(
                insert(ASSOCS),
                [
                    {
                        "event_id": event_id,
                        "object_type": object_type,
                        "object_id": str(object_id),
                        "account_id": account_id,
                    }
                    for event_id, object_type, object_id in links
                ],
            )
            await session.commit()
        return _json(answer, 201)

    return app
