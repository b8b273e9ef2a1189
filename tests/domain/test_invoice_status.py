"""Golden cases for invoice status (invoices.md S1-S11, R13): the first matching rule wins."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain.invoice_status import STATUSES, StatusFacts, invoice_status, is_paid

NOW = 1_700_000_000
PAST = NOW - 1
FUTURE = NOW + 1

# An issued, unpaid, unsent invoice with no due date: every rule off.
BASE = StatusFacts(
    voided=False,
    draft=False,
    paid=False,
    pending=False,
    autopay=False,
    due_date=None,
    attempt_count=0,
    viewed=False,
    sent=False,
)


def status(**changes: object) -> str:
    return invoice_status(replace(BASE, **changes), NOW)  # type: ignore[arg-type]


# --- one case per rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"voided": True}, "voided", id="S1-voided"),
        pytest.param({"draft": True}, "draft", id="S2-draft"),
        pytest.param({"paid": True}, "paid", id="S3-paid"),
        pytest.param({"pending": True}, "pending", id="S5-pending"),
        pytest.param(
            {"autopay": True, "due_date": None, "attempt_count": 1},
            "past_due",
            id="S6-autopay-attempted-no-due-date",
        ),
        pytest.param({"installment_past_due": True}, "past_due", id="S7-installment"),
        pytest.param({"due_date": PAST}, "past_due", id="S8-due-date-passed"),
        pytest.param({"viewed": True}, "viewed", id="S9-viewed"),
        pytest.param({"sent": True}, "sent", id="S10-sent"),
        pytest.param({}, "not_sent", id="S11-otherwise"),
    ],
)
def test_each_rule(changes: dict[str, object], expected: str) -> None:
    assert status(**changes) == expected


# --- S6 / S8 boundaries -------------------------------------------------------------------------


def test_s8_due_date_equal_to_now_is_not_past_due() -> None:
    """S8 is strict: due_date < now."""
    assert status(due_date=NOW) == "not_sent"
    assert status(due_date=NOW, sent=True) == "sent"
    assert status(due_date=NOW, viewed=True) == "viewed"


def test_s8_future_due_date_is_not_past_due() -> None:
    assert status(due_date=FUTURE, sent=True) == "sent"


def test_s8_one_second_late_is_past_due() -> None:
    assert status(due_date=NOW - 1, sent=True) == "past_due"


def test_s6_autopay_without_attempts_is_not_past_due() -> None:
    assert status(autopay=True, due_date=None, attempt_count=0) == "not_sent"
    assert status(autopay=True, due_date=None, attempt_count=0, sent=True) == "sent"


def test_s6_autopay_with_a_future_due_date_and_attempts_is_not_past_due() -> None:
    """S6 needs due_date null; with a due date only S8 decides."""
    assert status(autopay=True, due_date=FUTURE, attempt_count=3, sent=True) == "sent"
    assert status(autopay=True, due_date=PAST, attempt_count=3, sent=True) == "past_due"


def test_s6_attempts_without_autopay_are_not_past_due() -> None:
    assert status(autopay=False, due_date=None, attempt_count=2) == "not_sent"


# --- precedence conflicts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"voided": True, "paid": True}, "voided", id="S1-over-S3-voided-paid"),
        pytest.param({"voided": True, "draft": True}, "voided", id="S1-over-S2"),
        pytest.param({"voided": True, "due_date": PAST}, "voided", id="S1-over-S8"),
        pytest.param({"voided": True, "pending": True}, "voided", id="S1-over-S5"),
        pytest.param({"draft": True, "due_date": PAST}, "draft", id="S2-over-S8-draft-past-due"),
        pytest.param({"draft": True, "paid": True}, "draft", id="S2-over-S3"),
        pytest.param({"draft": True, "sent": True}, "draft", id="S2-over-S10-sent-draft"),
        pytest.param(
            {"draft": True, "autopay": True, "attempt_count": 1}, "draft", id="S2-over-S6"
        ),
        pytest.param({"paid": True, "due_date": PAST}, "paid", id="S3-over-S8-paid-past-due"),
        pytest.param({"paid": True, "pending": True}, "paid", id="S3-over-S5"),
        pytest.param({"paid": True, "autopay": True, "attempt_count": 1}, "paid", id="S3-over-S6"),
        pytest.param({"paid": True, "viewed": True}, "paid", id="S3-over-S9"),
        pytest.param({"pending": True, "due_date": PAST}, "pending", id="S5-over-S8"),
        pytest.param(
            {"pending": True, "autopay": True, "attempt_count": 1}, "pending", id="S5-over-S6"
        ),
        pytest.param({"pending": True, "installment_past_due": True}, "pending", id="S5-over-S7"),
        pytest.param(
            {"autopay": True, "attempt_count": 1, "viewed": True},
            "past_due",
            id="S6-over-S9",
        ),
        pytest.param(
            {"installment_past_due": True, "due_date": FUTURE, "viewed": True},
            "past_due",
            id="S7-despite-future-due-date",
        ),
        pytest.param({"due_date": PAST, "viewed": True}, "past_due", id="S8-over-S9"),
        pytest.param({"due_date": PAST, "sent": True}, "past_due", id="S8-over-S10"),
        pytest.param({"viewed": True, "sent": True}, "viewed", id="S9-over-S10"),
    ],
)
def test_precedence(changes: dict[str, object], expected: str) -> None:
    assert status(**changes) == expected


facts = st.builds(
    StatusFacts,
    voided=st.booleans(),
    draft=st.booleans(),
    paid=st.booleans(),
    pending=st.booleans(),
    autopay=st.booleans(),
    due_date=st.none() | st.integers(min_value=NOW - 10, max_value=NOW + 10),
    attempt_count=st.integers(min_value=0, max_value=3),
    viewed=st.booleans(),
    sent=st.booleans(),
    installment_past_due=st.booleans(),
)


@given(facts)
def test_status_is_the_first_matching_rule(f: StatusFacts) -> None:
    rules = [
        (f.voided, "voided"),  # S1
        (f.draft, "draft"),  # S2
        (f.paid, "paid"),  # S3
        (f.pending, "pending"),  # S5
        (f.autopay and f.due_date is None and f.attempt_count > 0, "past_due"),  # S6
        (f.installment_past_due, "past_due"),  # S7
        (f.due_date is not None and f.due_date < NOW, "past_due"),  # S8
        (f.viewed, "viewed"),  # S9
        (f.sent, "sent"),  # S10
        (True, "not_sent"),  # S11
    ]
    expected = next(name for matches, name in rules if matches)
    assert invoice_status(f, NOW) == expected
    assert expected in STATUSES


def test_statuses_enum() -> None:
    assert {
        "draft",
        "not_sent",
        "sent",
        "viewed",
        "past_due",
        "pending",
        "paid",
        "voided",
    } == STATUSES


# --- R13 paid ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "draft", "voided", "paid"),
    [
        pytest.param(0, False, False, True, id="zero-balance-R15"),
        pytest.param(-100, False, False, True, id="overpaid"),
        pytest.param(1, False, False, False, id="one-cent-due"),
        pytest.param(0, True, False, False, id="draft-never-paid"),
        pytest.param(0, False, True, False, id="voided-never-paid"),
        pytest.param(14885, True, False, False, id="I-5-draft-with-balance"),
    ],
)
def test_r13_is_paid(balance: int, draft: bool, voided: bool, paid: bool) -> None:
    assert is_paid(balance, draft, voided) is paid
