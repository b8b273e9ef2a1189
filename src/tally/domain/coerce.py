"""Lenient input coercion shared by bodies and query strings (C3.3, C9.4, C4.4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from tally.domain.errors import InvalidRequest

TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "off", "no"})


def parse_bool(value: object) -> bool | None:
    """Return the boolean a client meant, or None when the value is not a boolean at all."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def parse_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            return int(text, 10)
    return None


def parse_decimal(value: object) -> Decimal | None:
    """Exact decimal from a JSON number or a string; never through binary float arithmetic."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return result if result.is_finite() else None


def parse_timestamp(value: object) -> int | None:
    """Unix seconds from an integer, a numeric string or an ISO-8601 date/datetime (C4.4)."""
    as_int = parse_int(value)
    if as_int is not None:
        return as_int
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return int(moment.timestamp())
    return None


def require_bool(value: object, param: str, title: str) -> bool:
    result = parse_bool(value)
    if result is None:
        raise InvalidRequest(f"{title} is invalid", param)
    return result
