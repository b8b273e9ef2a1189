"""Golden and property cases for payment terms and due dates (invoices.md D2-D6, README C13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain.payment_terms import add_days, due_date, term_days

DAY = 86_400


# --- D2 term parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "days"),
    [
        pytest.param("NET 30", 30, id="NET-30"),
        pytest.param("net 14", 14, id="lowercase"),
        pytest.param("Net 7", 7, id="mixed-case"),
        pytest.param("Net-45", 45, id="hyphen"),
        pytest.param("NET-0", 0, id="net-0"),
        pytest.param("  NET 60  ", 60, id="surrounding-spaces"),
        pytest.param("NET\t10", 10, id="tab-is-whitespace"),
        pytest.param("NET 365", 365, id="a-year"),
        pytest.param("Due on Receipt", 0, id="due-on-receipt"),
        pytest.param("due on receipt", 0, id="due-on-receipt-lower"),
        pytest.param("DUE ON RECEIPT", 0, id="due-on-receipt-upper"),
        pytest.param("  Due on Receipt ", 0, id="due-on-receipt-spaces"),
        pytest.param("2% 10 NET 30", 30, id="early-discount-ignored"),
        pytest.param("1.5% 15 net 45", 45, id="early-discount-fraction"),
    ],
)
def test_d2_terms_with_days(terms: str, days: int) -> None:
    assert term_days(terms) == days


@pytest.mark.parametrize(
    "terms",
    [
        pytest.param(None, id="null"),
        pytest.param("AutoPay", id="autopay"),
        pytest.param("Payment Plan", id="payment-plan"),
        pytest.param("pay when you can", id="free-text"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("NET", id="net-without-days"),
        pytest.param("NET30", id="no-separator"),
        pytest.param("30 days", id="days-without-net"),
        pytest.param("Due on Receipt please", id="due-on-receipt-with-extra-text"),
    ],
)
def test_d2_terms_without_a_due_date(terms: str | None) -> None:
    assert term_days(terms) is None


@given(st.integers(min_value=0, max_value=3650), st.sampled_from(["NET ", "net ", "Net-", "NET-"]))
def test_d2_net_days_property(days: int, prefix: str) -> None:
    assert term_days(f"{prefix}{days}") == days
    assert term_days(f"2% 10 {prefix}{days}") == days


# --- D3/D6 due dates in UTC -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "terms", "due"),
    [
        pytest.param(1416290400, "NET 14", 1417500000, id="D6-net-14"),
        pytest.param(1700000000, "NET 30", 1702592000, id="D6-net-30"),
        pytest.param(1700000000, "Due on Receipt", 1700000000, id="D6-due-on-receipt"),
        pytest.param(1416290400, "Due on Receipt", 1416290400, id="I-5-due-on-receipt"),
        pytest.param(1700000000, "Net-45", 1700000000 + 45 * DAY, id="D6-net-hyphen-45"),
        pytest.param(1700000000, "2% 10 NET 30", 1702592000, id="D6-early-payment-terms"),
        pytest.param(1700000000, "AutoPay", None, id="autopay-no-due-date"),
        pytest.param(1700000000, "Payment Plan", None, id="payment-plan-no-due-date"),
        pytest.param(1700000000, "whenever", None, id="free-text-no-due-date"),
        pytest.param(1700000000, None, None, id="no-terms"),
    ],
)
def test_d3_d6_due_date_utc(date: int, terms: str | None, due: int | None) -> None:
    assert due_date(date, terms) == due
    assert due_date(date, terms, "UTC") == due


@given(st.integers(min_value=0, max_value=4_000_000_000), st.integers(min_value=0, max_value=3650))
def test_c13_1_utc_is_plain_seconds(timestamp: int, days: int) -> None:
    assert add_days(timestamp, days) == timestamp + days * DAY
    assert add_days(timestamp, days, "UTC") == timestamp + days * DAY
    assert due_date(timestamp, f"NET {days}") == timestamp + days * DAY


# --- C13.1 non-UTC zones keep the local wall-clock time across DST --------------------------


@pytest.mark.parametrize(
    ("zone", "start", "days", "due"),
    [
        # 2023-03-11 09:00 EST → 2023-03-12 09:00 EDT: 23 hours later.
        pytest.param("America/New_York", 1678543200, 1, 1678626000, id="new-york-spring"),
        # 2023-11-04 09:00 EDT → 2023-11-05 09:00 EST: 25 hours later.
        pytest.param("America/New_York", 1699102800, 1, 1699192800, id="new-york-fall"),
        # 2023-03-01 09:00 EST → 2023-03-31 09:00 EDT.
        pytest.param("America/New_York", 1677679200, 30, 1680267600, id="new-york-net-30"),
        # 2023-03-20 12:00 CET → 2023-04-19 12:00 CEST: 30 days less one hour.
        pytest.param("Europe/Berlin", 1679310000, 30, 1681898400, id="berlin-spring"),
        # 2023-10-20 12:00 CEST → 2023-11-19 12:00 CET: 30 days and one hour.
        pytest.param("Europe/Berlin", 1697796000, 30, 1700391600, id="berlin-fall"),
        pytest.param("Europe/Berlin", 1679310000, 0, 1679310000, id="zero-days"),
    ],
)
def test_c13_1_add_days_across_dst_keeps_wall_clock(
    zone: str, start: int, days: int, due: int
) -> None:
    assert add_days(start, days, zone) == due
    assert due_date(start, f"NET {days}", zone) == due
    local_start = datetime.fromtimestamp(start, ZoneInfo(zone))
    local_due = datetime.fromtimestamp(due, ZoneInfo(zone))
    assert local_due.time() == local_start.time()
    assert local_due.date() == local_start.date() + timedelta(days=days)


def test_c13_1_dst_changes_the_utc_distance() -> None:
    """The same terms are not a fixed number of seconds outside UTC."""
    assert add_days(1678543200, 1, "America/New_York") - 1678543200 == 23 * 3600
    assert add_days(1699102800, 1, "America/New_York") - 1699102800 == 25 * 3600


def test_c13_1_zone_without_dst_is_plain_seconds_offset() -> None:
    start = int(datetime(2023, 3, 20, 12, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp())
    assert add_days(start, 30, "Asia/Tokyo") == start + 30 * DAY


def test_d3_due_date_without_days_in_a_zone_is_null() -> None:
    assert due_date(1700000000, "AutoPay", "Europe/Berlin") is None


ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC"]


@given(
    st.integers(min_value=946_684_800, max_value=2_524_608_000),  # 2000-2050
    st.integers(min_value=0, max_value=400),
    st.sampled_from(ZONES),
)
def test_c13_1_local_date_moves_by_exactly_n_days(timestamp: int, days: int, zone: str) -> None:
    """N calendar days later in the zone, at the same wall-clock time when that time exists."""
    tz = ZoneInfo(zone)
    local_start = datetime.fromtimestamp(timestamp, tz)
    wall = local_start.replace(tzinfo=None) + timedelta(days=days)
    # The wall-clock target is ambiguous or missing only within an hour of a DST change;
    # elsewhere it converts to one instant, which must be the result.
    earlier = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    later = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    result = add_days(timestamp, days, zone)
    if earlier == later:
        assert result == int(earlier.timestamp())
        local_due = datetime.fromtimestamp(result, tz)
        assert local_due.replace(tzinfo=None) == wall
    else:
        assert result in (int(earlier.timestamp()), int(later.timestamp()))
