"""The Invoiced error object (C6) and the one place domain errors become HTTP."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from tally.domain.errors import Conflict, DomainError, InvalidRequest, NotFound
from tally.jsonenc import dumps

log = logging.getLogger("tally.errors")


def error_body(status: int, message: str, param: str | None = None) -> bytes:
    if status == 429:
        kind = "rate_limit_error"
    elif status >= 500:
        kind = "api_error"
    else:
        kind = "invalid_request"
    payload: dict[str, Any] = {"type": kind, "message": message}
    if param is not None:
        payload["param"] = param
    return dumps(payload)


def error_response(
    status: int, message: str, param: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        error_body(status, message, param),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def unexpected_error_body(exc: BaseException) -> bytes:
    """A 500 (always a bug): logged with a correlation id the client can quote (C5)."""
    correlation = uuid.uuid4().hex
    log.error("unhandled error %s", correlation, exc_info=exc)
    return error_body(500, f"An unexpected error occurred. Correlation ID: {correlation}")


def domain_error_status(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    return 400


def _route_methods(routes: Iterable[Any]) -> Iterator[tuple[re.Pattern[str], set[str]]]:
    """(path pattern, methods) of every HTTP route, through FastAPI's included routers (all
    included without a prefix here)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from _route_methods(route.original_router.routes)
        elif getattr(route, "methods", None) and hasattr(route, "path_regex"):
            yield route.path_regex, set(route.methods)


def _allowed_methods(request: Request) -> list[str]:
    """RFC 9110 15.5.6: every method some route serves at this path (Starlette's own header
    would name only the first matching route's)."""
    methods: set[str] = set()
    for pattern, route_methods in _route_methods(request.app.routes):
        if pattern.match(request.url.path):
            methods |= route_methods
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return error_response(domain_error_status(exc), exc.message, exc.param)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        route = f"{request.method} {request.url.path}"
        if exc.status_code == 404:
            return error_response(404, f"Request was not recognized: {route}")
        if exc.status_code == 405:
            allowed = ", ".join(_allowed_methods(request))
            return error_response(405, f"Method not allowed: {route}", headers={"Allow": allowed})
        return error_response(exc.status_code, str(exc.detail))

    async def on_validation_error(_request: Request, exc: Exception) -> Response:
        # Routes validate bodies themselves; this only catches path/query declarations.
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        loc = errors[0]["loc"] if errors else ()
        param = str(loc[-1]) if loc else None
        return error_response(400, InvalidRequest(f"{param} is invalid").message, param)

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
