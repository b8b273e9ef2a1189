"""`tally worker` and `tally jobs`: run the queue outside the server, look into it."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime

import click
from sqlalchemy import select, update

from tally.clock import Clock
from tally.config import Settings
from tally.db import Database
from tally.jobs.catalog import HANDLERS, PERIODIC
from tally.jobs.worker import Worker
from tally.models import Job


@click.command("worker")
def worker_command() -> None:
    """Run background jobs (emails, periodic sweeps) until interrupted.

    Servers run one embedded worker each unless WORKER=off; run this instead (as many as
    you like) when the web processes should only serve requests."""
    settings = Settings()

    async def main() -> None:
        database = Database(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        worker = Worker(database, Clock(), settings, HANDLERS, PERIODIC)
        click.echo(f"Worker {worker.name} on {settings.database_url}")
        try:
            await worker.run(stop)
        finally:
            await database.dispose()

    asyncio.run(main())


@click.group("jobs")
def jobs_group() -> None:
    """Inspect and retry background jobs."""


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


@jobs_group.command("list")
@click.option("--status", type=click.Choice(["queued", "running", "done", "failed"]))
@click.option("--limit", default=50, show_default=True, type=int)
def jobs_list(status: str | None, limit: int) -> None:
    """The most recent jobs, newest first."""

    async def main() -> list[Job]:
        database = Database(Settings())
        try:
            async with database.session(write=False) as session:
                query = select(Job).order_by(Job.id.desc()).limit(limit)
                if status is not None:
                    query = query.where(Job.status == status)
                return list(await session.scalars(query))
        finally:
            await database.dispose()

    for job in asyncio.run(main()):
        click.echo(
            f"{job.id}\t{job.name}\t{job.status}\taccount {job.account_id or '-'}\t"
            f"attempts {job.attempts}/{job.max_attempts}\trun_at {_when(job.run_at)}\t"
            f"{job.last_error or ''}"
        )


@jobs_group.command("retry")
@click.argument("job_id", type=int)
def jobs_retry(job_id: int) -> None:
    """Queue a failed job again, with a fresh set of attempts, to run now."""

    async def main() -> bool:
        database = Database(Settings())
        try:
            async with database.session(write=True) as session:
                result = await session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == "failed")
                    .values(status="queued", attempts=0, run_at=Clock().now(), finished_at=None)
                )
                await session.commit()
                return bool(result.rowcount)  # type: ignore[attr-defined]
        finally:
            await database.dispose()

    if not asyncio.run(main()):
        raise click.ClickException(f"No failed job {job_id}.")
    click.echo(f"Job {job_id} queued.")
