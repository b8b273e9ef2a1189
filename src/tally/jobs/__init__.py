"""Durable background jobs: enqueue in the caller's transaction, run in a worker (C23)."""

from tally.jobs.queue import JobRun, enqueue

__all__ = ["JobRun", "enqueue"]
