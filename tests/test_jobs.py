"""The durable job runner (issue 5, README C23): enqueue with the cause, run once, retry.

Each test scopes its jobs to a fresh account (or a periodic name of its own), because the
suite shares one database and other tests queue jobs of their own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select, update

from tally.clock import Clock
from tally.config import Settings
from tally.db import Database
from tally.invoices.past_due import mark_past_due
from tally.jobs import JobRun, enqueue
from tally.jobs.housekeeping import prune_jobs
from tally.jobs.worker import Worker
from tally.models import Job, JobSchedule
from tests.support import is_postgres, new_account


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def settings_for(db_url: str, **overrides: Any) -> Settings:
    return Settings(database_url=db_url, job_retry_base_seconds=30, **overrides)


async def add_jobs(
    database: Database, account_id: int, count: int, name: str, now: int
) -> list[int]:
    async with database.session(write=True) as session:
        jobs = [
            enqueue(session, name=name, now=now, account_id=account_id, payload={"n": n})
            for n in range(count)
        ]
        await session.commit()
        return [job.id for job in jobs]


async def job_rows(database: Database, ids: list[int]) -> dict[int, Job]:
    async with database.session(write=False) as session:
        rows = await session.scalars(select(Job).where(Job.id.in_(ids)))
        return {job.id: job for job in rows}


def test_a_queued_job_runs_once_and_is_done(db_url: str) -> None:
    account = new_account(db_url)
    seen: list[dict[str, Any]] = []

    async def handler(job: JobRun) -> None:
        seen.append({"payload": job.payload, "account": job.account_id, "attempts": job.attempts})

    async def main() -> None:
        database = Database(settings_for(db_url))
        clock = Clock()
        try:
            ids = await add_jobs(database, account.id, 2, "record", clock.now())
            worker = Worker(database, clock, settings_for(db_url), {"record": handler}, {})
            assert await worker.run_due(account_id=account.id) == 2
            assert await worker.run_due(account_id=account.id) == 0
            rows = await job_rows(database, ids)
            assert [rows[i].status for i in ids] == ["done", "done"]
            assert all(rows[i].finished_at is not None and rows[i].lease_until is None for i in ids)
        finally:
            await database.dispose()

    run(main())
    assert seen == [
        {"payload": {"n": 0}, "account": account.id, "attempts": 1},
        {"payload": {"n": 1}, "account": account.id, "attempts": 1},
    ]


def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists(db_url: str) -> None:
    """Jobs are written with their cause: no commit, no job."""
    account = new_account(db_url)

    async def main() -> int:
        database = Database(settings_for(db_url))
        try:
            async with database.session(write=True) as session:
                enqueue(session, name="ghost", now=1, account_id=account.id)
                await session.flush()
                await session.rollback()
            async with database.session(write=False) as session:
                return len(
                    list(await session.scalars(select(Job).where(Job.account_id == account.id)))
                )
        finally:
            await database.dispose()

    assert run(main()) == 0


def test_a_failing_job_retries_with_backoff_then_fails_for_good(db_url: str) -> None:
    account = new_account(db_url)
    attempts: list[int] = []

    async def flaky(job: JobRun) -> None:
        attempts.append(job.attempts)
        raise ConnectionRefusedError(111, "Connection refused")

    async def main() -> None:
        settings = settings_for(db_url)
        database = Database(settings)
        clock = Clock()
        clock.set(1_800_000_000)
        try:
            async with database.session(write=True) as session:
                job = enqueue(
                    session, name="flaky", now=clock.now(), account_id=account.id, max_attempts=3
                )
                await session.commit()
            worker = Worker(database, clock, settings, {"flaky": flaky}, {})
            assert await worker.run_due(account_id=account.id) == 1
            row = (await job_rows(database, [job.id]))[job.id]
            assert (row.status, row.attempts) == ("queued", 1)
            assert row.run_at - 1_800_000_000 in (30, 31)  # retry 1 waits 30 s
            assert row.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
            # Not due yet: nothing runs.
            assert await worker.run_due(account_id=account.id) == 0
            clock.set(1_800_000_000 + 31)
            assert await worker.run_due(account_id=account.id) == 1
            row = (await job_rows(database, [job.id]))[job.id]
            assert row.status == "queued" and row.run_at - clock.now() in (59, 60)  # then 60 s
            clock.set(1_800_000_000 + 100)
            assert await worker.run_due(account_id=account.id) == 1
            row = (await job_rows(database, [job.id]))[job.id]
            assert (row.status, row.attempts) == ("failed", 3)
            assert row.finished_at is not None
            clock.set(1_800_100_000)
            assert await worker.run_due(account_id=account.id) == 0  # failed stays failed
        finally:
            await database.dispose()

    run(main())
    assert attempts == [1, 2, 3]


def test_a_job_whose_worker_died_is_taken_over_after_its_lease(db_url: str) -> None:
    """Nothing acknowledged is lost: a claimed job with an expired lease runs again."""
    account = new_account(db_url)
    ran: list[int] = []

    async def handler(job: JobRun) -> None:
        ran.append(job.attempts)

    async def main() -> None:
        settings = settings_for(db_url)
        database = Database(settings)
        clock = Clock()
        try:
            (job_id,) = await add_jobs(database, account.id, 1, "orphan", clock.now())
            async with database.session(write=True) as session:
                # What a worker killed mid-job leaves behind: running, lease still valid.
                await session.execute(
                    update(Job)
                    .where(Job.id == job_id)
                    .values(
                        status="running",
                        attempts=1,
                        worker="dead:1",
                        lease_until=int(time.time()) + 300,
                    )
                )
                await session.commit()
            worker = Worker(database, clock, settings, {"orphan": handler}, {})
            assert await worker.run_due(account_id=account.id) == 0  # leased: hands off
            async with database.session(write=True) as session:
                await session.execute(
                    update(Job).where(Job.id == job_id).values(lease_until=int(time.time()) - 1)
                )
                await session.commit()
            assert await worker.run_due(account_id=account.id) == 1
            row = (await job_rows(database, [job_id]))[job_id]
            assert (row.status, row.attempts) == ("done", 2)
        finally:
            await database.dispose()

    run(main())
    assert ran == [2]


def test_many_workers_never_run_the_same_job_twice(db_url: str) -> None:
    """Four workers, each with its own engine (as separate processes would have), drain 60
    jobs at once: every job runs exactly once (SKIP LOCKED on PostgreSQL)."""
    account = new_account(db_url)
    counts: Counter[int] = Counter()

    async def slow(job: JobRun) -> None:
        counts[job.payload["n"]] += 1
        await asyncio.sleep(0.005)

    async def main() -> None:
        databases = [Database(settings_for(db_url)) for _ in range(4)]
        clock = Clock()
        try:
            ids = await add_jobs(databases[0], account.id, 60, "slow", clock.now())
            workers = [
                Worker(database, clock, settings_for(db_url), {"slow": slow}, {})
                for database in databases
            ]
            for index, worker in enumerate(workers):
                worker.name = f"test-worker-{index}"
            done = await asyncio.gather(*(w.run_due(account_id=account.id) for w in workers))
            assert sum(done) == 60
            if is_postgres(db_url):
                assert sum(1 for n in done if n) >= 2  # the work was really shared
            rows = await job_rows(databases[0], ids)
            assert {row.status for row in rows.values()} == {"done"}
            assert {row.attempts for row in rows.values()} == {1}
        finally:
            for database in databases:
                await database.dispose()

    run(main())
    assert sorted(counts) == list(range(60))
    assert set(counts.values()) == {1}


def test_a_periodic_tick_is_enqueued_once_per_interval_across_workers(db_url: str) -> None:
    name = f"tick-{uuid.uuid4().hex[:12]}"

    async def main() -> list[Job]:
        settings = settings_for(db_url)
        databases = [Database(settings) for _ in range(3)]
        clock = Clock()
        clock.set(1_900_000_000)
        try:
            workers = [Worker(db, clock, settings, {}, {name: 60}) for db in databases]
            await asyncio.gather(*(w.schedule_periodic() for w in workers))
            await asyncio.gather(*(w.schedule_periodic() for w in workers))
            clock.set(1_900_000_059)
            await workers[0].schedule_periodic()
            clock.set(1_900_000_061)
            await asyncio.gather(*(w.schedule_periodic() for w in workers))
            async with databases[0].session(write=False) as session:
                schedule = await session.get(JobSchedule, name)
                assert schedule is not None and schedule.next_run_at == 1_900_000_121
                return list(
                    await session.scalars(select(Job).where(Job.name == name).order_by(Job.id))
                )
        finally:
            for database in databases:
                await database.dispose()

    ticks = run(main())
    assert [(job.run_at, job.account_id, job.status) for job in ticks] == [
        (1_900_000_000, None, "queued"),
        (1_900_000_061, None, "queued"),
    ]


def test_an_enqueue_commit_wakes_the_worker_in_the_same_process(db_url: str) -> None:
    """The embedded worker polls slowly but runs a job as soon as a request commits it."""
    account = new_account(db_url)
    done = asyncio.Event()

    async def handler(job: JobRun) -> None:
        if job.account_id == account.id:
            done.set()

    async def main() -> float:
        settings = settings_for(db_url, job_poll_seconds=30)
        database = Database(settings)
        stop = asyncio.Event()
        worker = Worker(database, Clock(), settings, {"wake": handler}, {})
        task = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.sleep(0.3)  # first pass done; now idle for up to 30 s
            started = time.monotonic()
            await add_jobs(database, account.id, 1, "wake", Clock().now())
            await asyncio.wait_for(done.wait(), timeout=10)
            return time.monotonic() - started
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
            await database.dispose()

    assert run(main()) < 10


DAY = 86_400


@pytest.fixture
def due_soon(api: Any) -> dict[str, Any]:
    """An invoice due in a day: past due only once time passes, with no write involved."""
    customer = api.post("/customers", json={"name": "Late Payer"}).json()
    now = int(time.time())
    invoice = api.post(
        "/invoices",
        json={
            "customer": customer["id"],
            "date": now - DAY,
            "due_date": now + DAY,
            "items": [{"name": "Work", "unit_cost": 100}],
        },
    ).json()
    assert invoice["status"] == "not_sent"
    return invoice


def invoice_events(api: Any, invoice_id: int) -> list[dict[str, Any]]:
    events = api.get("/events", params={"related_to": f"invoice,{invoice_id}"}).json()
    return sorted((e for e in events if e["type"].startswith("invoice.")), key=lambda e: e["id"])


def sweep(db_url: str, account_id: int, now: int) -> None:
    """Run mark_past_due for one account at a given business time, as the worker would."""

    async def main() -> None:
        settings = settings_for(db_url)
        database = Database(settings)
        try:
            await mark_past_due(
                JobRun(
                    id=None,
                    name="mark_past_due",
                    account_id=account_id,
                    payload={},
                    attempts=1,
                    max_attempts=1,
                    now=now,
                    database=database,
                    settings=settings,
                )
            )
        finally:
            await database.dispose()

    run(main())


def test_mark_past_due_announces_a_time_driven_lapse_once(
    api: Any, db_url: str, due_soon: dict[str, Any]
) -> None:
    """S8/S12/C23.1: once the due date passes, the job records one invoice.updated by the
    scheduler (user -2) with the status before; running it again records nothing."""
    later = due_soon["due_date"] + 60
    sweep(db_url, api.account.id, due_soon["due_date"] - 60)  # not yet due: nothing
    assert [e["type"] for e in invoice_events(api, due_soon["id"])] == ["invoice.created"]
    sweep(db_url, api.account.id, later)
    sweep(db_url, api.account.id, later + 60)
    events = invoice_events(api, due_soon["id"])
    assert [e["type"] for e in events] == ["invoice.created", "invoice.updated"]
    announced = events[1]
    assert announced["data"]["object"]["status"] == "past_due"
    assert announced["data"]["object"]["updated_at"] == later
    assert announced["data"]["previous"] == {
        "status": "not_sent",
        "updated_at": due_soon["updated_at"],
    }
    assert announced["user"]["id"] == -2
    assert announced["timestamp"] == later


def test_mark_past_due_is_silent_when_a_write_already_told(api: Any, db_url: str) -> None:
    """An invoice created past due says so in invoice.created: no second announcement."""
    customer = api.post("/customers", json={"name": "Already Late"}).json()
    invoice = api.post(
        "/invoices",
        json={
            "customer": customer["id"],
            "date": 1_600_000_000,
            "due_date": 1_600_086_400,
            "items": [{"name": "Work", "unit_cost": 5}],
        },
    ).json()
    assert invoice["status"] == "past_due"
    sweep(db_url, api.account.id, int(time.time()))
    assert [e["type"] for e in invoice_events(api, invoice["id"])] == ["invoice.created"]


def test_mark_past_due_announces_again_after_the_invoice_recovered(
    api: Any, db_url: str, due_soon: dict[str, Any]
) -> None:
    sweep(db_url, api.account.id, due_soon["due_date"] + 60)
    pushed_out = int(time.time()) + 10 * DAY
    moved = api.patch(f"/invoices/{due_soon['id']}", json={"due_date": pushed_out})
    assert moved.json()["status"] == "not_sent"
    sweep(db_url, api.account.id, due_soon["due_date"] + 120)  # new due date not reached
    assert len(invoice_events(api, due_soon["id"])) == 3
    sweep(db_url, api.account.id, pushed_out + 1)
    events = invoice_events(api, due_soon["id"])
    assert [e["type"] for e in events] == ["invoice.created"] + ["invoice.updated"] * 3
    assert events[-1]["data"]["previous"]["status"] == "not_sent"
    assert events[-1]["user"]["id"] == -2


def test_mark_past_due_leaves_other_accounts_alone(
    api: Any, other_api: Any, db_url: str, due_soon: dict[str, Any]
) -> None:
    sweep(db_url, other_api.account.id, due_soon["due_date"] + 60)
    assert [e["type"] for e in invoice_events(api, due_soon["id"])] == ["invoice.created"]


def test_the_test_hook_runs_mark_past_due_for_the_caller(api: Any) -> None:
    """C23.2: `POST /_test/jobs/mark_past_due/run` runs it now, for this account."""
    customer = api.post("/customers", json={"name": "Hook"}).json()
    invoice = api.post(
        "/invoices",
        json={"customer": customer["id"], "items": [{"name": "Work", "unit_cost": 5}]},
    ).json()
    response = api.post("/_test/jobs/mark_past_due/run")
    assert response.status_code == 200
    assert response.json() == {"job": "mark_past_due", "ran": 1}
    assert [e["type"] for e in invoice_events(api, invoice["id"])] == ["invoice.created"]


def test_unknown_job_is_404(api: Any) -> None:
    response = api.post("/_test/jobs/no_such_job/run")
    assert response.status_code == 404
    assert response.json()["type"] == "invalid_request"


def test_due_hook_runs_only_the_callers_jobs(api: Any, other_api: Any, db_url: str) -> None:
    async def main() -> tuple[int, int]:
        database = Database(settings_for(db_url))
        try:
            # A minute back: other tests move the app's clock and leave it up to a second behind.
            earlier = Clock().now() - 60
            (mine,) = await add_jobs(database, api.account.id, 1, "mark_past_due", earlier)
            (theirs,) = await add_jobs(database, other_api.account.id, 1, "mark_past_due", earlier)
            return mine, theirs
        finally:
            await database.dispose()

    mine, theirs = run(main())
    assert api.post("/_test/jobs/due/run").json() == {"job": "due", "ran": 1}

    async def statuses() -> dict[int, str]:
        database = Database(settings_for(db_url))
        try:
            return {i: j.status for i, j in (await job_rows(database, [mine, theirs])).items()}
        finally:
            await database.dispose()

    assert run(statuses()) == {mine: "done", theirs: "queued"}
    assert other_api.post("/_test/jobs/due/run").json()["ran"] == 1


def test_an_idle_pass_does_not_touch_the_schedules_until_a_tick_is_due(db_url: str) -> None:
    """Between ticks the worker writes nothing: on SQLite every write takes the database lock."""
    from sqlalchemy import event

    name = f"idle-{uuid.uuid4().hex[:12]}"
    statements: list[str] = []

    async def main() -> None:
        settings = settings_for(db_url)
        database = Database(settings)

        @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "job_schedules" in statement:
                statements.append(statement)

        clock = Clock()
        clock.set(1_950_000_000)
        worker = Worker(database, clock, settings, {}, {name: 60})
        try:
            await worker.schedule_periodic()  # first pass: creates the row, takes the tick
            first = len(statements)
            clock.set(1_950_000_030)
            await worker.run_due(account_id=None, limit=0)
            assert len(statements) == first  # nothing due: no statement at all
            clock.set(1_950_000_060)
            await worker.run_due(account_id=None, limit=0)
            assert len(statements) > first  # the next tick is due: it is taken
        finally:
            await database.dispose()

    run(main())


def test_prune_jobs_deletes_done_jobs_after_a_week_and_keeps_failed_ones(db_url: str) -> None:
    account = new_account(db_url)
    week = 7 * 86_400

    async def main() -> dict[str, bool]:
        settings = settings_for(db_url)
        database = Database(settings)
        now = 2_000_000_000
        try:
            async with database.session(write=True) as session:
                rows = {
                    "old_done": ("done", now - week - 1),
                    "recent_done": ("done", now - week + 60),
                    "old_failed": ("failed", now - week - 1),
                    "queued": ("queued", None),
                }
                jobs = {}
                for label, (status, finished) in rows.items():
                    job = enqueue(session, name=label, now=now - week - 100, account_id=account.id)
                    job.status, job.finished_at = status, finished
                    jobs[label] = job
                await session.commit()
            await prune_jobs(
                JobRun(
                    id=None,
                    name="prune_jobs",
                    account_id=account.id,
                    payload={},
                    attempts=1,
                    max_attempts=1,
                    now=now,
                    database=database,
                    settings=settings,
                )
            )
            left = await job_rows(database, [job.id for job in jobs.values()])
            return {label: job.id in left for label, job in jobs.items()}
        finally:
            await database.dispose()

    assert run(main()) == {
        "old_done": False,
        "recent_done": True,
        "old_failed": True,
        "queued": True,
    }
