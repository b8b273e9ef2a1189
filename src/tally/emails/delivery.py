"""The `deliver_email` job: hand one stored message to the SMTP server (emails.md EM10).

Each attempt reads the message and its undelivered rows, talks to the SMTP server with no
database transaction open (smtplib in a thread), then records the outcome in one short write
transaction:

* accepted recipients → `sent` (event `email.sent`);
* recipients refused with a 5xx reply, or a 5xx for the whole message → `rejected` with the
  server's reply as `reject_reason` (event `email.not_sent`);
* connection errors, timeouts and 4xx replies → `deferred`, then the handler raises so the
  worker retries with backoff; on the last attempt → `rejected` ("Gave up after N attempts").

Rows already `sent` or `rejected` are never sent again, so a retried job (or one run twice
after a worker died) delivers only what is still pending.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from tally.config import Settings
from tally.domain.event_types import ACTOR_SCHEDULER
from tally.domain.events import EventBuffer
from tally.emails.service import record_email_event
from tally.events.recorder import store_events
from tally.jobs.queue import JobRun
from tally.models import Email, EmailMessage

PENDING = ("queued", "deferred")
_REASON_LIMIT = 1000


class DeliveryDeferred(Exception):
    """A transient failure: the rows are `deferred` and the worker retries the job."""


@dataclass
class Outcome:
    """What the SMTP server said, per envelope recipient."""

    accepted: set[str] = field(default_factory=set)
    rejected: dict[str, str] = field(default_factory=dict)  # address -> reply (5xx)
    deferred: dict[str, str] = field(default_factory=dict)  # address -> reason (4xx, errors)


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"[:_REASON_LIMIT]


def _transport(settings: Settings) -> smtplib.SMTP:
    timeout = settings.smtp_timeout_seconds
    if settings.smtp_tls == "ssl":
        return smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)


def send_now(settings: Settings, sender: str, recipients: Sequence[str], raw: bytes) -> Outcome:
    """One SMTP transaction (blocking; run it in a thread)."""
    outcome = Outcome()
    try:
        with _transport(settings) as smtp:
            if settings.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            refused = smtp.sendmail(sender, list(recipients), raw)
    except smtplib.SMTPRecipientsRefused as exc:
        refused = exc.recipients
    except smtplib.SMTPResponseException as exc:  # HELO, AUTH, MAIL FROM, DATA … refused
        reason = _reply(exc.smtp_code, exc.smtp_error)
        # Only the server's verdict on the message itself is final. A refusal before it (a
        # login the server wants, a sender it won't take) is our configuration's fault: the
        # mail waits for it to be fixed rather than being lost (EM10).
        final = isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600
        bucket = outcome.rejected if final else outcome.deferred
        bucket.update(dict.fromkeys(recipients, reason))
        return outcome
    except (smtplib.SMTPException, OSError) as exc:  # refused connection, timeout, TLS …
        reason = f"{type(exc).__name__}: {exc}"[:_REASON_LIMIT] if str(exc) else type(exc).__name__
        outcome.deferred.update(dict.fromkeys(recipients, reason))
        return outcome
    for address in recipients:
        if address in refused:
            code, message = refused[address]
            bucket = outcome.rejected if 500 <= code < 600 else outcome.deferred
            bucket[address] = _reply(code, message)
        else:
            outcome.accepted.add(address)
    return outcome


async def deliver_email(run: JobRun) -> None:
    """Job handler; payload `{"message_id": id}`."""
    message_id = run.payload.get("message_id")
    if not isinstance(message_id, int):
        return  # run by hand without a message (test hook): nothing to deliver
    async with run.database.session(write=False) as session:
        message = await session.get(EmailMessage, message_id)
        if message is None or (run.account_id is not None and message.account_id != run.account_id):
            return  # the account is gone
        rows = list(
            await session.scalars(
                select(Email).where(Email.message_id == message_id).order_by(Email.id)
            )
        )
        sender, raw, bcc = message.sender, bytes(message.raw), list(message.bcc or [])
        account_id = message.account_id
    pending = [row for row in rows if row.state in PENDING]
    if not pending:
        return  # delivered (or given up) by an earlier attempt
    envelope = list(dict.fromkeys(row.email for row in pending))
    if len(pending) == len(rows):
        # Blind copies go with the first hand-off only; a retry for a few deferred `to`
        # addresses must not copy the bcc addresses a second time.
        envelope += [address for address in bcc if address not in envelope]
    outcome = await asyncio.to_thread(send_now, run.settings, sender, envelope, raw)
    await _record(run, account_id, [row.id for row in pending], outcome)
    if any(row.email in outcome.deferred for row in pending) and not run.last_attempt:
        reasons = sorted(
            {outcome.deferred[row.email] for row in pending if row.email in outcome.deferred}
        )
        raise DeliveryDeferred("; ".join(reasons))


async def _record(run: JobRun, account_id: int, row_ids: list[int], outcome: Outcome) -> None:
    """The outcome, in one short write transaction, with its events."""
    buffer = EventBuffer()
    async with run.database.session(write=True) as session:
        rows = list(
            await session.scalars(
                select(Email)
                .where(Email.id.in_(row_ids), Email.state.in_(PENDING))
                .order_by(Email.id)
                .with_for_update()
            )
        )
        for row in rows:
            state, reason = _new_state(run, row.email, outcome)
            row.state, row.reject_reason, row.updated_at = state, reason, run.now
            if state == "sent":
                record_email_event(buffer, row, "email.sent")
            elif state == "rejected":
                record_email_event(buffer, row, "email.not_sent")
        await store_events(session, account_id, run.now, ACTOR_SCHEDULER, buffer)
        await session.commit()


def _new_state(run: JobRun, address: str, outcome: Outcome) -> tuple[str, str | None]:
    if address in outcome.accepted:
        return "sent", None
    if address in outcome.rejected:
        return "rejected", outcome.rejected[address]
    reason = outcome.deferred.get(address, "no reply from the SMTP server")
    if run.last_attempt:
        return "rejected", f"Gave up after {run.attempts} attempts: {reason}"[:_REASON_LIMIT]
    return "deferred", None  # the reason is the job's last_error (`tally jobs list`)
