"""Every job the worker knows, and how often the periodic ones run (C23.1)."""

from __future__ import annotations

from tally.emails.delivery import deliver_email
from tally.invoices.past_due import mark_past_due
from tally.jobs.housekeeping import prune_jobs
from tally.jobs.queue import Handler

HANDLERS: dict[str, Handler] = {
    "deliver_email": deliver_email,  # emails.md EM10
    "mark_past_due": mark_past_due,
    "prune_jobs": prune_jobs,
}

# Periodic jobs: name -> interval in seconds of the business clock.
PERIODIC: dict[str, int] = {
    "mark_past_due": 60,  # invoices.md S12
    "prune_jobs": 3600,  # done jobs older than a week
}
