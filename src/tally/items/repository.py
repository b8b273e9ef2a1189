"""Item queries: the shared live-id lookups of tally.live_ids, bound to this resource.

Every query is scoped to the account; only live (non-archived) rows are found by id (IT7).
"""

from __future__ import annotations

from tally.live_ids import items as store

__all__ = ["get_live", "live_item", "live_items", "store"]

live_item = store.find
live_items = store.find_many
get_live = store.get
