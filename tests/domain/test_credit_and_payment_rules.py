"""Golden and property cases for the rules that need no database: the credit ledger
(credit_balances.md CB1-CB5, transactions_payments.md TX5/TX6), payment splits
(transactions_payments.md PY1, PY4, PY6-PY9, TX4a) and money in messages (`format_money`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain import payments
from tally.domain.credit_ledger import (
    BALANCE,
    Entry,
    Point,
    check,
    credit_effect,
    first_overdraft,
    history,
    spendable_at,
)
from tally.domain.errors import InvalidRequest
from tally.domain.money import format_money
from tally.domain.payments import Split

DEC_9 = 1_607_550_710  # 2020-12-09 21:51:50 UTC
DEC_10 = 1_607_601_600  # 2020-12-10 12:00 UTC
DEC_12 = 1_607_774_400  # 2020-12-12 12:00 UTC
PREFIX = "Could not write this change because it caused the customer's credit balance to become"


@contextmanager
def raises(param: str, message: str | None = None) -> Iterator[None]:
    """Expect an InvalidRequest with this param and, when given, this exact message."""
    with pytest.raises(InvalidRequest) as caught:
        yield
    assert caught.value.param == param
    if message is not None:
        assert caught.value.message == message


# ---------------------------------------------------------------------------------------------
# format_money
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (210_000, "usd", "$2,100.00"),
        (200_000, "usd", "$2,000.00"),
        (-1_000, "usd", "-$10.00"),
        (-1, "usd", "-$0.01"),
        (0, "usd", "$0.00"),
        (5, "usd", "$0.05"),
        (123_456_789, "usd", "$1,234,567.89"),
        (210_000, "USD", "$2,100.00"),
        (123_450, "eur", "€1,234.50"),
        (-123_450, "eur", "-€1,234.50"),
        (999, "gbp", "£9.99"),
        (1_500, "jpy", "¥1,500"),  # zero-decimal currency (C12.1)
        (-7, "jpy", "-¥7"),
        (1_000, "cad", "$10.00"),
        (1_000, "aud", "$10.00"),
        (500, "chf", "CHF 5.00"),
        (-500, "chf", "-CHF 5.00"),
        (1_234, "bhd", "BHD 1.234"),  # three decimals
        (1, "btc", "BTC 0.00000001"),
        (1_000_000, "krw", "KRW 1,000,000"),
    ],
)
def test_format_money(minor: int, currency: str, text: str) -> None:
    assert format_money(minor, currency) == text


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_money_sign_and_digits(minor: int) -> None:
    """Negative amounts are the positive text with a leading minus; digits round-trip."""
    text = format_money(minor, "usd")
    if minor < 0:
        assert text == "-" + format_money(-minor, "usd")
    else:
        assert text.startswith("$")
        assert int(text[1:].replace(",", "").replace(".", "")) == minor


# ---------------------------------------------------------------------------------------------
# credit_effect (TX5, TX6, CB1)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "method", "amount", "on_invoice", "effect"),
    [
        ("adjustment", BALANCE, -2_000, False, 2_000),  # TX5: negative credits the customer
        ("adjustment", BALANCE, 500, False, -500),
        ("adjustment", "check", -2_000, False, 2_000),  # the method does not matter
        ("adjustment", BALANCE, -2_000, True, 0),  # a credit note application
        ("payment", BALANCE, 4_000, True, -4_000),  # TX6: spends credit
        ("charge", BALANCE, 4_000, True, -4_000),
        ("payment", BALANCE, 4_000, False, -4_000),
        ("refund", BALANCE, 1_500, True, 1_500),  # gives it back
        ("payment", "check", 4_000, True, 0),
        ("charge", "credit_card", 4_000, True, 0),
        ("refund", "check", 1_500, True, 0),
    ],
)
def test_credit_effect(kind: str, method: str, amount: int, on_invoice: bool, effect: int) -> None:
    assert credit_effect(kind, method, "succeeded", amount, on_invoice=on_invoice) == effect
    for status in ("pending", "failed"):  # TX6: no money effect unless succeeded
        assert credit_effect(kind, method, status, amount, on_invoice=on_invoice) == 0


# ---------------------------------------------------------------------------------------------
# history / first_overdraft (CB2 order: date, then id)
# ---------------------------------------------------------------------------------------------


def test_history_orders_by_date_then_id_and_skips_zero_effects() -> None:
    entries = [
        Entry(date=300, id=1, effect=-2_000),
        Entry(date=100, id=7, effect=5_000),
        Entry(date=200, id=9, effect=0),
        Entry(date=200, id=4, effect=1_000),
        Entry(date=200, id=3, effect=-500),
    ]
    assert history(entries) == [
        Point(100, 5_000),
        Point(200, 4_500),
        Point(200, 5_500),
        Point(300, 3_500),
    ]
    assert first_overdraft(entries) is None
    assert history([]) == [] and first_overdraft([]) is None


def test_first_overdraft_is_the_first_negative_point_not_the_lowest() -> None:
    entries = [
        Entry(DEC_9, 1, 5_000),
        Entry(DEC_10, 2, -6_000),  # -10.00 on Dec 10
        Entry(DEC_12, 3, -2_000),  # -30.00 later
        Entry(DEC_12 + 1, 4, 100_000),
    ]
    assert first_overdraft(entries) == Point(DEC_10, -1_000)


def test_same_date_tie_broken_by_id() -> None:
    """A credit created after a same-instant debit does not cover it (CB2)."""
    debit_first = [Entry(DEC_10, 1, -5_000), Entry(DEC_10, 2, 5_000)]
    credit_first = [Entry(DEC_10, 2, -5_000), Entry(DEC_10, 1, 5_000)]
    assert first_overdraft(debit_first) == Point(DEC_10, -5_000)
    assert first_overdraft(credit_first) is None


entry_lists = st.lists(
    st.builds(
        Entry,
        date=st.integers(min_value=0, max_value=50),
        id=st.integers(min_value=1, max_value=10**6),
        effect=st.integers(min_value=-10_000, max_value=10_000),
    ),
    max_size=30,
    unique_by=lambda e: e.id,
)


@given(entry_lists, st.randoms(use_true_random=False))
def test_history_properties(entries: list[Entry], random: Any) -> None:
    points = history(entries)
    ordered = sorted((e for e in entries if e.effect), key=lambda e: (e.date, e.id))
    assert [p.date for p in points] == [e.date for e in ordered]
    running = 0
    for point, entry in zip(points, ordered, strict=True):
        running += entry.effect
        assert point.balance == running
    shuffled = list(entries)
    random.shuffle(shuffled)
    assert history(shuffled) == points  # input order is irrelevant
    overdraft = first_overdraft(entries)
    negatives = [p for p in points if p.balance < 0]
    assert overdraft == (negatives[0] if negatives else None)


# ---------------------------------------------------------------------------------------------
# check: the CB2 message
# ---------------------------------------------------------------------------------------------


def test_check_example_b_message_in_utc() -> None:
    entries = [Entry(DEC_9, 1, 5_000), Entry(DEC_10, 2, -6_000)]
    with raises("amount", f"{PREFIX} -$10.00 on Dec 10, 2020"):
        check(entries, "usd", "UTC", "amount")
    # The param is the caller's (payments use applied_to).
    with raises("applied_to", f"{PREFIX} -$10.00 on Dec 10, 2020"):
        check(entries, "usd", "UTC", "applied_to")
    check([Entry(DEC_9, 1, 5_000), Entry(DEC_10, 2, -5_000)], "usd", "UTC", "amount")
    check([], "usd", "UTC", "amount")


@pytest.mark.parametrize(
    ("timestamp", "time_zone", "day"),
    [
        (DEC_10, "UTC", "Dec 10, 2020"),
        (DEC_10, "Pacific/Auckland", "Dec 11, 2020"),  # 01:00 on the 11th (UTC+13)
        (1_607_576_400, "America/Los_Angeles", "Dec 9, 2020"),  # 2020-12-10 05:00 UTC
        (1_607_576_400, "America/New_York", "Dec 10, 2020"),  # 00:00 on the 10th
        (1_609_459_199, "Asia/Tokyo", "Jan 1, 2021"),  # 2020-12-31 23:59:59 UTC
        (1_609_848_000, "Europe/Paris", "Jan 5, 2021"),  # no leading zero on the day
    ],
)
def test_check_date_is_the_account_local_day(timestamp: int, time_zone: str, day: str) -> None:
    entries = [Entry(timestamp, 1, -1_000)]
    with raises("amount", f"{PREFIX} -$10.00 on {day}"):
        check(entries, "usd", time_zone, "amount")


def test_check_formats_the_amount_in_the_ledger_currency() -> None:
    entries = [Entry(DEC_9, 1, 100_000), Entry(DEC_10, 2, -223_450)]
    with raises("amount", f"{PREFIX} -€1,234.50 on Dec 10, 2020"):
        check(entries, "eur", "UTC", "amount")
    with raises("amount", f"{PREFIX} -¥123,450 on Dec 10, 2020"):
        check(entries, "jpy", "UTC", "amount")


# ---------------------------------------------------------------------------------------------
# payments: check_split (PY4)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "amount", "refs", "message"),
    [
        (None, 100, {"invoice": 1}, "Missing `type` parameter"),
        ("gift", 100, {}, "Invalid payment application type: gift"),
        ("invoice", None, {"invoice": 1}, "Missing `amount` parameter"),
        (
            "invoice",
            0,
            {"invoice": 1},
            "Amount applied to document must be greater than 0. Provided: $0.00",
        ),
        (
            "credit",
            -550,
            {},
            "Amount applied to document must be greater than 0. Provided: -$5.50",
        ),
        ("credit", 100, {"invoice": 1}, "Cannot supply invoice ID to non-invoice splits."),
        ("estimate", 100, {"invoice": 1}, "Cannot supply invoice ID to non-invoice splits."),
        (
            "convenience_fee",
            100,
            {"estimate": 2},
            "Cannot supply estimate ID to non-estimate splits.",
        ),
        ("invoice", 100, {"estimate": 2}, "Cannot supply estimate ID to non-estimate splits."),
        (
            "invoice",
            100,
            {"invoice": 1, "credit_note": 3},
            "Cannot supply credit note ID to cash splits.",
        ),
        ("credit", 100, {"credit_note": 3}, "Cannot supply credit note ID to cash splits."),
        ("invoice", 100, {}, "Missing `invoice` parameter"),
        ("estimate", 100, {}, "Missing `estimate` parameter"),
        ("applied_credit", 100, {}, "Missing `invoice` parameter"),
        (
            "applied_credit",
            100,
            {"document_type": "order", "invoice": 1},
            "Document type must be invoice or estimate",
        ),
        (
            "applied_credit",
            100,
            {"document_type": "estimate", "invoice": 1},
            "Missing `estimate` parameter",
        ),
        (
            "applied_credit",
            100,
            {"document_type": "invoice", "estimate": 2},
            "Missing `invoice` parameter",
        ),
        (
            "applied_credit",
            100,
            {"invoice": 1, "credit_note": 3},
            "Cannot supply credit note ID to applied credit splits.",
        ),
        ("credit_note", 100, {"invoice": 1}, "Missing `credit_note` parameter"),
    ],
)
def test_check_split_errors(
    kind: str | None, amount: int | None, refs: dict[str, Any], message: str
) -> None:
    with raises("applied_to", message):
        payments.check_split(kind, amount, "usd", **refs)


def test_check_split_amount_message_uses_the_currency() -> None:
    with raises("applied_to", "Amount applied to document must be greater than 0. Provided: €0.00"):
        payments.check_split("credit", 0, "eur")


def test_check_split_valid_shapes() -> None:
    assert payments.check_split("invoice", 171_000, "usd", invoice=12) == Split(
        "invoice", 171_000, invoice=12
    )
    assert payments.check_split("credit", 10_000, "usd") == Split("credit", 10_000)
    assert payments.check_split("convenience_fee", 300, "usd") == Split("convenience_fee", 300)
    assert payments.check_split("estimate", 500, "usd", estimate=4) == Split(
        "estimate", 500, estimate=4
    )
    assert payments.check_split(
        "applied_credit", 8_000, "usd", invoice=5, document_type="invoice", split_id=77
    ) == Split("applied_credit", 8_000, invoice=5, id=77)
    # document_type defaults to the document given.
    assert payments.check_split("applied_credit", 8_000, "usd", estimate=6) == Split(
        "applied_credit", 8_000, estimate=6
    )
    assert payments.check_split("credit_note", 2_500, "usd", invoice=5, credit_note=9) == Split(
        "credit_note", 2_500, invoice=5, credit_note=9
    )
    assert payments.check_split(
        "credit_note", 2_500, "usd", estimate=6, credit_note=9, document_type="estimate"
    ) == Split("credit_note", 2_500, estimate=6, credit_note=9)


def test_split_counts_only_cash_types() -> None:
    """PY7 table: invoice, estimate, credit, convenience_fee count; the others do not."""
    counting = {kind: Split(kind, 1).counts for kind in sorted(payments.TYPES)}
    assert counting == {
        "applied_credit": False,
        "convenience_fee": True,
        "credit": True,
        "credit_note": False,
        "estimate": True,
        "invoice": True,
    }


# ---------------------------------------------------------------------------------------------
# payments: check_unique (PY6), applied / check_total (PY7, PY8), check_amount (PY1), method
# ---------------------------------------------------------------------------------------------


def test_check_unique() -> None:
    with raises(
        "applied_to",
        "Each document can only be applied once per payment. Detected duplicate (invoice:12)",
    ):
        payments.check_unique([Split("invoice", 100, invoice=12), Split("invoice", 5, invoice=12)])
    with raises(
        "applied_to",
        "Each document can only be applied once per payment. Detected duplicate (credit)",
    ):
        payments.check_unique([Split("credit", 100), Split("credit", 200)])
    with raises(
        "applied_to",
        "Each document can only be applied once per payment. Detected duplicate (estimate:4)",
    ):
        payments.check_unique(
            [Split("applied_credit", 1, estimate=4), Split("applied_credit", 2, estimate=4)]
        )
    # Different types, or another credit note on the same invoice, are different keys.
    payments.check_unique(
        [
            Split("invoice", 100, invoice=12),
            Split("applied_credit", 100, invoice=12),
            Split("credit_note", 100, invoice=12, credit_note=1),
            Split("credit_note", 100, invoice=12, credit_note=2),
            Split("invoice", 100, invoice=13),
            Split("credit", 5),
            Split("convenience_fee", 5),
        ]
    )
    payments.check_unique([])


EXAMPLE_TP4 = [
    Split("invoice", 171_000, invoice=1),
    Split("invoice", 29_000, invoice=2),
    Split("credit", 10_000),
]


def test_applied_sums_counting_splits_only() -> None:
    assert payments.applied(EXAMPLE_TP4) == 210_000
    assert (
        payments.applied(
            [
                *EXAMPLE_TP4,
                Split("applied_credit", 8_000, invoice=3),
                Split("credit_note", 4_000, invoice=3, credit_note=1),
                Split("convenience_fee", 250),
            ]
        )
        == 210_250
    )
    assert payments.applied([]) == 0
    assert payments.applied([Split("applied_credit", 8_000, invoice=3)]) == 0


def test_check_total_example_tp4() -> None:
    """PY7 / Example TP-4: 2,100.00 applied to a 2,000.00 payment."""
    with raises(
        "applied_to",
        "Total amount applied ($2,100.00) cannot exceed the payment amount ($2,000.00)",
    ):
        payments.check_total(EXAMPLE_TP4, 200_000, "usd")
    payments.check_total(EXAMPLE_TP4, 210_000, "usd")  # exactly applied
    payments.check_total(EXAMPLE_TP4, 250_000, "usd")
    # applied_credit and credit_note splits ride on a 0 payment (PY1, CB6).
    payments.check_total([Split("applied_credit", 8_000, invoice=3)], 0, "usd")
    with raises(
        "applied_to",
        "Total amount applied (€0.01) cannot exceed the payment amount (€0.00)",
    ):
        payments.check_total([Split("credit", 1)], 0, "eur")


def test_check_amount() -> None:
    with raises("amount", "Amount is missing"):
        payments.check_amount(None)
    with raises("amount", "The amount cannot be less than 0."):
        payments.check_amount(-1)
    assert payments.check_amount(0) == 0
    assert payments.check_amount(210_000) == 210_000


def test_payment_method() -> None:
    """TX4a for payments, except the system method `balance` (decision)."""
    assert payments.method(None) == "other"
    assert payments.method("wire_transfer") == "wire_transfer"
    with raises("method", "The `balance` method is reserved for credit balance applications."):
        payments.method("balance")
    with raises("method"):
        payments.method("Wire Transfer")


def test_check_document_room() -> None:
    """Decision: a split pays at most the document's balance."""
    payments.check_document_room("INV-00001", 8_000, 8_000, "usd")
    with raises(
        "applied_to", "The amount applied to INV-00001 ($80.01) exceeds its balance ($80.00)"
    ):
        payments.check_document_room("INV-00001", 8_001, 8_000, "usd")
    with raises(
        "applied_to", "The amount applied to INV-00002 ($1.00) exceeds its balance ($0.00)"
    ):
        payments.check_document_room("INV-00002", 100, -500, "usd")


def test_spendable_at_is_the_balance_now_capped_by_every_later_point():
    """CB1/CB2/CB7: +100 on day 1, -70 on day 5, +50 on day 9. On day 3 the balance is 100,
    but spending more than 30 would overdraw day 5; on day 6 it is 30; on day 10, 80."""
    entries = [Entry(1, 1, 100), Entry(5, 2, -70), Entry(9, 3, 50)]
    assert spendable_at(entries, 0) == 0
    assert spendable_at(entries, 3) == 30
    assert spendable_at(entries, 6) == 30
    assert spendable_at(entries, 10) == 80
    assert spendable_at([], 10) == 0


def test_check_refuses_credit_beyond_64_bits_in_total():
    """Every partial sum of a ledger lies between -debits and +credits; keeping the credits
    within int64 keeps every SQL SUM over it from overflowing."""
    big = 2**62
    with pytest.raises(InvalidRequest) as caught:
        check([Entry(1, 1, big), Entry(2, 2, -big), Entry(3, 3, big)], "usd", "UTC", "amount")
    assert (caught.value.message, caught.value.param) == ("Amount is invalid", "amount")
    check([Entry(1, 1, big), Entry(2, 2, big - 1)], "usd", "UTC", "amount")
