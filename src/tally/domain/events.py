"""Event rules: the `previous` diff (EV5) and per-request coalescing (EV3, EV4, EV6).

The service layer snapshots objects as their API JSON (plain dicts) and hands them here;
nothing in this module touches a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Snapshot = dict[str, Any]
# "occurred": something happened to the object that is not a change to it (invoice.viewed).
Kind = Literal["created", "updated", "deleted", "occurred"]
# Keys that change on every write; a change limited to them is not an update (EV3).
IGNORED_FOR_CHANGE = frozenset({"updated_at"})
_MISSING = object()


def _numeric(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return None


def _same(old: object, new: object) -> bool:
    old_number, new_number = _numeric(old), _numeric(new)
    if old_number is not None and new_number is not None:
        return old_number == new_number  # EV5: 20 and 20.0 are not a change
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[k], new[k]) for k in old)
    return type(old) is type(new) and old == new


def diff_previous(old: Snapshot, new: Snapshot) -> Snapshot:
    """Old values of every key that changed (EV5).

    Nested objects recurse and keep only changed inner keys; lists appear whole; a key
    that did not exist before appears with null.
    """
    previous: Snapshot = {}
    for key, new_value in new.items():
        old_value = old.get(key, _MISSING)
        if old_value is _MISSING:
            previous[key] = None
        elif _same(old_value, new_value):
            continue
        elif isinstance(old_value, dict) and isinstance(new_value, dict):
            previous[key] = diff_previous(old_value, new_value)
        else:
            previous[key] = old_value
    for key, old_value in old.items():
        if key not in new:
            previous[key] = old_value
    return previous


@dataclass
class PendingEvent:
    kind: Kind
    type: str
    object_type: str
    object_id: int | str
    object: Snapshot
    before: Snapshot | None = None
    related: list[tuple[str, int | str]] = field(default_factory=list)

    @property
    def previous(self) -> Snapshot | None:
        if self.before is None:
            return None
        return diff_previous(self.before, self.object)


@dataclass
class EventBuffer:
    """Collects one request's events and coalesces them per object (EV4)."""

    pending: list[PendingEvent] = field(default_factory=list)

    def _latest(self, object_type: str, object_id: int | str) -> PendingEvent | None:
        for event in reversed(self.pending):
            if event.kind == "occurred":
                continue  # stands alone: never absorbs a later change
            if event.object_type == object_type and event.object_id == object_id:
                return event
        return None

    def occurred(
        self,
        event_type: str,
        object_type: str,
        object_id: int | str,
        snapshot: Snapshot,
        related: Sequence[tuple[str, int | str]] | None = None,
    ) -> None:
        """An event that reports something done to the object rather than a change to it
        (`invoice.viewed`, EV7): recorded as is, in order, never coalesced."""
        self.pending.append(
            PendingEvent(
                "occurred",
                event_type,
                object_type,
                object_id,
                snapshot,
                related=list(related or []),
            )
        )

    def created(
        self,
        object_type: str,
        object_id: int | str,
        snapshot: Snapshot,
        related: Sequence[tuple[str, int | str]] | None = None,
    ) -> None:
        self.pending.append(
            PendingEvent(
                "created",
                f"{object_type}.created",
                object_type,
                object_id,
                snapshot,
                related=list(related or []),
            )
        )

    def updated(
        self,
        object_type: str,
        object_id: int | str,
        before: Snapshot,
        after: Snapshot,
        related: Sequence[tuple[str, int | str]] | None = None,
        event_type: str | None = None,
    ) -> None:
        event_type = event_type or f"{object_type}.updated"
        latest = self._latest(object_type, object_id)
        if latest is not None and latest.kind == "created" and event_type.endswith(".updated"):
            latest.object = after  # create + updates -> one created with the final state
            return
        if latest is not None and latest.kind == "updated":
            latest.object = after  # `before` keeps the oldest values
            if not event_type.endswith(".updated"):
                latest.type = event_type  # e.g. invoice.paid replaces invoice.updated (EV6)
            return
        self.pending.append(
            PendingEvent(
                "updated",
                event_type,
                object_type,
                object_id,
                after,
                before=before,
                related=list(related or []),
            )
        )

    def deleted(
        self,
        object_type: str,
        object_id: int | str,
        last_state: Snapshot,
        related: Sequence[tuple[str, int | str]] | None = None,
    ) -> None:
        latest = self._latest(object_type, object_id)
        if latest is not None and latest.kind == "created":
            # Created and deleted in one request: nothing happened as far as anyone can see.
            self.pending = [
                e for e in self.pending if (e.object_type, e.object_id) != (object_type, object_id)
            ]
            return
        self.pending.append(
            PendingEvent(
                "deleted",
                f"{object_type}.deleted",
                object_type,
                object_id,
                last_state,
                related=list(related or []),
            )
        )

    def drain(self) -> list[PendingEvent]:
        """The events to store, in order, without updates that changed nothing (EV3)."""
        events: list[PendingEvent] = []
        for event in self.pending:
            previous = event.previous
            if previous is not None and not (previous.keys() - IGNORED_FOR_CHANGE):
                continue
            events.append(event)
        self.pending = []
        return events
