"""The server as an operator runs it: CLI, migrations gate, OpenAPI, limits, idempotency races."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import anyio
import httpx
import pytest

from tally.app import create_app
from tally.config import Settings
from tally.http.ratelimit import ConcurrencyLimit
from tally.migrate import SchemaOutOfDate, check_schema
from tests.support import ROOT, ServerProcess, free_port, new_account


def run_cli(db_url: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tally.cli", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_cli_keys_lifecycle(db_url, app_client):
    """C2.8: keys are created out of band, listed scrubbed, and revoked keys stop working."""
    out = run_cli(db_url, "accounts", "create", "--name", "Globex")
    key = out.strip().splitlines()[-1].split(": ", 1)[1]
    account_id = int(out.split()[1])
    assert key.startswith("sk_") and len(key) > 40
    assert app_client.get("/customers", auth=(key, "")).status_code == 200

    second = run_cli(db_url, "keys", "create", "--account", str(account_id)).strip()
    second = second.rsplit(" ", 1)[-1]
    listing = run_cli(db_url, "keys", "list", "--account", str(account_id))
    assert key not in listing and second not in listing  # secrets are never shown again
    assert f"{key[:3]}{'*' * (len(key) - 6)}{key[-3:]}" in listing

    first_id = listing.splitlines()[0].split("\t")[0]
    run_cli(db_url, "keys", "revoke", first_id)
    denied = app_client.get("/customers", auth=(key, ""))
    assert denied.status_code == 401
    assert denied.json()["message"].endswith(f"{key[:3]}{'*' * (len(key) - 6)}{key[-3:]}")
    assert app_client.get("/customers", auth=(second, "")).status_code == 200


def test_server_refuses_out_of_date_schema(tmp_path):
    """A database behind the code is refused with a clear message."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    app = create_app(Settings(database_url=url))

    async def check() -> None:
        try:
            await check_schema(app.state.database.engine, url)
        finally:
            await app.state.database.dispose()

    with pytest.raises(SchemaOutOfDate, match="tally migrate"):
        asyncio.run(check())


