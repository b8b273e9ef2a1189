"""What every bench script needs from PostgreSQL: a database of its own, emptied."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def prepare_postgres(url: str) -> None:
    """Create the database if missing, then empty its public schema.

    Refuses the CI database (`test`) and the maintenance database (`postgres`)."""
    parsed = make_url(url)
    if not parsed.database or parsed.database in ("test", "postgres"):
        raise SystemExit(f"refusing to use the PostgreSQL database {parsed.database!r}")
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await admin.dispose()
    engine = create_async_engine(parsed)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
