"""Contact routes, nested under their customer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.contacts import service
from tally.contacts.schemas import ContactInput, ContactOut, contact_json
from tally.http.context import RequestContext, parse_id, request_context
from tally.http.docs import body_doc, list_doc, one_doc
from tally.http.listing import read_list_query
from tally.http.validation import read_input

router = APIRouter(tags=["contacts"])
BASE = "/customers/{customer_id}/contacts"


def _ids(customer_id: str, contact_id: str) -> tuple[int, int]:
    return parse_id(customer_id, "Customer"), parse_id(contact_id, "Contact")


@router.post(
    BASE,
    status_code=201,
    **body_doc(ContactInput, required=("name",)),
    **one_doc(ContactOut, 201),
)
async def create_contact(
    customer_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    data = await read_input(request, ContactInput)
    contact = await service.create(ctx, parse_id(customer_id, "Customer"), data)
    return await ctx.respond(201, contact_json(contact))


@router.get(BASE, **list_doc(ContactOut))
async def list_contacts(
    customer_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    query = read_list_query(request)
    contacts, total = await service.list_contacts(ctx, parse_id(customer_id, "Customer"), query)
    return ctx.list_response([contact_json(c) for c in contacts], total, query)


@router.get(BASE + "/{contact_id}", **one_doc(ContactOut))
async def retrieve_contact(
    customer_id: str, contact_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    contact = await service.retrieve(ctx, *_ids(customer_id, contact_id))
    return await ctx.respond(200, contact_json(contact))


@router.patch(BASE + "/{contact_id}", **body_doc(ContactInput), **one_doc(ContactOut))
async def update_contact(
    customer_id: str,
    contact_id: str,
    request: Request,
    ctx: RequestContext = Depends(request_context),
) -> Response:
    data = await read_input(request, ContactInput)
    contact = await service.update(ctx, *_ids(customer_id, contact_id), data)
    return await ctx.respond(200, contact_json(contact))


@router.delete(BASE + "/{contact_id}", status_code=204)
async def delete_contact(
    customer_id: str, contact_id: str, ctx: RequestContext = Depends(request_context)
) -> Response:
    await service.delete_contact(ctx, *_ids(customer_id, contact_id))
    return await ctx.respond(204)
