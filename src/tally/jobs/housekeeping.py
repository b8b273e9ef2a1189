"""The `prune_jobs` job: finished jobs do not pile up forever.

`mark_past_due` alone leaves a row a minute, half a million a year. Done jobs are kept for
a week (enough to look into with `tally jobs list`), then deleted; failed jobs stay until
someone retries or deletes them, because they are work that never happened.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from tally.jobs.queue import JobRun
from tally.models import Job

KEEP_DONE_SECONDS = 7 * 86_400
BATCH = 5_000


async def prune_jobs(run: JobRun) -> None:
    cutoff = run.now - KEEP_DONE_SECONDS
    scope = [] if run.account_id is None else [Job.account_id == run.account_id]
    while True:
        # Short transactions: on SQLite each one holds the database's write lock.
        async with run.database.session(write=True) as session:
            ids = list(
                await session.scalars(
                    select(Job.id)
                    .where(*scope, Job.status == "done", Job.finished_at < cutoff)
                    .limit(BATCH)
                )
            )
            if ids:
                await session.execute(delete(Job).where(Job.id.in_(ids)))
            await session.commit()
        if len(ids) < BATCH:
            return
