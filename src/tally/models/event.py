"""Events (events_webhooks.md): immutable records of every change, with their associations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tally.models.base import Base, IdType, JsonType, Timestamp


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[int] = mapped_column(Timestamp)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    # {"object": {...}, "previous": {...}?}: the API JSON at event time, never rewritten.
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    # Actor (events_webhooks.md §2): -3 API key, -2 scheduler, -1 customer portal.
    user_id: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index(None, "account_id", "id"),
        Index(None, "account_id", "type", "id"),
    )


class EventAssociation(Base):
    """Links an event to its subject and related objects (EV8), for `related_to` filters."""

    __tablename__ = "event_associations"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    object_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))

    __table_args__ = (Index(None, "account_id", "object_type", "object_id", "event_id"),)
