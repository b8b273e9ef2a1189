"""Putting jobs in the queue, and what a job handler is given when it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from tally.config import Settings
from tally.db import Database
from tally.models import Job

_ENQUEUED = "tally_jobs_enqueued"
# Workers running in this process; a commit that enqueued a job wakes them at once instead
# of leaving the job to the next poll.
_LOCAL_WAKEUPS: set[asyncio.Event] = set()


def enqueue(
    session: AsyncSession,
    *,
    name: str,
    now: int,
    account_id: int | None,
    payload: dict[str, Any] | None = None,
    run_at: int | None = None,
    max_attempts: int = 20,
) -> Job:
    """Add a job to the caller's transaction: it exists exactly when the caller commits."""
    job = Job(
        account_id=account_id,
        name=name,
        payload=payload or {},
        status="queued",
        run_at=now if run_at is None else run_at,
        attempts=0,
        max_attempts=max_attempts,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.sync_session.info[_ENQUEUED] = True
    return job


@event.listens_for(Session, "after_commit")
def _wake_local_workers(session: Session) -> None:
    if session.info.pop(_ENQUEUED, False):
        for wakeup in _LOCAL_WAKEUPS:
            wakeup.set()


@event.listens_for(Session, "after_rollback")
def _forget_enqueued(session: Session) -> None:
    session.info.pop(_ENQUEUED, None)


def register_wakeup(wakeup: asyncio.Event) -> None:
    _LOCAL_WAKEUPS.add(wakeup)


def unregister_wakeup(wakeup: asyncio.Event) -> None:
    _LOCAL_WAKEUPS.discard(wakeup)


@dataclass(frozen=True, kw_only=True)
class JobRun:
    """One attempt at a job. Handlers open their own sessions on `database`: a handler that
    talks to the network (SMTP) must not hold a write transaction while it waits.

    Handlers are idempotent: a worker that dies after the handler's work and before the job
    is marked done leaves the job to run again once its lease ends.
    """

    id: int | None  # None when a test hook runs the handler directly
    name: str
    account_id: int | None  # None: every account (the periodic sweeps)
    payload: dict[str, Any]
    attempts: int  # including this one
    max_attempts: int
    now: int  # business clock (C23)
    database: Database
    settings: Settings

    @property
    def last_attempt(self) -> bool:
        return self.attempts >= self.max_attempts


Handler = Callable[[JobRun], Awaitable[None]]
