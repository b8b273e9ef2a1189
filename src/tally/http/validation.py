"""Input validation: lenient field types (C3.3, C3.4) and pydantic errors as C6 errors."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from fastapi import Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, WithJsonSchema

from tally.domain.coerce import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    parse_bool,
    parse_decimal,
    parse_int,
    parse_timestamp,
    storable_decimal,
)
from tally.domain.errors import InvalidRequest
from tally.domain.iso import country_codes, currency_codes
from tally.domain.text import field_title
from tally.http.body import read_body

M = TypeVar("M", bound=BaseModel)


class Invalid(ValueError):
    """A validator failure whose message is the complete sentence to show the client."""


def _text(value: Any) -> Any:
    if value == "":
        return None  # C3.4: empty string means null
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return value


def _lenient(parse: Callable[[Any], Any], blank: Any = None) -> Callable[[Any], Any]:
    """A before-validator: blank input becomes `blank`, anything `parse` rejects is invalid."""

    def validator(value: Any) -> Any:
        if value is None or value == "":
            return blank
        result = parse(value)
        if result is None:
            raise ValueError("invalid")
        return result

    return validator


def _int_between(minimum: int, maximum: int) -> Callable[[Any], int | None]:
    """Integers within a column's range; PostgreSQL would refuse the rest with an error."""

    def parse(value: Any) -> int | None:
        result = parse_int(value)
        return result if result is not None and minimum <= result <= maximum else None

    return parse


def _storable_decimal(value: Any) -> Decimal | None:
    result = parse_decimal(value)
    return result if result is not None and storable_decimal(result) else None


def _email(value: Any) -> Any:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid("Email must be a valid email address")
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid("Email must be a valid email address") from exc


def _blank(value: Any) -> Any:
    return None if value == "" else value


Text = Annotated[str | None, BeforeValidator(_text)]
_NULL = {"type": "null"}
_BLANK = {"type": "string", "maxLength": 0}  # C3.4: "" means null


def _schema(*variants: dict[str, Any]) -> WithJsonSchema:
    """The published shape of a lenient field: what it accepts, not what Python holds."""
    return WithJsonSchema({"anyOf": [*variants, _BLANK, _NULL]})


# Any other value where "" means null (C3.4): lists and objects sent as `field=` in a form.
Blankable = BeforeValidator(_blank)
# C3.3: "" is false for a boolean that cannot be null, null for one that can.
Flag = Annotated[bool, BeforeValidator(_lenient(parse_bool, blank=False))]
OptionalFlag = Annotated[bool | None, BeforeValidator(_lenient(parse_bool))]
Integer = Annotated[int | None, BeforeValidator(_lenient(_int_between(INT32_MIN, INT32_MAX)))]
# A reference to another object by its id (64-bit, positive).
ObjectId = Annotated[
    int | None,
    BeforeValidator(_lenient(_int_between(1, INT64_MAX))),
    _schema(
        {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
        {"type": "string", "pattern": r"^\s*\+?0*[1-9][0-9]{0,18}\s*$"},
    ),
]
Number = Annotated[
    Decimal | None,
    BeforeValidator(_lenient(_storable_decimal)),
    _schema(
        {"type": "number"},
        {"type": "string", "pattern": r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$"},
    ),
]
# Years 1 to 9999: date arithmetic (due dates, retries) then always stays in range.
MIN_TIMESTAMP, MAX_TIMESTAMP = -62_135_596_800, 253_402_300_799


def _timestamp(value: Any) -> int | None:
    result = parse_timestamp(value)
    return result if result is not None and MIN_TIMESTAMP <= result <= MAX_TIMESTAMP else None


# Unix seconds, from an integer, a numeric string or an ISO-8601 date (C4.4).
Timestamp = Annotated[int | None, BeforeValidator(_lenient(_timestamp))]
Email = Annotated[
    str | None,
    BeforeValidator(_email),
    _schema({"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"}),
]


def _codes(codes: frozenset[str]) -> list[str]:
    return sorted({*codes, *(code.upper() for code in codes), *(code.lower() for code in codes)})


# ISO codes in either case (they are normalized on the way in, C4.6).
Currency = Annotated[
    str | None,
    BeforeValidator(_text),
    _schema({"type": "string", "enum": _codes(currency_codes())}),
]
Country = Annotated[
    str | None, BeforeValidator(_text), _schema({"type": "string", "enum": _codes(country_codes())})
]
# C11: an object of keys and values, or "" to clear it.
Metadata = Annotated[Any, Blankable, _schema({"type": "object"})]


class Input(BaseModel):
    """Base for request bodies: unknown fields are ignored (C3.8)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _message(error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else "request"
    title = field_title(field)
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, Invalid):
        return str(cause)
    if error["type"] == "missing":
        return f"{title} is missing"
    if error["type"] == "string_too_long":
        return f"{title} must be no longer than {error['ctx']['max_length']} characters"
    return f"{title} is invalid"


def validate(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = str(first["loc"][0]) if first["loc"] else None
        raise InvalidRequest(_message(first), param) from None


def reject_read_only(body: dict[str, Any], fields: frozenset[str], object_name: str) -> None:
    """C3.9: computed fields a resource lists as rejected are a 400, never stored."""
    for name in body:
        if name in fields:
            raise InvalidRequest(f"Mass assignment of {name} on {object_name} is not allowed", name)


async def read_input(
    request: Request,
    model: type[M],
    *,
    rejected: frozenset[str] = frozenset(),
    object_name: str = "",
) -> M:
    """Decode and validate a request body: the router's whole job before the service runs."""
    body = await read_body(request)
    reject_read_only(body, rejected, object_name)
    return validate(model, body)
