"""Request bodies: JSON or form-encoded, with the leniencies of C3.5-C3.7."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from tally.domain.errors import InvalidRequest
from tally.http.forms import parse_pairs

_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_float=_exact_float)
    except ValueError:
        pass
    if '"' in text:
        raise InvalidRequest("Invalid JSON body")
    # C3.7: the .NET client sends {'amount':12,5} for refunds; read it the way it meant.
    retry = _DECIMAL_COMMA.sub(".", text.replace("'", '"'))
    try:
        return json.loads(retry, parse_float=_exact_float)
    except ValueError as exc:
        raise InvalidRequest("Invalid JSON body") from exc


def _exact_float(text: str) -> Decimal:
    return Decimal(text)  # JSON numbers never pass through binary floats


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """Decode a request body into a dict; every "no parameters" form means {} (C3.5)."""
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise InvalidRequest("The request body must be UTF-8") from exc
    if not text:
        return {}
    is_json = media == "application/json" or media.endswith("+json")
    if not is_json and media in ("", "application/x-www-form-urlencoded") and text[0] == "{":
        is_json = True  # C3.6: `curl --data '{...}'` without a JSON content type
    if is_json:
        value = _parse_json(text)
        if value is None or value == []:
            return {}
        if not isinstance(value, dict):
            raise InvalidRequest("Invalid JSON body")
        return value
    if media.startswith("multipart/"):
        raise InvalidRequest("Multipart bodies are only accepted for file uploads")
    return parse_pairs(parse_qsl(text, keep_blank_values=True))


async def read_body(request: Request) -> dict[str, Any]:
    return parse_body(await request.body(), request.headers.get("content-type", ""))
