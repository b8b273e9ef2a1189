"""Tax rate routes: decode, call one service function, respond."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.http.context import RequestContext, request_context
from tally.http.docs import body_doc, list_doc, one_doc
from tally.http.listing import read_list_query
from tally.http.validation import read_input
from tally.tax_rates import service
from tally.tax_rates.schemas import TaxRateInput, TaxRateOut, TaxRateUpdate, tax_rate_json

router = APIRouter(tags=["tax rates"])


@router.post(
    "/tax_rates",
    status_code=201,
    **body_doc(TaxRateInput, required=("name",)),
    **one_doc(TaxRateOut, 201),
)
async def create_tax_rate(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    rate = await service.create(ctx, await read_input(request, TaxRateInput))
    return await ctx.respond(201, tax_rate_json(rate))


@router.get("/tax_rates", **list_doc(TaxRateOut))
async def list_tax_rates(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    query = read_list_query(request)
    rates, total = await service.list_tax_rates(ctx, query)
    return ctx.list_response([tax_rate_json(r) for r in rates], total, query)


@router.get("/tax_rates/{tax_rate_id}", **one_doc(TaxRateOut))
async def retrieve_tax_rate(
    tax_rate_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    rate = await service.retrieve(ctx, tax_rate_id)
    return await ctx.respond(200, tax_rate_json(rate))


@router.patch("/tax_rates/{tax_rate_id}", **body_doc(TaxRateUpdate), **one_doc(TaxRateOut))
async def update_tax_rate(
    tax_rate_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await read_input(request, TaxRateUpdate)
    rate = await service.update(ctx, tax_rate_id, data)
    return await ctx.respond(200, tax_rate_json(rate))


@router.delete("/tax_rates/{tax_rate_id}", status_code=204)
async def delete_tax_rate(
    tax_rate_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    await service.archive(ctx, tax_rate_id)
    return await ctx.respond(204)
