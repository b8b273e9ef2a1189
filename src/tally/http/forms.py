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


class _Node(dict[str, Any]):
    """An intermediate mapping; `appends` counts `[]` elements (PHP semantics)."""

    appends: int = 0


def _insert(node: _Node, path: list[str], value: str) -> None:
    key = path[0]
    if len(path) == 1:
        if key == "":
            node[f"\x00{node.appends}"] = value
            node.appends += 1
        else:
            node[key] = value
        return
    if key == "":
        # Each `[]` starts a new element: a[][x]=1&a[][y]=2 gives two elements.
        key = f"\x00{node.appends}"
        node.appends += 1
    child = node.get(key)
    if not isinstance(child, _Node):
        child = _Node()
        node[key] = child
    _insert(child, path[1:], value)


def _finish(node: _Node) -> dict[str, Any] | list[Any]:
    keys = list(node.keys())
    values = {k: (_finish(v) if isinstance(v, _Node) else v) for k, v in node.items()}
    if keys and all(k.startswith("\x00") for k in keys):
        return [values[k] for k in keys]
    if keys and all(k.isdigit() or k.startswith("\x00") for k in keys):
        # Numeric indexes: a list ordered by index value, gaps compacted.
        ordered = sorted(keys, key=lambda k: (k.startswith("\x00"), int(k.lstrip("\x00"))))
        return [values[k] for k in ordered]
    return {k.lstrip("\x00"): v for k, v in values.items()}


def parse_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    root = _Node()
    for key, value in pairs:
        path = _split_key(key)
        if path is None:
            root[key] = value  # repeated plain keys: last value wins
            continue
        if len(path) > MAX_DEPTH:
            raise InvalidRequest(f"The parameter {path[0]} is nested too deeply.", path[0])
        _insert(root, path, value)
    result = _finish(root)
    return result if isinstance(result, dict) else {}
