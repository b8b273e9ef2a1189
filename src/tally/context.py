"""What a service works with: the account, its session, the time, and the events to record.

Services take a `Context` and know nothing of HTTP; the web layer builds one per request
(see tally.http.context) and commits once at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from tally.domain.event_types import ACTOR_API
from tally.domain.events import EventBuffer
from tally.models import Account


@dataclass(kw_only=True)
class Context:
    session: AsyncSession
    account: Account
    # Unix seconds from the one injectable clock (C13.2).
    now: int
    # C18: base of customer-facing links.
    public_base_url: str
    events: EventBuffer = field(default_factory=EventBuffer)
    # Who caused the change (events_webhooks.md §2).
    actor: int = ACTOR_API

    @property
    def account_id(self) -> int:
        return self.account.id
