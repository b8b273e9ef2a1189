"""Shared fixtures. The suite runs on SQLite, and on PostgreSQL when TEST_POSTGRES_URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tally.app import create_app
from tally.config import Settings
from tests.support import ServerProcess, TestAccount, database_url, new_account, prepare_database


@pytest.fixture(scope="session")
def db_url() -> str:
    url = database_url()
    prepare_database(url)
    return url


@pytest.fixture(scope="session")
def app_client(db_url: str) -> Iterator[TestClient]:
    # No embedded worker: a periodic sweep in the background would add events to other tests'
    # accounts at random moments. Job tests run jobs through the test hooks or a Worker.
    app = create_app(Settings(database_url=db_url, test_mode=True, worker="off"))
    with TestClient(app, base_url="http://localhost:8000") as client:
        yield client


class Api:
    """A client bound to one account's key, speaking to the in-process app."""

    def __init__(self, client: TestClient, account: TestAccount) -> None:
        self.client = client
        self.account = account
        self.auth = (account.key, "")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("auth", self.auth)
        return self.client.request(method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def account(db_url: str) -> TestAccount:
    return new_account(db_url)


@pytest.fixture
def api(app_client: TestClient, account: TestAccount) -> Api:
    return Api(app_client, account)


@pytest.fixture
def other_api(app_client: TestClient, db_url: str) -> Api:
    """A second, unrelated account: isolation tests use it against `api`'s objects."""
    return Api(app_client, new_account(db_url))


@pytest.fixture(scope="session")
def server(db_url: str) -> Iterator[ServerProcess]:
    process = ServerProcess(db_url)
    yield process
    process.stop()
