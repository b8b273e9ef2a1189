"""Test helpers: the database under test, fresh accounts, a real server in a subprocess."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tally.accounts import service as accounts
from tally.config import Settings
from tally.db import Database
from tally.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
# Set (by the test command) to run the same suite on PostgreSQL.
POSTGRES_ENV = "TEST_POSTGRES_URL"


def database_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "")
    if url:
        return url
    folder = Path(tempfile.mkdtemp(prefix="tally-test-"))
    return f"sqlite+aiosqlite:///{folder / 'test.db'}"


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def prepare_database(url: str) -> None:
    """An empty database at the latest migration, built by Alembic as in production."""
    if is_postgres(url):
        asyncio.run(reset_postgres(url))
    upgrade(url)


@dataclass(frozen=True)
class TestAccount:
    id: int
    key: str
    username: str
    identifier: str


def new_account(url: str, **options: str) -> TestAccount:
    """A fresh tenant with one key. Tests isolate from each other by account, as tenants do."""

    async def work() -> TestAccount:
        database = Database(Settings(database_url=url))
        try:
            async with database.session(write=True) as session:
                account = await accounts.create_account(session, **options)  # type: ignore[arg-type]
                key = await accounts.create_key(session, account.id, "test")
                await session.commit()
                return TestAccount(account.id, key.secret, account.username, account.identifier)
        finally:
            await database.dispose()

    return asyncio.run(work())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`tally serve` in a subprocess on a free port: the real HTTP stack, end to end."""

    def __init__(self, url: str, workers: int = 1, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # WORKER=off unless a test asks for the embedded worker (see tests/conftest.py).
        environment = {
            **os.environ,
            "DATABASE_URL": url,
            "TEST_MODE": "true",
            "WORKER": "off",
            **env,
        }
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix="tally-server-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tally.cli",
                "serve",
                "--no-migrate",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {Path(self.log.name).read_text()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {Path(self.log.name).read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
