"""Coupon queries: the shared live-id lookups of tally.live_ids, bound to this resource.

Every query is scoped to the account; only live (non-archived) rows are found by id (CT2).
"""

from __future__ import annotations

from tally.live_ids import coupons as store

__all__ = ["get_live", "live_coupon", "live_coupons", "store"]

live_coupon = store.find
live_coupons = store.find_many
get_live = store.get
