"""Small text helpers used by several rules."""

from __future__ import annotations


def field_title(field: str) -> str:
    """`payment_terms` -> `Payment terms`, the wording of C6.4 messages."""
    words = field.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def scrub_key(key: str) -> str:
    """C2.6: show the first and last 3 characters of a key, one `*` per hidden character."""
    if len(key) <= 6:
        return key
    return key[:3] + "*" * (len(key) - 6) + key[-3:]
