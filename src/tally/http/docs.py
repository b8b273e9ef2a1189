"""OpenAPI descriptions of the real request and response shapes.

Routes decode their own bodies (JSON or bracket-notation forms, C3), so FastAPI cannot infer
the request schema; these helpers declare it, and `install_openapi` publishes every
referenced model under components.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict

REF = "#/components/schemas/{model}"
_request_models: dict[str, type[BaseModel]] = {}
# Create bodies: a request model (shared with update) plus the fields a create needs.
_create_variants: dict[str, tuple[str, tuple[str, ...]]] = {}


class ErrorOut(BaseModel):
    """The Invoiced error object (C6)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["invalid_request", "rate_limit_error", "api_error"]
    message: str
    param: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid request"},
    401: {"model": ErrorOut, "description": "Missing or invalid API key"},
    404: {"model": ErrorOut, "description": "Not found"},
    429: {"model": ErrorOut, "description": "Too many concurrent requests"},
}
# Errors any operation can answer (C5/C6), whatever its route declares: they come from the
# router and the middlewares (405, 409 idempotency, 413 body size) as much as from handlers.
_COMMON_ERRORS = {
    "400": "Invalid request",
    "401": "Missing or invalid API key",
    "404": "Not found",
    "405": "Method not allowed",
    "429": "Too many concurrent requests",
}
_BODY_ERRORS = {
    "409": "A request with the same Idempotency-Key is in progress",
    "413": "Request body too large",
}
# C7/C8/C9/C11: what every list reads from its query string.
LIST_PARAMETERS: list[dict[str, Any]] = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {"name": "sort", "in": "query", "schema": {"type": "string"}},
    {
        "name": "filter",
        "in": "query",
        "style": "deepObject",
        "explode": True,
        "schema": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    {
        "name": "metadata",
        "in": "query",
        "style": "deepObject",
        "explode": True,
        "schema": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    {"name": "updated_after", "in": "query", "schema": {"type": "integer"}},
    {"name": "updated_before", "in": "query", "schema": {"type": "integer"}},
    {"name": "start_date", "in": "query", "schema": {"type": "integer"}},
    {"name": "end_date", "in": "query", "schema": {"type": "integer"}},
    {"name": "expand", "in": "query", "schema": {"type": "string"}},
    {"name": "include", "in": "query", "schema": {"type": "string"}},
]


def body_doc(model: type[BaseModel], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The request body: `model`, with `required` fields for a create (the same model
    serves updates, where nothing is required)."""
    _request_models[model.__name__] = model
    name = model.__name__
    if required:
        name = f"{model.__name__}Create"
        _create_variants[name] = (model.__name__, required)
    ref = {"$ref": REF.format(model=name)}
    return {
        "openapi_extra": {
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {"schema": ref},
                    "application/x-www-form-urlencoded": {"schema": ref},
                },
            }
        }
    }


def one_doc(model: type[BaseModel], status: int = 200) -> dict[str, Any]:
    return {"responses": {status: {"model": model}, **ERRORS}}


def list_doc(model: type[BaseModel]) -> dict[str, Any]:
    headers = {
        "Link": {"schema": {"type": "string"}, "description": "Pagination links (C7.5)"},
        "X-Total-Count": {"schema": {"type": "integer"}, "description": "Matching records"},
    }
    return {
        "responses": {
            200: {"model": list[model], "headers": headers},  # type: ignore[valid-type]
            **ERRORS,
        },
        "openapi_extra": {"parameters": LIST_PARAMETERS},
    }


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _request_models.items():
            model_schema = model.model_json_schema(ref_template=REF)
            components.update(model_schema.pop("$defs", {}))
            components[name] = model_schema
        for name, (base, required) in _create_variants.items():
            components[name] = {"allOf": [{"$ref": REF.format(model=base)}], "required": required}
        components["ErrorOut"] = ErrorOut.model_json_schema(ref_template=REF)
        # C5: FastAPI's 422 shapes are never sent (_document_errors drops their references).
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        for item in schema["paths"].values():
            for method, operation in item.items():
                _document_errors(operation, with_body=method in ("post", "patch", "put"))
        schema["components"]["securitySchemes"] = {
            "basicAuth": {
                "type": "http",
                "scheme": "basic",
                "description": "API key as the username, empty password",
            },
            "bearerAuth": {"type": "http", "scheme": "bearer"},
        }
        schema["security"] = [{"basicAuth": []}, {"bearerAuth": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_errors(operation: dict[str, Any], *, with_body: bool) -> None:
    """C5: never a 422 (FastAPI's default); every error the server can answer, documented."""
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    errors = {**_COMMON_ERRORS, **(_BODY_ERRORS if with_body else {})}
    for status, description in errors.items():
        responses.setdefault(
            status,
            {
                "description": description,
                "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}},
            },
        )
