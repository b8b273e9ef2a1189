"""Lenient input coercion shared by bodies and query strings (C3.3, C9.4, C4.4)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

# ASCII digits only: str.isdigit() also accepts "²", which int() then rejects.
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
# Column ranges: PostgreSQL refuses out-of-range values with an error, so they are caught
# here as invalid input instead of surfacing as a database failure.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# NUMERIC(38, 12): 26 integer digits and 12 decimal places.
MAX_DECIMAL = Decimal(10) ** 26
MAX_DECIMAL_PLACES = 12
# Decimal exponents accepted at all (|adjusted exponent|), so no value is absurdly large to
# format or compare.
MAX_MAGNITUDE = 100
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
        if _INTEGER_TEXT.fullmatch(text):
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
    if not result.is_finite() or abs(result.adjusted()) > MAX_MAGNITUDE:
        # Beyond any real quantity; 1e10000000 would also take minutes to print.
        return None
    return result


def parse_timestamp(value: object) -> int | None:
    """Unix seconds from an integer, a numeric string or an ISO-8601 date/datetime (C4.4)."""
    as_int = parse_int(value)
    if as_int is not None:
        return as_int if INT64_MIN <= as_int <= INT64_MAX else None
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


def decimal_text(value: Decimal) -> str:
    """Shortest exact decimal text, never an exponent: 45.00 -> "45", 1E+2 -> "100".

    Trailing zeros are stripped from the text rather than with Decimal.normalize(), which
    rounds to the context precision (28 digits) and would change long values.
    """
    text = str(value)
    if "E" in text or not text[-1].isdigit():
        return _decimal_text_slow(value)  # exponent notation, NaN or infinity
    # Plain notation already (the common case, and several times faster than format()).
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _decimal_text_slow(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def fits_int(value: int, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> bool:
    return minimum <= value <= maximum


def storable_decimal(value: Decimal) -> bool:
    """Whether a decimal fits the NUMERIC(38, 12) columns exact values are stored in."""
    _, _, places = decimal_text(value).partition(".")
    return abs(value) < MAX_DECIMAL and len(places) <= MAX_DECIMAL_PLACES
