"""How documents print money, quantities, dates and labels (pure; no I/O)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tally.domain.money import exponent, format_money

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# What the status badge says (invoices.md §6); the colour only repeats it.
STATUS_LABELS = {
    "draft": "Draft",
    "not_sent": "Open",
    "sent": "Open",
    "viewed": "Open",
    "past_due": "Past due",
    "pending": "Payment pending",
    "paid": "Paid",
    "voided": "Voided",
}
METHOD_LABELS = {
    "ach": "ACH",
    "balance": "Credit balance",
    "check": "Check",
    "credit_card": "Credit card",
    "direct_debit": "Direct debit",
    "paypal": "PayPal",
    "wire_transfer": "Wire transfer",
    "cash": "Cash",
    "eft": "EFT",
    "other": "Other",
}
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@cache
def zone(name: str) -> tzinfo:
    """The account's time zone (C13); an unknown name reads as UTC rather than failing a page."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def date_text(timestamp: int | None, time_zone: str) -> str | None:
    """`Nov 14, 2023` in the account's time zone (English month names whatever the locale)."""
    if timestamp is None:
        return None
    try:
        moment = datetime.fromtimestamp(timestamp, zone(time_zone))
    except (OverflowError, ValueError, OSError):  # year 1 or 9999 pushed past by the zone
        moment = datetime.fromtimestamp(timestamp, UTC)
    return f"{MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def money(minor: int, currency: str) -> str:
    """`$148.85`, `€1,234.50`, `¥5,000`, `-$10.00`, `CHF 5.00` (tally.domain.money)."""
    return format_money(minor, currency)


def unit_money(value: Decimal, currency: str) -> str:
    """A unit cost: stored unrounded (R1), so it keeps any digits beyond the currency's."""
    exp = exponent(currency)
    scaled = value.scaleb(exp)
    if scaled == scaled.to_integral_value():
        return format_money(int(scaled), currency)
    places = -int(value.normalize().as_tuple().exponent)
    sample = format_money(0, currency)  # "$0.00", "¥0", "CHF 0.00": the symbol is before "0"
    prefix = sample[: sample.index("0")]
    text = f"{prefix}{abs(value):,.{places}f}"
    return f"-{text}" if value < 0 else text


def quantity_text(value: Decimal) -> str:
    """`3`, `1.5`, `-1` (no exponent, no trailing zeros)."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


def percent_text(value: object) -> str:
    return f"{quantity_text(Decimal(str(value)))}%"


def method_label(method: str | None) -> str:
    if not method:
        return "Other"
    return METHOD_LABELS.get(method, method.replace("_", " ").capitalize())


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def pdf_filename(stem: str, fallback: str) -> str:
    """A file name safe in a Content-Disposition header: `INV-00001.pdf`."""
    safe = _UNSAFE_FILENAME.sub("_", stem).strip("._")[:64]
    return f"{safe or fallback}.pdf"
