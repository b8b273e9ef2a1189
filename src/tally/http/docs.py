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


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    _request_models[model.__name__] = model
    ref = {"$ref": REF.format(model=model.__name__)}
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
        }
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
