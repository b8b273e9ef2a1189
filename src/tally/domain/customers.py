"""Customer rules from customers.md that need no database."""

from __future__ import annotations

from collections.abc import Sequence

from tally.domain import iso
from tally.domain.errors import InvalidRequest

CUSTOMER_TYPES = frozenset({"company", "person", "government", "non_profit"})
MAX_HIERARCHY_LEVELS = 5
MAX_CONTACTS = 100
# CU14 and CT3 wordings.
AUTOPAY_UNSUPPORTED = (
    "Sorry, this business does not support AutoPay. Please enable a supported payment "
    "method in Settings > Payments first."
)


def customer_type(value: str | None, default: str) -> str:
    """CU3: one of four types; absent means the account default."""
    if value is None:
        return default
    if value not in CUSTOMER_TYPES:
        raise InvalidRequest("Type must be one of the allowed values", "type")
    return value


def country(value: str | None, param: str = "country") -> str | None:
    """CU4: ISO 3166-1 alpha-2, stored uppercase."""
    if value is None:
        return None
    code = value.strip().upper()
    if not iso.is_country(code):
        raise InvalidRequest("Country is invalid", param)
    return code


def currency(value: str | None) -> str | None:
    """C12.4: ISO 4217, stored lowercase."""
    if value is None:
        return None
    code = value.strip().lower()
    if not iso.is_currency(code):
        raise InvalidRequest("Currency is invalid", "currency")
    return code


def language(value: str | None) -> str | None:
    """CU4: ISO 639-1 (two letters), stored lowercase."""
    if value is None:
        return None
    code = value.strip().lower()
    if len(code) != 2 or not iso.is_language(code):
        raise InvalidRequest("Language is invalid", "language")
    return code


def payment_terms_after_change(
    *,
    autopay: bool,
    terms_sent: bool,
    terms: str | None,
    current_terms: str | None,
    account_terms: str | None,
    creating: bool,
) -> str | None:
    """CU6/CU7: AutoPay customers have no payment terms; others default to the account's."""
    if autopay:
        return None
    if terms_sent:
        return terms
    return account_terms if creating else current_terms


def check_autopay_supported(autopay: bool, supported: bool) -> None:
    if autopay and not supported:
        raise InvalidRequest(AUTOPAY_UNSUPPORTED, "autopay")


def check_parent(
    customer_id: int | None, parent_id: int, parent_chain: Sequence[int], subtree_height: int
) -> None:
    """CU10 on a proposed parent.

    `parent_chain` is the parent followed by its ancestors up to the root; `subtree_height`
    counts the levels below the customer (0 for a leaf).
    """
    param = "parent_customer"
    if customer_id is not None and parent_id == customer_id:
        raise InvalidRequest("Cannot set parent customer as self.", param)
    if customer_id is not None and customer_id in parent_chain:
        raise InvalidRequest("Cannot set sub-customer as a parent.", param)
    if len(parent_chain) + 1 + subtree_height > MAX_HIERARCHY_LEVELS:
        raise InvalidRequest(
            "A customer cannot have more than five levels of sub-customers.", param
        )


def unique_tax_ids(raw: object) -> list[str]:
    """CU9: tax-rate ids (or objects with `id`), duplicates removed, first kept."""
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise InvalidRequest("Taxes must be a list of tax rate IDs", "taxes")
    result: list[str] = []
    for item in raw:
        ident = item.get("id") if isinstance(item, dict) else item
        if isinstance(ident, bool) or not isinstance(ident, str | int) or str(ident) == "":
            raise InvalidRequest("Taxes must be a list of tax rate IDs", "taxes")
        if str(ident) not in result:
            result.append(str(ident))
    return result


def string_list(raw: object, param: str) -> list[str]:
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise InvalidRequest(f"{param.replace('_', ' ').capitalize()} must be a list", param)
    return list(dict.fromkeys(raw))
