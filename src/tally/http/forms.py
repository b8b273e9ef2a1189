"""PHP-style bracket notation for form bodies and query strings (C3.2, C3.10).

`items[0][name]=Paper&items[0][quantity]=3` -> {"items": [{"name": "Paper", "quantity": "3"}]}
"""

from __future__ import annotations

import re
from typing import Any

from tally.domain.errors import InvalidRequest

# Deeper nesting than any Invoiced request needs is refused rather than recursed into.
MAX_DEPTH = 8
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def _split_key(key: str) -> list[str] | None:
    """`a[b][]` -> ["a", "b", ""]; None when the brackets are malformed (key used verbatim)."""
    head, bracket, _ = key.partition("[")
    if not bracket or not head:
        return None
    rest = key[len(head) :]
    segments = _SEGMENT.findall(rest)
    if "".join(f"[{s}]" for s in segments) != rest:
        return None
    return [head, *segments]


class _Append:
    """Key of an element added with `[]`: an object, so no client-sent text can forge it."""

    __slots__ = ()


# An index is a list position only when it is a short run of ASCII digits; anything else
# (`²`, 5,000 digits) is an ordinary object key.
_INDEX = re.compile(r"[0-9]{1,9}")
_Key = str | _Append


def _insert(node: dict[_Key, Any], path: list[str], value: str) -> None:
    # Each `[]` starts a new element (PHP semantics): a[][x]=1&a[][y]=2 gives two elements.
    key: _Key = _Append() if path[0] == "" else path[0]
    if len(path) == 1:
        node[key] = value
        return
    child = node.get(key)
    if not isinstance(child, dict):
        child = {}
        node[key] = child
    _insert(child, path[1:], value)


def _finish(node: dict[_Key, Any]) -> dict[str, Any] | list[Any]:
    values = {k: (_finish(v) if isinstance(v, dict) else v) for k, v in node.items()}
    indexed = [k for k in values if isinstance(k, str) and _INDEX.fullmatch(k)]
    appended = [k for k in values if isinstance(k, _Append)]
    if values and len(indexed) + len(appended) == len(values):
        # Numeric indexes: a list ordered by index value, gaps compacted; appends follow.
        ordered: list[_Key] = [*sorted(indexed, key=int), *appended]
        return [values[k] for k in ordered]
    return {k if isinstance(k, str) else str(i): v for i, (k, v) in enumerate(values.items())}


def parse_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    root: dict[_Key, Any] = {}
    for key, value in pairs:
        path = _split_key(key)
        if path is None:
            root[key] = value  # repeated plain keys: last value wins
            continue
        if len(path) > MAX_DEPTH:
            raise InvalidRequest(f"The parameter {path[0]} is nested too deeply.", path[0])
        _insert(root, path, value)
    # The top level is always an object, even when every key looks like an index.
    return {str(k): (_finish(v) if isinstance(v, dict) else v) for k, v in root.items()}


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def reject_nul(data: dict[str, Any]) -> dict[str, Any]:
    """No text we store or compare may hold a NUL character (PostgreSQL refuses it)."""
    for key, value in data.items():
        if _has_nul(key) or _has_nul(value):
            raise InvalidRequest("Text values cannot contain NUL characters", key.strip("\x00"))
    return data
