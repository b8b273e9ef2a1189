"""The `mark_past_due` job (invoices.md S8, S12; README C23.1).

Status is computed from "now" on every read, so an invoice turns `past_due` the moment
its due date passes without any write taking place. This job is what makes that moment
visible to anyone who follows the event stream: it records one `invoice.updated`
(actor: scheduler) with the status the invoice had before, once per lapse. The
`past_due_notified` flag remembers which lapses were announced; an invoice that stops
being past due (paid, voided, due date moved out) has its flag cleared, so a later lapse
is announced again. Running it twice changes nothing the second time.
"""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import select, update

from tally.context import Context
from tally.domain.event_types import ACTOR_SCHEDULER
from tally.events.recorder import store_events
from tally.invoices.document import status_of
from tally.invoices.repository import get_document, status_expression
from tally.invoices.service import event_snapshot
from tally.jobs.queue import JobRun
from tally.models import Account, Invoice

BATCH = 200


async def mark_past_due(run: JobRun) -> None:
    while await _announce_batch(run):
        pass


async def _announce_batch(run: JobRun) -> int:
    """Announce up to BATCH newly past-due invoices in one transaction; how many."""
    status = status_expression(run.now)
    scope = [] if run.account_id is None else [Invoice.account_id == run.account_id]
    async with run.database.session(write=True) as session:
        await session.execute(
            update(Invoice)
            .where(*scope, Invoice.past_due_notified.is_(True), status != "past_due")
            .values(past_due_notified=False)
        )
        lapsed = (
            await session.execute(
                select(Invoice.account_id, Invoice.id)
                .where(
                    *scope,
                    Invoice.past_due_notified.is_(False),
                    Invoice.due_date.is_not(None),
                    Invoice.due_date < run.now,
                    status == "past_due",
                )
                .order_by(Invoice.account_id, Invoice.id)
                .limit(BATCH)
            )
        ).all()
        for account_id, rows in groupby(lapsed, key=lambda row: row[0]):
            account = await session.get(Account, account_id)
            if account is None:
                continue
            ctx = Context(
                session=session,
                account=account,
                now=run.now,
                public_base_url=run.settings.job_public_base_url,
                actor=ACTOR_SCHEDULER,
            )
            for _, invoice_id in rows:
                document = await get_document(session, account_id, invoice_id, lock=True)
                invoice = document.invoice
                if invoice.past_due_notified or status_of(invoice, run.now) != "past_due":
                    continue  # another worker got here first, or a write changed it
                # The moment before the due date passed: what readers saw until then.
                before = await event_snapshot(ctx, document)
                before["status"] = status_of(invoice, invoice.due_date or run.now)
                invoice.past_due_notified = True
                invoice.updated_at = run.now
                after = await event_snapshot(ctx, document)
                ctx.events.updated("invoice", invoice.id, before, after)
            await session.flush()
            await store_events(session, account_id, run.now, ACTOR_SCHEDULER, ctx.events)
        await session.commit()
        return len(lapsed)
