"""The worker: claims due jobs one at a time, runs them, records the outcome.

Several workers (the embedded one in each server process, `tally worker` processes) can
share one database: a job is claimed by one UPDATE that only one of them can win
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, where the others skip to the next row; SQLite
runs one write transaction at a time). A claim is a lease: if the worker dies, the job is
claimed again once the lease ends, so nothing enqueued is ever dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Mapping

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tally.clock import Clock
from tally.config import Settings
from tally.db import Database
from tally.domain.jobs import error_text, gives_up, retry_delay
from tally.jobs.queue import Handler, JobRun, enqueue, register_wakeup, unregister_wakeup
from tally.models import Job, JobSchedule

log = logging.getLogger("tally.jobs")


class Worker:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        settings: Settings,
        handlers: Mapping[str, Handler],
        periodic: Mapping[str, int],
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self.handlers = handlers
        self.periodic = periodic
        self.name = f"{socket.gethostname()}:{os.getpid()}"[:64]
        self._wakeup = asyncio.Event()
        # The earliest next_run_at this worker has seen: until then there is no tick to take,
        # so an idle pass writes nothing (on SQLite every write takes the database lock).
        self._next_tick: int | None = None

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set. Errors are logged, never fatal: the database may be
        briefly unreachable, and the loop must outlive that."""
        register_wakeup(self._wakeup)
        try:
            while not stop.is_set():
                try:
                    await self.run_due()
                except Exception:
                    log.exception("job worker: pass failed")
                await self._idle(stop)
        finally:
            unregister_wakeup(self._wakeup)

    async def _idle(self, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        waking = asyncio.ensure_future(self._wakeup.wait())
        try:
            await asyncio.wait(
                {stopping, waking},
                timeout=self.settings.job_poll_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for waiter in (stopping, waking):
                waiter.cancel()
            self._wakeup.clear()

    async def run_due(self, *, account_id: int | None = None, limit: int = 100) -> int:
        """Schedule periodic ticks that are due, then run due jobs until none is left (or
        `limit` ran). With `account_id`, only that account's jobs (test hook)."""
        if account_id is None and (self._next_tick is None or self.clock.now() >= self._next_tick):
            await self.schedule_periodic()
        ran = 0
        while ran < limit:
            job = await self._claim(account_id)
            if job is None:
                break
            await self._execute(job)
            ran += 1
        return ran

    # ------------------------------------------------------------------ periodic jobs

    async def schedule_periodic(self) -> None:
        if not self.periodic:
            return
        now = self.clock.now()
        insert = sqlite_insert if self.database.is_sqlite else postgres_insert
        async with self.database.session(write=True) as session:
            if self._next_tick is None:  # first pass of this worker: make sure the rows exist
                for name in sorted(self.periodic):
                    await session.execute(
                        insert(JobSchedule)
                        .values(name=name, next_run_at=now)
                        .on_conflict_do_nothing(index_elements=["name"])
                    )
            for name, interval in sorted(self.periodic.items()):
                # Only the worker whose UPDATE moves next_run_at enqueues this tick.
                ticked = await session.scalar(
                    update(JobSchedule)
                    .where(JobSchedule.name == name, JobSchedule.next_run_at <= now)
                    .values(next_run_at=now + interval)
                    .returning(JobSchedule.name)
                )
                if ticked is not None:
                    enqueue(session, name=name, now=now, account_id=None, max_attempts=3)
            self._next_tick = await session.scalar(
                select(func.min(JobSchedule.next_run_at)).where(JobSchedule.name.in_(self.periodic))
            )
            await session.commit()

    # ------------------------------------------------------------------ one job

    async def _claim(self, account_id: int | None) -> Job | None:
        now = self.clock.now()
        wall = int(time.time())
        due = or_(
            and_(Job.status == "queued", Job.run_at <= now),
            and_(Job.status == "running", Job.lease_until < wall),
        )
        candidates = select(Job.id).where(due)
        if account_id is not None:
            candidates = candidates.where(Job.account_id == account_id)
        next_id = (
            candidates.order_by(Job.run_at, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        async with self.database.session(write=True) as session:
            # A job whose worker died on its last allowed attempt is not run again: a job
            # that kills its worker every time must end up failed, not retried forever.
            lost = [
                Job.status == "running",
                Job.lease_until < wall,
                Job.attempts >= Job.max_attempts,
            ]
            if account_id is not None:
                lost.append(Job.account_id == account_id)
            await session.execute(
                update(Job)
                .where(*lost)
                .values(
                    status="failed",
                    lease_until=None,
                    worker=None,
                    finished_at=now,
                    updated_at=now,
                    last_error="The worker running the last attempt stopped before it finished.",
                )
            )
            job = await session.scalar(
                update(Job)
                .where(Job.id == next_id)
                .values(
                    status="running",
                    attempts=Job.attempts + 1,
                    lease_until=wall + self.settings.job_lease_seconds,
                    worker=self.name,
                    updated_at=now,
                )
                .returning(Job)
            )
            await session.commit()
            return job

    async def _execute(self, job: Job) -> None:
        handler = self.handlers.get(job.name)
        run = JobRun(
            id=job.id,
            name=job.name,
            account_id=job.account_id,
            payload=dict(job.payload),
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            now=self.clock.now(),
            database=self.database,
            settings=self.settings,
        )
        error: str | None = None
        try:
            if handler is None:
                raise LookupError(f"no handler for job {job.name!r}")
            await handler(run)
        except asyncio.CancelledError:
            # Shutting down mid-job: hand it back now rather than after the lease.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._finish(job, requeue_now=True))
            raise
        except Exception as exc:
            log.warning("job %s (%s) attempt %s failed: %s", job.id, job.name, job.attempts, exc)
            error = error_text(exc)
        await self._finish(job, error=error)

    async def _finish(
        self, job: Job, *, error: str | None = None, requeue_now: bool = False
    ) -> None:
        now = self.clock.now()
        values: dict[str, object] = {"lease_until": None, "worker": None, "updated_at": now}
        if requeue_now:
            values.update(status="queued", attempts=Job.attempts - 1)
        elif error is None:
            values.update(status="done", finished_at=now, last_error=None)
        elif gives_up(job.attempts, job.max_attempts):
            values.update(status="failed", finished_at=now, last_error=error)
        else:
            delay = retry_delay(
                job.attempts,
                self.settings.job_retry_base_seconds,
                self.settings.job_retry_max_seconds,
            )
            values.update(status="queued", run_at=now + delay, last_error=error)
        async with self.database.session(write=True) as session:
            # Only while we still hold it: a lease that ran out belongs to someone else.
            await session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "running", Job.worker == self.name)
                .values(**values)
            )
            await session.commit()
