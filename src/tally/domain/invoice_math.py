"""The invoice calculator: invoices.md R1-R10 and coupons_tax_rates.md CT12-CT15.

Pure and exact: every amount is an integer in minor units of the document currency, every
intermediate product an exact Decimal, and each computed part is rounded once (R9), so the
total is the sum of its rounded parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from tally.domain.money import MONEY_CONTEXT, multiply, round_half_up, round_up, to_minor

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Rate:
    """A discount, tax or shipping charge as the calculator sees it.

    A percent rate carries `value` in percent (5 = 5 %). A fixed rate or a custom amount
    carries `value` in major units of the document currency. `inclusive` only matters for
    taxes: the price already contains the tax.
    """

    value: Decimal
    is_percent: bool = False
    inclusive: bool = False


@dataclass(frozen=True)
class Line:
    quantity: Decimal
    unit_cost: Decimal
    discountable: bool = True
    taxable: bool = True
    discounts: Sequence[Rate] = ()
    taxes: Sequence[Rate] = ()


@dataclass(frozen=True)
class LineResult:
    amount: int  # after any inclusive-tax carve-out (R4)
    discounts: tuple[int, ...]
    taxes: tuple[int, ...]

    @property
    def net(self) -> int:
        """The line amount less its own discounts: what document rates are based on."""
        return self.amount - sum(self.discounts)


@dataclass(frozen=True)
class Totals:
    lines: tuple[LineResult, ...]
    subtotal: int
    discounts: tuple[int, ...]
    taxes: tuple[int, ...]
    shipping: tuple[int, ...]
    total: int

    @property
    def line_discounts(self) -> int:
        return sum(sum(line.discounts) for line in self.lines)

    @property
    def line_taxes(self) -> int:
        return sum(sum(line.taxes) for line in self.lines)


def _percent_of(base: int, percent: Decimal) -> int:
    """R3/R4/R5 percent rates: rnd(max(0, base) x v / 100)."""
    with localcontext(MONEY_CONTEXT):
        return round_half_up(Decimal(max(0, base)) * percent / HUNDRED)


def _fixed(rate: Rate, exp: int) -> int:
    return to_minor(rate.value, exp)


def _discount(rate: Rate, base: int, exp: int) -> int:
    return _percent_of(base, rate.value) if rate.is_percent else _fixed(rate, exp)


def _tax(rate: Rate, base: int, exp: int) -> int:
    if not rate.is_percent:
        return _fixed(rate, exp)
    if rate.inclusive:
        # CT15: the base already holds the tax: ceil(base x v / (100 + v)).
        with localcontext(MONEY_CONTEXT):
            return round_up(Decimal(max(0, base)) * rate.value / (HUNDRED + rate.value))
    return _percent_of(base, rate.value)


def _line(line: Line, exp: int) -> LineResult:
    amount = to_minor(multiply(line.quantity, line.unit_cost), exp)  # R1
    discounts = tuple(_discount(rate, amount, exp) for rate in line.discounts)  # R3
    base = amount - sum(discounts)
    taxes = tuple(_tax(rate, base, exp) for rate in line.taxes)  # R4, one shared base (R6)
    carved = sum(t for t, rate in zip(taxes, line.taxes, strict=True) if rate.inclusive)
    return LineResult(amount - carved, discounts, taxes)


def calculate(
    lines: Sequence[Line],
    discounts: Sequence[Rate] = (),
    taxes: Sequence[Rate] = (),
    shipping: Sequence[Rate] = (),
    *,
    exponent: int = 2,
) -> Totals:
    results = tuple(_line(line, exponent) for line in lines)
    net = sum(result.net for result in results)

    # R5: document discounts, one base for all of them.
    discount_base = net - sum(
        r.amount for r, line in zip(results, lines, strict=True) if not line.discountable
    )
    document_discounts = tuple(_discount(rate, discount_base, exponent) for rate in discounts)

    # R7: document taxes, one base for all of them.
    tax_base = (
        net
        - sum(document_discounts)
        - sum(r.amount for r, line in zip(results, lines, strict=True) if not line.taxable)
    )
    document_taxes = tuple(_tax(rate, tax_base, exponent) for rate in taxes)
    document_inclusive = sum(
        t for t, rate in zip(document_taxes, taxes, strict=True) if rate.inclusive
    )

    charges = tuple(_fixed(rate, exponent) for rate in shipping)  # R8

    # R4a/R7: the subtotal is the sum of line amounts, less taxes carved out of it.
    subtotal = sum(r.amount for r in results) - document_inclusive
    line_discounts = sum(sum(r.discounts) for r in results)
    line_taxes = sum(sum(r.taxes) for r in results)
    # R10; inclusive taxes were carved out of the subtotal and come back here, so they
    # leave the total equal to the original price.
    total = (
        subtotal
        - line_discounts
        + line_taxes
        - sum(document_discounts)
        + sum(document_taxes)
        + sum(charges)
    )
    return Totals(results, subtotal, document_discounts, document_taxes, charges, total)
