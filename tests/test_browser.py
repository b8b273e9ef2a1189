"""The hosted invoice page in a real browser (issue 5 acceptance; README C18, invoices.md S14).

Debian's Chromium, driven headless by Playwright with the system browser as executable
(Playwright never downloads a browser here). Screenshots of the page at desktop and phone
width land in `build/screenshots/` (or $SCREENSHOT_DIR) for a person to look at.

Skipped when Chromium or Playwright is missing, except where TALLY_REQUIRE_BROWSER is set
(.ci/run sets it), so CI can never pass by skipping.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.support import ROOT, ServerProcess, new_account
from tests.test_invoices import SEED_ITEMS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "build" / "screenshots"))
# What Chromium needs to start quietly as root in a sandbox with no network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _browser_missing()
    if reason is not None:
        if os.environ.get("TALLY_REQUIRE_BROWSER"):
            pytest.fail(f"browser test required but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Seeded:
    def __init__(self, server: ServerProcess, db_url: str) -> None:
        # Playwright's sync API keeps an event loop running on this thread; new_account runs
        # its own, so it gets a thread of its own.
        with ThreadPoolExecutor(1) as pool:
            account = pool.submit(new_account, db_url).result()
        self.http = httpx.Client(base_url=server.base_url, auth=(account.key, ""), timeout=30)
        customer = self.post("/customers", {"name": "Acme", "email": "billing@acmecorp.com"})
        self.invoice = self.post(
            "/invoices",
            {"customer": customer["id"], "items": SEED_ITEMS, "taxes": [{"amount": 3.85}]},
        )

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def invoice_now(self) -> dict[str, Any]:
        return dict(self.http.get(f"/invoices/{self.invoice['id']}").json())


@pytest.fixture
def seeded(server: ServerProcess, db_url: str) -> Iterator[Seeded]:
    seeded = Seeded(server, db_url)
    yield seeded
    seeded.http.close()


def test_view_invoice_page_shows_the_invoice_marks_it_viewed_and_downloads_the_pdf(
    browser: Any, seeded: Seeded, tmp_path: Path
) -> None:
    """C18.3/S14: the View Invoice link opens a page with every line and the total, opening
    it turns the invoice `viewed`, and its Download PDF link gives the invoice's PDF."""
    invoice = seeded.invoice
    assert invoice["status"] == "not_sent"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        page = context.new_page()
        response = page.goto(invoice["url"])
        assert response is not None and response.status == 200
        assert invoice["number"] in page.title()
        body = page.inner_text("body")
        for line in ("Copy paper, Case", "Delivery"):
            assert line in body
        for amount in ("$135.00", "$10.00", "$3.85", "$148.85"):
            assert amount in body
        assert page.locator("main").count() == 1
        assert page.locator("html").get_attribute("lang")
        assert page.locator("table th").count() >= 4

        assert seeded.invoice_now()["status"] == "viewed"  # S9/S14
        viewed = seeded.http.get("/invoices", params={"filter[viewed]": "true"}).json()
        assert [i["id"] for i in viewed] == [invoice["id"]]

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "invoice-desktop.png"), full_page=True)

        link = page.get_by_role("link", name="Download PDF")
        assert link.get_attribute("href") == invoice["pdf_url"]
        with page.expect_download() as download_info:
            link.click()
        saved = tmp_path / "invoice.pdf"
        download_info.value.save_as(saved)
        pdf = saved.read_bytes()
        assert pdf.startswith(b"%PDF-")
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert invoice["number"] in text
        assert "148.85" in text
    finally:
        context.close()


def test_invoice_page_fits_a_phone_screen(browser: Any, seeded: Seeded) -> None:
    """Responsive: at 390 px nothing scrolls sideways and the total is still on the page."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        page = context.new_page()
        page.goto(seeded.invoice["url"])
        assert "$148.85" in page.inner_text("body")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "invoice-phone.png"), full_page=True)
    finally:
        context.close()


def test_voided_and_unknown_pages(browser: Any, seeded: Seeded) -> None:
    """A voided invoice's old link says so; a wrong client_id is a plain 404 page."""
    url = seeded.invoice["url"]
    context = browser.new_context()
    try:
        page = context.new_page()
        missing = page.goto(url[:-4] + "xxxx")
        assert missing is not None and missing.status == 404
        assert seeded.invoice["number"] not in page.content()

        voided = seeded.http.post(f"/invoices/{seeded.invoice['id']}/void")
        assert voided.status_code == 200, voided.text
        assert voided.json()["url"] is None  # C18.4
        response = page.goto(url)
        assert response is not None and response.status == 200
        assert "void" in page.inner_text("body").lower()
        assert page.get_by_role("link", name="Pay").count() == 0
        page.screenshot(path=str(SCREENSHOTS / "invoice-voided.png"), full_page=True)
    finally:
        context.close()
