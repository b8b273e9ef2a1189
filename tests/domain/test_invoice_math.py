"""Golden and property cases for the invoice calculator (invoices.md R1-R10, §16; CT12-CT15).

Every amount the calculator returns is in integer minor units. The worked examples are the
spec's own numbers; the properties compare against a second, deliberately literal reading of
the R-rules computed with exact fractions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tally.domain.invoice_math import Line, Rate, Totals, calculate

D = Decimal


def pct(value: str) -> Rate:
    return Rate(D(value), is_percent=True)


def fixed(value: str) -> Rate:
    return Rate(D(value))


def incl(value: str) -> Rate:
    return Rate(D(value), is_percent=True, inclusive=True)


def line(
    quantity: str,
    unit_cost: str,
    *,
    discountable: bool = True,
    taxable: bool = True,
    discounts: tuple[Rate, ...] = (),
    taxes: tuple[Rate, ...] = (),
) -> Line:
    return Line(D(quantity), D(unit_cost), discountable, taxable, discounts, taxes)


def assert_all_ints(totals: Totals) -> None:
    """R9: every computed amount is an integer number of minor units (never a bool/float)."""
    values: list[object] = [totals.subtotal, totals.total]
    values += [*totals.discounts, *totals.taxes, *totals.shipping]
    for result in totals.lines:
        values += [result.amount, *result.discounts, *result.taxes]
    assert all(type(value) is int for value in values), values


# --- §16 worked examples ----------------------------------------------------------------------


def test_example_i1_seed_invoice() -> None:
    """I-1: 3 x 45 + 1 x 10, custom tax 3.85 → subtotal 145, total 148.85."""
    totals = calculate(
        [line("3", "45"), line("1", "10")],
        taxes=[fixed("3.85")],
    )
    assert [r.amount for r in totals.lines] == [13500, 1000]
    assert totals.subtotal == 14500
    assert totals.discounts == ()
    assert totals.taxes == (385,)
    assert totals.shipping == ()
    assert totals.total == 14885
    assert_all_ints(totals)


def example_i2() -> Totals:
    return calculate(
        [
            # (a) 10 x 100, discount3 fixed 6, gst 2 %, qst 3 %
            line("10", "100", discounts=(fixed("6"),), taxes=(pct("2"), pct("3"))),
            # (b) -1 x 15.58068
            line("-1", "15.58068"),
            # (c) 0 x 0 with discount 5 % and discount2 fixed 10
            line("0", "0", discounts=(pct("5"), fixed("10"))),
            # (d) catalog item test-item: unit_cost 1000 filled in, quantity 0
            line("0", "1000"),
            # (e) "No taxes or discounts" 2 x 99
            line("2", "99", discountable=False, taxable=False),
        ],
        discounts=[pct("5"), fixed("10"), fixed("10")],
        taxes=[pct("5"), pct("7"), fixed("5"), fixed("7.2")],
        shipping=[fixed("10")],
    )


def test_example_i2_line_amounts_r1() -> None:
    totals = example_i2()
    assert [r.amount for r in totals.lines] == [100000, -1558, 0, 0, 19800]


def test_example_i2_subtotal_r4a() -> None:
    assert example_i2().subtotal == 118242


def test_example_i2_line_discounts_r3() -> None:
    totals = example_i2()
    assert [r.discounts for r in totals.lines] == [(600,), (), (0, 1000), (), ()]
    assert totals.line_discounts == 1600


def test_example_i2_line_taxes_r4() -> None:
    """gst 2 % and qst 3 % of 994.00 (line a after its 6.00 discount): one shared base (R6)."""
    totals = example_i2()
    assert [r.taxes for r in totals.lines] == [(1988, 2982), (), (), (), ()]
    assert totals.line_taxes == 4970


def test_example_i2_line_net() -> None:
    totals = example_i2()
    assert [r.net for r in totals.lines] == [99400, -1558, -1000, 0, 19800]
    assert sum(r.net for r in totals.lines) == 116642


def test_example_i2_document_discounts_r5() -> None:
    """DB = 1166.42 - 198 = 968.42; 5 % → 48.42, then 10.00 and 10.00."""
    assert example_i2().discounts == (4842, 1000, 1000)


def test_example_i2_document_taxes_r7() -> None:
    """TB = 1166.42 - 68.42 - 198 = 900.00; vat 45.00, sales-tax 63.00, +5.00, +7.20."""
    assert example_i2().taxes == (4500, 6300, 500, 720)


def test_example_i2_shipping_r8() -> None:
    assert example_i2().shipping == (1000,)


def test_example_i2_total_r10() -> None:
    totals = example_i2()
    assert totals.total == 127790
    assert totals.total == 118242 - 1600 + 4970 - 6842 + 12020 + 1000
    assert_all_ints(totals)


def test_example_i3_eur_rounding() -> None:
    """I-3: 12.045 x 1 is 12.05 (half up, C12.2); total 101.80."""
    totals = calculate(
        [
            line("1", "105.26", discounts=(pct("5"),)),
            line("12.045", "1"),
            line("10", "-1"),
        ],
        discounts=[pct("5")],
        taxes=[pct("5")],
        exponent=2,
    )
    assert [r.amount for r in totals.lines] == [10526, 1205, -1000]
    assert totals.subtotal == 10731
    assert [r.discounts for r in totals.lines] == [(526,), (), ()]  # 5.263
    assert totals.discounts == (510,)  # 5 % of DB 102.05 = 5.1025
    assert totals.taxes == (485,)  # 5 % of TB 96.95 = 4.8475
    assert totals.total == 10180


def test_example_i4_inclusive_document_tax() -> None:
    """I-4: TB 985.00, tax ceil(985 x 0.2 / 1.2) = 164.17; subtotal 2820.83, total 2985.00."""
    totals = calculate(
        [line("10", "100"), line("-1", "15"), line("1", "2000", taxable=False)],
        taxes=[incl("20")],
    )
    assert [r.amount for r in totals.lines] == [100000, -1500, 200000]
    assert totals.taxes == (16417,)
    assert totals.subtotal == 282083
    assert totals.total == 298500


def test_ct_example_a_percent_coupon_and_exclusive_vat() -> None:
    """coupons_tax_rates.md A: 20 % coupon, 5 % vat on 45 + 10 → 46.20."""
    totals = calculate(
        [line("1", "45"), line("1", "10")],
        discounts=[pct("20")],
        taxes=[pct("5")],
    )
    assert totals.subtotal == 5500
    assert totals.discounts == (1100,)
    assert totals.taxes == (220,)
    assert totals.total == 4620


@pytest.mark.parametrize(
    ("price", "tax", "subtotal", "total"),
    [
        pytest.param("110", 1000, 10000, 11000, id="110.00"),
        pytest.param("100", 910, 9090, 10000, id="100.00-ceil-909.09"),
        pytest.param("99.99", 909, 9090, 9999, id="99.99-exactly-909"),
    ],
)
def test_ct_example_b_inclusive_tax_ct15(price: str, tax: int, subtotal: int, total: int) -> None:
    """coupons_tax_rates.md B: gst 10 % inclusive at document level (CT15, R7)."""
    totals = calculate([line("1", price)], taxes=[incl("10")])
    assert totals.taxes == (tax,)
    assert totals.subtotal == subtotal
    assert totals.total == total


@pytest.mark.parametrize(
    ("price", "tax", "amount", "total"),
    [
        pytest.param("110", 1000, 10000, 11000, id="110.00"),
        pytest.param("100", 910, 9090, 10000, id="100.00"),
        pytest.param("99.99", 909, 9090, 9999, id="99.99"),
    ],
)
def test_ct15_r4_inclusive_line_tax_is_carved_out_of_the_line(
    price: str, tax: int, amount: int, total: int
) -> None:
    """R4: an inclusive line tax reduces line.amount by t; R4a subtotal is after the carve-out."""
    totals = calculate([line("1", price, taxes=(incl("10"),))])
    assert totals.lines[0].taxes == (tax,)
    assert totals.lines[0].amount == amount
    assert totals.subtotal == amount
    assert totals.line_taxes == tax
    assert totals.total == total


# --- per-currency exponents (C12.1) -------------------------------------------------------------


def test_jpy_exponent_0_line_and_tax_round_half_up() -> None:
    """R1 with e = 0: 3 x 333.5 = 1000.5 → 1001 yen; 8 % of 1001 = 80.08 → 80."""
    totals = calculate([line("3", "333.5")], taxes=[pct("8")], exponent=0)
    assert totals.lines[0].amount == 1001
    assert totals.taxes == (80,)
    assert totals.total == 1081


def test_jpy_percent_tax_tie_goes_up() -> None:
    """10 % of 1005 yen = 100.5 → 101 (half away from zero, not to even)."""
    totals = calculate([line("1", "1005")], taxes=[pct("10")], exponent=0)
    assert totals.taxes == (101,)
    assert totals.total == 1106


def test_jpy_fixed_amounts_rounded_to_whole_yen() -> None:
    """m(0.5) = 1 yen for a fixed discount; shipping 500.5 → 501 (R3, R8)."""
    totals = calculate(
        [line("1", "100")], discounts=[fixed("0.5")], shipping=[fixed("500.5")], exponent=0
    )
    assert totals.discounts == (1,)
    assert totals.shipping == (501,)
    assert totals.total == 100 - 1 + 501


@pytest.mark.parametrize(
    ("price", "tax", "subtotal"),
    [("1100", 100, 1000), ("1000", 91, 909)],
)
def test_jpy_inclusive_tax_ceil_in_yen(price: str, tax: int, subtotal: int) -> None:
    totals = calculate([line("1", price)], taxes=[incl("10")], exponent=0)
    assert totals.taxes == (tax,)
    assert totals.subtotal == subtotal
    assert totals.total == int(price)


def test_bhd_three_decimals_half_up_at_the_fourth() -> None:
    """1.2345 BHD → 1.235; 2 x 0.00025 = 0.0005 → 0.001; 5 % of 1.236 = 0.0618 → 0.062."""
    totals = calculate(
        [line("1", "1.2345"), line("2", "0.00025"), line("1", "1.23449")],
        taxes=[pct("5")],
        exponent=3,
    )
    assert [r.amount for r in totals.lines] == [1235, 1, 1234]
    assert totals.subtotal == 2470
    assert totals.taxes == (124,)  # 5 % of 2.470 = 0.1235 → 0.124
    assert totals.total == 2594


def test_bhd_negative_line_rounds_away_from_zero() -> None:
    totals = calculate([line("-1", "1.2345")], exponent=3)
    assert totals.lines[0].amount == -1235
    assert totals.total == -1235


def test_bhd_percent_discount_tie() -> None:
    """12.5 % of 1.004 BHD = 0.1255 → 0.126."""
    totals = calculate([line("1", "1.004")], discounts=[pct("12.5")], exponent=3)
    assert totals.discounts == (126,)
    assert totals.total == 878


def test_btc_eight_decimals() -> None:
    """0.123456785 BTC → 0.12345679; 1 % → 0.0012345679 → 0.00123457."""
    totals = calculate([line("1", "0.123456785")], taxes=[pct("1")], exponent=8)
    assert totals.lines[0].amount == 12345679
    assert totals.taxes == (123457,)
    assert totals.total == 12469136


# --- R1 quantities --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "unit_cost", "amount"),
    [
        pytest.param("-2", "10.005", -2001, id="negative-qty-tie"),
        pytest.param("-1", "0.005", -1, id="negative-half-cent"),
        pytest.param("-3", "-5", 1500, id="negative-times-negative"),
        pytest.param("1", "-15.58068", -1558, id="negative-unit-cost"),
        pytest.param("1.5", "33.33", 5000, id="fractional-49.995"),
        pytest.param("0.333", "10", 333, id="fractional-0.333"),
        pytest.param("2.5", "0.01", 3, id="fractional-0.025"),
        pytest.param("0.5", "0.01", 1, id="fractional-half-cent"),
        pytest.param("1.25", "19.99", 2499, id="fractional-24.9875"),
        pytest.param("0.0001", "1", 0, id="tiny"),
        pytest.param("1", "0", 0, id="zero-cost"),
        pytest.param("0", "1000", 0, id="zero-quantity"),
        pytest.param("123456789.123456789", "987654.987654321", 12193271353756983, id="long-exact"),
    ],
)
def test_r1_line_amount(quantity: str, unit_cost: str, amount: int) -> None:
    totals = calculate([line(quantity, unit_cost)])
    assert totals.lines[0].amount == amount
    assert totals.subtotal == amount
    assert totals.total == amount


def test_r9_each_line_rounded_before_summing() -> None:
    """Three 0.333 lines are 0.33 each → 0.99, not m(0.999) = 1.00 (total = sum of parts)."""
    totals = calculate([line("1", "0.333")] * 3)
    assert totals.subtotal == 99
    assert totals.total == 99


def test_r9_document_tax_on_rounded_line_amounts() -> None:
    """0.005 → 0.01 per line, base 0.03; 50 % = 1.5 → 0.02."""
    totals = calculate([line("1", "0.005")] * 3, taxes=[pct("50")])
    assert totals.subtotal == 3
    assert totals.taxes == (2,)
    assert totals.total == 5


# --- percent rates with fractions (CT12, CT14) ------------------------------------------------


@pytest.mark.parametrize(
    ("price", "rate", "tax"),
    [
        pytest.param("100", "7.25", 725, id="7.25%-of-100"),
        pytest.param("19.99", "7.25", 145, id="7.25%-of-19.99=1.449275"),
        pytest.param("10", "8.875", 89, id="8.875%-of-10=0.8875"),
        pytest.param("0.10", "7.25", 1, id="7.25%-of-0.10=0.00725"),
        pytest.param("0.06", "7.25", 0, id="7.25%-of-0.06=0.00435"),
        pytest.param("0.04", "12.5", 1, id="12.5%-of-0.04=tie"),
        pytest.param("1234.56", "0.001", 1, id="tiny-rate-0.0123456"),
        pytest.param("100", "0", 0, id="zero-rate"),
        pytest.param("100", "100", 10000, id="hundred-percent"),
    ],
)
def test_ct14_exclusive_percent_tax_with_fractional_rates(price: str, rate: str, tax: int) -> None:
    document = calculate([line("1", price)], taxes=[pct(rate)])
    assert document.taxes == (tax,)
    on_line = calculate([line("1", price, taxes=(pct(rate),))])
    assert on_line.lines[0].taxes == (tax,)


@pytest.mark.parametrize(
    ("price", "rate", "discount"),
    [
        pytest.param("30", "33.333", 1000, id="33.333%-of-30=9.9999"),
        pytest.param("19.99", "7.25", 145, id="7.25%-of-19.99"),
        pytest.param("0.01", "50", 1, id="half-a-cent-tie"),
        pytest.param("100", "100", 10000, id="hundred-percent"),
    ],
)
def test_ct12_percent_coupon_with_fractional_rates(price: str, rate: str, discount: int) -> None:
    document = calculate([line("1", price)], discounts=[pct(rate)])
    assert document.discounts == (discount,)
    on_line = calculate([line("1", price, discounts=(pct(rate),))])
    assert on_line.lines[0].discounts == (discount,)


def test_r3_percent_rates_on_a_negative_line_are_zero() -> None:
    """R3/R4: rnd(max(0, base) x v / 100) — a credit line gets no percent discount or tax."""
    totals = calculate([line("-1", "50", discounts=(pct("10"),), taxes=(pct("10"),))])
    assert totals.lines[0].discounts == (0,)
    assert totals.lines[0].taxes == (0,)
    assert totals.total == -5000


def test_r3_fixed_discount_applies_to_a_negative_line() -> None:
    totals = calculate([line("-1", "50", discounts=(fixed("5"),))])
    assert totals.lines[0].discounts == (500,)
    assert totals.lines[0].net == -5500
    assert totals.total == -5500


# --- R3 fixed amounts are not capped ------------------------------------------------------------


def test_r3_fixed_line_discount_not_capped_net_goes_negative() -> None:
    totals = calculate([line("1", "5", discounts=(fixed("10"),))])
    assert totals.lines[0].amount == 500
    assert totals.lines[0].discounts == (1000,)
    assert totals.lines[0].net == -500
    assert totals.subtotal == 500  # R4a: not net of line discounts
    assert totals.total == -500  # R11 (total >= 0) is enforced by the service, not here


def test_r3_r5_r7_negative_bases_give_zero_percent_document_rates() -> None:
    totals = calculate(
        [line("1", "5", discounts=(fixed("10"),))],
        discounts=[pct("10")],
        taxes=[pct("10")],
    )
    assert totals.discounts == (0,)
    assert totals.taxes == (0,)
    assert totals.total == -500


def test_r5_fixed_document_discount_not_capped() -> None:
    totals = calculate([line("1", "5")], discounts=[fixed("10")])
    assert totals.discounts == (1000,)
    assert totals.total == -500


def test_r3_r6_two_half_coupons_on_one_cent_overshoot_by_rounding() -> None:
    """Each 50 % coupon is rnd(1 x 0.5) = 1 on the same base (R6), so 0.01 - 0.02 = -0.01."""
    totals = calculate([line("1", "0.01", discounts=(pct("50"), pct("50")))])
    assert totals.lines[0].discounts == (1, 1)
    assert totals.total == -1


# --- R6 rates never compound -------------------------------------------------------------------


def test_r6_document_taxes_share_one_base() -> None:
    totals = calculate([line("1", "100")], taxes=[pct("5"), pct("10")])
    assert totals.taxes == (500, 1000)  # 10 % of 100.00, not of 105.00
    assert totals.total == 11500


def test_r6_document_discounts_share_one_base() -> None:
    totals = calculate([line("1", "100")], discounts=[pct("10"), pct("10")])
    assert totals.discounts == (1000, 1000)  # not 10.00 + 9.00
    assert totals.total == 8000


def test_r6_line_rates_share_the_line_base() -> None:
    totals = calculate(
        [line("1", "100", discounts=(pct("10"), pct("10")), taxes=(pct("5"), pct("10")))]
    )
    assert totals.lines[0].discounts == (1000, 1000)
    assert totals.lines[0].taxes == (400, 800)  # both on 80.00
    assert totals.total == 10000 - 2000 + 1200


def test_r6_line_taxes_are_not_part_of_the_document_tax_base() -> None:
    totals = calculate([line("1", "100", taxes=(pct("10"),))], taxes=[pct("5")])
    assert totals.lines[0].taxes == (1000,)
    assert totals.taxes == (500,)  # 5 % of 100.00, not of 110.00
    assert totals.total == 11500


def test_r6_document_inclusive_and_exclusive_taxes_share_tb() -> None:
    """I-4 plus an exclusive 5 %: both on TB = 985.00 (the carve-out does not shrink TB)."""
    totals = calculate(
        [line("10", "100"), line("-1", "15"), line("1", "2000", taxable=False)],
        taxes=[incl("20"), pct("5")],
    )
    assert totals.taxes == (16417, 4925)
    assert totals.subtotal == 282083
    assert totals.total == 298500 + 4925


def test_r6_inclusive_and_exclusive_line_taxes_share_the_line_base() -> None:
    totals = calculate([line("1", "110", taxes=(incl("10"), pct("5")))])
    assert totals.lines[0].taxes == (1000, 550)  # 5 % of 110.00, the line base B
    assert totals.lines[0].amount == 10000
    assert totals.total == 11550


def test_r8_shipping_is_not_taxed_and_adds_up() -> None:
    totals = calculate(
        [line("1", "100")], taxes=[pct("10")], shipping=[fixed("10"), fixed("2.505")]
    )
    assert totals.taxes == (1000,)
    assert totals.shipping == (1000, 251)
    assert totals.total == 10000 + 1000 + 1251


# --- R5 / R7 flags ---------------------------------------------------------------------------


def test_r5_non_discountable_line_excluded_from_db() -> None:
    totals = calculate(
        [line("1", "100"), line("1", "50", discountable=False)],
        discounts=[pct("10")],
        taxes=[pct("10")],
    )
    assert totals.discounts == (1000,)  # 10 % of 100.00, not of 150.00
    assert totals.taxes == (1400,)  # still taxed: TB = 150.00 - 10.00
    assert totals.total == 15000 - 1000 + 1400


def test_r5_db_subtracts_the_full_amount_of_a_non_discountable_line() -> None:
    """DB = Σ(amount - LD) - Σ_{discountable=false} amount = (100 + 45) - 50 = 95.00."""
    totals = calculate(
        [line("1", "100"), line("1", "50", discountable=False, discounts=(fixed("5"),))],
        discounts=[pct("10")],
    )
    assert totals.lines[1].discounts == (500,)
    assert totals.discounts == (950,)


def test_r7_non_taxable_line_excluded_from_tb() -> None:
    totals = calculate(
        [line("1", "100"), line("1", "50", taxable=False)],
        discounts=[pct("10")],
        taxes=[pct("10")],
    )
    assert totals.discounts == (1500,)  # still discounted
    assert totals.taxes == (850,)  # TB = 150.00 - 15.00 - 50.00 = 85.00
    assert totals.total == 15000 - 1500 + 850


def test_r7_tb_subtracts_the_full_amount_of_a_non_taxable_line() -> None:
    """TB = Σ(amount - LD) - DD - Σ_{taxable=false} amount = (100 + 45) - 0 - 50 = 95.00."""
    totals = calculate(
        [line("1", "100"), line("1", "50", taxable=False, discounts=(fixed("5"),))],
        taxes=[pct("10")],
    )
    assert totals.taxes == (950,)


def test_r5_r7_line_with_both_flags_off() -> None:
    totals = calculate(
        [line("1", "100"), line("1", "50", discountable=False, taxable=False)],
        discounts=[pct("10")],
        taxes=[pct("10")],
    )
    assert totals.discounts == (1000,)
    assert totals.taxes == (900,)  # TB = 150.00 - 10.00 - 50.00
    assert totals.total == 15000 - 1000 + 900


def test_r4_line_rates_apply_even_when_flags_are_false() -> None:
    """R4: taxable/discountable only affect document-level rates."""
    totals = calculate(
        [
            line(
                "1",
                "100",
                discountable=False,
                taxable=False,
                discounts=(pct("10"),),
                taxes=(pct("5"),),
            )
        ]
    )
    assert totals.lines[0].discounts == (1000,)
    assert totals.lines[0].taxes == (450,)  # 5 % of 90.00
    assert totals.total == 10000 - 1000 + 450


def test_r4_flags_false_with_document_rates_present() -> None:
    """The same line with document rates: DB = 90 - 100 < 0 and TB = 90 - 0 - 100 < 0 → 0."""
    totals = calculate(
        [
            line(
                "1",
                "100",
                discountable=False,
                taxable=False,
                discounts=(pct("10"),),
                taxes=(pct("5"),),
            )
        ],
        discounts=[pct("10")],
        taxes=[pct("10")],
    )
    assert totals.lines[0].discounts == (1000,)
    assert totals.lines[0].taxes == (450,)
    assert totals.discounts == (0,)
    assert totals.taxes == (0,)
    assert totals.total == 9450


# --- inclusive taxes (R4, R7, CT15) --------------------------------------------------------------


def test_ct15_inclusive_line_tax_after_line_discount() -> None:
    """B = 110 - 11 = 99.00; t = ceil(99 x 10 / 110) = 9.00; line.amount = 110 - 9 = 101.00."""
    totals = calculate([line("1", "110", discounts=(fixed("11"),), taxes=(incl("10"),))])
    result = totals.lines[0]
    assert result.taxes == (900,)
    assert result.amount == 10100
    assert result.net == 9000
    assert totals.subtotal == 10100
    assert totals.total == 9900  # the discounted price, unchanged by the inclusive tax


def test_ct15_inclusive_fixed_tax_is_subtracted_the_same_way() -> None:
    totals = calculate([line("1", "100")], taxes=[Rate(D("5"), inclusive=True)])
    assert totals.taxes == (500,)
    assert totals.subtotal == 9500
    assert totals.total == 10000
    on_line = calculate([line("1", "100", taxes=(Rate(D("5"), inclusive=True),))])
    assert on_line.lines[0].taxes == (500,)
    assert on_line.lines[0].amount == 9500
    assert on_line.total == 10000


def test_r4_r5_document_rates_use_the_carved_line_amount() -> None:
    """R4 reduces line.amount by an inclusive line tax; R5/R7 bases are built on line.amount."""
    totals = calculate(
        [line("1", "110", taxes=(incl("10"),))], discounts=[pct("10")], taxes=[pct("5")]
    )
    assert totals.lines[0].amount == 10000
    assert totals.discounts == (1000,)  # 10 % of 100.00
    assert totals.taxes == (450,)  # 5 % of 90.00
    assert totals.total == 10000 - 1000 + 1000 + 450


def test_empty_invoice() -> None:
    totals = calculate([])
    assert totals.lines == ()
    assert totals.subtotal == 0
    assert totals.total == 0
    assert_all_ints(totals)


# --- an independent, literal reading of R1-R10 for the properties --------------------------------


class Unspecified(Exception):
    """Inputs whose result the spec does not pin down (an inclusive tax on a negative base)."""


def rnd(value: Fraction) -> int:
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def ceil(value: Fraction) -> int:
    return math.ceil(value)


def m(value: Decimal | Fraction, exp: int) -> int:
    return rnd(Fraction(value) * 10**exp)


def ref_rate(rate: Rate, base: int, exp: int) -> int:
    v = Fraction(rate.value)
    if not rate.is_percent:
        return m(v, exp)
    if rate.inclusive:
        if base < 0:
            raise Unspecified
        return ceil(base * v / (100 + v))
    return rnd(max(0, base) * v / 100)


def reference_total(
    lines: Sequence[Line],
    discounts: Sequence[Rate],
    taxes: Sequence[Rate],
    shipping: Sequence[Rate],
    exp: int,
) -> dict[str, object]:
    amounts, line_discounts, line_taxes = [], [], []
    for item in lines:
        amount = m(Fraction(item.quantity) * Fraction(item.unit_cost), exp)  # R1
        ld = [ref_rate(rate, amount, exp) for rate in item.discounts]  # R3
        base = amount - sum(ld)
        lt = [ref_rate(rate, base, exp) for rate in item.taxes]  # R4
        amount -= sum(t for t, rate in zip(lt, item.taxes, strict=True) if rate.inclusive)
        amounts.append(amount)
        line_discounts.append(tuple(ld))
        line_taxes.append(tuple(lt))
    net = sum(amounts) - sum(map(sum, line_discounts))
    db = net - sum(a for a, item in zip(amounts, lines, strict=True) if not item.discountable)
    dd = [ref_rate(rate, db, exp) for rate in discounts]  # R5
    tb = net - sum(dd) - sum(a for a, item in zip(amounts, lines, strict=True) if not item.taxable)
    dt = [ref_rate(rate, tb, exp) for rate in taxes]  # R7
    dt_inclusive = sum(t for t, rate in zip(dt, taxes, strict=True) if rate.inclusive)
    sh = [m(rate.value, exp) for rate in shipping]  # R8
    # R10 with R7: an inclusive document tax leaves the total unchanged.
    total = net - sum(dd) + sum(map(sum, line_taxes)) + sum(dt) - dt_inclusive + sum(sh)
    return {
        "amounts": amounts,
        "line_discounts": line_discounts,
        "line_taxes": line_taxes,
        "subtotal": sum(amounts) - dt_inclusive,  # R4a, R7
        "discounts": tuple(dd),
        "taxes": tuple(dt),
        "shipping": tuple(sh),
        "total": total,
    }


def observed(totals: Totals) -> dict[str, object]:
    return {
        "amounts": [r.amount for r in totals.lines],
        "line_discounts": [r.discounts for r in totals.lines],
        "line_taxes": [r.taxes for r in totals.lines],
        "subtotal": totals.subtotal,
        "discounts": totals.discounts,
        "taxes": totals.taxes,
        "shipping": totals.shipping,
        "total": totals.total,
    }


# --- strategies: every Decimal is built from a string ------------------------------------------


def decimal_text(low: int, high: int, places: int) -> st.SearchStrategy[Decimal]:
    """A Decimal from its text, with up to `places` decimals, in [low, high]."""
    return st.integers(min_value=0, max_value=places).flatmap(
        lambda p: st.integers(min_value=low * 10**p, max_value=high * 10**p).map(
            lambda n: Decimal(f"{n}E-{p}")
        )
    )


percents = decimal_text(0, 100, 3)
amounts = decimal_text(0, 500, 4)
exponents = st.sampled_from([0, 2, 3, 8])


@st.composite
def rates(draw: st.DrawFn, *, inclusive: bool = False) -> Rate:
    if draw(st.booleans()):
        return Rate(draw(percents), is_percent=True, inclusive=inclusive and draw(st.booleans()))
    return Rate(draw(amounts), inclusive=inclusive and draw(st.booleans()))


@st.composite
def lines(
    draw: st.DrawFn,
    *,
    min_quantity: int = -5,
    min_cost: int = -200,
    line_discounts: st.SearchStrategy[Rate] | None = None,
    line_taxes: st.SearchStrategy[Rate] | None = None,
) -> Line:
    discount_strategy = rates() if line_discounts is None else line_discounts
    tax_strategy = rates(inclusive=True) if line_taxes is None else line_taxes
    return Line(
        quantity=draw(decimal_text(min_quantity, 20, 3)),
        unit_cost=draw(decimal_text(min_cost, 5000, 5)),
        discountable=draw(st.booleans()),
        taxable=draw(st.booleans()),
        discounts=tuple(draw(st.lists(discount_strategy, max_size=2))),
        taxes=tuple(draw(st.lists(tax_strategy, max_size=2))),
    )


invoice_lines = st.lists(lines(), max_size=5)


# --- properties --------------------------------------------------------------------------------


@given(
    invoice_lines,
    st.lists(rates(), max_size=3),
    st.lists(rates(inclusive=True), max_size=3),
    st.lists(amounts.map(Rate), max_size=2),
    exponents,
)
def test_property_matches_the_literal_rules(
    items: list[Line],
    discounts: list[Rate],
    taxes: list[Rate],
    shipping: list[Rate],
    exp: int,
) -> None:
    """R1-R10 read literally with exact fractions give the same parts and total."""
    try:
        expected = reference_total(items, discounts, taxes, shipping, exp)
    except Unspecified:
        assume(False)
    totals = calculate(items, discounts, taxes, shipping, exponent=exp)
    assert observed(totals) == expected


@given(
    invoice_lines,
    st.lists(rates(), max_size=3),
    st.lists(rates(inclusive=True), max_size=3),
    st.lists(amounts.map(Rate), max_size=2),
    exponents,
)
def test_property_r10_total_is_the_sum_of_rounded_parts(
    items: list[Line],
    discounts: list[Rate],
    taxes: list[Rate],
    shipping: list[Rate],
    exp: int,
) -> None:
    totals = calculate(items, discounts, taxes, shipping, exponent=exp)
    assert_all_ints(totals)
    line_discounts = sum(sum(r.discounts) for r in totals.lines)
    line_taxes = sum(sum(r.taxes) for r in totals.lines)
    assert totals.line_discounts == line_discounts
    assert totals.line_taxes == line_taxes
    assert totals.total == (
        totals.subtotal
        - line_discounts
        + line_taxes
        - sum(totals.discounts)
        + sum(totals.taxes)
        + sum(totals.shipping)
    )
    # R4a/R7: the subtotal is the sum of line amounts less inclusive document taxes.
    inclusive = sum(t for t, rate in zip(totals.taxes, taxes, strict=True) if rate.inclusive)
    assert totals.subtotal == sum(r.amount for r in totals.lines) - inclusive
    for result in totals.lines:
        assert result.net == result.amount - sum(result.discounts)
    assert len(totals.lines) == len(items)
    assert len(totals.discounts) == len(discounts)
    assert len(totals.taxes) == len(taxes)
    assert len(totals.shipping) == len(shipping)


@given(
    st.lists(
        lines(
            min_quantity=0,
            min_cost=0,
            line_discounts=percents.map(lambda v: Rate(v, is_percent=True)),
        ),
        max_size=5,
    ),
    st.lists(percents.map(lambda v: Rate(v, is_percent=True)), max_size=1),
    exponents,
)
def test_property_no_negative_total_from_percent_discounts_alone(
    items: list[Line], discounts: list[Rate], exp: int
) -> None:
    """Non-negative lines, at most one percent discount <= 100 % per line and per document.

    (Several percent rates share one base (R6) and are rounded one by one (R9), so two 50 %
    coupons on 0.01 already give -0.01: see test_r3_r6_two_half_coupons_on_one_cent....)
    """
    items = [replace(item, discounts=item.discounts[:1], taxes=()) for item in items]
    totals = calculate(items, discounts, exponent=exp)
    assert totals.total >= 0
    assert all(result.net >= 0 for result in totals.lines)


@given(
    invoice_lines,
    st.lists(rates(), max_size=3),
    st.lists(rates(), max_size=3),
    st.lists(rates(inclusive=True).map(lambda r: replace(r, inclusive=True)), min_size=1),
    st.lists(amounts.map(Rate), max_size=2),
    st.randoms(use_true_random=False),
    exponents,
)
def test_property_inclusive_document_taxes_never_change_the_total(
    items: list[Line],
    discounts: list[Rate],
    exclusive: list[Rate],
    inclusive: list[Rate],
    shipping: list[Rate],
    rng: random.Random,
    exp: int,
) -> None:
    """R7/CT15: adding inclusive document taxes moves money from subtotal to taxes only."""
    without = calculate(items, discounts, exclusive, shipping, exponent=exp)
    mixed = [*exclusive, *inclusive]
    rng.shuffle(mixed)
    with_inclusive = calculate(items, discounts, mixed, shipping, exponent=exp)
    assert with_inclusive.total == without.total
    assert with_inclusive.discounts == without.discounts
    # R6: the exclusive document taxes keep their amounts (same base TB).
    kept = [t for t, rate in zip(with_inclusive.taxes, mixed, strict=True) if not rate.inclusive]
    assert sorted(kept) == sorted(without.taxes)
    carved = sum(t for t, rate in zip(with_inclusive.taxes, mixed, strict=True) if rate.inclusive)
    assert with_inclusive.subtotal == without.subtotal - carved


@given(
    st.lists(lines(line_taxes=rates()), min_size=1, max_size=5),
    st.lists(amounts.map(Rate), max_size=2),
    st.lists(amounts.map(Rate), max_size=2),
    st.lists(amounts.map(Rate), max_size=2),
    st.data(),
    exponents,
)
def test_property_inclusive_line_taxes_never_change_the_total(
    items: list[Line],
    discounts: list[Rate],
    taxes: list[Rate],
    shipping: list[Rate],
    data: st.DataObject,
    exp: int,
) -> None:
    """R4/CT15: an inclusive line tax is carved out of the price, so the total stays the price.

    Document rates here are fixed amounts: percent document rates are computed on line.amount
    after the carve-out (R5/R7), see test_r4_r5_document_rates_use_the_carved_line_amount.
    """
    index = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
    extra = data.draw(st.lists(rates(inclusive=True).map(lambda r: replace(r, inclusive=True))))
    target = items[index]
    changed = list(items)
    changed[index] = replace(target, taxes=(*target.taxes, *extra))
    without = calculate(items, discounts, taxes, shipping, exponent=exp)
    with_inclusive = calculate(changed, discounts, taxes, shipping, exponent=exp)
    assert with_inclusive.total == without.total
    assert with_inclusive.lines[index].taxes[: len(target.taxes)] == without.lines[index].taxes


@given(st.lists(lines(min_quantity=0, min_cost=0), max_size=4), exponents)
def test_property_inclusive_taxes_total_is_the_original_price(items: list[Line], exp: int) -> None:
    """With no other rates, a price with inclusive taxes totals exactly Σ m(quantity x cost)."""
    items = [
        replace(item, discounts=(), taxes=tuple(replace(t, inclusive=True) for t in item.taxes))
        for item in items
    ]
    price = sum(m(Fraction(i.quantity) * Fraction(i.unit_cost), exp) for i in items)
    totals = calculate(items, taxes=[incl("20"), Rate(D("0.5"), inclusive=True)], exponent=exp)
    assert totals.total == price


@given(
    invoice_lines,
    st.lists(rates(), max_size=3),
    st.lists(rates(inclusive=True), max_size=3),
    st.lists(amounts.map(Rate), max_size=2),
    exponents,
)
def test_property_r6_order_of_rates_does_not_matter(
    items: list[Line],
    discounts: list[Rate],
    taxes: list[Rate],
    shipping: list[Rate],
    exp: int,
) -> None:
    forward = calculate(items, discounts, taxes, shipping, exponent=exp)
    backward = calculate(items, discounts[::-1], taxes[::-1], shipping, exponent=exp)
    assert backward.discounts == forward.discounts[::-1]
    assert backward.taxes == forward.taxes[::-1]
    assert backward.total == forward.total
    assert backward.subtotal == forward.subtotal


@given(
    invoice_lines,
    st.lists(rates(), max_size=3),
    st.lists(rates(inclusive=True), max_size=3),
    st.lists(amounts.map(Rate), max_size=2),
    exponents,
)
def test_property_independent_of_the_ambient_decimal_context(
    items: list[Line],
    discounts: list[Rate],
    taxes: list[Rate],
    shipping: list[Rate],
    exp: int,
) -> None:
    """C12.2: results never depend on the caller's precision or rounding mode."""
    expected = calculate(items, discounts, taxes, shipping, exponent=exp)
    with localcontext() as ctx:
        ctx.prec = 4
        ctx.rounding = ROUND_FLOOR
        assert calculate(items, discounts, taxes, shipping, exponent=exp) == expected


def test_c12_2_decimal_from_text_not_float() -> None:
    """12.045 as text rounds to 12.05; the binary float 12.045 would round to 12.04."""
    assert calculate([line("1", "12.045")]).total == 1205
    assert calculate([Line(D(12.045), D(1))]).total == 1204  # the float is 12.04499...
