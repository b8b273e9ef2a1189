"""ISO code tables: countries (3166-1 alpha-2), currencies (4217), languages (639-1)."""

from __future__ import annotations

from functools import cache

import pycountry


@cache
def country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3.lower() for c in pycountry.currencies)


@cache
def language_codes() -> frozenset[str]:
    return frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


def is_country(code: str) -> bool:
    return code.upper() in country_codes()


def is_currency(code: str) -> bool:
    return code.lower() in currency_codes()


def is_language(code: str) -> bool:
    return code.lower() in language_codes()
