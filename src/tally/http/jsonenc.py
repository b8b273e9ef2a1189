"""JSON encoding: exact decimals, whole values as integers (C4.5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson


def decimal_text(value: Decimal) -> str:
    """`45` for 45.00, `148.85` for 148.850; never an exponent."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A Fragment is written verbatim, so the number never passes through a float.
        return orjson.Fragment(decimal_text(value).encode())
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def dumps(value: Any, *, pretty: bool = False) -> bytes:
    option = orjson.OPT_INDENT_2 if pretty else 0
    return orjson.dumps(value, default=_default, option=option)
