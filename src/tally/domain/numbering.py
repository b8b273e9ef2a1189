"""Document numbers (C19): printf-style templates over a per-account sequence."""

from __future__ import annotations

import re

from tally.domain.errors import InvalidRequest

MAX_TRIES = 100
DEFAULT_TEMPLATES = {
    "customer": "CUST-%05d",
    "invoice": "INV-%05d",
    "credit_note": "CN-%05d",
    "estimate": "EST-%05d",
}
# One integer conversion, optionally zero-padded: %d, %05d, %5d.
_CONVERSION = re.compile(r"%(0?\d*)d")


def format_number(template: str, value: int) -> str:
    match = _CONVERSION.search(template)
    if match is None:
        # A template without a conversion still needs distinct numbers.
        return f"{template}{value}"
    spec = match.group(1)
    formatted = format(value, f"{spec}d") if spec else str(value)
    return template[: match.start()] + formatted + template[match.end() :]


def number_key(number: str) -> str:
    """The form numbers are compared in: uniqueness is case-insensitive and trimmed (C19.3)."""
    return number.strip().lower()


def too_many_tries() -> InvalidRequest:
    return InvalidRequest(f"Could not find a unique number after {MAX_TRIES} iterations", "number")


def number_taken(object_label: str, number: str) -> InvalidRequest:
    return InvalidRequest(
        f"The given {object_label} number has already been taken: {number}", "number"
    )
