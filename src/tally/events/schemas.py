"""The event object (events_webhooks.md §2)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tally.domain.event_types import actor_json
from tally.models import Event


class EventUser(BaseModel):
    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    two_factor_enabled: bool
    registered: bool
    created_at: int | None
    updated_at: int | None


class EventData(BaseModel):
    object: dict[str, Any]
    previous: dict[str, Any] | None = None


class EventOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    object: Literal["event"]
    type: str
    timestamp: int
    data: EventData
    user: EventUser | None


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "object": "event",
        "type": event.type,
        "timestamp": event.timestamp,
        "data": event.data,
        "user": actor_json(event.user_id),
    }
