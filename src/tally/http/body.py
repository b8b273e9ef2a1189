"""Request bodies: JSON or form-encoded, with the leniencies of C3.5-C3.7."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from tally.domain.coerce import MAX_MAGNITUDE
from tally.domain.errors import InvalidRequest
from tally.http.forms import parse_pairs, reject_nul

# A member value written with a decimal comma, `:12,5`, outside any string.
_DECIMAL_COMMA = re.compile(r"(:\s*-?\d+),(\d+)")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _fix_decimal_commas(text: str) -> str:
    """Rewrite `:12,5` as `:12.5`, leaving string contents and arrays alone."""
    pieces: list[str] = []
    position = 0
    for match in _JSON_STRING.finditer(text):
        pieces.append(_DECIMAL_COMMA.sub(r"\1.\2", text[position : match.start()]))
        pieces.append(match.group())
        position = match.end()
    pieces.append(_DECIMAL_COMMA.sub(r"\1.\2", text[position:]))
    return "".join(pieces)


def _parse_json(text: str) -> Any:
    try:
        return _loads(text)
    except RecursionError as exc:  # nesting no request needs; refuse, never a 500
        raise InvalidRequest("Invalid JSON body") from exc
    except ValueError:
        pass
    if '"' in text:
        raise InvalidRequest("Invalid JSON body")
    # C3.7: the .NET client sends {'amount':12,5} for refunds; read it the way it meant.
    retry = _fix_decimal_commas(text.replace("'", '"'))
    try:
        return _loads(retry)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest("Invalid JSON body") from exc


def _exact_float(text: str) -> Decimal:
    value = Decimal(text)  # JSON numbers never pass through binary floats
    if abs(value.adjusted()) > MAX_MAGNITUDE:
        raise ValueError("number out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")  # NaN, Infinity, -Infinity


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=_exact_float, parse_constant=_no_constant)


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """Decode a request body into a dict; every "no parameters" form means {} (C3.5)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        return parse_pairs(_multipart_fields(raw, content_type)) if raw.strip() else {}
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise InvalidRequest("The request body must be UTF-8") from exc
    if not text:
        return {}
    if media == "application/json" or media.endswith("+json"):
        value = _parse_json(text)
        if value is None or value == []:
            return {}
        if not isinstance(value, dict):
            raise InvalidRequest("Invalid JSON body")
        return value
    if text[0] == "{":
        # C3.6: `curl --data '{...}'` sends JSON without a JSON content type.
        try:
            value = _loads(text)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict):
            return value
    return parse_pairs(parse_qsl(text, keep_blank_values=True))


def _multipart_fields(raw: bytes, content_type: str) -> list[tuple[str, str]]:
    """The text fields of a multipart body (C3.1: parsed like form encoding); files skipped."""
    envelope = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(envelope + raw)
    if not message.is_multipart():
        raise InvalidRequest("Invalid multipart body")
    fields: list[tuple[str, str]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename() is not None:
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            try:
                fields.append((name, payload.decode(part.get_content_charset() or "utf-8")))
            except (LookupError, UnicodeDecodeError) as exc:
                raise InvalidRequest(f"The {name} field is not valid text", name) from exc
    return fields


async def read_body(request: Request) -> dict[str, Any]:
    body = parse_body(await request.body(), request.headers.get("content-type", ""))
    return reject_nul(body)
