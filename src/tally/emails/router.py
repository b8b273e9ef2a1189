"""`POST …/emails` on documents, and the read-only `/emails` outbox (emails.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tally.emails import service
from tally.emails.schemas import EmailOut, SendEmailInput, SendStatementInput
from tally.http.body import read_body
from tally.http.context import RequestContext, parse_id, request_context
from tally.http.docs import ERRORS, body_doc, list_doc, one_doc
from tally.http.listing import read_list_query
from tally.models import Email

router = APIRouter(tags=["emails"])
RFC822 = "message/rfc822"
SENT: dict[str, Any] = {
    "status_code": 201,
    "responses": {
        201: {"model": list[EmailOut], "description": "One email object per recipient"},
        **ERRORS,
    },
}
REFUSED: dict[str, Any] = {
    "status_code": 400,
    "responses": {**ERRORS},
    "description": "EM16: text messages and letters need integrations this server does not "
    "provide; always 400 once the document exists.",
}


async def _sent(ctx: RequestContext, rows: list[Email]) -> Response:
    return await ctx.respond(201, service.sent_to(rows))


@router.post("/invoices/{invoice_id}/emails", **SENT, **body_doc(SendEmailInput))
async def send_invoice(
    invoice_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    body = await read_body(request)
    rows = await service.send_invoice_emails(ctx, parse_id(invoice_id, "Invoice"), body)
    return await _sent(ctx, rows)


@router.post("/customers/{customer_id}/emails", **SENT, **body_doc(SendStatementInput))
async def send_statement(
    customer_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    body = await read_body(request)
    rows = await service.send_statement(ctx, parse_id(customer_id, "Customer"), body)
    return await _sent(ctx, rows)


@router.post("/payments/{payment_id}/emails", **SENT, **body_doc(SendEmailInput))
async def send_payment_receipt(
    payment_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    body = await read_body(request)
    rows = await service.send_payment_receipt(ctx, parse_id(payment_id, "Payment"), body)
    return await _sent(ctx, rows)


@router.post("/transactions/{transaction_id}/emails", **SENT, **body_doc(SendEmailInput))
async def send_transaction_receipt(
    transaction_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    body = await read_body(request)
    rows = await service.send_transaction_receipt(
        ctx, parse_id(transaction_id, "Transaction"), body
    )
    return await _sent(ctx, rows)


async def _refuse(ctx: RequestContext, request: Request, object_name: str, raw_id: str) -> Response:
    await read_body(request)  # a malformed body is still a malformed body
    await service.refuse_feature(ctx, object_name, parse_id(raw_id, object_name))
    raise AssertionError("unreachable")  # pragma: no cover - refuse_feature always raises


@router.post("/invoices/{invoice_id}/text_messages", **REFUSED)
async def invoice_text_messages(
    invoice_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    return await _refuse(ctx, request, "Invoice", invoice_id)


@router.post("/customers/{customer_id}/text_messages", **REFUSED)
async def customer_text_messages(
    customer_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    return await _refuse(ctx, request, "Customer", customer_id)


@router.post("/invoices/{invoice_id}/letters", **REFUSED)
async def invoice_letters(
    invoice_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    return await _refuse(ctx, request, "Invoice", invoice_id)


@router.post("/customers/{customer_id}/letters", **REFUSED)
async def customer_letters(
    customer_id: str, request: Request, ctx: RequestContext = Depends(request_context)
) -> Response:
    return await _refuse(ctx, request, "Customer", customer_id)


@router.get("/emails", **list_doc(EmailOut))
async def list_emails(request: Request, ctx: RequestContext = Depends(request_context)) -> Response:
    query = read_list_query(request)
    rows, total = await service.list_emails(ctx, query)
    return ctx.list_response(service.sent_to(rows), total, query)


@router.get("/emails/{email_id}", **one_doc(EmailOut))
async def retrieve_email(email_id: str, ctx: RequestContext = Depends(request_context)) -> Response:
    email = await service.retrieve(ctx, email_id)
    return await ctx.respond(200, service.email_json(email))


@router.get(
    "/emails/{email_id}/message",
    response_class=Response,
    responses={
        200: {
            "description": "The stored message exactly as sent (RFC 5322): headers, the text "
            "and HTML parts, the attachments",
            "content": {RFC822: {"schema": {"type": "string", "format": "binary"}}},
        },
        **ERRORS,
    },
)
async def email_message(email_id: str, ctx: RequestContext = Depends(request_context)) -> Response:
    raw = await service.raw_message(ctx, email_id)
    return Response(raw, status_code=200, media_type=RFC822)
