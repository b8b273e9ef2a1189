"""Tax-rate queries: the shared live-id lookups of tally.live_ids, bound to this resource.

Every query is scoped to the account; only live (non-archived) rows are found by id (CT2).
"""

from __future__ import annotations

from tally.live_ids import tax_rates as store

__all__ = ["get_live", "live_tax_rate", "live_tax_rates", "store"]

live_tax_rate = store.find
live_tax_rates = store.find_many
get_live = store.get
