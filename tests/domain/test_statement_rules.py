"""Golden cases for account statements (emails.md EM12): the default period in the account's
time zone, what each money movement does to what a customer owes, line texts, and the
balance-forward / open-item arithmetic (tally.domain.statements). No database."""

from __future__ import annotations

import pytest

from tally.domain import statements as rules
from tally.domain.errors import InvalidRequest
from tally.domain.statements import Entry, StatementLine, StatementOptions

# --- EM12: the default period is this month, in the account's time zone ------------------------


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        # 2024-03-15 12:00 UTC -> 2024-03-01 00:00 UTC
        (1_710_504_000, "UTC", 1_709_251_200),
        # The first second of a month is its own start; the last second of February is not.
        (1_709_251_200, "UTC", 1_709_251_200),
        (1_709_251_199, "UTC", 1_706_745_600),
        # 2024-03-01 03:00 UTC is still 29 Feb in New York: start 2024-02-01 00:00 -05:00.
        (1_709_262_000, "America/New_York", 1_706_763_600),
        # 2024-02-29 12:00 UTC is already 1 March in Auckland: 2024-03-01 00:00 +13:00.
        (1_709_208_000, "Pacific/Auckland", 1_709_204_400),
        # An unknown zone falls back to UTC.
        (1_710_504_000, "Mars/Olympus_Mons", 1_709_251_200),
        (1_710_504_000, "", 1_709_251_200),
    ],
)
def test_em12_month_start_in_account_time_zone(now: int, zone: str, expected: int) -> None:
    assert rules.month_start(now, zone) == expected


def test_em12_period_defaults_to_this_month_until_now() -> None:
    now = 1_710_504_000
    assert rules.period(StatementOptions(), now, "UTC") == (1_709_251_200, now)


def test_em12_period_keeps_given_bounds() -> None:
    options = StatementOptions(start=100, end=200)
    assert rules.period(options, 1_710_504_000, "UTC") == (100, 200)
    assert rules.period(StatementOptions(start=100), 1_000, "UTC") == (100, 1_000)
    assert rules.period(StatementOptions(end=1_710_000_000), 1_710_504_000, "UTC") == (
        1_709_251_200,
        1_710_000_000,
    )


def test_statement_options_defaults() -> None:
    options = StatementOptions()
    assert (options.type, options.start, options.end, options.items, options.currency) == (
        "balance_forward",
        None,
        None,
        "open",
        None,
    )
    assert rules.TYPES == ("balance_forward", "open_item")
    assert rules.ITEMS == ("open", "past_due")


