"""Item routes: decode, call one service function, respond.

Every route is served at `/items` and, for pre-2020 clients, at the alias `/catalog_items`
(items.md §1): the same handlers, so the responses are identical (`object: "item"`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.http.context import RequestContext, request_context
from tally.http.docs import body_doc, list_doc, one_doc
from tally.http.listing import read_list_query
from tally.http.validation import read_input
from tally.items import service
from tally.items.schemas import ItemInput, ItemOut, ItemUpdate

router = APIRouter(tags=["items"])
ITEMS = "/items"
ALIAS = "/catalog_items"  # documented as deprecated in OpenAPI


@router.post(
    ITEMS, status_code=201, **body_doc(ItemInput, required=("name",)), **one_doc(ItemOut, 201)
)
@router.post(
    ALIAS,
    status_code=201,
    deprecated=True,
    **body_doc(ItemInput, required=("name",)),
    **one_doc(ItemOut, 201),
)
async def create_item(request: Request, ctx: RequestContext = Depends(request_context)) -> Response:
    item = await service.create(ctx, await read_input(request, ItemInput))
    return await ctx.respond(201, await service.snapshot(ctx, item))


@router.get(ITEMS, **list_doc(ItemOut))
@router.get(ALIAS, deprecated=True, **list_doc(ItemOut))
async def list_items(request: Request, ctx: RequestContext = Depends(request_context)) -> Response:
    query = read_list_query(request)
    items, total = await service.list_items(ctx, query)
    return ctx.list_response(await service.snapshots(ctx, items), total, query)


@router.get(ITEMS + "/{item_id}", **one_doc(ItemOut))
@router.get(ALIAS + "/{item_id}", deprecated=True, **one_doc(ItemOut))
async def retrieve_item(item_id: str, ctx: RequestContext = Depends(request_context)) -> Response:
    item = await service.retrieve(ctx, item_id)
    return await ctx.respond(200, await service.snapshot(ctx, item))


@router.patch(ITEMS + "/{item_id}", **body_doc(ItemUpdate), **one_doc(ItemOut))
@router.patch(ALIAS + "/{item_id}", deprecated=True, **body_doc(ItemUpdate), **one_doc(ItemOut))
async def update_item(
    item_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await read_input(request, ItemUpdate)
    item = await service.update(ctx, item_id, data)
    return await ctx.respond(200, await service.snapshot(ctx, item))


@router.delete(ITEMS + "/{item_id}", status_code=204)
@router.delete(ALIAS + "/{item_id}", status_code=204, deprecated=True)
async def delete_item(item_id: str, ctx: RequestContext = Depends(request_context)) -> Response:
    await service.archive(ctx, item_id)
    return await ctx.respond(204)
