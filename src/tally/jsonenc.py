"""JSON encoding: exact decimals, whole values as integers (C4.5). Pure: no web, no I/O."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from tally.domain.coerce import decimal_text

__all__ = ["decimal_text", "dumps"]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A Fragment is written verbatim, so the number never passes through a float.
        return orjson.Fragment(decimal_text(value).encode())
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def dumps(value: Any, *, pretty: bool = False) -> bytes:
    option = orjson.OPT_INDENT_2 if pretty else 0
    return orjson.dumps(value, default=_default, option=option)
