"""Invoice and line-item routes: decode, call one service function, respond."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.documents import invoice_document_from
from tally.documents.http import document_pdf_response, pdf_one_doc, wants_pdf
from tally.domain.errors import DomainError
from tally.emails.service import send_invoice
from tally.http.context import RequestContext, parse_id, request_context
from tally.http.docs import body_doc, list_doc, one_doc
from tally.http.listing import read_expand, read_list_query
from tally.http.validation import read_input
from tally.invoices import service
from tally.invoices.document import Document, DocumentLike, LineState
from tally.invoices.schemas import (
    READ_ONLY_REJECTED,
    InvoiceInput,
    InvoiceOut,
    LineInput,
    LineOut,
    line_json,
)
from tally.jsonenc import money_fragment

router = APIRouter(tags=["invoices"])
OBJECT = "Invoice"
LINES = "/invoices/{invoice_id}/line_items"


async def _invoice_input(request: Request) -> InvoiceInput:
    return await read_input(request, InvoiceInput, rejected=READ_ONLY_REJECTED, object_name=OBJECT)


async def _one(ctx: RequestContext, document: DocumentLike, status: int) -> Response:
    rendered = await service.render(
        ctx, [document], read_expand(ctx.request.query_params), money=money_fragment
    )
    return await ctx.respond(status, rendered[0])


@router.post(
    "/invoices",
    status_code=201,
    **body_doc(InvoiceInput, required=("customer",)),
    **one_doc(InvoiceOut, 201),
)
async def create_invoice(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await _invoice_input(request)
    document = await service.create(ctx, data)
    if data.send:
        # EM11: an empty-body send once saved; a refused send (no recipients, ...) leaves
        # the invoice created and records no email. Refusals come before any write.
        with contextlib.suppress(DomainError):
            await send_invoice(ctx, document.invoice.id, {})
    return await _one(ctx, document, 201)


@router.get("/invoices", **list_doc(InvoiceOut))
async def list_invoices(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    query = read_list_query(request)
    documents, total = await service.list_invoices(ctx, query)
    items = await service.render(
        ctx, documents, read_expand(request.query_params), money=money_fragment
    )
    return ctx.list_response(items, total, query)


@router.get("/invoices/{invoice_id}", **pdf_one_doc(InvoiceOut))
async def retrieve_invoice(
    invoice_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    if wants_pdf(ctx.request):  # C17, U3: drafts and voided invoices too
        document = await service.retrieve(ctx, parse_id(invoice_id, OBJECT))
        return await document_pdf_response(await invoice_document_from(ctx, document))
    return await _one(ctx, await service.retrieve_view(ctx, parse_id(invoice_id, OBJECT)), 200)


@router.patch("/invoices/{invoice_id}", **body_doc(InvoiceInput), **one_doc(InvoiceOut))
async def update_invoice(
    invoice_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await _invoice_input(request)
    document = await service.update(ctx, parse_id(invoice_id, OBJECT), data)
    return await _one(ctx, document, 200)


@router.delete("/invoices/{invoice_id}", status_code=204)
async def delete_invoice(
    invoice_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    await service.delete_invoice(ctx, parse_id(invoice_id, OBJECT))
    return await ctx.respond(204)


@router.post("/invoices/{invoice_id}/void", **one_doc(InvoiceOut))
async def void_invoice(invoice_id: str, ctx: RequestContext = Depends(request_context)) -> Response:
    document = await service.void(ctx, parse_id(invoice_id, OBJECT))
    return await _one(ctx, document, 200)


def _line(document: Document, state: LineState) -> dict[str, object]:
    return line_json(state.row, state.rates, document.exponent, money=money_fragment)


@router.get(LINES, **list_doc(LineOut))
async def list_line_items(
    invoice_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    query = read_list_query(request)
    document, lines, total = await service.list_lines(ctx, parse_id(invoice_id, OBJECT), query)
    return ctx.list_response([_line(document, s) for s in lines], total, query)


@router.post(LINES, status_code=201, **body_doc(LineInput), **one_doc(LineOut, 201))
async def create_line_item(
    invoice_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await read_input(request, LineInput)
    document, state = await service.create_line(ctx, parse_id(invoice_id, OBJECT), data)
    return await ctx.respond(201, _line(document, state))


@router.get(LINES + "/{line_id}", **one_doc(LineOut))
async def retrieve_line_item(
    invoice_id: str, line_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    document, state = await service.retrieve_line(
        ctx, parse_id(invoice_id, OBJECT), parse_id(line_id, "Line item")
    )
    return await ctx.respond(200, _line(document, state))


@router.patch(LINES + "/{line_id}", **body_doc(LineInput), **one_doc(LineOut))
async def update_line_item(
    invoice_id: str, line_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await read_input(request, LineInput)
    document, state = await service.update_line(
        ctx, parse_id(invoice_id, OBJECT), parse_id(line_id, "Line item"), data
    )
    return await ctx.respond(200, _line(document, state))


@router.delete(LINES + "/{line_id}", status_code=204)
async def delete_line_item(
    invoice_id: str, line_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    await service.delete_line(ctx, parse_id(invoice_id, OBJECT), parse_id(line_id, "Line item"))
    return await ctx.respond(204)
