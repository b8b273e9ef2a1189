"""The `tally` command: serve, migrate, and manage accounts and API keys."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally.accounts import service as accounts
from tally.config import Settings
from tally.db import Database
from tally.domain.account_settings import parse_settings
from tally.domain.errors import DomainError
from tally.emails.cli import emails_group
from tally.jobs.cli import jobs_group, worker_command
from tally.migrate import upgrade
from tally.models import Account

T = TypeVar("T")
# uvicorn's httptools protocol lowercases response header names; h11 writes them as given,
# and the PHP and Java clients need `Link` and `X-Total-Count` in canonical case (C4.9).
HTTP_PROTOCOL = "h11"


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work in a write transaction and commit it."""

    async def main() -> T:
        database = Database(Settings())
        try:
            async with database.session(write=True) as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc


@click.group()
def main() -> None:
    """Tally: a billing server that speaks the Invoiced API."""


@main.command()
def migrate() -> None:
    """Apply every pending database migration."""
    upgrade(Settings().database_url)
    click.echo("Database is up to date.")


def _first_run_key() -> accounts.IssuedKey | None:
    """On an empty database, create the default account and a key for it."""

    async def work(session: AsyncSession) -> accounts.IssuedKey | None:
        if await session.scalar(select(func.count()).select_from(Account)):
            return None
        account = await accounts.create_account(session)
        return await accounts.create_key(session, account.id, "default")

    return _run(work)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=int,
    help="Worker processes (use several with PostgreSQL).",
)
@click.option(
    "--migrate/--no-migrate",
    "run_migrations",
    default=True,
    show_default=True,
    help="Apply pending migrations before starting.",
)
def serve(host: str, port: int, workers: int, run_migrations: bool) -> None:
    """Run the API server."""
    import uvicorn

    settings = Settings()
    if run_migrations:
        upgrade(settings.database_url)
    issued = _first_run_key()
    click.echo(f"Database: {settings.database_url}")
    if issued is not None:
        click.echo("Created the default account. Its API key (shown once, keep it):")
        click.echo(f"\n    {issued.secret}\n")
        click.echo(f"Try: curl http://{host}:{port}/customers -u {issued.secret}:")
    else:
        click.echo("Use an existing API key, or create one with `tally keys create --account 1`.")
    uvicorn.run(
        "tally.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=settings.trust_proxy_headers,
        server_header=False,
        http=HTTP_PROTOCOL,
    )


@main.group("accounts")
def accounts_group() -> None:
    """Manage accounts (tenants)."""


@accounts_group.command("create")
@click.option("--name", default="Acme Billing", show_default=True)
@click.option("--currency", default="usd", show_default=True)
@click.option("--country", default="US", show_default=True)
@click.option("--payment-terms", default=None)
@click.option(
    "--with-key/--no-key",
    default=True,
    show_default=True,
    help="Also issue an API key for the new account.",
)
def accounts_create(
    name: str, currency: str, country: str, payment_terms: str | None, with_key: bool
) -> None:
    """Create an account, and by default an API key for it."""

    async def work(session: AsyncSession) -> tuple[Account, accounts.IssuedKey | None]:
        account = await accounts.create_account(
            session, name, currency=currency, country=country, payment_terms=payment_terms
        )
        key = await accounts.create_key(session, account.id, "default") if with_key else None
        return account, key

    account, key = _run(work)
    click.echo(f"Account {account.id} ({account.name}), username {account.username}")
    if key is not None:
        click.echo(f"API key {key.id}: {key.secret}")


@accounts_group.command("list")
def accounts_list() -> None:
    """List accounts."""
    for account in _run(accounts.list_accounts):
        click.echo(f"{account.id}\t{account.name}\t{account.username}\t{account.currency}")


@accounts_group.command("show")
@click.argument("account_id", type=int)
def accounts_show(account_id: int) -> None:
    """Show an account's settings (README C21)."""
    account = _run(lambda session: accounts.get_account(session, account_id))
    click.echo(f"account\t{account.id}\nusername\t{account.username}")
    for name, value in accounts.settings_of(account).items():
        click.echo(f"{name}\t{_setting_text(value)}")


@accounts_group.command("set")
@click.argument("account_id", type=int)
@click.argument("assignments", nargs=-1, required=True)
def accounts_set(account_id: int, assignments: tuple[str, ...]) -> None:
    """Change settings: `tally accounts set 1 auto_apply_credits=true time_zone=Europe/Paris`.

    Every value is checked first; nothing changes unless all of them are valid."""
    try:
        values = parse_settings(list(assignments))
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    account = _run(lambda session: accounts.update_settings(session, account_id, values))
    for name in values:
        click.echo(f"{name}\t{_setting_text(getattr(account, name))}")


def _setting_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(part) for part in value)
    return str(value)


@main.group("keys")
def keys_group() -> None:
    """Manage API keys."""


@keys_group.command("create")
@click.option("--account", "account_id", required=True, type=int)
@click.option("--name", default="", help="A label to tell keys apart.")
def keys_create(account_id: int, name: str) -> None:
    """Issue a new API key; the secret is printed once and never stored."""
    key = _run(lambda session: accounts.create_key(session, account_id, name))
    click.echo(key.secret if not sys.stdout.isatty() else f"API key {key.id}: {key.secret}")


@keys_group.command("list")
@click.option("--account", "account_id", type=int, default=None)
def keys_list(account_id: int | None) -> None:
    """List keys (scrubbed) with their state."""
    for key in _run(lambda session: accounts.list_keys(session, account_id)):
        state = "revoked" if key.revoked_at else "active"
        click.echo(f"{key.id}\taccount {key.account_id}\t{key.hint}\t{state}\t{key.name}")


@keys_group.command("revoke")
@click.argument("key_id", type=int)
def keys_revoke(key_id: int) -> None:
    """Revoke a key; requests using it then get 401."""
    key = _run(lambda session: accounts.revoke_key(session, key_id))
    click.echo(f"Key {key.id} revoked.")


main.add_command(worker_command)
main.add_command(jobs_group)
main.add_command(emails_group)


if __name__ == "__main__":  # pragma: no cover
    main()
