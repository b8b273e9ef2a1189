"""Transaction routes: decode, call one service function, respond."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.documents import transaction_receipt_document
from tally.documents.http import document_pdf_response, pdf_one_doc, wants_pdf
from tally.http.context import RequestContext, parse_id, request_context
from tally.http.docs import body_doc, list_doc, one_doc
from tally.http.listing import read_expand, read_list_query
from tally.http.validation import read_input
from tally.models import Transaction
from tally.transactions import service
from tally.transactions.schemas import RefundInput, TransactionInput, TransactionOut

router = APIRouter(tags=["transactions"])
OBJECT = "Transaction"


async def _one(ctx: RequestContext, transaction: Transaction, status: int) -> Response:
    expand = read_expand(ctx.request.query_params)
    return await ctx.respond(status, (await service.render(ctx, [transaction], expand))[0])


@router.post(
    "/transactions", status_code=201, **body_doc(TransactionInput), **one_doc(TransactionOut, 201)
)
async def create_transaction(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    transaction = await service.create(ctx, await read_input(request, TransactionInput))
    return await _one(ctx, transaction, 201)


@router.get("/transactions", **list_doc(TransactionOut))
async def list_transactions(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    query = read_list_query(request)
    transactions, total = await service.list_transactions(ctx, query)
    items = await service.render(ctx, transactions, read_expand(request.query_params))
    return ctx.list_response(items, total, query)


@router.get("/transactions/{transaction_id}", **pdf_one_doc(TransactionOut))
async def retrieve_transaction(
    transaction_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    transaction = await service.retrieve(ctx, parse_id(transaction_id, OBJECT))
    if wants_pdf(ctx.request):  # C17: the receipt (a payment's split shows its payment's)
        return await document_pdf_response(await transaction_receipt_document(ctx, transaction))
    return await _one(ctx, transaction, 200)


@router.patch(
    "/transactions/{transaction_id}", **body_doc(TransactionInput), **one_doc(TransactionOut)
)
async def update_transaction(
    transaction_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await read_input(request, TransactionInput)
    transaction = await service.update(ctx, parse_id(transaction_id, OBJECT), data)
    return await _one(ctx, transaction, 200)


@router.delete("/transactions/{transaction_id}", status_code=204)
async def delete_transaction(
    transaction_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    await service.delete_transaction(ctx, parse_id(transaction_id, OBJECT))
    return await ctx.respond(204)


@router.post(
    "/transactions/{transaction_id}/refunds",
    status_code=201,
    **body_doc(RefundInput),
    **one_doc(TransactionOut, 201),
)
async def refund_transaction(
    transaction_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await read_input(request, RefundInput)
    refund = await service.refund(ctx, parse_id(transaction_id, OBJECT), data)
    return await _one(ctx, refund, 201)
