"""Rules shared by the price list: items (items.md) and coupons and tax rates
(coupons_tax_rates.md). Pure: no web, no session.

All three resources have user-chosen string ids, archived rather than deleted, so these rules
cover the id, the name of a rate, the value of a rate, and which currency an object gets.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from decimal import Decimal

from tally.domain import iso
from tally.domain.errors import InvalidRequest
from tally.domain.text import field_title

# IT1 / coupons_tax_rates.md §2-3: letters, digits, `_`, `-`, `:`; at least two characters.
ID_PATTERN = re.compile(r"[A-Za-z0-9_:-]{2,}")
# NOTE: the spec sets no upper bound, but ids are stored in a 64-character column; a longer
# id is refused as invalid rather than failing in the database.
MAX_ID_LENGTH = 64
GENERATED_ID_LENGTH = 6
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# CT3 (backend pattern): letters, digits, `_`, `-`, spaces and `%`.
RATE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_\- %]+")
HUNDRED = Decimal(100)
# CT9-CT11 are refused on the field that attaches the coupon.
DISCOUNTS = "discounts"


def is_valid_id(value: str) -> bool:
    """IT1: whether a string can be the id of an item, coupon or tax rate."""
    return len(value) <= MAX_ID_LENGTH and ID_PATTERN.fullmatch(value) is not None


def generate_id(choice: Callable[[str], str] = secrets.choice) -> str:
    """IT1: six random alphanumeric characters, for an object created without an id."""
    return "".join(choice(ID_ALPHABET) for _ in range(GENERATED_ID_LENGTH))


def chosen_id(value: str | None) -> str | None:
    """IT1: the id a client sent, validated; None when absent or empty (one is generated)."""
    if value is None or value == "":
        return None
    if not is_valid_id(value):
        raise InvalidRequest("Id is invalid", "id")
    return value


def already_exists(public_id: str) -> InvalidRequest:
    """IT3 / CT1: a live object of the same kind already uses this id (same wording for all)."""
    return InvalidRequest(f"An item already exists with ID: {public_id}", "id")


def rate_name(value: str | None) -> str:
    """CT3: required, and only letters, digits, `_`, `-`, spaces and `%`."""
    if not value:
        raise InvalidRequest("Name is missing", "name")
    if RATE_NAME_PATTERN.fullmatch(value) is None:
        raise InvalidRequest(
            "Name can only contain letters, numbers, spaces, dashes, underscores and %", "name"
        )
    return value


def rate_value(value: Decimal | None, is_percent: bool) -> Decimal:
    """CT4: required; a percentage lies in 0-100, a fixed amount is not negative (Decision)."""
    if value is None:
        raise InvalidRequest("Value is missing", "value")
    if is_percent and not Decimal(0) <= value <= HUNDRED:
        raise InvalidRequest("Value must be a percentage between 0 and 100", "value")
    if not is_percent and value < 0:
        raise InvalidRequest("Value must not be negative", "value")
    return value


def non_negative(value: int | None, field: str) -> int:
    """Coupon `max_redemptions` and `duration`: 0 when absent, never negative (§5)."""
    if value is None:
        return 0
    if value < 0:
        raise InvalidRequest(f"{field_title(field)} must not be negative", field)
    return value


def currency_code(value: str | None) -> str | None:
    """C12.4: ISO 4217, stored lowercase; None when absent."""
    if value is None or value == "":
        return None
    code = value.strip().lower()
    if not iso.is_currency(code):
        raise InvalidRequest("Currency is invalid", "currency")
    return code


def item_currency(sent: str | None, unit_cost: Decimal, account_currency: str) -> str | None:
    """IT4: the sent currency; else the account's for a priced item; else none."""
    code = currency_code(sent)
    if code is not None:
        return code
    return account_currency if unit_cost != 0 else None


def rate_currency(sent: str | None, is_percent: bool, account_currency: str) -> str | None:
    """CT5: the sent currency (stored even on a percent rate); else the account's for a
    fixed rate; else none."""
    code = currency_code(sent)
    if code is not None:
        return code
    return None if is_percent else account_currency


def shown_currency(currency: str | None, is_percent: bool) -> str | None:
    """CT5: a percent rate is returned with currency null, whatever is stored."""
    return None if is_percent else currency


# --- CT9-CT11: coupon redemption limits, checked when a coupon is newly attached ----------


def check_coupon_redeemable(
    coupon_id: str,
    *,
    expiration_date: int | None,
    max_redemptions: int,
    redemptions: int,
    now: int,
) -> None:
    """CT10 and CT11 for one newly attached coupon.

    `redemptions` counts the coupon's existing attachments (documents and subscriptions,
    finished ones included).
    """
    if expiration_date is not None and expiration_date < now:
        raise InvalidRequest(f"Coupon has expired: {coupon_id}", DISCOUNTS)
    if max_redemptions > 0 and redemptions >= max_redemptions:
        raise InvalidRequest(
            f"Coupon has reached its maximum number of redemptions: {coupon_id}", DISCOUNTS
        )


def check_combinable(coupons: Sequence[tuple[str, bool]]) -> None:
    """CT9: an exclusive coupon cannot share a document or subscription with another coupon.

    `coupons` lists (id, exclusive) of every coupon on the document (document level plus line
    level) or subscription.
    """
    if len(coupons) < 2:
        return
    for coupon_id, exclusive in coupons:
        if exclusive:
            raise InvalidRequest(
                f"Coupon cannot be combined with other coupons: {coupon_id}", DISCOUNTS
            )
