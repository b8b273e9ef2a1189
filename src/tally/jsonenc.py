"""JSON encoding: exact decimals, whole values as integers (C4.5). Pure: no web, no I/O."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from tally.domain.coerce import decimal_text
from tally.domain.money import minor_text

__all__ = ["decimal_text", "dumps", "exact_fragment", "money_fragment"]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A Fragment is written verbatim, so the number never passes through a float.
        return orjson.Fragment(decimal_text(value).encode())
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def money_fragment(minor: int, exp: int) -> orjson.Fragment:
    """An amount in minor units as the exact JSON number `dumps` writes for
    `from_minor(minor, exp)`. Response bodies only: event snapshots keep Decimals, which
    tally.domain.events compares as numbers."""
    return orjson.Fragment(minor_text(minor, exp))


def exact_fragment(value: Decimal) -> orjson.Fragment:
    """A Decimal as the JSON number `dumps` writes for it."""
    return orjson.Fragment(decimal_text(value))


def dumps(value: Any, *, pretty: bool = False) -> bytes:
    option = orjson.OPT_INDENT_2 if pretty else 0
    return orjson.dumps(value, default=_default, option=option)
