"""Payment terms and due dates (invoices.md D1-D6)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_NET = re.compile(r"net[\s-](\d+)", re.IGNORECASE)
DUE_ON_RECEIPT = "due on receipt"
AUTOPAY_TERMS = "AutoPay"
# Terms beyond this many days (about 2,700 years) are read as having no due date, so that a
# timestamp can never overflow.
MAX_TERM_DAYS = 999_999


def term_days(terms: str | None) -> int | None:
    """D2: days until due, or None when the terms carry no due date."""
    if terms is None:
        return None
    text = terms.strip()
    if text.lower() == DUE_ON_RECEIPT:
        return 0
    match = _NET.search(text)
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) > len(str(MAX_TERM_DAYS)):
        return None
    return int(digits)


def add_days(timestamp: int, days: int, time_zone: str = "UTC") -> int:
    """C13.1: N calendar days later in the account's zone, keeping the wall-clock time."""
    if time_zone == "UTC":
        return timestamp + days * 86_400
    zone = ZoneInfo(time_zone)
    local = datetime.fromtimestamp(timestamp, UTC).astimezone(zone)
    later = (local.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=zone)
    return int(later.timestamp())


def due_date(date: int, terms: str | None, time_zone: str = "UTC") -> int | None:
    """D3: date + D days, or None."""
    days = term_days(terms)
    return None if days is None else add_days(date, days, time_zone)
