"""The HTTP side of documents: PDF content negotiation on API reads (C17.1-2), PDF and page
responses, and the headers every customer-facing page carries (C18)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from tally.documents import Document, render_pdf
from tally.documents.render import CONTENT_SECURITY_POLICY
from tally.http.docs import one_doc

PDF = "application/pdf"
# Customer-facing responses: never cached (they carry live balances behind capability URLs),
# never indexed. nosniff, no framing and no referrer come from WireConventions.
PORTAL_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
# Pages only. NOTE: a PDF gets no CSP: browsers show a PDF inside a synthetic page that the
# PDF's own CSP would apply to, and `default-src 'none'` breaks Chrome's viewer.
PAGE_HEADERS = {**PORTAL_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY}


def wants_pdf(request: Request) -> bool:
    """C17.2: `application/pdf` anywhere in the Accept list (membership, not priority)."""
    for header in request.headers.getlist("accept"):
        for part in header.split(","):
            if part.split(";", 1)[0].strip().lower() == PDF:
                return True
    return False


def pdf_response(pdf: bytes, filename: str, *, portal: bool = False) -> Response:
    headers = {"Content-Disposition": f'inline; filename="{filename}"'}
    if portal:
        headers.update(PORTAL_HEADERS)
    return Response(pdf, status_code=200, media_type=PDF, headers=headers)


async def document_pdf_response(document: Document, *, portal: bool = False) -> Response:
    return pdf_response(await render_pdf(document), document.filename, portal=portal)


def page_response(html: str, status_code: int = 200) -> Response:
    return Response(
        html, status_code=status_code, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS
    )


def pdf_one_doc(model: type[BaseModel]) -> dict[str, Any]:
    """`one_doc` for a GET that also answers `Accept: application/pdf` with the document."""
    doc = one_doc(model)
    responses = dict(doc["responses"])
    responses[200] = {
        **responses[200],
        "description": "The object as JSON, or its PDF when the Accept header lists "
        "application/pdf (C17)",
        "content": {PDF: {"schema": {"type": "string", "format": "binary"}}},
    }
    return {**doc, "responses": responses}
