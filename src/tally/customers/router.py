"""Customer routes: decode, call one service function, respond."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.customers import service
from tally.customers.schemas import READ_ONLY_REJECTED, BalanceOut, CustomerInput, CustomerOut
from tally.http.context import RequestContext, parse_id, request_context
from tally.http.docs import body_doc, list_doc, one_doc
from tally.http.listing import read_list_query
from tally.http.validation import read_input

router = APIRouter(tags=["customers"])
OBJECT = "Customer"


async def _customer_input(request: Request) -> CustomerInput:
    return await read_input(request, CustomerInput, rejected=READ_ONLY_REJECTED, object_name=OBJECT)


@router.post(
    "/customers",
    status_code=201,
    **body_doc(CustomerInput, required=("name",)),
    **one_doc(CustomerOut, 201),
)
async def create_customer(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    customer = await service.create(ctx, await _customer_input(request))
    return await ctx.respond(201, await service.snapshot(ctx, customer))


@router.get("/customers", **list_doc(CustomerOut))
async def list_customers(
    request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    query = read_list_query(request)
    customers, total = await service.list_customers(ctx, query)
    return ctx.list_response(await service.render(ctx, customers), total, query)


@router.get("/customers/{customer_id}", **one_doc(CustomerOut))
async def retrieve_customer(
    customer_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    customer = await service.retrieve(ctx, parse_id(customer_id, OBJECT))
    return await ctx.respond(200, await service.snapshot(ctx, customer))


@router.patch("/customers/{customer_id}", **body_doc(CustomerInput), **one_doc(CustomerOut))
async def update_customer(
    customer_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await _customer_input(request)
    customer = await service.update(ctx, parse_id(customer_id, OBJECT), data)
    return await ctx.respond(200, await service.snapshot(ctx, customer))


@router.delete("/customers/{customer_id}", status_code=204)
async def delete_customer(
    customer_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    await service.delete_customer(ctx, parse_id(customer_id, OBJECT))
    return await ctx.respond(204)


@router.get("/customers/{customer_id}/balance", **one_doc(BalanceOut))
async def customer_balance(
    customer_id: str, currency: str | None = None, ctx: RequestContext = Depends(request_context)
) -> Response:
    result = await service.balance(ctx, parse_id(customer_id, OBJECT), currency)
    return await ctx.respond(200, result)
