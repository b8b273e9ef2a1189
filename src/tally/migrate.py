"""Alembic, driven from code: upgrade on `serve`/`migrate`, refuse to run on an old schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.db import ensure_sqlite_directory

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


class SchemaOutOfDate(RuntimeError):
    pass


def alembic_config(database_url: str) -> Config:
    for root in (Path.cwd(), _SOURCE_ROOT):
        ini = root / "alembic.ini"
        if ini.exists():
            config = Config(str(ini))
            config.set_main_option("script_location", str(root / "migrations"))
            config.attributes["database_url"] = database_url
            return config
    raise RuntimeError("alembic.ini not found: run from the project folder")


def upgrade(database_url: str) -> None:
    ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), "head")


def head_revisions(database_url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


async def check_schema(engine: AsyncEngine, database_url: str) -> None:
    """Raise SchemaOutOfDate unless the database is at the latest migration."""
    async with engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: set(MigrationContext.configure(sync).get_current_heads())
        )
    expected = head_revisions(database_url)
    if current != expected:
        raise SchemaOutOfDate(
            f"The database schema is at {sorted(current) or 'nothing'} but this version "
            f"needs {sorted(expected)}. Run `tally migrate` (or `tally serve`, which migrates "
            "first) and start again."
        )