def test_serve_on_empty_database_prints_a_working_key(tmp_path):
    """`serve` migrates an empty database, creates the default account and prints its key."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    env = {**os.environ, "DATABASE_URL": url}
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tally.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        key = None
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip().startswith("sk_"):
                key = line.strip()
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        assert key is not None
        response = httpx.post(
            f"http://127.0.0.1:{port}/customers",
            auth=(key, ""),
            data={
                "name": "Acme",
                "email": "billing@acmecorp.com",
                "number": "1234",
                "payment_terms": "NET 30",
            },
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["name"], body["number"], body["payment_terms"]) == ("Acme", "1234", "NET 30")
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_openapi_describes_request_and_response_shapes(app_client):
    schema = app_client.get("/openapi.json").json()
    create = schema["paths"]["/customers"]["post"]
    body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref == "#/components/schemas/CustomerInputCreate"
    components = schema["components"]["schemas"]
    # A create needs a name; an update (same fields) needs nothing.
    assert components["CustomerInputCreate"] == {
        "allOf": [{"$ref": "#/components/schemas/CustomerInput"}],
        "required": ["name"],
    }
    assert "name" in components["CustomerInput"]["properties"]
    update = schema["paths"]["/customers/{customer_id}"]["patch"]
    update_ref = update["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert update_ref == "#/components/schemas/CustomerInput"
    ok = create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert ok == "#/components/schemas/CustomerOut"
    listing = schema["paths"]["/customers"]["get"]["responses"]["200"]
    assert set(listing["headers"]) == {"Link", "X-Total-Count"}
    # C5: every error documented with the C6 shape, and never a 422.
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            assert {"400", "401", "404", "405", "429"} <= set(responses), (method, path)
    assert app_client.get("/docs").status_code == 200


def test_concurrency_limit_returns_429_with_retry_after():
    """C15: the 21st in-flight request on one key is refused; another key is unaffected."""

    class Key:
        def __init__(self, ident: int) -> None:
            self.api_key_id = ident

    release = anyio.Event()

    async def slow_app(scope, receive, send):
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    limiter = ConcurrencyLimit(slow_app, limit=20)
    statuses: dict[int, list[int]] = {1: [], 2: []}
    headers: list[list[tuple[bytes, bytes]]] = []

    async def call(key_id: int) -> None:
        scope = {"type": "http", "state": {"principal": Key(key_id)}}

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            if message["type"] == "http.response.start":
                statuses[key_id].append(message["status"])
                headers.append(message["headers"])

        await limiter(scope, receive, send)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(25):
                group.start_soon(call, 1)
            for _ in range(5):
                group.start_soon(call, 2)
            await anyio.sleep(0.05)
            release.set()

    anyio.run(main)
    assert statuses[1].count(429) == 5 and statuses[1].count(200) == 20
    assert statuses[2] == [200] * 5
    refused = [h for h in headers if (b"retry-after", b"1") in h]
    assert len(refused) == 5
    assert limiter.in_flight == {}


def test_concurrent_requests_over_the_limit_on_a_real_server(db_url):
    """C15 end to end: 25 simultaneous writes on one key with a limit of 5."""
    server = ServerProcess(db_url, RATE_LIMIT_CONCURRENCY="5")
    try:
        key = new_account(db_url).key

        async def main() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=server.base_url, auth=(key, "")) as client:
                return await asyncio.gather(
                    *[client.post("/customers", json={"name": f"C{i}"}) for i in range(25)]
                )

        responses = asyncio.run(main())
        codes = sorted(r.status_code for r in responses)
        assert set(codes) <= {201, 429}
        limited = [r for r in responses if r.status_code == 429]
        for response in limited:
            assert response.headers["Retry-After"] == "1"
            assert response.json() == {
                "type": "rate_limit_error",
                "message": "Too many concurrent requests! You can only make 5 concurrent "
                "requests at a time.",
            }
        assert codes.count(201) >= 5
    finally:
        server.stop()


@pytest.mark.parametrize("workers", [1, 2])
def test_idempotent_create_runs_once_under_concurrency(db_url, workers):
    """C14.4: the same key and body sent 10 times at once executes once; 10 equal answers."""
    server = ServerProcess(db_url, workers=workers)
    try:
        account = new_account(db_url)
        body = {"name": "Acme", "email": "billing@acmecorp.com"}

        async def main() -> list[httpx.Response]:
            async with httpx.AsyncClient(
                base_url=server.base_url, auth=(account.key, "")
            ) as client:
                return await asyncio.gather(
                    *[
                        client.post(
                            "/customers", json=body, headers={"Idempotency-Key": "create-acme-1"}
                        )
                        for _ in range(10)
                    ]
                )

        responses = asyncio.run(main())
        assert [r.status_code for r in responses] == [201] * 10
        assert len({r.content for r in responses}) == 1
        listing = httpx.get(f"{server.base_url}/customers", auth=(account.key, ""))
        assert listing.headers["X-Total-Count"] == "1"
        events = httpx.get(f"{server.base_url}/events", auth=(account.key, "")).json()
        assert [e["type"] for e in events] == ["customer.created"]
    finally:
        server.stop()


def test_unexpected_error_is_a_json_500_with_api_headers(db_url, account):
    """C5/C6: a bug still answers in the error shape, with a correlation id and C2.7 headers."""
    from starlette.testclient import TestClient

    app = create_app(Settings(database_url=db_url, test_mode=True, worker="off"))

    @app.get("/_boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    with TestClient(app) as client:
        response = client.get("/_boom", auth=(account.key, ""))
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == "api_error"
    assert body["message"].startswith("An unexpected error occurred. Correlation ID: ")
    assert "kaboom" not in response.text and "param" not in body
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Invoiced"'
    assert response.headers["Cache-Control"] == "no-cache, no-store"


def test_cli_account_settings_apply_to_the_next_request(db_url, app_client):
    """C21: settings are changed out of band and the account's next request follows them:
    with auto_apply_credits set, a new invoice spends the customer's credit (CB7)."""
    account = new_account(db_url)
    auth = (account.key, "")
    customer = app_client.post("/customers", auth=auth, json={"name": "Acme"}).json()
    assert (
        app_client.post(
            "/credit_balance_adjustments",
            auth=auth,
            json={"customer": customer["id"], "amount": 30},
        ).status_code
        == 201
    )
    out = run_cli(
        db_url,
        "accounts",
        "set",
        str(account.id),
        "auto_apply_credits=true",
        "time_zone=Europe/Paris",
        "payment_retry_schedule=2,4",
    )
    assert out.splitlines() == [
        "auto_apply_credits\ttrue",
        "time_zone\tEurope/Paris",
        "payment_retry_schedule\t2,4",
    ]
    shown = dict(
        line.split("\t", 1)
        for line in run_cli(db_url, "accounts", "show", str(account.id)).splitlines()
    )
    assert (shown["account"], shown["auto_apply_credits"], shown["currency"]) == (
        str(account.id),
        "true",
        "usd",
    )
    invoice = app_client.post(
        "/invoices", auth=auth, json={"customer": customer["id"], "items": [{"unit_cost": 100}]}
    ).json()
    assert invoice["balance"] == 70

    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "tally.cli",
            "accounts",
            "set",
            str(account.id),
            "currency=usd",
            "bogus=1",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "Unknown setting: bogus." in refused.stderr
