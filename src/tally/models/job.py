"""Durable background jobs (issue 5, README C23).

A job row is written in the same transaction as the change that causes it, so a job
exists exactly when its cause was committed. Workers claim due rows one at a time
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer at a time), run them, and
record the outcome. Periodic jobs have one schedule row each; whoever advances a
schedule's `next_run_at` first enqueues that tick, so several workers never double-run it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tally.models.base import Base, IdType, JsonType, Timestamp


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    # Null for jobs that span every account (the periodic sweeps).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # queued -> running -> done | failed; a failed attempt goes back to queued with a later
    # run_at until max_attempts is spent.
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # Business clock (C23): moving the test clock makes retries due.
    run_at: Mapped[int] = mapped_column(Timestamp)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=20)
    # Wall clock: a running job whose worker died is taken over after its lease ends.
    lease_until: Mapped[int | None] = mapped_column(Timestamp)
    worker: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)
    finished_at: Mapped[int | None] = mapped_column(Timestamp)

    __table_args__ = (
        Index(None, "status", "run_at"),
        Index(None, "account_id", "id"),
    )


class JobSchedule(Base):
    """When each periodic job (C23.1) next runs."""

    __tablename__ = "job_schedules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[int] = mapped_column(Timestamp)
