"""The application factory: settings in, ASGI app out."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.responses import Response

import tally
from tally.clock import Clock
from tally.config import Settings
from tally.contacts.router import router as contacts_router
from tally.coupons.router import router as coupons_router
from tally.credit_balances.router import router as credit_balances_router
from tally.customers.router import router as customers_router
from tally.db import Database
from tally.emails.router import router as emails_router
from tally.events.router import router as events_router
from tally.http.auth import ApiKeyAuth
from tally.http.docs import install_openapi
from tally.http.errors import install_error_handlers
from tally.http.idempotency import IdempotencyKeys
from tally.http.middleware import BodySizeLimit, WireConventions
from tally.http.ratelimit import ConcurrencyLimit
from tally.invoices.router import router as invoices_router
from tally.items.router import router as items_router
from tally.jobs.catalog import HANDLERS, PERIODIC
from tally.jobs.worker import Worker
from tally.jsonenc import dumps
from tally.migrate import check_schema
from tally.payments.router import router as payments_router
from tally.portal.router import router as portal_router
from tally.tax_rates.router import router as tax_rates_router
from tally.testhooks.router import router as test_router
from tally.transactions.router import router as transactions_router

DESCRIPTION = (
    "A self-hostable billing server that speaks the Invoiced API. Authenticate with HTTP "
    "Basic auth: the API key is the username, the password is empty."
)


def create_app(settings: Settings | None = None, *, check_migrations: bool = True) -> FastAPI:
    settings = settings or Settings()
    database = Database(settings)
    clock = Clock()
    worker = Worker(database, clock, settings, HANDLERS, PERIODIC)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if check_migrations:
            await check_schema(database.engine, settings.database_url)
        # What startup built (modules, routes, templates) lives as long as the process: keep
        # it out of every garbage collection's scan.
        gc.freeze()
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop)) if settings.worker == "embedded" else None
        yield
        stop.set()
        if running is not None:
            try:
                await asyncio.wait_for(running, timeout=10)
            except TimeoutError:  # a job still talking to a slow SMTP server
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
        await database.dispose()

    app = FastAPI(
        title="Tally",
        version=tally.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.clock = clock
    app.state.worker = worker

    @app.get("/health", include_in_schema=False)
    async def health() -> Response:
        return Response(dumps({"status": "ok"}), media_type="application/json")

    app.include_router(customers_router)
    app.include_router(contacts_router)
    app.include_router(events_router)
    app.include_router(items_router)
    app.include_router(coupons_router)
    app.include_router(tax_rates_router)
    app.include_router(invoices_router)
    app.include_router(transactions_router)
    app.include_router(payments_router)
    app.include_router(credit_balances_router)
    app.include_router(emails_router)
    app.include_router(portal_router)
    if settings.test_mode:
        app.include_router(test_router)

    install_error_handlers(app)
    install_openapi(app)
    # Added innermost first: each add_middleware call wraps everything added before it.
    app.add_middleware(
        IdempotencyKeys,
        database=database,
        wait_seconds=settings.idempotency_wait_seconds,
        lease_seconds=settings.idempotency_lease_seconds,
    )
    app.add_middleware(ConcurrencyLimit, limit=settings.effective_rate_limit)
    app.add_middleware(ApiKeyAuth, database=database)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        read_timeout=settings.body_read_timeout_seconds,
    )
    app.add_middleware(WireConventions)
    return app


def create_app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory` and worker processes."""
    return create_app(Settings())
