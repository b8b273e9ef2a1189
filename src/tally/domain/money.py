"""Money: per-currency minor units and the one rounding rule (C12).

Amounts live as integers in minor units of their currency; conversion from a decimal rounds
half away from zero (`12.045` -> `12.05`). Nothing here ever touches a binary float.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal, localcontext

from tally.domain.coerce import INT64_MAX, INT64_MIN
from tally.domain.errors import InvalidRequest

# C12.1, kept exactly as the backend has it (KWD/JOD/OMR/TND use 2, not ISO's 3).
ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
_EXPONENTS = {"bhd": 3, "btc": 8}
# Enough digits that no product of stored values (26 integer + 12 decimal digits each) is
# rounded by the decimal context before our own rounding.
MONEY_CONTEXT = Context(prec=120)


def exponent(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    return _EXPONENTS.get(code, 2)


def round_half_up(value: Decimal) -> int:
    """Round to an integer, ties away from zero (Decimal's ROUND_HALF_UP is exactly that)."""
    with localcontext(MONEY_CONTEXT):
        return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def round_up(value: Decimal) -> int:
    """Round toward positive infinity (CT15: inclusive tax favours the tax authority)."""
    with localcontext(MONEY_CONTEXT):
        return int(value.to_integral_value(rounding=ROUND_CEILING))


def to_minor(amount: Decimal, exp: int) -> int:
    """m(d) of invoices.md §5: a decimal amount in minor units, rounded half away from zero."""
    with localcontext(MONEY_CONTEXT):
        return round_half_up(amount.scaleb(exp))


def storable_minor(amount: Decimal, currency: str, param: str = "amount") -> int:
    """An amount in minor units of `currency`, refused (param `param`) when it does not fit
    the 64-bit minor-unit columns."""
    minor = to_minor(amount, exponent(currency))
    if not INT64_MIN <= minor <= INT64_MAX:
        raise InvalidRequest("Amount is invalid", param)
    return minor


def from_minor(minor: int, exp: int) -> Decimal:
    """Minor units back to a decimal amount in major units (exact)."""
    # The context's own method: the same exact result without swapping the thread's context.
    return MONEY_CONTEXT.scaleb(Decimal(minor), -exp) if exp else Decimal(minor)


def minor_text(minor: int, exp: int) -> str:
    """The JSON text of `from_minor(minor, exp)` (as `decimal_text` writes it), without a
    Decimal: the response path writes thousands of amounts per page."""
    if not exp:
        return str(minor)
    digits = str(-minor if minor < 0 else minor)
    if len(digits) <= exp:
        digits = "0" * (exp + 1 - len(digits)) + digits
    fraction = digits[-exp:].rstrip("0")
    text = f"{digits[:-exp]}.{fraction}" if fraction else digits[:-exp]
    return f"-{text}" if minor < 0 else text


def multiply(a: Decimal, b: Decimal) -> Decimal:
    with localcontext(MONEY_CONTEXT):
        return a * b


_SYMBOLS = {"usd": "$", "cad": "$", "aud": "$", "nzd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def format_money(minor: int, currency: str) -> str:
    """An amount as people read it in messages: `$2,100.00`, `-$10.00`, `CHF 5.00`."""
    exp = exponent(currency)
    digits = f"{abs(from_minor(minor, exp)):,.{exp}f}"
    symbol = _SYMBOLS.get(currency.lower())
    text = f"{symbol}{digits}" if symbol else f"{currency.upper()} {digits}"
    return f"-{text}" if minor < 0 else text
