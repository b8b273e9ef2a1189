"""Templates to HTML, HTML to PDF (README C17, C18).

One Jinja environment (autoescaped, strict), one inline stylesheet whose SHA-256 the hosted
pages' Content-Security-Policy allows, and one thread that runs WeasyPrint.

PDF speed (bench/pdf_render.py):
- WeasyPrint subsets every font it embeds, and subsetting the system's full DejaVu Sans costs
  more than laying out a short invoice. The package ships Latin subsets of DejaVu Sans
  (scripts/subset_fonts, ~35 KB each); subsetting those again is cheap, and measured faster
  than embedding them whole (`full_fonts=True`), with PDFs a third of the size. Text outside
  them falls back to the system fonts, subset as usual.
- The stylesheet is parsed once per thread, not once per document (see `write_pdf`).
- Print rules avoid flex and grid boxes and auto table layout (fixed column widths): those
  measured two to three times slower to lay out.
- No cyclic garbage collection during a render (see `write_pdf`).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import gc
import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

PACKAGE_DIR = Path(__file__).resolve().parent
FONTS_DIR = PACKAGE_DIR / "fonts"
FONT_FILES = {"normal": FONTS_DIR / "TallySans.ttf", "bold": FONTS_DIR / "TallySans-Bold.ttf"}

ENVIRONMENT = Environment(
    loader=PackageLoader("tally", "documents/templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# The one stylesheet, inlined in every page exactly as read (the CSP hash covers these bytes).
STYLESHEET = (PACKAGE_DIR / "templates" / "styles.css").read_text(encoding="utf-8")
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLESHEET.encode("utf-8")).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_INLINE_STYLE = f"<style>{STYLESHEET}</style>"
# Added for WeasyPrint only (pages never reference local files, and their CSP would refuse
# them): the bundled fonts, and no links bar on paper.
PDF_STYLESHEET = "\n".join(
    [
        *(
            f"@font-face {{ font-family: TallySans; font-weight: {weight}; "
            f"src: url({path.as_uri()}); }}"
            for weight, path in FONT_FILES.items()
        ),
        # !important: should a page keep its own inline stylesheet (author origin), these
        # user-origin rules still win.
        ".actions, .visually-hidden { display: none !important; }",
    ]
)


# Our own file, never input: the one value inserted unescaped.
_STYLE_MARKUP = Markup(STYLESHEET)  # noqa: S704


def render_html(template: str, **values: Any) -> str:
    """A full standalone page from `template` (every other value autoescaped)."""
    return ENVIRONMENT.get_template(template).render(stylesheet=_STYLE_MARKUP, **values)


# ---------------------------------------------------------------------------- PDF

# WeasyPrint is not thread-safe; every PDF is made on this one thread, off the event loop.
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tally-pdf")
# Per thread (tests and the bench may call write_pdf from other threads): the font
# configuration, the parsed stylesheets and the URL fetcher. A plain dict, emptied at exit
# while WeasyPrint's modules are still there (FontConfiguration.__del__ needs them).
_TOOLS: dict[int, tuple[Any, list[Any], Any]] = {}
atexit.register(_TOOLS.clear)


def _fetcher() -> Any:
    """A URL fetcher that serves the bundled fonts and refuses everything else: no network,
    no other files, whatever a document contains."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    fonts = {path.as_uri(): path.read_bytes() for path in FONT_FILES.values()}

    class BundledFontsOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            body = fonts.get(url)
            if body is None:
                raise ValueError(f"Refusing to fetch {url!r} while rendering a PDF")
            return URLFetcherResponse(url, body=body, headers={"Content-Type": "font/ttf"})

    return BundledFontsOnly()


class _ScreenRulesFilter(logging.Filter):
    """WeasyPrint cannot read media queries and warns on every page about the stylesheet's
    phone layout (`@media screen and (...)`), which is for browsers anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("media type" in message and "max-width" in message)


def _tools() -> tuple[Any, list[Any], Any]:
    """This thread's FontConfiguration, parsed stylesheets and URL fetcher, made once."""
    tools = _TOOLS.get(threading.get_ident())
    if tools is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        logging.getLogger("weasyprint").addFilter(_ScreenRulesFilter())
        fetcher = _fetcher()
        font_config = FontConfiguration()
        stylesheets = [
            CSS(string=text, font_config=font_config, url_fetcher=fetcher)
            for text in (STYLESHEET, PDF_STYLESHEET)
        ]
        tools = (font_config, stylesheets, fetcher)
        _TOOLS[threading.get_ident()] = tools
    return tools


def write_pdf(html: str) -> bytes:
    """HTML to PDF bytes, synchronously (call it on the PDF thread: see `pdf_bytes`)."""
    from weasyprint import HTML

    font_config, stylesheets, fetcher = _tools()
    # Parsing the stylesheet is a third of a short page's time: the page's inline copy is
    # swapped for the one parsed once (same rules; user-origin, but nothing else competes).
    html = html.replace(_INLINE_STYLE, "", 1)
    # NOTE: no cyclic GC during a render. WeasyPrint makes ~100k short-lived objects (box
    # trees full of cycles); with the collector on, they get promoted and rescanned, and a
    # full collection now and then doubles a render (p95 ~190 ms against ~120 ms for a 10-line
    # invoice). Off, they all stay young and one young-generation pass frees them, here on
    # the PDF thread rather than wherever the next allocation happens.
    collecting = gc.isenabled()
    gc.disable()
    try:
        pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(
            stylesheets=stylesheets,
            font_config=font_config,
        )
    finally:
        if collecting:
            gc.enable()
            gc.collect(0)
    return pdf


async def pdf_bytes(html: str) -> bytes:
    """`write_pdf` on the dedicated PDF thread, so the event loop never blocks on it."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_EXECUTOR, write_pdf, html)
