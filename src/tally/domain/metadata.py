"""Metadata maps (C11): a flat object of at most 10 string values."""

from __future__ import annotations

import re
from decimal import Decimal

from tally.domain.coerce import decimal_text
from tally.domain.errors import InvalidRequest
from tally.jsonenc import dumps

MAX_KEYS = 10
MAX_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 255
# Only keys of this shape can be used in `metadata[key]=` list filters (C9.7).
FILTERABLE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _as_text(key: str, value: object) -> str:
    if value is None:
        raise InvalidRequest(f"The provided value for metadata.{key} cannot be null.", "metadata")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if abs(value.adjusted()) > MAX_VALUE_LENGTH:
            raise _too_long(key)  # its text would be longer than the limit anyway
        return decimal_text(value)
    if isinstance(value, float):
        return repr(value)
    try:
        return dumps(value).decode()  # exact decimals inside arrays and objects too
    except TypeError:
        # Nested deeper than the encoder allows, so far longer than any allowed value.
        raise _too_long(key) from None


def _too_long(key: str) -> InvalidRequest:
    return InvalidRequest(
        f"The provided value for metadata.{key} exceeds the {MAX_VALUE_LENGTH} character limit.",
        "metadata",
    )


def normalize_metadata(raw: object) -> dict[str, str]:
    """Validate a metadata object and return it with every value as its stored string."""
    if not isinstance(raw, dict):
        raise InvalidRequest("Metadata must be an object", "metadata")
    if len(raw) > MAX_KEYS:
        raise InvalidRequest(
            f"There can only be up to {MAX_KEYS} metadata values. {len(raw)} values were provided.",
            "metadata",
        )
    result: dict[str, str] = {}
    for key, value in raw.items():
        key = str(key)
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidRequest(
                f"The `{key}` metadata key exceeds the {MAX_KEY_LENGTH} character limit.",
                "metadata",
            )
        text = _as_text(key, value)
        if len(text) > MAX_VALUE_LENGTH:
            raise _too_long(key)
        result[key] = text
    return result
