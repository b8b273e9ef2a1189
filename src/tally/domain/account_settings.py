"""Account settings (README C21), as an operator writes them on the command line.

Settings are configured out of band: `tally accounts set <id> name=value ...`. Each value
arrives as text and is checked here, so a typo is refused instead of stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from tally.domain import customers as customer_rules
from tally.domain.coerce import parse_bool, parse_int
from tally.domain.errors import InvalidRequest


def _text(name: str, raw: str) -> str:
    value = raw.strip()
    if not value or len(value) > 255:
        raise InvalidRequest(f"{name} must be between 1 and 255 characters", name)
    return value


def _optional_text(name: str, raw: str) -> str | None:
    return None if raw.strip() == "" else _text(name, raw)


def _optional_email(name: str, raw: str) -> str | None:
    if raw.strip() == "":
        return None
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidRequest(f"{name} must be a valid email address", name) from exc


def _flag(name: str, raw: str) -> bool:
    value = parse_bool(raw)
    if value is None:
        raise InvalidRequest(f"{name} must be true or false", name)
    return value


def _days(name: str, raw: str) -> int:
    value = parse_int(raw)
    if value is None or not 0 <= value <= 365:
        raise InvalidRequest(f"{name} must be a whole number of days from 0 to 365", name)
    return value


def _day_list(name: str, raw: str) -> list[int]:
    """`3,5,7`: days between payment retries."""
    days = [_days(name, part) for part in raw.split(",") if part.strip()]
    if not days:
        raise InvalidRequest(f"{name} must list at least one number of days", name)
    return days


def _time_zone(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(f"{name} is not a known time zone: {raw}", name) from exc
    return raw.strip()


def _choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.strip()
        if value not in choices:
            raise InvalidRequest(f"{name} must be one of: {', '.join(choices)}", name)
        return value

    return parse


def _currency(name: str, raw: str) -> str:
    return customer_rules.currency(raw) or _text(name, raw)


def _country(name: str, raw: str) -> str:
    return customer_rules.country(raw, name) or _text(name, raw)


PARSERS: dict[str, Callable[[str, str], Any]] = {
    "name": _text,
    "currency": _currency,
    "country": _country,
    "time_zone": _time_zone,
    "payment_terms": _optional_text,
    "default_customer_type": _choice(*sorted(customer_rules.CUSTOMER_TYPES)),
    "default_collection_mode": _choice("manual", "auto"),
    "autopay_supported": _flag,
    "autopay_delay_days": _days,
    "chase_new_invoices": _flag,
    "auto_apply_credits": _flag,
    "transactions_inherit_invoice_metadata": _flag,
    "bcc": _optional_email,
    "email_sending": _choice("outbox", "smtp"),
    "payment_gateway": _choice("test"),
    "payment_retry_schedule": _day_list,
    "subscription_draft_invoices": _flag,
    "after_subscription_nonpayment": _choice("do_nothing", "cancel"),
}


def parse_settings(assignments: list[str]) -> dict[str, Any]:
    """`name=value` pairs, each checked; an unknown name or a bad value is refused."""
    values: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, raw = assignment.partition("=")
        name = name.strip()
        if not sep:
            raise InvalidRequest(f"Expected name=value, got: {assignment}", name)
        parser = PARSERS.get(name)
        if parser is None:
            known = ", ".join(sorted(PARSERS))
            raise InvalidRequest(f"Unknown setting: {name}. Known settings: {known}", name)
        values[name] = parser(name, raw)
    return values
