"""`tally emails`: read the outbox from the command line (emails.md EM10).

`list` shows the most recent emails; `show` prints one message's headers, text part and
attachments, or the whole MIME source (`--raw`), or its HTML part (`--html`).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage

import click
from sqlalchemy import select

from tally.config import Settings
from tally.db import Database
from tally.models import Email, EmailMessage

HEADERS = ("From", "To", "Subject", "Date", "Message-ID")


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


@click.group("emails")
def emails_group() -> None:
    """Inspect sent emails (the outbox)."""


@emails_group.command("list")
@click.option("--account", "account_id", type=int, help="Only this account's emails.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
def emails_list(account_id: int | None, limit: int) -> None:
    """The most recent emails, newest first."""

    async def main() -> list[Email]:
        database = Database(Settings())
        try:
            async with database.session(write=False) as session:
                query = select(Email).order_by(Email.id.desc()).limit(limit)
                if account_id is not None:
                    query = query.where(Email.account_id == account_id)
                return list(await session.scalars(query))
        finally:
            await database.dispose()

    for row in asyncio.run(main()):
        click.echo(
            f"{row.public_id}\t{_when(row.created_at)}\taccount {row.account_id}\t{row.state}\t"
            f"{row.email}\t{row.template}\t{row.subject}"
        )


def _load(email_id: str) -> tuple[Email, bytes]:
    async def main() -> tuple[Email, bytes] | None:
        database = Database(Settings())
        try:
            async with database.session(write=False) as session:
                row = await session.scalar(select(Email).where(Email.public_id == email_id))
                if row is None:
                    return None
                message = await session.get(EmailMessage, row.message_id)
                return row, bytes(message.raw) if message is not None else b""
        finally:
            await database.dispose()

    found = asyncio.run(main())
    if found is None:
        raise click.ClickException(f"Email was not found: {email_id}")
    return found


@emails_group.command("show")
@click.argument("email_id")
@click.option("--raw", "mode", flag_value="raw", help="Print the whole MIME message.")
@click.option("--html", "mode", flag_value="html", help="Print the HTML part.")
def emails_show(email_id: str, mode: str | None) -> None:
    """One email: its state, headers, text part and attachments."""
    row, raw = _load(email_id)
    if mode == "raw":
        click.echo(raw.decode("utf-8", "replace"), nl=False)
        return
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    if mode == "html":
        html = message.get_body(preferencelist=("html",))
        click.echo(html.get_content() if html is not None else "")
        return
    click.echo(f"Email {row.public_id}: {row.state} to {row.email} ({row.template})")
    if row.reject_reason:
        click.echo(f"Reject reason: {row.reject_reason}")
    for name in HEADERS:
        if message[name] is not None:
            click.echo(f"{name}: {message[name]}")
    click.echo("")
    text = message.get_body(preferencelist=("plain",))
    click.echo(text.get_content() if text is not None else "")
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        click.echo(f"Attachment: {part.get_filename()} ({part.get_content_type()}, {size} bytes)")
