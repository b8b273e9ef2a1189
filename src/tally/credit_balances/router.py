"""Credit balance adjustment routes: decode, call one service function, respond."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.credit_balances import service
from tally.credit_balances.schemas import AdjustmentInput, AdjustmentOut, adjustment_json
from tally.http.context import RequestContext, parse_id, request_context
from tally.http.docs import body_doc, list_doc, one_doc
from tally.http.listing import read_list_query
from tally.http.validation import read_input

router = APIRouter(tags=["credit balance adjustments"])
OBJECT = "Credit balance adjustment"
PATH = "/credit_balance_adjustments"


@router.post(
    PATH,
    status_code=201,
    **body_doc(AdjustmentInput, required=("customer", "amount")),
    **one_doc(AdjustmentOut, 201),
)
async def create_adjustment(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    row = await service.create(ctx, await read_input(request, AdjustmentInput))
    return await ctx.respond(201, adjustment_json(row))


@router.get(PATH, **list_doc(AdjustmentOut))
async def list_adjustments(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    query = read_list_query(request)
    rows, total = await service.list_adjustments(ctx, query)
    return ctx.list_response([adjustment_json(row) for row in rows], total, query)


@router.get(PATH + "/{adjustment_id}", **one_doc(AdjustmentOut))
async def retrieve_adjustment(
    adjustment_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    row = await service.retrieve(ctx, parse_id(adjustment_id, OBJECT))
    return await ctx.respond(200, adjustment_json(row))


@router.patch(PATH + "/{adjustment_id}", **body_doc(AdjustmentInput), **one_doc(AdjustmentOut))
async def update_adjustment(
    adjustment_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await read_input(request, AdjustmentInput)
    row = await service.update(ctx, parse_id(adjustment_id, OBJECT), data)
    return await ctx.respond(200, adjustment_json(row))


@router.delete(PATH + "/{adjustment_id}", status_code=204)
async def delete_adjustment(
    adjustment_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    await service.delete_adjustment(ctx, parse_id(adjustment_id, OBJECT))
    return await ctx.respond(204)
