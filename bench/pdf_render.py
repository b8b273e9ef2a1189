"""PDF render bench (issue 5): how long an invoice takes to become a page and a PDF.

Seeds a throwaway SQLite database through the app (TestClient): a 10-line invoice with a
5 % coupon and two tax rates (one of them on a line), and a 200-line invoice. Then, in one
process, after a warm-up, it renders each N times and prints mean / p50 / p95 in ms for:

  html       load the invoice (lines, rates, customer) and render the page template
  html+pdf   the same, then `render_pdf` (WeasyPrint on the dedicated PDF thread)

plus the PDF's size and page count, and the process CPU time per render (all threads;
steadier than wall time on a shared machine). A third row times the PDF alone with
WeasyPrint's defaults (system fonts, stylesheet parsed per document) for comparison
(`--no-baseline` skips it).

Usage (from the repository root):
    .venv/bin/python bench/pdf_render.py [-n 50] [--warmup 5]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import new_account, prepare_database  # noqa: E402

from tally.app import create_app  # noqa: E402
from tally.config import Settings  # noqa: E402
from tally.context import Context  # noqa: E402
from tally.db import Database  # noqa: E402
from tally.documents import invoice_document, render_pdf  # noqa: E402
from tally.models import Account, Invoice  # noqa: E402


def seed(url: str) -> tuple[int, int, int]:
    """The account id and the ids of the 10-line and the 200-line invoices."""
    account = new_account(url)
    app = create_app(Settings(database_url=url, test_mode=True))
    auth = (account.key, "")
    with TestClient(app, base_url="http://localhost:8000") as http:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            r = http.post(path, json=body, auth=auth)
            assert r.status_code == 201, r.text
            result: dict[str, Any] = r.json()
            return result

        customer = post(
            "/customers",
            {
                "name": "Acme Corporation",
                "email": "billing@acmecorp.com",
                "payment_terms": "NET 30",
                "address1": "1 Main Street",
                "city": "Austin",
                "state": "TX",
                "postal_code": "78701",
            },
        )
        post("/coupons", {"id": "spring", "name": "Spring sale", "value": 5, "is_percent": True})
        post("/tax_rates", {"id": "state", "name": "State tax", "value": 6.25})
        post("/tax_rates", {"id": "city", "name": "City tax", "value": 2})
        lines = [
            {
                "name": f"Product {n}",
                "description": "Standard service, billed monthly",
                "quantity": n,
                "unit_cost": f"{19.99 + n:.2f}",
                **({"taxes": ["city"]} if n == 1 else {}),
            }
            for n in range(1, 11)
        ]
        small = post(
            "/invoices",
            {
                "customer": customer["id"],
                "items": lines,
                "discounts": ["spring"],
                "taxes": ["state"],
                "purchase_order": "PO-1234",
                "notes": "Thank you for your business.",
            },
        )
        big_lines = [
            {
                "name": f"Line {n}",
                "description": "Item",
                "quantity": 1,
                "unit_cost": f"{1 + n / 100:.2f}",
            }
            for n in range(200)
        ]
        big = post(
            "/invoices",
            {"customer": customer["id"], "items": big_lines, "taxes": ["state"]},
        )
    return account.id, small["id"], big["id"]


def stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"mean {statistics.fmean(ordered):7.1f}  p50 {statistics.median(ordered):7.1f}  "
        f"p95 {p95:7.1f}"
    )


async def timed(fn: Callable[[], Awaitable[Any]], n: int, warmup: int) -> str:
    """Wall-clock mean/p50/p95, and the process's CPU time per call (all threads): the
    latter is what the render costs when the machine is busy with other work."""
    for _ in range(warmup):
        await fn()
    samples = []
    cpu_started = time.process_time()
    for _ in range(n):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    cpu = (time.process_time() - cpu_started) * 1000 / n
    return f"{stats(samples)}  cpu {cpu:7.1f}"


def baseline_pdf(html: str) -> bytes:
    """WeasyPrint's defaults: system fonts, subset for every document."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


async def run(
    url: str, account_id: int, ids: dict[str, int], n: int, warmup: int, base: bool
) -> None:
    import pypdf

    database = Database(Settings(database_url=url))
    try:
        async with database.session(write=False) as session:
            account = await session.get(Account, account_id)
            assert account is not None
            ctx = Context(
                session=session,
                account=account,
                now=int(time.time()),
                public_base_url="http://localhost:8000/portal",
            )
            for label, invoice_id in ids.items():
                invoice = await session.scalar(select(Invoice).where(Invoice.id == invoice_id))
                assert invoice is not None

                async def html_only(invoice: Invoice = invoice) -> Any:
                    return await invoice_document(ctx, invoice)

                async def with_pdf(invoice: Invoice = invoice) -> bytes:
                    return await render_pdf(await invoice_document(ctx, invoice))

                runs = n if label.startswith("10") else max(5, n // 5)
                pdf = await with_pdf()
                pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
                print(f"{label}: PDF {len(pdf) / 1024:.1f} KB, {pages} page(s), {runs} runs")
                print(f"  html      {await timed(html_only, runs, warmup)}")
                print(f"  html+pdf  {await timed(with_pdf, runs, warmup)}")
                if base:
                    document = await html_only()
                    loop = asyncio.get_running_loop()

                    async def default_pdf(html: str = document.html, loop: Any = loop) -> bytes:
                        return await loop.run_in_executor(None, baseline_pdf, html)

                    size = len(await default_pdf())
                    default = await timed(default_pdf, max(3, runs // 5), 1)
                    print(f"  pdf only, WeasyPrint defaults ({size / 1024:.0f} KB): {default}")
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=50, help="timed renders of the 10-line invoice")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/bench.db"
        prepare_database(url)
        account_id, small, big = seed(url)
        ids = {"10-line invoice": small, "200-line invoice": big}
        asyncio.run(run(url, account_id, ids, args.n, args.warmup, not args.no_baseline))


if __name__ == "__main__":
    main()
