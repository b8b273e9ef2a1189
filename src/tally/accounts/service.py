"""Creating accounts, changing their settings, and issuing, listing and revoking API keys."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tally.domain.account_settings import PARSERS
from tally.domain.errors import NotFound
from tally.domain.text import scrub_key
from tally.http.auth import key_digest
from tally.models import Account, ApiKey

KEY_PREFIX = "sk_"


def new_key() -> str:
    """A 256-bit random secret; its SHA-256 digest is all we store."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_account(
    session: AsyncSession,
    name: str = "Acme Billing",
    *,
    username: str | None = None,
    currency: str = "usd",
    country: str = "US",
    payment_terms: str | None = None,
) -> Account:
    now = int(time.time())
    account = Account(
        name=name,
        username=username or f"acct_{secrets.token_hex(6)}",
        identifier=secrets.token_urlsafe(18)[:24],
        currency=currency.lower(),
        country=country.upper(),
        payment_terms=payment_terms,
        number_templates={},
        payment_retry_schedule=[3, 5, 7],
        created_at=now,
    )
    session.add(account)
    await session.flush()
    return account


@dataclass(frozen=True)
class IssuedKey:
    id: int
    account_id: int
    secret: str


async def create_key(session: AsyncSession, account_id: int, name: str = "") -> IssuedKey:
    if await session.get(Account, account_id) is None:
        raise NotFound("Account", account_id)
    secret = new_key()
    key = ApiKey(
        account_id=account_id,
        name=name,
        digest=key_digest(secret),
        hint=scrub_key(secret),
        created_at=int(time.time()),
    )
    session.add(key)
    await session.flush()
    return IssuedKey(key.id, account_id, secret)


async def list_keys(session: AsyncSession, account_id: int | None = None) -> list[ApiKey]:
    statement = select(ApiKey).order_by(ApiKey.id)
    if account_id is not None:
        statement = statement.where(ApiKey.account_id == account_id)
    return list(await session.scalars(statement))


async def revoke_key(session: AsyncSession, key_id: int) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API key", key_id)
    if key.revoked_at is None:
        key.revoked_at = int(time.time())
    return key


async def list_accounts(session: AsyncSession) -> list[Account]:
    return list(await session.scalars(select(Account).order_by(Account.id)))


SETTING_NAMES = tuple(PARSERS)


async def get_account(session: AsyncSession, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound("Account", account_id)
    return account


async def update_settings(
    session: AsyncSession, account_id: int, values: dict[str, Any]
) -> Account:
    """C21: settings are changed out of band; requests read them fresh, so the next request
    of the account already follows them."""
    account = await get_account(session, account_id)
    for name, value in values.items():
        setattr(account, name, value)
    return account


def settings_of(account: Account) -> dict[str, Any]:
    return {name: getattr(account, name) for name in SETTING_NAMES}
