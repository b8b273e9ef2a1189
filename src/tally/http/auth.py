"""API-key authentication (C2) as pure ASGI middleware.

Keys are long random secrets, so one SHA-256 per request is enough to store them safely;
a slow password hash here would cap throughput.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from tally.db import Database
from tally.domain.text import scrub_key
from tally.http.middleware import ASGIApp, Receive, Scope, Send, is_api_path, send_json_error
from tally.models import Account, ApiKey

MISSING_KEY = (
    "Missing API key! HINT: You can pass in your API key as the username parameter "
    "using HTTP Basic Auth."
)
# Reachable without a key (C2.1); customer-facing pages authenticate by capability URL.
PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Credentials:
    key: str
    username: str | None  # set when the Basic password carried the key (C2.3)


def read_credentials(authorization: str) -> Credentials | None:
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return Credentials(value, None)
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, _, password = decoded.partition(":")
    if password:
        return Credentials(password, username)
    return Credentials(username, None) if username else None


@dataclass(frozen=True)
class Principal:
    api_key_id: int
    account: Account


class ApiKeyAuth:
    def __init__(self, app: ASGIApp, database: Database) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in PUBLIC_PATHS or not is_api_path(path):
            await self.app(scope, receive, send)
            return
        authorization = ""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        credentials = read_credentials(authorization) if authorization else None
        if credentials is None:
            await send_json_error(send, 401, MISSING_KEY)
            return
        principal = await self._lookup(credentials.key)
        if principal is None:
            await send_json_error(
                send,
                401,
                f"We could not authenticate you with the API Key: {scrub_key(credentials.key)}",
            )
            return
        if credentials.username is not None and credentials.username != principal.account.username:
            await send_json_error(
                send,
                401,
                f"We did not find an account matching the username: {credentials.username}",
            )
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _lookup(self, key: str) -> Principal | None:
        async with self.database.session(write=False) as session:
            row = (
                await session.execute(
                    select(ApiKey.id, Account)
                    .join(Account, Account.id == ApiKey.account_id)
                    .where(ApiKey.digest == key_digest(key), ApiKey.revoked_at.is_(None))
                )
            ).first()
        if row is None:
            return None
        return Principal(api_key_id=row[0], account=row[1])
