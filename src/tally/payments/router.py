"""Payment routes: decode, call one service function, respond."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.documents import payment_receipt_document
from tally.documents.http import document_pdf_response, pdf_one_doc, wants_pdf
from tally.http.context import RequestContext, parse_id, request_context
from tally.http.docs import body_doc, list_doc, one_doc
from tally.http.listing import read_expand, read_list_query
from tally.http.validation import read_input
from tally.models import Payment
from tally.payments import service
from tally.payments.schemas import PaymentInput, PaymentOut

router = APIRouter(tags=["payments"])
OBJECT = "Payment"


def _include_applied(request: Request) -> bool:
    """PY17: `include=applied_to` (a comma-separated list, like expand)."""
    raw = request.query_params.get("include") or ""
    return "applied_to" in {part.strip() for part in raw.split(",")}


async def _one(ctx: RequestContext, payment: Payment, status: int) -> Response:
    rendered = await service.render(
        ctx,
        [payment],
        include_applied=_include_applied(ctx.request),
        expand=read_expand(ctx.request.query_params),
    )
    return await ctx.respond(status, rendered[0])


@router.post(
    "/payments",
    status_code=201,
    **body_doc(PaymentInput, required=("amount",)),
    **one_doc(PaymentOut, 201),
)
async def create_payment(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    payment = await service.create(ctx, await read_input(request, PaymentInput))
    return await _one(ctx, payment, 201)


@router.get("/payments", **list_doc(PaymentOut))
async def list_payments(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    query = read_list_query(request)
    payments, total = await service.list_payments(ctx, query)
    items = await service.render(
        ctx,
        payments,
        include_applied=_include_applied(request),
        expand=read_expand(request.query_params),
    )
    return ctx.list_response(items, total, query)


@router.get("/payments/{payment_id}", **pdf_one_doc(PaymentOut))
async def retrieve_payment(
    payment_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    payment = await service.retrieve(ctx, parse_id(payment_id, OBJECT))
    if wants_pdf(ctx.request):  # C17: the receipt
        return await document_pdf_response(await payment_receipt_document(ctx, payment))
    return await _one(ctx, payment, 200)


@router.patch("/payments/{payment_id}", **body_doc(PaymentInput), **one_doc(PaymentOut))
async def update_payment(
    payment_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await read_input(request, PaymentInput)
    payment = await service.update(ctx, parse_id(payment_id, OBJECT), data)
    return await _one(ctx, payment, 200)


@router.delete("/payments/{payment_id}", **one_doc(PaymentOut))
async def void_payment(payment_id: str, ctx: RequestContext = Depends(request_context)) -> Response:
    """PY16: DELETE voids the payment and answers 200 with it."""
    payment = await service.void(ctx, parse_id(payment_id, OBJECT))
    return await _one(ctx, payment, 200)
