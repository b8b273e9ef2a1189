"""Coupon routes: decode, call one service function, respond."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.coupons import service
from tally.coupons.schemas import CouponInput, CouponOut, CouponUpdate, coupon_json
from tally.http.context import RequestContext, request_context
from tally.http.docs import body_doc, list_doc, one_doc
from tally.http.listing import read_list_query
from tally.http.validation import read_input

router = APIRouter(tags=["coupons"])


@router.post(
    "/coupons",
    status_code=201,
    **body_doc(CouponInput, required=("name",)),
    **one_doc(CouponOut, 201),
)
async def create_coupon(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    coupon = await service.create(ctx, await read_input(request, CouponInput))
    return await ctx.respond(201, coupon_json(coupon))


@router.get("/coupons", **list_doc(CouponOut))
async def list_coupons(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    query = read_list_query(request)
    coupons, total = await service.list_coupons(ctx, query)
    return ctx.list_response([coupon_json(c) for c in coupons], total, query)


@router.get("/coupons/{coupon_id}", **one_doc(CouponOut))
async def retrieve_coupon(
    coupon_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    coupon = await service.retrieve(ctx, coupon_id)
    return await ctx.respond(200, coupon_json(coupon))


@router.patch("/coupons/{coupon_id}", **body_doc(CouponUpdate), **one_doc(CouponOut))
async def update_coupon(
    coupon_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await read_input(request, CouponUpdate)
    coupon = await service.update(ctx, coupon_id, data)
    return await ctx.respond(200, coupon_json(coupon))


@router.delete("/coupons/{coupon_id}", status_code=204)
async def delete_coupon(coupon_id: str, ctx: RequestContext = Depends(request_context)) -> Response:
    await service.archive(ctx, coupon_id)
    return await ctx.respond(204)
