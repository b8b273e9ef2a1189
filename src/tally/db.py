"""Engine, sessions and write serialization.

PostgreSQL relies on row locks taken by the services. SQLite allows one writer at a time,
so every write transaction here starts with `BEGIN IMMEDIATE` (it takes the write lock up
front, waiting up to the busy timeout, instead of failing half-way with "database is
locked") and, inside one process, writers queue on an asyncio lock so they wait without
holding a pooled connection or spinning in SQLite's busy handler.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from tally.config import Settings
from tally.jsonenc import dumps

_WRITE_OPTION = "tally_write"


def _json_text(value: Any) -> str:
    return dumps(value).decode()


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_float(item) for item in value)
    return False


def json_value(text: str | bytes) -> Any:
    # Most stored JSON (metadata, address lists) holds no fractional numbers: orjson reads it
    # several times faster. A float (or an integer beyond 64 bits, which orjson reads as a
    # float) means a number must stay exact: read the text again with exact decimals.
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = None
    else:
        if not _has_float(value):
            return value
    return json.loads(text, parse_float=Decimal)


def _prepare_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (the driver's implicit BEGIN is always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def ensure_sqlite_directory(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


class Database:
    def __init__(self, settings: Settings) -> None:
        self.is_sqlite = settings.is_sqlite
        ensure_sqlite_directory(settings.database_url)
        options: dict[str, Any] = {}
        if not self.is_sqlite:
            options.update(
                pool_size=settings.db_pool_size, max_overflow=settings.effective_max_overflow
            )
        self.engine = create_async_engine(
            settings.database_url,
            # JSON columns hold API snapshots (events): decimals must stay exact both ways.
            json_serializer=_json_text,
            json_deserializer=json_value,
            **options,
        )
        if self.is_sqlite:
            _prepare_sqlite(self.engine, settings.sqlite_busy_timeout_ms)
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """A session whose transaction the caller commits; anything uncommitted rolls back."""
        if write and self._write_lock is not None:
            async with self._write_lock, self._write_sessions() as session:
                yield session
        else:
            maker = self._write_sessions if write else self._read_sessions
            async with maker() as session:
                yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