@pytest.mark.parametrize(
    ("options", "param", "message"),
    [
        (StatementOptions(type="weekly"), "type", "Unrecognized statement type: weekly"),
        (StatementOptions(type="open_item", items="all"), "items", None),
    ],
)
def test_em12_check_options_refuses_unknown_values(
    options: StatementOptions, param: str, message: str | None
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        rules.check_options(options)
    assert caught.value.param == param
    if message is not None:
        assert caught.value.message == message


def test_em12_check_options_accepts_documented_values() -> None:
    for kind in rules.TYPES:
        for items in rules.ITEMS:
            rules.check_options(StatementOptions(type=kind, items=items))


# --- what a movement does to what is owed (TX5, TX6, PY9, credit_balances.md CB1) -------------


@pytest.mark.parametrize(
    ("kind", "method", "status", "amount", "on_invoice", "expected"),
    [
        ("payment", "check", "succeeded", 10_000, True, -10_000),  # pays an invoice
        ("charge", "credit_card", "succeeded", 500, True, -500),
        ("payment", "check", "succeeded", 700, False, -700),  # money on no invoice
        ("refund", "check", "succeeded", 500, True, 500),  # TX12: owed again
        ("payment", "check", "pending", 10_000, True, 0),  # TX6: no money moved
        ("charge", "ach", "failed", 10_000, True, 0),
        ("charge", "balance", "succeeded", 8_000, True, 0),  # credit spent on an invoice
        ("refund", "balance", "succeeded", 8_000, True, 0),  # ... and given back
        ("adjustment", "balance", "succeeded", -2_000, False, -2_000),  # TX5: 20 of credit
        ("adjustment", "balance", "succeeded", 1_500, False, 1_500),  # credit taken back
        ("adjustment", "balance", "pending", -2_000, False, 0),
        ("adjustment", "other", "succeeded", -2_000, True, 0),  # on an invoice: no effect
    ],
)
def test_owed_effect(
    kind: str, method: str, status: str, amount: int, on_invoice: bool, expected: int
) -> None:
    assert rules.owed_effect(kind, method, status, amount, on_invoice=on_invoice) == expected


@pytest.mark.parametrize(
    ("method", "label"),
    [
        ("check", "check"),
        ("credit_card", "credit card"),
        ("wire_transfer", "wire transfer"),
        ("ach", "ACH"),
        ("eft", "EFT"),
        ("paypal", "PayPal"),
        ("balance", "credit balance"),
        ("other", ""),
        ("my_bank_2", "my bank 2"),
    ],
)
def test_method_label(method: str, label: str) -> None:
    assert rules.method_label(method) == label


@pytest.mark.parametrize(
    ("word", "method", "reference", "text"),
    [
        ("Payment", "check", "1450", "Payment (check #1450)"),
        ("Payment", "check", None, "Payment (check)"),
        ("Payment", "other", "77", "Payment (#77)"),
        ("Payment", "other", None, "Payment"),
        ("Payment", "other", "", "Payment"),
        ("Charge", "credit_card", None, "Charge (credit card)"),
    ],
)
def test_money_description(word: str, method: str, reference: str | None, text: str) -> None:
    assert rules.money_description(word, method, reference) == text


@pytest.mark.parametrize(
    ("kind", "method", "reference", "effect", "line_kind", "text"),
    [
        ("payment", "check", "1450", -100, "payment", "Payment (check #1450)"),
        ("charge", "credit_card", None, -100, "payment", "Charge (credit card)"),
        ("refund", "check", "1450", 100, "refund", "Refund (check #1450)"),
        ("adjustment", "balance", None, -100, "credit", "Credit"),
        ("adjustment", "balance", None, 100, "adjustment", "Credit removed"),
    ],
)
def test_transaction_lines(
    kind: str, method: str, reference: str | None, effect: int, line_kind: str, text: str
) -> None:
    assert rules.transaction_kind(kind, effect) == line_kind
    assert rules.transaction_description(kind, method, reference, effect) == text


# --- balance forward ---------------------------------------------------------------------------


def test_running_balances() -> None:
    assert rules.running_balances(1_000, [500, -200, -1_300]) == [1_500, 1_300, 0]
    assert rules.running_balances(7, []) == []


START = 1_000
END = 2_000


def entry(date: int, amount: int, kind: str = "invoice", rank: int = 0, id_: int = 1) -> Entry:
    return Entry(
        date=date,
        order=(rank, id_, 0),
        kind=kind,
        number=f"N{id_}" if kind == "invoice" else None,
        description=f"{kind} {id_}",
        amount=amount,
        due_date=date + 30 if kind == "invoice" else None,
    )


def test_balance_forward_opening_lines_and_closing() -> None:
    """Opening = what is dated before start; lines in start..end (inclusive) in (date, rank,
    id) order with the running balance; later events left out; closing = opening + lines."""
    entries = [
        entry(END + 1, 99_999, id_=9),  # after the period: not on the statement
        entry(1_500, -4_000, "payment", rank=2, id_=3),
        entry(1_500, 14_885, id_=4),  # same date: the invoice comes before the payment
        entry(START, 1_000, id_=2),  # on the first second: in the period
        entry(START - 1, 10_000, id_=1),  # opening
        entry(900, -2_500, "payment", rank=2, id_=1),  # opening
        entry(END, -500, "credit", rank=3, id_=5),  # on the last second: in the period
        entry(1_200, 300, "refund", rank=3, id_=6),
    ]
    statement = rules.balance_forward(entries, currency="usd", start=START, end=END)
    assert statement.type == "balance_forward"
    assert (statement.currency, statement.start, statement.end) == ("usd", START, END)
    assert statement.opening_balance == 7_500
    assert [(line.date, line.kind, line.amount, line.balance) for line in statement.lines] == [
        (START, "invoice", 1_000, 8_500),
        (1_200, "refund", 300, 8_800),
        (1_500, "invoice", 14_885, 23_685),
        (1_500, "payment", -4_000, 19_685),
        (END, "credit", -500, 19_185),
    ]
    assert statement.closing_balance == 19_185
    assert statement.closing_balance == statement.opening_balance + sum(
        line.amount for line in statement.lines
    )
    assert statement.total_invoiced == 15_885
    assert statement.total_paid == 4_500  # payments and credits, not refunds
    first = statement.lines[0]
    assert (first.number, first.description, first.due_date, first.total) == (
        "N2",
        "invoice 2",
        START + 30,
        None,
    )


def test_balance_forward_empty_period_closes_at_opening() -> None:
    statement = rules.balance_forward(
        [entry(10, 5_000), entry(20, -1_000, "payment", rank=2)],
        currency="eur",
        start=START,
        end=END,
    )
    assert (statement.opening_balance, statement.closing_balance) == (4_000, 4_000)
    assert statement.lines == ()
    assert (statement.total_invoiced, statement.total_paid) == (0, 0)


def test_balance_forward_nothing_at_all() -> None:
    statement = rules.balance_forward([], currency="usd", start=START, end=END)
    assert (statement.opening_balance, statement.closing_balance, statement.lines) == (0, 0, ())


# --- open item ---------------------------------------------------------------------------------


def test_open_item_sums_balances() -> None:
    lines = [
        StatementLine(
            date=10,
            kind="invoice",
            number="INV-00001",
            description="Invoice INV-00001",
            amount=14_885,
            balance=14_885,
            due_date=40,
            total=14_885,
        ),
        StatementLine(
            date=20,
            kind="invoice",
            number="INV-00002",
            description="Invoice INV-00002",
            amount=15_000,
            balance=5_000,
            due_date=None,
            total=15_000,
        ),
    ]
    statement = rules.open_item(lines, currency="usd", end=99)
    assert statement.type == "open_item"
    assert (statement.start, statement.opening_balance, statement.end) == (None, None, 99)
    assert statement.closing_balance == 19_885
    assert statement.total_invoiced == 29_885
    assert statement.total_paid == 10_000
    assert statement.lines == tuple(lines)


def test_open_item_empty() -> None:
    statement = rules.open_item([], currency="usd", end=5)
    assert (statement.closing_balance, statement.total_invoiced, statement.total_paid) == (0, 0, 0)
