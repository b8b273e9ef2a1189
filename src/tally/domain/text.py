"""Small text helpers used by several rules."""

from __future__ import annotations

from tally.domain.errors import InvalidRequest


def field_title(field: str) -> str:
    """`payment_terms` -> `Payment terms`, the wording of C6.4 messages."""
    words = field.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def scrub_key(key: str) -> str:
    """C2.6: show the first and last 3 characters of a key, one `*` per hidden character."""
    if len(key) <= 6:
        return key
    return key[:3] + "*" * (len(key) - 6) + key[-3:]


def required_text(value: str | None, field: str) -> str:
    """C6.4: a required text field that is absent or empty is `<Field Title> is missing`."""
    if not value:
        raise InvalidRequest(f"{field_title(field)} is missing", field)
    return value
