"""Account-wide locks for rules that span several rows (PostgreSQL advisory locks).

Row locks protect one row; a rule such as "the customer hierarchy is at most five levels
deep" reads a chain of rows that other requests may be changing at the same moment. Those
requests take a transaction-scoped advisory lock for the account and the rule first. SQLite
needs nothing here: its write transactions already run one at a time.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def _lock_key(account_id: int, scope: str) -> int:
    digest = hashlib.sha256(f"{scope}:{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_account_scope(session: AsyncSession, account_id: int, scope: str) -> None:
    """Hold an exclusive lock on (account, scope) until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(account_id, scope)}
        )
